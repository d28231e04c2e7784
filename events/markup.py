"""Markdown written by organizers, rendered to HTML that is safe to show: nh3 (the Ammonia
sanitizer) keeps only harmless tags and attributes, whatever the text contains.

Rendering costs far more than showing, and the text changes only when an organizer saves it, so
a model keeps the sanitized HTML beside each Markdown field (StoredMarkdown) and pages show that.
"""

from typing import ClassVar

import markdown
import nh3
from django.db import models
from django.utils.safestring import SafeString, mark_safe

_ALLOWED_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "em", "h2", "h3", "h4", "hr", "li", "ol", "p", "pre",
    "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"scope"}}


def render_markdown(text: str) -> SafeString:
    html = markdown.markdown(text or "", extensions=["tables", "sane_lists"], output_format="html")
    clean = nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(clean)  # noqa: S308 - sanitized by nh3 just above


class SanitizedHTMLField(models.TextField):
    """HTML that render_markdown made when the row was saved (see StoredMarkdown). Not a form
    field: organizers edit the Markdown. Read back as safe, so that templates show it as is
    without every template having to vouch for it."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def from_db_value(self, value, expression, connection):
        # Only StoredMarkdown.save() and fill_stored_html() write this column, both through nh3.
        return value if value is None else mark_safe(value)  # noqa: S308


class StoredMarkdown:
    """For a model with Markdown fields: `stored_markdown` maps each to its SanitizedHTMLField,
    which every save() that writes the Markdown fills. QuerySet.update() and bulk_create() do not
    call save(); whatever writes the Markdown that way has to set the HTML too."""

    stored_markdown: ClassVar[dict[str, str]] = {}

    def save(self, *args, update_fields=None, **kwargs):
        if update_fields is not None:
            update_fields = set(update_fields)
        for source, target in self.stored_markdown.items():
            if update_fields is None or source in update_fields:
                setattr(self, target, render_markdown(getattr(self, source)))
                if update_fields is not None:
                    update_fields.add(target)
        super().save(*args, update_fields=update_fields, **kwargs)


def fill_stored_html(model, fields: dict[str, str], batch_size: int = 200) -> None:
    """Render the HTML of every existing row of `model` (a migration's historical model or the
    current one): `fields` maps Markdown fields to their HTML fields."""
    rows = model.objects.only("pk", *fields).order_by("pk")
    batch = []
    for row in rows.iterator(chunk_size=batch_size):
        for source, target in fields.items():
            setattr(row, target, render_markdown(getattr(row, source)))
        batch.append(row)
        if len(batch) == batch_size:
            model.objects.bulk_update(batch, list(fields.values()))
            batch = []
    if batch:
        model.objects.bulk_update(batch, list(fields.values()))
