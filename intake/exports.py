"""Exports that open safely in a spreadsheet, as CSV or XLSX: one writer each, every cell neutralised.

In CSV a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return would be read by a
spreadsheet as a formula (or a hidden one); such a cell is prefixed with an apostrophe, which
spreadsheets show as text; numbers are written as numbers. In XLSX every cell is typed: text is
a string cell whatever it starts with (never a formula), numbers and dates are numbers and dates.
The caller chooses the columns.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> str:
    """One value as a safe CSV cell."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)  # a number, negative or not, is a number to a spreadsheet
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    """The whole file: a header row, then each row, every cell neutralised; UTF-8 with a BOM for spreadsheets."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell(name) for name in header])
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return "\ufeff" + out.getvalue()


FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_bytes(title: str, header: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    """One sheet: the header in bold, then each row, text cells typed as text."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    bold = Font(bold=True)

    def typed(value, *, font=None):
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal | date | datetime | None):
            value = str(value)
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.replace(tzinfo=None)  # spreadsheets keep no time zone: Intake's times are UTC
        made = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            made.data_type = "s"  # openpyxl would take a leading "=" for a formula
        if font is not None:
            made.font = font
        return made

    sheet.append([typed(name, font=bold) for name in header])
    for row in rows:
        sheet.append([typed(value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def download(fmt: str, name: str, header: Sequence[str], rows: Iterable[Sequence]):
    """The export as `fmt` (csv or xlsx), named `name.fmt`: `name` is fixed words, never user text."""
    if fmt == "xlsx":
        return (
            xlsx_bytes(name, header, rows),
            200,
            {"Content-Type": XLSX_TYPE, "Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    return csv_response(f"{name}.csv", header, rows)


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]):
    """A CSV download; `filename` is built by the caller from fixed words and checked values, never from user text."""
    return (
        csv_text(header, rows),
        200,
        {"Content-Type": "text/csv; charset=utf-8", "Content-Disposition": f'attachment; filename="{filename}"'},
    )
