"""CSV exports that open safely in a spreadsheet: one writer, every cell neutralised the same way.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return would be read by a
spreadsheet as a formula (or a hidden one); such a cell is prefixed with an apostrophe, which
spreadsheets show as text; numbers are written as numbers. The caller chooses the columns.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
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


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]):
    """A CSV download; `filename` is built by the caller from fixed words and checked values, never from user text."""
    return (
        csv_text(header, rows),
        200,
        {"Content-Type": "text/csv; charset=utf-8", "Content-Disposition": f'attachment; filename="{filename}"'},
    )
