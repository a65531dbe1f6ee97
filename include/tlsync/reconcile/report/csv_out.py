"""CSV files, two kinds, text neutralised against formula injection in both (a CSV opened in a spreadsheet is a
spreadsheet):

- for machines (:func:`write_csv`): one per sheet, UTF-8, comma-separated, ISO dates, money with a ``.`` and two
  decimals, the code names as headers — unchanged whatever the report language;
- for Danish Excel (:func:`write_excel_csv`): semicolon-separated, decimal comma, ``dd-mm-åååå`` dates, UTF-8 with
  a byte-order mark, readable headers in the report's language — double-clicked, it opens in columns.
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from tlsync.excel import neutralise
from tlsync.money import q2

from .tables import MONEY, Sheet


def _cell(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == MONEY and isinstance(value, Decimal):
        return f"{q2(value)}"
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


def _excel_cell(value: Any, kind: str, lang, translate: bool) -> str:
    """A value for Danish Excel: decimal comma without thousands separator (Excel reads it as a number in every
    Danish set-up), dates ``dd-mm-åååå``, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        text = f"{q2(value)}" if kind == MONEY else f"{value:f}"
        return text.replace(".", ",")
    if isinstance(value, datetime):
        return value.strftime("%d-%m-%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d-%m-%Y")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value).replace(".", ",")
    text = lang.value(str(value)) if translate else str(value)
    return str(neutralise(text))


def write_excel_csv(sheet: Sheet, folder: Path, lang) -> Path:
    """The same table for a person who double-clicks it in Danish Excel: semicolon-separated, decimal comma, UTF-8
    with a byte-order mark (so Excel reads æøå), headers in the report's language."""
    path = folder / f"{sheet.slug}.csv"
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow([lang.header(c.header) for c in sheet.columns])
        for row in sheet.rows:
            w.writerow([_excel_cell(c.get(row), c.kind, lang, c.translate) for c in sheet.columns])
    return path
