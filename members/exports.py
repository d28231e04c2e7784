"""Downloads for spreadsheets: the one CSV writer and the one Excel writer of the portal's
exports (participants, subscribers, the Network page)."""

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.http import HttpResponse
from django.utils import timezone
from django.utils.functional import Promise
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

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


@dataclass
class Sheet:
    """One sheet of a workbook: a bold, frozen header row and rows of text or numbers."""

    title: str
    header: list[str]
    rows: Iterable[Iterable[str | int | float | None]]


def _cell(value):
    if isinstance(value, Promise):
        value = str(value)
    if isinstance(value, str):
        # openpyxl refuses control characters and stores text starting with "=" as a formula.
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def xlsx_download(sheets: Iterable[Sheet], stem: str) -> HttpResponse:
    """An Excel attachment named after `stem` and today's date, one sheet per table; what
    people wrote stays text (never a formula), numbers stay numbers."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet in sheets:
        # Excel allows 31 characters and none of []:*?/\ in a sheet's title.
        worksheet = workbook.create_sheet(re.sub(r"[\[\]:*?/\\]", "", sheet.title)[:31])
        if sheet.header:
            worksheet.append(sheet.header)
            for cell in worksheet[1]:
                cell.font = Font(bold=True)
            worksheet.freeze_panes = "A2"
        for row in sheet.rows:
            worksheet.append([_cell(value) for value in row])
        for row in worksheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
        for column in worksheet.columns:
            width = max(len(str(cell.value or "")) for cell in column)
            worksheet.column_dimensions[column[0].column_letter].width = min(max(width + 2, 10), 80)
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{dated_filename(stem, "xlsx")}"'
    return response
