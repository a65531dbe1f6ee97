"""The Excel workbook for finance: the Summary first (headline and amount bridge at the top, then the counts and
the totals per month), one sheet per category, then the expenses and the quarantine.

Every sheet: typed cells — dates real dates (``dd-mm-yyyy``), money real numbers (``#,##0.00``, written from the
``Decimal`` rounded half-up so no øre is lost to a float on the way in, shown by Excel in the reader's own number
format), counts integers, and numeric ids (invoice, order, debtor and customer numbers) numbers shown without
separators, so Excel warns of no "number stored as text"; a frozen header row (and first column), an auto-filter,
and an A4-landscape print set-up that fits the columns to the page width and repeats the header row on every page.
Headers and category names are in the report's language; the hint comes first, technical columns last.

Text is neutralised against formula injection and written as a string cell explicitly (openpyxl would otherwise
treat a leading ``=`` as a formula). Each bridge line links to its category's sheet.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from tlsync.excel import MONEY_FORMAT, neutralise, write_header
from tlsync.money import q2
from tlsync.reconcile.model import CATEGORIES, MATCHED, Reconciliation

from .bridge import ROUNDING, bridges
from .i18n import Lang
from .tables import INT, MONEY, NUMBER, Sheet, headline

HEADER_FILL = PatternFill("solid", fgColor="1F3A5F")
HEADER_FONT = Font(bold=True, color="FFFFFF")
TITLE_FONT = Font(bold=True, size=14)
BOLD = Font(bold=True)
LINK_FONT = Font(color="1F4F8F", underline="single")
TOP_LINE = Border(top=Side(style="medium", color="1F3A5F"))
DATE_FORMAT = "dd-mm-yyyy"
DATETIME_FORMAT = "dd-mm-yyyy hh:mm"
ID_FORMAT = "0"
SIGNED_MONEY = "+#,##0.00;-#,##0.00;0.00"
#: text columns whose values are numbers by nature (written as numbers when they are plain digits)
ID_COLUMNS = {"TimeLog invoice", "Uniconta no.", "Customer no.", "Debtor", "Record key", "voucher", "invoice",
              "creditor", "account"}
_ID = re.compile(r"[1-9]\d{0,14}\Z")


def _total_row(ws: Worksheet, row: int, label: str, amount: Any) -> None:
    """A bridge's total line: the label and the signed amount in bold, a rule above the three columns."""
    ws.cell(row=row, column=1, value=label).font = BOLD
    c = _put(ws, row, 3, amount)
    c.font, c.number_format = BOLD, SIGNED_MONEY
    for col in (1, 2, 3):
        ws.cell(row=row, column=col).border = TOP_LINE


def _put(ws: Worksheet, row: int, col: int, value: Any, kind: str | None = None, *, is_id: bool = False,
         lang: Lang | None = None, translate: bool = False):
    cell = ws.cell(row=row, column=col)
    if value is None:
        return cell
    if kind == NUMBER and isinstance(value, (Decimal, int, float)):
        cell.value = value
    elif isinstance(value, Decimal) or (kind == MONEY and isinstance(value, (int, float))):
        cell.value = q2(Decimal(value))
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
    elif is_id and isinstance(value, str) and _ID.match(value.strip()):
        cell.value = int(value.strip())
        cell.number_format = ID_FORMAT
    else:
        text = lang.value(str(value)) if translate and lang is not None else str(value)
        cell.value = neutralise(text)
        cell.data_type = "s"
    return cell


def _link(cell, sheet: str) -> None:
    """An internal link to ``sheet`` (a location in the workbook, not a file Excel would try to open)."""
    cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"'{sheet}'!A1", display=str(cell.value))
    cell.font = LINK_FONT


def print_setup(ws: Worksheet, *, title_rows: str | None = "1:1") -> None:
    """A4 landscape, all columns on the page width, the header row on every page, page numbers in the footer."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = False
    ws.page_margins.left = ws.page_margins.right = 0.4
    if title_rows:
        ws.print_title_rows = title_rows
    ws.oddFooter.right.text = "&P / &N"
    ws.oddFooter.left.text = "&A"


def _table(ws: Worksheet, sheet: Sheet, lang: Lang, first_row: int = 1) -> int:
    """The sheet's table from ``first_row`` (header) on; returns the last row written."""
    names = [lang.header(c.header) for c in sheet.columns]
    if first_row == 1:
        write_header(ws, names, [c.width for c in sheet.columns], font=HEADER_FONT, fill=HEADER_FILL,
                     alignment=Alignment(wrap_text=True, vertical="top"))
    else:
        for j, name in enumerate(names, start=1):
            c = ws.cell(row=first_row, column=j, value=name)
            c.font, c.fill, c.alignment = HEADER_FONT, HEADER_FILL, Alignment(wrap_text=True, vertical="top")
    wrap = Alignment(wrap_text=True, vertical="top")
    for i, r in enumerate(sheet.rows, start=first_row + 1):
        for j, col in enumerate(sheet.columns, start=1):
            c = _put(ws, i, j, col.get(r), col.kind, is_id=col.header in ID_COLUMNS, lang=lang,
                     translate=col.translate)
            if col.width >= 30:
                c.alignment = wrap
    last = first_row + max(1, len(sheet.rows))
    ws.auto_filter.ref = f"A{first_row}:{get_column_letter(len(sheet.columns))}{last}"
    return last


def _summary(ws: Worksheet, recon: Reconciliation, monthly: Sheet, lang: Lang, sheet_of: dict[str, str]) -> None:
    h = headline(recon)
    widths = {1: 58, 2: 12, 3: 20}
    for col, w in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = w
    ws.cell(row=1, column=1, value=lang.t("title")).font = TITLE_FONT
    entity = lang.t("entity", le=recon.legal_entity_id, company=recon.company_id)
    ws.cell(row=2, column=1, value=entity[:1].upper() + entity[1:])
    ws.cell(row=3, column=1, value=f"{lang.t('period')}: {lang.period(recon.start, recon.end)} · "
                                   f"{lang.t('as_of')}: {lang.date(recon.as_of)} · "
                                   f"{lang.t('tolerance')}: {lang.money(recon.tolerance)}")
    ws.cell(row=4, column=1, value=lang.t("sign")).font = Font(italic=True)
    row = 6
    for b in bridges(recon):
        ws.cell(row=row, column=1, value=f"{lang.t('bridge')} ({b.currency})").font = Font(bold=True, size=12)
        ws.cell(row=row, column=2, value=lang.t("count")).font = BOLD
        ws.cell(row=row, column=3, value=f"{lang.t('amount')} ({b.currency})").font = BOLD
        row += 1
        for key, amount in (("timelog_total", b.timelog_total), ("uniconta_total", b.uniconta_total)):
            ws.cell(row=row, column=1, value=lang.t(key))
            _put(ws, row, 3, amount)
            row += 1
        _total_row(ws, row, lang.t("difference"), b.difference)
        row += 1
        for ln in b.lines:
            label = lang.t("rounding") if ln.key == ROUNDING else lang.category(ln.key)
            c = ws.cell(row=row, column=1, value="   " + label)
            target = sheet_of[MATCHED if ln.key == ROUNDING else ln.key]
            _link(c, target)
            ws.cell(row=row, column=2, value=ln.count)
            _put(ws, row, 3, ln.amount).number_format = SIGNED_MONEY
            row += 1
        _total_row(ws, row, lang.t("explained"), b.explained)
        row += 2
    counts = recon.counts()
    ws.cell(row=row, column=1, value=lang.t("count_per_category")).font = Font(bold=True, size=12)
    ws.cell(row=row, column=2, value=lang.t("count")).font = BOLD
    row += 1
    for c in CATEGORIES:
        cell = ws.cell(row=row, column=1, value=lang.category(c))
        _link(cell, sheet_of[c])
        ws.cell(row=row, column=2, value=counts[c])
        row += 1
    ws.cell(row=row, column=1, value=lang.t("total")).font = BOLD
    ws.cell(row=row, column=2, value=h["rows"]).font = BOLD
    ws.cell(row=row + 1, column=1, value=lang.t("weak"))
    ws.cell(row=row + 1, column=2, value=h["weak"])
    row += 3
    ws.cell(row=row, column=1, value=lang.t("months")).font = Font(bold=True, size=12)
    row += 1
    # the monthly table below the headline: its own header row, columns from B on would clash with the bridge's
    # widths, so it starts in column A with the period
    _table(ws, monthly, lang, first_row=row)
    for j, column in enumerate(monthly.columns, start=1):
        letter = get_column_letter(j)
        ws.column_dimensions[letter].width = max(ws.column_dimensions[letter].width or 0, column.width)
    ws.freeze_panes = "A5"
    print_setup(ws, title_rows="1:4")


def write_workbook(recon: Reconciliation, sheets: list[Sheet], path: Path, lang: Lang | None = None) -> Path:
    """``sheets``: the readable sheets (:func:`~.tables.readable_sheets`), the monthly table first."""
    lang = lang or Lang()
    wb = Workbook()
    wb.remove(wb.active)
    monthly, rest = sheets[0], sheets[1:]
    summary = wb.create_sheet(lang.t("summary"))
    sheet_of = {s.key: s.name[:31] for s in rest}
    for sheet in rest:
        ws = wb.create_sheet(sheet.name[:31])
        _table(ws, sheet, lang)
        ws.freeze_panes = "B2" if sheet.key in CATEGORIES else "A2"
        print_setup(ws)
    _summary(summary, recon, monthly, lang, sheet_of)
    wb.active = 0
    wb.properties.title = lang.t("title")
    wb.properties.creator = "tlsync"
    wb.save(path)
    return path
