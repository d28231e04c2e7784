"""One rule for the free text people write about themselves: names, job titles, phone numbers,
dietary and accessibility needs.

Such text is shown to organizers, colleagues and in exports. Characters that take no space
(zero-width spaces, byte-order marks), reorder what follows (bidirectional overrides such as
U+202E, which make "gnp.exe" read as "exe.png") or control a terminal have no place in it: a
name made only of them displays as blank, and an override in a name or need reverses the text
after it in the participant list and in the CSV export. So the rule, applied by forms (what a
member types) and by the models' validation (what an organizer types in admin):

- normalize to NFC, so that "å" typed two ways is one name;
- remove format and control characters (Unicode categories Cf, Cc, Cs, Co, and the few letters
  that render as nothing), except ordinary whitespace;
- turn every run of whitespace into one space and strip the ends;
- refuse a required value that is empty after this, with a message next to the field.

Removed rather than refused: they arrive unseen, pasted from a document or an email signature,
and the person could not find them to delete them.
"""

import re
import unicodedata
from collections.abc import Iterable

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

INVISIBLE_MESSAGE = _("This contains only invisible characters. Type it with letters or digits.")

# Format (Cf: zero-width characters U+200B–U+200F, bidirectional embeddings and overrides
# U+202A–U+202E and isolates U+2066–U+2069, U+FEFF...), control (Cc), surrogates and private use.
_HIDDEN_CATEGORIES = {"Cf", "Cc", "Cs", "Co"}
# Letters and symbols that fonts draw as blank; used to make "invisible" names.
_BLANK_LOOKING = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}
_WHITESPACE = re.compile(r"\s+")


def _is_hidden(character: str) -> bool:
    if character.isspace():  # tabs, newlines and no-break spaces become one space below
        return False
    return character in _BLANK_LOOKING or unicodedata.category(character) in _HIDDEN_CATEGORIES


def normalize(value: str) -> str:
    """The text as it is stored and shown: NFC, without hidden characters, single spaces."""
    visible = "".join(character for character in value if not _is_hidden(character))
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", visible)).strip()


def clean(value: str, *, required: bool) -> str:
    """`normalize`, refusing a required value that was typed but is empty afterwards."""
    normalized = normalize(value)
    if required and value and not normalized:
        raise ValidationError(INVISIBLE_MESSAGE, code="invisible")
    return normalized


class PersonTextField(forms.CharField):
    """A form field for a person's free text (see the module docstring). An empty required
    value gets the ordinary "required" message; one of invisible characters gets its own."""

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return value
        return clean(value, required=self.required) or self.empty_value


class PersonTextModel:
    """Mixin for models with people's free text: `person_text_fields` are normalized when the
    model is validated, as every ModelForm (the admin's too) does before saving."""

    person_text_fields: tuple[str, ...] = ()

    def clean_fields(self, exclude: Iterable[str] | None = None) -> None:
        exclude = set(exclude or ())
        errors: dict[str, list[ValidationError]] = {}
        for name in self.person_text_fields:
            if name in exclude:
                continue
            field = self._meta.get_field(name)
            try:
                setattr(self, name, clean(getattr(self, name) or "", required=not field.blank))
            except ValidationError as error:
                errors[name] = [error]
        try:
            super().clean_fields(exclude=exclude | set(errors))
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)
