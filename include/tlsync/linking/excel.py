"""The Excel round trip of the review (rule L5): finance and administrators decide in Excel.

**Export**: one sheet per view (One suggestion, Several, No suggestion, Ignored) plus "About"; one row per debtor
and candidate (Uniconta on the left, TimeLog on the right, score and reasons), a frozen header, filters, typed
cells and a ``decision`` column whose data validation offers the actions (:data:`~.decisions.ACTIONS`). In the No
suggestion and Ignored sheets a customer id may be typed into ``customer id`` to link to a customer the matching
did not suggest.

**Import**: the whole file is validated before anything is applied; any bad row (unknown id, unknown action, two
decisions for one debtor, a customer already linked or chosen twice, an unknown customer …) refuses the **whole
file** with one line per problem (sheet, row number, what is wrong), and nothing is applied.

Formula injection: text cells are written through :func:`tlsync.excel.neutralise` (a leading ``'`` before
``= + - @``, tab/CR and ``'``), and :func:`~tlsync.excel.restore` is its exact inverse, so every name comes back
unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from sqlalchemy import Engine

from tlsync.excel import (
    TEXT_FORMAT,
    DecisionFileError,
    choice_list,
    column_formats,
    freeze_and_filter,
    header_names,
    neutralise,
    restore,
    save,
    write_header,
)

from . import store
from .decisions import ACTIONS, Decision
from .gate import VIEW_LABELS
from .review import VIEWS, view_rows

SHEETS = {v: VIEW_LABELS[v] for v in VIEWS}
ABOUT = "About"
COLUMNS = ("id", "view", "debtor account", "debtor name", "debtor CVR", "debtor phone", "debtor city", "rank",
           "customer id", "customer no", "customer name", "customer CVR", "score", "reasons", "decision")
WIDTHS = {"id": 14, "view": 10, "debtor account": 14, "debtor name": 36, "customer name": 36, "reasons": 40,
          "decision": 16}

__all__ = ["ABOUT", "COLUMNS", "SHEETS", "DecisionFile", "DecisionFileError", "export_views", "neutralise",
           "read_decisions", "restore"]


def _row_id(account: str, rank: int) -> str:
    return f"{account}#{rank}"


# ---- export ----------------------------------------------------------------------------------------------------

def export_views(engine: Engine, legal_entity_id: int, company_id: int, path: str | Path,
                 *, now: datetime | None = None) -> dict[str, int]:
    """Write the four views to ``path``; returns the number of rows per sheet."""
    wb = Workbook()
    about = wb.active
    about.title = ABOUT
    now = now or datetime.now().replace(microsecond=0)
    for r in (("legal entity", int(legal_entity_id)), ("Uniconta company", int(company_id)), ("exported at", now),
              ("how to", "Fill in the 'decision' column (one decision per debtor) and import the file with "
                         "`python -m tlsync.linking import-decisions FILE --legal-entity N`."),
              ("decisions", "link-timelog: link, TimeLog data wins · link-uniconta: link, Uniconta data wins · "
                            "import: create the debtor as a new TimeLog customer · ignore · unignore"),
              ("other customer", "To link to a customer that is not suggested, type its TimeLog customer id "
                                 "in 'customer id' (No suggestion and Ignored sheets).")):
        about.append(r)
    about.column_dimensions["A"].width = 18
    about.column_dimensions["B"].width = 100
    counts = {}
    text_cols = {COLUMNS.index(c) + 1 for c in COLUMNS if c not in ("rank", "score")}
    for view in VIEWS:
        ws = wb.create_sheet(SHEETS[view])
        write_header(ws, COLUMNS, [WIDTHS.get(name, 13) for name in COLUMNS])
        n = 0
        for row in view_rows(engine, company_id, view):
            for cand in row.candidates or (None,):
                values = [_row_id(row.debtor_account, cand.rank if cand else 0), view, row.debtor_account,
                          row.debtor_name, row.debtor_cvr, row.debtor_phone, row.debtor_city,
                          cand.rank if cand else 0, cand.customer_id if cand else None,
                          cand.customer_no if cand else None, cand.customer_name if cand else None,
                          cand.customer_vat if cand else None, cand.score if cand else None,
                          ", ".join(cand.reasons) if cand else None, None]
                ws.append([neutralise(v) for v in values])
                n += 1
        column_formats(ws, {col: TEXT_FORMAT for col in text_cols}, last_row=n + 1)
        choice_list(ws, COLUMNS.index("decision") + 1, ACTIONS, last_row=max(n + 1, 2) + 1000, allow_blank=True,
                    title="Unknown decision", error="Choose one of: " + ", ".join(ACTIONS))
        freeze_and_filter(ws, len(COLUMNS), n + 1)
        counts[view] = n
    save(wb, path)
    return counts


# ---- import ----------------------------------------------------------------------------------------------------

@dataclass
class DecisionFile:
    """The decisions of a filled-in file and the problems found; apply only when ``problems`` is empty."""

    legal_entity_id: int | None
    company_id: int | None
    decisions: list[Decision] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    rows_read: int = 0


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(restore(value)).strip() if isinstance(value, str) else str(value)
    return text or None


def read_decisions(engine: Engine, path: str | Path, legal_entity_id: int, company_id: int) -> DecisionFile:
    """Read and validate the whole file against the current state (suggestions, links, staged customers)."""
    out = DecisionFile(None, None)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:   # openpyxl raises several kinds for a file that is not a workbook
        out.problems.append(f"{path}: not an Excel workbook this review exported ({type(exc).__name__}: {exc})")
        return out
    try:
        about = {}
        if ABOUT in wb.sheetnames:
            about = {r[0]: r[1] for r in wb[ABOUT].iter_rows(values_only=True) if r and r[0]}
        out.legal_entity_id = _int(about.get("legal entity"))
        out.company_id = _int(about.get("Uniconta company"))
        if out.legal_entity_id is not None and out.legal_entity_id != int(legal_entity_id):
            out.problems.append(f"{ABOUT}: the file was exported for legal entity {out.legal_entity_id}, not "
                                f"{legal_entity_id}")
        if out.company_id is not None and out.company_id != int(company_id):
            out.problems.append(f"{ABOUT}: the file was exported for Uniconta company {out.company_id}, not "
                                f"{company_id} (rule S2)")
        rows = []
        for title in SHEETS.values():
            if title not in wb.sheetnames:
                continue
            ws = wb[title]
            header = None
            for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
                if header is None:
                    header = header_names(values)
                    missing = [c for c in ("id", "customer id", "decision") if c not in header]
                    if missing:
                        out.problems.append(f"{title}: the header lacks column(s) {', '.join(missing)}")
                        break
                    continue
                cell = dict(zip(header, values))
                out.rows_read += 1
                decision = _text(cell.get("decision"))
                if decision:
                    rows.append((title, number, _text(cell.get("id")), decision.lower(),
                                 _text(cell.get("customer id"))))
    finally:
        wb.close()
    _validate(engine, rows, legal_entity_id, company_id, out)
    return out


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _validate(engine: Engine, rows: list[tuple], legal_entity_id: int, company_id: int, out: DecisionFile) -> None:
    from sqlalchemy import select

    from tlsync.staging.tables import link_suggestions

    with engine.connect() as conn:
        suggested = {(a, int(r)): (v, c) for a, r, v, c in conn.execute(
            select(link_suggestions.c.debtor_account, link_suggestions.c.rank, link_suggestions.c.view,
                   link_suggestions.c.customer_id).where(link_suggestions.c.company_id == str(company_id)))}
    links = store.links(engine, legal_entity_id)
    linked_customers = {lk.customer_id: lk.debtor_account for lk in links.values() if lk.state == "linked"}
    customers = store.staged_customers(engine) if any(r[3].startswith("link") for r in rows) else {}
    seen_debtor: dict[str, str] = {}
    seen_customer: dict[str, str] = {}
    for sheet, number, row_id, action, customer_id in rows:
        where = f"{sheet} row {number}"
        problems_before = len(out.problems)
        if action not in ACTIONS:
            out.problems.append(f"{where}: unknown decision {action!r}; use one of {', '.join(ACTIONS)}")
        account, rank = _parse_id(row_id)
        if account is None or rank is None or (account, rank) not in suggested:   # rank is None iff account is
            lk = links.get(account) if account else None
            if lk is not None and lk.state == "linked":
                out.problems.append(f"{where}: debtor {account} has been linked to customer {lk.customer_id} since "
                                    f"the export; remove this decision or export again")
            else:
                out.problems.append(f"{where}: unknown id {row_id!r} (not a row of the current review of company "
                                    f"{company_id}; export again)")
            continue
        view, suggested_customer = suggested[(account, rank)]
        if account in seen_debtor:
            out.problems.append(f"{where}: a second decision for debtor {account} (the first is in "
                                f"{seen_debtor[account]}); one decision per debtor")
            continue
        seen_debtor[account] = where
        if action.startswith("link-"):
            customer_id = customer_id or suggested_customer
            if not customer_id:
                out.problems.append(f"{where}: {action} needs a TimeLog customer id in 'customer id'")
            elif customer_id not in customers:
                out.problems.append(f"{where}: unknown TimeLog customer id {customer_id!r}")
            elif customer_id in linked_customers and linked_customers[customer_id] != account:
                out.problems.append(f"{where}: TimeLog customer {customer_id} is already linked to debtor "
                                    f"{linked_customers[customer_id]}; a customer links to one debtor per legal "
                                    f"entity (rule L3)")
            elif customer_id in seen_customer:
                out.problems.append(f"{where}: TimeLog customer {customer_id} is also chosen in "
                                    f"{seen_customer[customer_id]}; a customer links to one debtor (rule L3)")
            else:
                seen_customer[customer_id] = where
        elif action == "unignore" and view != "ignored":
            out.problems.append(f"{where}: debtor {account} is not ignored; 'unignore' applies to the Ignored sheet")
        if len(out.problems) == problems_before:
            out.decisions.append(Decision(action, account, customer_id if action.startswith("link-") else None))


def _parse_id(row_id: str | None) -> tuple[str | None, int | None]:
    if not row_id or "#" not in row_id:
        return None, None
    account, _, rank = row_id.rpartition("#")
    try:
        return account, int(rank)
    except ValueError:
        return None, None
