"""Downloads for spreadsheets: the one CSV writer of the participant and subscriber exports."""

import csv
from collections.abc import Iterable

from django.http import HttpResponse
from django.utils import timezone

# A spreadsheet runs a cell that starts with one of these as a formula; members write names,
# needs and addresses themselves.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def as_text_cell(value: str) -> str:
    """`value` as a spreadsheet shows it, never runs it: a leading apostrophe keeps a would-be
    formula as text."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def dated_filename(stem: str, extension: str) -> str:
    return f"{stem}-{timezone.localdate():%Y-%m-%d}.{extension}"


def csv_download(header: Iterable[str], rows: Iterable[Iterable[str]], stem: str) -> HttpResponse:
    """A CSV attachment named after `stem` and today's date, every cell safe to open."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{dated_filename(stem, "csv")}"'
    # Excel reads a CSV without a byte-order mark as ANSI and garbles æ, ø, å and ä.
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([as_text_cell(value) for value in row])
    return response
