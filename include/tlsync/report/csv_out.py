"""CSV files for machines: one per sheet, UTF-8, comma-separated, ISO dates, money with a ``.`` and two decimals,
text neutralised against formula injection (a CSV opened in a spreadsheet is a spreadsheet)."""

from __future__ import annotations

import csv
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from tlsync.excel import neutralise

from .tables import MONEY, Sheet

Q2 = Decimal("0.01")


def _cell(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == MONEY and isinstance(value, Decimal):
        return f"{value.quantize(Q2)}"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(neutralise(value) if isinstance(value, str) else value)


def write_csv(sheet: Sheet, folder: Path) -> Path:
    path = folder / f"{sheet.slug}.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow([c.header for c in sheet.columns])
        for row in sheet.values():
            w.writerow([_cell(v, c.kind) for v, c in zip(row, sheet.columns)])
    return path
