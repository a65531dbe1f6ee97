"""Excel round trip of the item-number review (rule U2): export the Uniconta items with their TimeLog state and a
*Decision* column, let the administrator fill it in, import the decisions.

The import refuses the whole file — one line per problem, naming the row — and applies nothing when any row is
bad: a row with an unknown or blocked item, an item listed twice, a decision other than activate / deactivate /
keep, a formula instead of a value, or a missing header. Text cells that start with ``= + - @`` are written with a
leading ``'`` so a spreadsheet never runs them as formulas (formula injection); the import strips it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from .products import ItemNumbers, ItemStatus

SHEET = "Item numbers"
COLUMNS = ("Item number", "Name in Uniconta", "TimeLog state", "TimeLog product ID", "TimeLog name", "Decision")
DECISIONS = ("activate", "deactivate", "keep")
WIDTHS = (18, 42, 16, 20, 42, 14)


def safe_text(value: str | None) -> str | None:
    """Neutralise formula injection: a text starting with ``= + - @`` gets a leading ``'``."""
    if value and value[0] in "=+-@":
        return "'" + value
    return value


def _unsafe(value: str) -> str:
    return value[1:] if value.startswith("'") and len(value) > 1 and value[1] in "=+-@" else value


def export_items(rows: list[ItemStatus], path: Path) -> Path:
    """Write the review sheet: frozen header, filters, typed cells, a validated *Decision* column (``keep``)."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append(list(COLUMNS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for r in rows:
        ws.append([safe_text(r.item), safe_text(r.name), r.state, r.product_id, safe_text(r.product_name), "keep"])
    for i, width in enumerate(WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    for row in ws.iter_rows(min_row=2, min_col=1, max_col=1):
        for cell in row:
            cell.number_format = "@"                      # item numbers are text, even "1000"
    ws.freeze_panes = "A2"
    last = max(ws.max_row, 2)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{last}"
    dv = DataValidation(type="list", formula1='"' + ",".join(DECISIONS) + '"', allow_blank=False,
                        showErrorMessage=True, errorTitle="Decision",
                        error="Choose activate, deactivate or keep")
    dv.add(f"F2:F{max(last, 1000)}")
    ws.add_data_validation(dv)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


@dataclass(frozen=True)
class Decisions:
    activate: list[str]
    deactivate: list[str]
    keep: int


class DecisionFileError(ValueError):
    """The file is refused as a whole; ``problems`` holds one line per problem (row number, what is wrong)."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        super().__init__(f"{path}: refused, nothing applied ({len(problems)} problem(s))\n" + "\n".join(problems))
        self.problems = problems


def read_decisions(path: Path, numbers: ItemNumbers) -> Decisions:
    """Read and check every row against the staged Uniconta items; :class:`DecisionFileError` if any is bad."""
    path = Path(path)
    try:
        wb = load_workbook(path, data_only=False, read_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets one clear line
        raise DecisionFileError(path, [f"cannot read the file as an Excel workbook: {type(exc).__name__}"]) from None
    ws = wb[SHEET] if SHEET in wb.sheetnames else wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = [str(c).strip() if c is not None else "" for c in next(rows, ())]
    problems: list[str] = []
    try:
        col_item, col_decision = header.index(COLUMNS[0]), header.index(COLUMNS[-1])
    except ValueError:
        wb.close()
        raise DecisionFileError(path, [f"row 1: the header must contain {COLUMNS[0]!r} and {COLUMNS[-1]!r} "
                                       f"(found: {', '.join(h for h in header if h) or 'nothing'})"]) from None
    activate: list[str] = []
    deactivate: list[str] = []
    keep = 0
    seen: dict[str, int] = {}
    for n, row in enumerate(rows, start=2):
        cells = list(row) + [None] * (len(header) - len(row))
        raw_item, raw_decision = cells[col_item], cells[col_decision]
        if all(c is None or str(c).strip() == "" for c in cells):
            continue
        bad = False
        for what, raw in (("item number", raw_item), ("decision", raw_decision)):
            if isinstance(raw, str) and raw.startswith("="):
                problems.append(f"row {n}: the {what} is a formula ({raw[:40]}); type the value itself")
                bad = True
        if bad:
            continue
        item = _unsafe(str(raw_item).strip()) if raw_item is not None else ""
        decision = str(raw_decision).strip().lower() if raw_decision is not None else ""
        if not item:
            problems.append(f"row {n}: the item number is empty")
            continue
        if item in seen:
            problems.append(f"row {n}: item {item!r} is listed twice (also in row {seen[item]})")
            continue
        seen[item] = n
        if decision not in DECISIONS:
            shown = f"{raw_decision!r}" if decision else "empty"
            problems.append(f"row {n}: item {item!r}: the decision is {shown}; choose activate, deactivate or keep")
            continue
        u = numbers.items.get(item)
        if decision == "activate":
            if u is None:
                problems.append(f"row {n}: item {item!r} does not exist in Uniconta company {numbers.le.tenant} "
                                f"(rule U2)")
                continue
            if u.blocked:
                problems.append(f"row {n}: item {item!r} is blocked in Uniconta company {numbers.le.tenant}; it "
                                f"cannot be activated (rule U2)")
                continue
            activate.append(item)
        elif decision == "deactivate":
            if u is None and item not in numbers.products:
                problems.append(f"row {n}: item {item!r} is neither a Uniconta item of company "
                                f"{numbers.le.tenant} nor a TimeLog product number (rule U2)")
                continue
            deactivate.append(item)
        else:
            keep += 1
    wb.close()
    if problems:
        raise DecisionFileError(path, problems)
    return Decisions(activate, deactivate, keep)
