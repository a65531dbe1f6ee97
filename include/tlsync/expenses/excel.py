"""Excel round trip of the expense review list (rule U4): export the postings that wait, with the reason and a
*Decision* column; the administrator chooses per row ``import`` (with the expense type and TimeLog project,
prefilled where the import could tell), ``ignore`` or ``wait``; import the file back.

The import refuses the whole file — one line per problem, naming the row — and applies nothing when any row is
bad: a missing header, a posting that is not waiting (unknown, already imported or ignored), a posting listed
twice, a decision other than import/ignore/wait, an ``import`` without a usable expense type or with a project
number that is not a TimeLog project of the legal entity, or a formula instead of a value. Text is neutralised
against formula injection and restored on import (:func:`tlsync.excel.neutralise` / :func:`~tlsync.excel.restore`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from openpyxl import Workbook

from tlsync.excel import (
    DATE_FORMAT,
    MONEY_FORMAT,
    TEXT_FORMAT,
    DecisionChecks,
    DecisionFileError,
    choice_list,
    column_formats,
    decision_rows,
    freeze_and_filter,
    neutralise,
    restore,
    save,
    write_header,
)

SHEET = "Expense review"
COLUMNS = ("Posting key", "Date", "Account", "Creditor", "Voucher", "Supplier invoice", "Text", "Amount incl. VAT",
           "VAT", "Currency", "Uniconta project", "State", "Reason", "Expense type ID", "TimeLog project number",
           "Decision")
WIDTHS = (14, 12, 10, 28, 10, 14, 36, 16, 12, 10, 16, 10, 80, 16, 22, 12)
DECISIONS = ("import", "ignore", "wait")
KEY, TYPE, PROJECT, DECISION = "Posting key", "Expense type ID", "TimeLog project number", "Decision"


def export_review(rows: list[dict], path: Path) -> Path:
    """Write the review sheet: frozen header, filters, dates as dates, money as numbers with 2 decimals, and a
    validated *Decision* column (``wait`` until someone decides)."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    write_header(ws, COLUMNS, WIDTHS)
    for r in rows:
        creditor = " ".join(x for x in (r.get("creditor"), r.get("creditor_name")) if x)
        ws.append([r["posting_key"], r["date"], neutralise(r["account"]), neutralise(creditor), r["voucher"],
                   neutralise(r["invoice"]), neutralise(r["text"]), r["amount_incl_vat"], r["vat"],
                   r["currency"] or r["posting_currency"], neutralise(r["uniconta_project"]), r["state"],
                   neutralise(r["reason"]), r["expense_type_id"], neutralise(r["project"]), "wait"])
    column_formats(ws, {2: DATE_FORMAT, 8: MONEY_FORMAT, 9: MONEY_FORMAT,
                        1: TEXT_FORMAT, 3: TEXT_FORMAT, 11: TEXT_FORMAT, 15: TEXT_FORMAT})
    last = max(ws.max_row, 2)
    freeze_and_filter(ws, len(COLUMNS), last)
    choice_list(ws, len(COLUMNS), DECISIONS, last_row=max(last, 1000), allow_blank=False, title="Decision",
                error="Choose import, ignore or wait")
    return save(wb, path)


@dataclass(frozen=True)
class Decision:
    row: int
    posting_key: str
    action: str                       # import | ignore | wait
    expense_type_id: int | None = None
    project_id: int | None = None
    project_no: str | None = None


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
    with decision_rows(path, SHEET) as (header, rows):
        missing = [c for c in (KEY, TYPE, PROJECT, DECISION) if c not in header]
        if missing:
            raise DecisionFileError(path, [f"row 1: the header lacks {', '.join(repr(m) for m in missing)} "
                                           f"(found: {', '.join(h for h in header if h) or 'nothing'})"])
        col = {name: header.index(name) for name in (KEY, TYPE, PROJECT, DECISION)}
        check = DecisionChecks(key=KEY, key_label="posting key", choices=DECISIONS, name=lambda k: f"posting {k}")
        problems = check.problems
        out: list[Decision] = []
        for n, cells in rows:
            values = {name: cells[i] for name, i in col.items()}
            checked = check.row(n, values)
            if checked is None:
                continue
            key, action = checked
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
            number = restore(str(values[PROJECT]).strip()) if values[PROJECT] is not None else ""
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
            if bad or project is None:              # no project always comes with its reason in ``bad``
                problems.extend(f"row {n}: posting {key}: {b} (rule U4)" for b in bad)
                continue
            out.append(Decision(n, key, "import", type_id, project.id, project.no))
    if problems:
        raise DecisionFileError(path, problems)
    return out
