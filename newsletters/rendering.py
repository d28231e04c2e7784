"""One edition as an email for one subscriber: subject, plain text and HTML.

Everything in a newsletter except three links is the same for every subscriber who reads the
same language. An EditionRenderer therefore renders the templates once per language, with
placeholders where the personal links go, and fills each subscriber's links in by string
replacement: a batch of hundreds costs a handful of queries and at most one rendering per
language, not queries per subscriber. The renderer lives as long as the batch that made it, so
seat counts are those of the moment the batch started.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import escape

from mail.links import absolute_url, in_language

from . import selectors, tokens
from .models import Edition, Subscriber

UPCOMING_EVENTS_LIMIT = 5
RECENT_MATERIALS_DAYS = 60
RECENT_MATERIALS_LIMIT = 10

# Stand-ins for the personal links while the shared part is rendered. Plain letters and
# hyphens, so that neither HTML escaping nor Markdown changes them.
_PREFERENCES = "newsletter-placeholder-preferences-url"
_UNSUBSCRIBE = "newsletter-placeholder-unsubscribe-url"


@dataclasses.dataclass(frozen=True)
class Material:
    title: str
    url: str
    context: str
    context_url: str


def recent_materials(at: dt.datetime, limit: int = RECENT_MATERIALS_LIMIT) -> list[Material]:
    """The materials block: documents added in the RECENT_MATERIALS_DAYS before `at`, with
    absolute links (an email has no page to be relative to)."""
    documents = selectors.recent_documents(at, days=RECENT_MATERIALS_DAYS, limit=limit)
    materials = []
    for document in documents:
        owner = document.event or document.series
        materials.append(
            Material(
                title=document.title,
                url=absolute_url(document.href),
                context=str(owner) if owner else "",
                context_url=absolute_url(owner.get_absolute_url()) if owner else "",
            )
        )
    return materials


def language_of(subscriber: Subscriber) -> str:
    return subscriber.language if subscriber.language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def personal_links(subscriber: Subscriber) -> dict[str, str]:
    return {
        "preferences_url": tokens.preferences_url(subscriber),
        "unsubscribe_url": tokens.unsubscribe_url(subscriber),
    }


def web_url(edition: Edition) -> str:
    return absolute_url(edition.get_absolute_url())


class EditionRenderer:
    """Renders one edition for many subscribers; see the module's docstring."""

    def __init__(self, edition: Edition, *, at: dt.datetime | None = None):
        self.edition = edition
        self.at = at or timezone.now()
        self._blocks: dict | None = None
        self._by_language: dict[str, tuple[str, str, str]] = {}

    def blocks(self) -> dict:
        """The body as sanitized HTML (stored when the edition was saved) and the optional
        blocks, read once."""
        if self._blocks is None:
            edition = self.edition
            self._blocks = {
                "body_html": edition.body_html,
                "events": (
                    selectors.upcoming_events(self.at, UPCOMING_EVENTS_LIMIT)
                    if edition.include_upcoming_events
                    else []
                ),
                "materials": recent_materials(self.at) if edition.include_recent_materials else [],
            }
        return self._blocks

    def _shared(self, language: str) -> tuple[str, str, str]:
        if language not in self._by_language:
            edition = self.edition
            subject = " ".join(edition.subject.split())  # a header holds no line breaks
            context = {
                **self.blocks(),
                "edition": edition,
                "subject": subject,
                "preheader": edition.preheader,
                "body": edition.body,
                "network_name": settings.NETWORK_NAME,
                "site_url": settings.SITE_URL,
                "site_root": absolute_url("/").rstrip("/"),
                # Pages opened from the email speak its language (mail.links.in_language).
                "web_url": in_language(web_url(edition), language),
                "language_query": in_language("", language),
                "preferences_url": _PREFERENCES,
                "unsubscribe_url": _UNSUBSCRIBE,
                "now": self.at,
            }
            with translation.override(language):
                text = render_to_string("emails/newsletter_edition.txt", context)
                html = render_to_string("emails/newsletter_edition.html", context)
            text = _tidy(text)
            self._by_language[language] = (subject, text, html)
        return self._by_language[language]

    def render(self, subscriber: Subscriber, *, links: dict[str, str] | None = None) -> tuple[str, str, str]:
        subject, text, html = self._shared(language_of(subscriber))
        links = links or personal_links(subscriber)
        preferences, unsubscribe = links["preferences_url"], links["unsubscribe_url"]
        text = text.replace(_PREFERENCES, preferences).replace(_UNSUBSCRIBE, unsubscribe)
        html = html.replace(_PREFERENCES, escape(preferences)).replace(_UNSUBSCRIBE, escape(unsubscribe))
        return subject, text, html


def _tidy(text: str) -> str:
    """Template tags leave blank lines and trailing blanks behind; one empty line between
    paragraphs is enough in plain text. The signature separator keeps its space ("-- ")."""
    lines = [line if line == "-- " else line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def render_edition(edition: Edition, subscriber: Subscriber) -> tuple[str, str, str]:
    """Subject, plain text and HTML of `edition` for `subscriber`, in the subscriber's language.
    The shared part is kept on the edition object, so rendering it for a whole batch of
    subscribers through the same object reads the database once."""
    renderer = edition.__dict__.get("_newsletter_renderer")
    if renderer is None:
        renderer = edition.__dict__["_newsletter_renderer"] = EditionRenderer(edition)
    return renderer.render(subscriber)


def web_context(edition: Edition) -> dict:
    """What the public web version shows: the body and the blocks as they were when the edition
    went out, and no personal links."""
    at = edition.started_at or edition.sent_at or timezone.now()
    return {"edition": edition, **EditionRenderer(edition, at=at).blocks(), "now": timezone.now()}
