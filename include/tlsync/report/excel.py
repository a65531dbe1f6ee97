"""The Excel workbook: one sheet per table, typed cells, frozen header row, auto-filter on the header.

Dates are real dates (``yyyy-mm-dd``), money real numbers with two decimals (``#,##0.00``; the value is written
from the ``Decimal`` so no øre is lost to a float on the way in), counts integers. Text is neutralised against
formula injection, and written as a string cell explicitly (openpyxl would otherwise treat a leading ``=`` as a
formula).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from tlsync.excel import DATE_FORMAT, DATETIME_FORMAT, MONEY_FORMAT, freeze_and_filter, neutralise, write_header

from .tables import INT, MONEY, NUMBER, Sheet

HEADER_FILL = PatternFill("solid", fgColor="1F3A5F")
HEADER_FONT = Font(bold=True, color="FFFFFF")


def _put(ws, row: int, col: int, value: Any, kind: str | None = None):
    cell = ws.cell(row=row, column=col)
    if value is None:
        return cell
    if kind == NUMBER and isinstance(value, (Decimal, int, float)):
        cell.value = value
    elif isinstance(value, Decimal) or (kind == MONEY and isinstance(value, (int, float))):
        cell.value = Decimal(value).quantize(Decimal("0.01"))
        cell.number_format = MONEY_FORMAT
    elif isinstance(value, datetime):
        cell.value = value
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, date):
        cell.value = value
        cell.number_format = DATE_FORMAT
    elif isinstance(value, bool):
        cell.value = value
    elif isinstance(value, int) and kind in (INT, None, MONEY):
        cell.value = value
    else:
        cell.value = neutralise(str(value))
        cell.data_type = "s"
    return cell


def _table(ws, sheet: Sheet) -> None:
    write_header(ws, [col.header for col in sheet.columns], [col.width for col in sheet.columns], font=HEADER_FONT,
                 fill=HEADER_FILL, alignment=Alignment(wrap_text=True, vertical="top"))
    for i, values in enumerate(sheet.values(), start=2):
        for j, (v, col) in enumerate(zip(values, sheet.columns), start=1):
            _put(ws, i, j, v, col.kind)
    freeze_and_filter(ws, len(sheet.columns), max(1, len(sheet.rows)) + 1)


def write_workbook(sheets: list[Sheet], path: Path) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    for sheet in sheets:
        ws = wb.create_sheet(sheet.name[:31])
        _table(ws, sheet)
        if sheet.extra:
            start = len(sheet.rows) + 3
            for i, values in enumerate(sheet.extra):
                for j, v in enumerate(values, start=1):
                    c = _put(ws, start + i, j, v)
                    if j == 1:
                        c.font = Font(bold=True)
    wb.properties.title = "tlsync invoice reconciliation"
    wb.properties.creator = "tlsync"
    wb.save(path)
    return path
