"""The expense import as data for people and the finance report: one row per posting the import has seen.

Read from the sync ledger alone (domain ``expense``), so the report shows exactly what was decided and written —
not a recomputation that could differ from it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from sqlalchemy import Engine

from tlsync.ledger import FAILED, PENDING, REVIEW, Ledger, LedgerEntry

from .importer import DOMAIN

WAITING = (REVIEW, FAILED, PENDING)
"""States that still need something: a decision or a retry. (``in_flight`` is a write under way; one a dead run
left behind is settled by the next import, see :meth:`~.importer.ExpenseImport.settle_interrupted`.)"""


def _dec(value) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def _date(value) -> date | None:
    return date.fromisoformat(value) if value else None


def row(entry: LedgerEntry) -> dict:
    """One posting: its key, dates, account, amounts (Decimal), currency, expense type, project, state, reason
    and the TimeLog expense ID once imported."""
    d = entry.details or {}
    p = d.get("posting") or {}
    return {
        "legal_entity_id": entry.legal_entity_id,
        "posting_key": entry.source_key,
        "date": _date(p.get("date")),
        "purchase_date": _date(p.get("purchase_date")),
        "account": p.get("account"),
        "creditor": p.get("creditor"),
        "creditor_name": p.get("creditor_name"),
        "voucher": p.get("voucher"),
        "invoice": p.get("invoice"),
        "text": p.get("comment") or p.get("text"),
        "amount": _dec(p.get("amount")),
        "vat": _dec(p.get("vat")),
        "amount_incl_vat": _dec(p.get("amount_incl_vat")),
        "currency": d.get("currency") or None,
        "posting_currency": p.get("currency") or None,
        "amount_cur": _dec(p.get("amount_cur")),
        "exchange_rate": _dec(d.get("exchange_rate")),
        "uniconta_project": p.get("project") or None,
        "expense_type_id": d.get("expense_type_id"),
        "expense_type": d.get("expense_type_name"),
        "project_id": d.get("project_id"),
        "project": d.get("project_no"),
        "state": entry.state,
        "reason": entry.reason,
        "review_codes": ", ".join(d.get("codes") or []) or None,   # e.g. "no_type, unknown_project"
        "reversal_of": d.get("reversal_of"),
        "timelog_expense_id": entry.target_key,
        "updated_at": entry.updated_at,
    }


def imported_expenses(engine: Engine, legal_entity_id: int | None = None, *,
                      states: Iterable[str] | None = None) -> list[dict]:
    """Every posting the import has seen — imported (``done``), waiting (``review``/``failed``/…) and ``ignored`` —
    one dict each (see :func:`row`), ordered by legal entity, date and key. ``states`` narrows it."""
    entries = Ledger(engine).entries(DOMAIN, legal_entity_id, states=states)
    rows = [row(e) for e in entries]
    return sorted(rows, key=lambda r: (r["legal_entity_id"], r["date"] or date.min, r["posting_key"]))


def waiting(engine: Engine, legal_entity_id: int | None = None) -> list[dict]:
    """The review list: postings that wait for a person, with the reason."""
    return imported_expenses(engine, legal_entity_id, states=WAITING)
