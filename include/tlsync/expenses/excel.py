"""Excel round trip of the expense review list (rule U4): export the postings that wait, with the reason and a
*Decision* column; the administrator chooses per row ``import`` (with the expense type and TimeLog project,
prefilled where the import could tell), ``ignore`` or ``wait``; import the file back.

The import refuses the whole file — one line per problem, naming the row — and applies nothing when any row is
bad: a missing header, a posting that is not waiting (unknown, already imported or ignored), a posting listed
twice, a decision other than import/ignore/wait, an ``import`` without a usable expense type or with a project
number that is not a TimeLog project of the legal entity, or a formula instead of a value. Text cells starting
with ``= + - @`` are written with a leading ``'`` (formula injection); the import strips it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

SHEET = "Expense review"
COLUMNS = ("Posting key", "Date", "Account", "Creditor", "Voucher", "Supplier invoice", "Text", "Amount incl. VAT",
           "VAT", "Currency", "Uniconta project", "State", "Reason", "Expense type ID", "TimeLog project number",
           "Decision")
WIDTHS = (14, 12, 10, 28, 10, 14, 36, 16, 12, 10, 16, 10, 80, 16, 22, 12)
DECISIONS = ("import", "ignore", "wait")
KEY, TYPE, PROJECT, DECISION = "Posting key", "Expense type ID", "TimeLog project number", "Decision"


def safe_text(value):
    """Neutralise formula injection: a text starting with ``= + - @`` gets a leading ``'``."""
    if isinstance(value, str) and value and value[0] in "=+-@":
        return "'" + value
    return value


def _unsafe(value: str) -> str:
    return value[1:] if value.startswith("'") and len(value) > 1 and value[1] in "=+-@" else value


def export_review(rows: list[dict], path: Path) -> Path:
    """Write the review sheet: frozen header, filters, dates as dates, money as numbers with 2 decimals, and a
    validated *Decision* column (``wait`` until someone decides)."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append(list(COLUMNS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for r in rows:
        creditor = " ".join(x for x in (r.get("creditor"), r.get("creditor_name")) if x)
        ws.append([r["posting_key"], r["date"], safe_text(r["account"]), safe_text(creditor), r["voucher"],
                   safe_text(r["invoice"]), safe_text(r["text"]), r["amount_incl_vat"], r["vat"],
                   r["currency"] or r["posting_currency"], safe_text(r["uniconta_project"]), r["state"],
                   safe_text(r["reason"]), r["expense_type_id"], safe_text(r["project"]), "wait"])
    for i, width in enumerate(WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    for row in ws.iter_rows(min_row=2):
        row[1].number_format = "yyyy-mm-dd"
        row[7].number_format = row[8].number_format = "#,##0.00"
        for i in (0, 2, 10, 14):
            row[i].number_format = "@"
    ws.freeze_panes = "A2"
    last = max(ws.max_row, 2)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{last}"
    dv = DataValidation(type="list", formula1='"' + ",".join(DECISIONS) + '"', allow_blank=False,
                        showErrorMessage=True, errorTitle="Decision", error="Choose import, ignore or wait")
    dv.add(f"{get_column_letter(len(COLUMNS))}2:{get_column_letter(len(COLUMNS))}{max(last, 1000)}")
    ws.add_data_validation(dv)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


@dataclass(frozen=True)
class Decision:
    row: int
    posting_key: str
    action: str                       # import | ignore | wait
    expense_type_id: int | None = None
    project_id: int | None = None
    project_no: str | None = None


class DecisionFileError(ValueError):
    """The file is refused as a whole; ``problems`` holds one line per problem (row number, what is wrong)."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        super().__init__(f"{path}: refused, nothing applied ({len(problems)} problem(s))\n" + "\n".join(problems))
        self.problems = problems


def _as_int(raw) -> int | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise ValueError(str(raw)) from None
    if value != value.to_integral_value():
        raise ValueError(str(raw))
    return int(value)


def read_decisions(path: Path, waiting_keys: set[str], ref) -> list[Decision]:
    """Read and check every row; :class:`DecisionFileError` if any row is bad. ``waiting_keys``: the postings
    that wait for a decision; ``ref``: the :class:`~.reference.ExpenseReference` to check types and projects."""
    path = Path(path)
    try:
        wb = load_workbook(path, data_only=False, read_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets one clear line
        raise DecisionFileError(path, [f"cannot read the file as an Excel workbook: {type(exc).__name__}"]) from None
    try:
        ws = wb[SHEET] if SHEET in wb.sheetnames else wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = [str(c).strip() if c is not None else "" for c in next(rows, ())]
        missing = [c for c in (KEY, TYPE, PROJECT, DECISION) if c not in header]
        if missing:
            raise DecisionFileError(path, [f"row 1: the header lacks {', '.join(repr(m) for m in missing)} "
                                           f"(found: {', '.join(h for h in header if h) or 'nothing'})"])
        col = {name: header.index(name) for name in (KEY, TYPE, PROJECT, DECISION)}
        problems: list[str] = []
        out: list[Decision] = []
        seen: dict[str, int] = {}
        for n, raw_row in enumerate(rows, start=2):
            cells = list(raw_row) + [None] * (len(header) - len(raw_row))
            if all(c is None or str(c).strip() == "" for c in cells):
                continue
            values = {name: cells[i] for name, i in col.items()}
            formulas = [name for name, v in values.items() if isinstance(v, str) and v.startswith("=")]
            if formulas:
                problems.extend(f"row {n}: {name} is a formula ({str(values[name])[:40]}); type the value itself"
                                for name in formulas)
                continue
            key = _unsafe(str(values[KEY]).strip()) if values[KEY] is not None else ""
            action = str(values[DECISION]).strip().lower() if values[DECISION] is not None else ""
            if not key:
                problems.append(f"row {n}: the posting key is empty")
                continue
            if key in seen:
                problems.append(f"row {n}: posting {key} is listed twice (also in row {seen[key]})")
                continue
            seen[key] = n
            if action not in DECISIONS:
                shown = repr(values[DECISION]) if action else "empty"
                problems.append(f"row {n}: posting {key}: the decision is {shown}; choose import, ignore or wait")
                continue
            if key not in waiting_keys:
                problems.append(f"row {n}: posting {key} is not waiting for review (unknown, already imported or "
                                f"ignored); export the list again (rule U4)")
                continue
            if action != "import":
                out.append(Decision(n, key, action))
                continue
            try:
                type_id = _as_int(values[TYPE])
            except ValueError:
                problems.append(f"row {n}: posting {key}: expense type ID {values[TYPE]!r} is not a whole number")
                continue
            number = _unsafe(str(values[PROJECT]).strip()) if values[PROJECT] is not None else ""
            bad = []
            if type_id is None:
                bad.append("the expense type ID is empty; an import needs one")
            elif ref.usable_type(type_id) is None:
                bad.append(f"expense type {type_id} is not an active TimeLog expense type of legal entity "
                           f"{ref.legal_entity_id}")
            project = None
            if not number:
                bad.append("the TimeLog project number is empty; an import needs one")
            else:
                project, why = ref.project_by_number(number)
                if project is None:
                    bad.append(why)
            if bad:
                problems.extend(f"row {n}: posting {key}: {b} (rule U4)" for b in bad)
                continue
            out.append(Decision(n, key, "import", type_id, project.id, project.no))
    finally:
        wb.close()
    if problems:
        raise DecisionFileError(path, problems)
    return out
