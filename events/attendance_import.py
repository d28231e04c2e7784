"""The email addresses in an online meeting tool's participant list.

Teams, Zoom and Webex each export participants differently: UTF-16 with tabs (Teams), UTF-8
with a byte order mark and commas, sections of meeting details above the list (Zoom), columns
named in the organizer's language. Rather than knowing each layout, the whole text is read for
addresses: a name or a duration never looks like one, and an address of someone without a seat
(the host, a guest) simply matches no participant."""

from __future__ import annotations

import codecs
import re

from django.utils.translation import gettext as _

from members.errors import RuleError

# Larger than any participant list of a meeting (a 1,000-person webinar is about 200 KB).
MAX_BYTES = 5 * 1024 * 1024

# What email validators accept in practice, without quotes or comments: enough to find the
# address in a cell, which is then compared with the registered address.
ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+"
)

_BOMS = [
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]


class UnreadableList(RuleError):
    """The file is not a participant list that can be read."""


def _text(data: bytes) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    # UTF-16 without a byte order mark: every other byte of ASCII text is zero.
    if data[1::2].count(0) > len(data) // 4 and data.count(0) > len(data) // 4:
        return data.decode("utf-16-le", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Spreadsheet programs on Windows save CSV in the ANSI code page.
        return data.decode("cp1252", errors="replace")


def addresses_in(data: bytes) -> set[str]:
    """The addresses in a participant list, lower-cased. Raises UnreadableList for a file that is
    too large, is not text (a spreadsheet saved as .xlsx, a PDF) or holds no address."""
    if len(data) > MAX_BYTES:
        raise UnreadableList(_("The file is larger than a participant list can be (5 MB)."), "too_large")
    text = _text(data)
    if "\x00" in text or data.startswith((b"PK\x03\x04", b"%PDF", b"\xd0\xcf\x11\xe0")):
        raise UnreadableList(
            _("This is not a CSV file. Save the participant list as CSV and upload that file."), "not_text"
        )
    found = {match.casefold() for match in ADDRESS.findall(text)}
    if not found:
        raise UnreadableList(
            _("The file holds no email addresses. Export the participant list with their email addresses."),
            "no_addresses",
        )
    return found
