"""Sorting names as Danish and Swedish readers sort them, in Python.

The database cannot do it everywhere: SQLite compares code points (Swedish Å, Ä, Ö come out as
Ä, Å, Ö; Danish Æ, Ø, Å as Å, Æ, Ø) and PostgreSQL's collations depend on the server's locales.
PyICU would be the full answer; the three letters after z and Danish "aa" are what the portal's
names need.
"""

import unicodedata
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.utils.translation import get_language

T = TypeVar("T")

# Letters after z, in each language's order; the other language's letters sort with their
# look-alikes (Swedish ä with Danish æ, ö with ø), as each language's dictionaries do.
_AFTER_Z = {
    "sv": {"å": 1, "ä": 2, "æ": 2, "ö": 3, "ø": 3},
    "da": {"æ": 1, "ä": 1, "ø": 2, "ö": 2, "å": 3},
}


def _base_letter(character: str) -> str:
    """é → e, ü → u: accents other than the language's own letters do not change the order."""
    return unicodedata.normalize("NFD", character)[0]


def sort_key(text: str, language: str | None = None) -> tuple:
    """A key that sorts `text` as `language` (by default the active one) does, ignoring case
    first and breaking ties by case and accents."""
    language = (language or get_language() or "en").split("-")[0]
    after_z = _AFTER_Z.get(language, {})
    folded = text.casefold()
    if language == "da":
        # Danish sorts "aa" as "å" (Aabenraa, Aarhus), as the letter it stood for.
        folded = folded.replace("aa", "å")
    primary = tuple(
        (1, after_z[character]) if character in after_z else (0, ord(_base_letter(character)))
        for character in folded
    )
    return (primary, text)


def sorted_by_name(items: Iterable[T], name: Callable[[T], str], language: str | None = None) -> list[T]:
    return sorted(items, key=lambda item: sort_key(name(item), language))
