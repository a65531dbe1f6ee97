"""Invoice reconciliation between TimeLog and Uniconta (rule U3), per legal entity and period.

``reconcile(engine, legal_entity_id, start, end, company_id=…)`` reads staging (never the APIs), pairs TimeLog's
booked invoices and credit notes with Uniconta's posted invoices and drafts (:mod:`.pairing`), compares each pair
and explains every difference (:mod:`.compare`), and returns a :class:`~.model.Reconciliation` that the finance
report (:mod:`tlsync.reconcile.report`) renders as HTML, Excel and CSV. ``python -m tlsync.reconcile --help`` runs both.

Every row lands in exactly one category (see :data:`.model.PAIR_PRECEDENCE`), so the counts add up to the number
of rows and the totals of the summary tie out to the detail sheets to the øre.
"""

from __future__ import annotations

import importlib
import logging
from datetime import date
from decimal import Decimal

from sqlalchemy import Engine

from tlsync.settings.models import LegalEntitySettings

from . import compare, load, pairing
from .model import (
    AMOUNTS_DIFFER,
    BY_DEBTOR_DATE_AMOUNT,
    BY_EXTERNAL_NUMBER,
    BY_LEDGER,
    CATEGORIES,
    CURRENCY_DIFFERS,
    DEBTOR_DIFFERS,
    DIFFERENCE_CATEGORIES,
    DRAFT_IN_UNICONTA,
    LABELS,
    LINES_EDITED,
    MATCHED,
    MISSING_IN_TIMELOG,
    MISSING_IN_UNICONTA,
    Doc,
    Line,
    Reconciliation,
    Row,
)

log = logging.getLogger(__name__)

DEFAULT_TOLERANCE = Decimal("0.01")
EXPENSES_NOT_RUN = ("expense import not run: no expenses have been imported from Uniconta (rule U4) for this "
                    "legal entity")

__all__ = ["reconcile", "Reconciliation", "Row", "Doc", "Line", "CATEGORIES", "LABELS", "DIFFERENCE_CATEGORIES",
           "MATCHED", "AMOUNTS_DIFFER", "MISSING_IN_UNICONTA", "MISSING_IN_TIMELOG", "DEBTOR_DIFFERS",
           "CURRENCY_DIFFERS", "DRAFT_IN_UNICONTA", "LINES_EDITED", "BY_LEDGER", "BY_EXTERNAL_NUMBER",
           "BY_DEBTOR_DATE_AMOUNT", "DEFAULT_TOLERANCE", "imported_expenses", "entity_settings"]


def imported_expenses(engine: Engine, legal_entity_id: int,
                      period: tuple[date, date] | None = None) -> tuple[list[dict] | None, str]:
    """The expenses imported from Uniconta (U4) by ``tlsync.expenses``, or ``None`` with a note saying why not.

    The expense import is its own flow; the report shows what it did and must not break when it has not run."""
    try:
        fn = importlib.import_module("tlsync.expenses").imported_expenses   # an optional sibling flow
    except (ImportError, AttributeError):
        return None, EXPENSES_NOT_RUN
    rows = list(fn(engine, legal_entity_id=legal_entity_id))
    if period is not None:
        start, end = period
        rows = [r for r in rows if not isinstance(r.get("date"), date) or start <= r["date"] <= end]
    if not rows:
        return [], "no expenses imported from Uniconta (rule U4) for this legal entity and period"
    return rows, f"{len(rows)} expense posting(s) seen by the expense import (rule U4); 'state' done = imported"


def entity_settings(legal_entity_id: int, company_id: int) -> LegalEntitySettings | None:
    """The legal entity's integration settings (:func:`tlsync.settings.resolve`: the settings file
    ``TLSYNC_SETTINGS``, else the Airflow Variable ``tlsync_integration_settings`` — from the environment or from
    Airflow itself, so a Variable saved in the Airflow UI counts here as it does for the transfer) when they pair
    it with ``company_id``; ``None`` otherwise. A settings file that does not validate is logged and ignored: the
    report still runs, comparing with the lines' own items."""
    from tlsync import settings as st

    try:
        doc = st.resolve()          # the file, else the Variable — the same answer the transfer gets
        if doc is None:
            return None
    except st.SettingsError as exc:
        log.warning("reconciliation: the integration settings cannot be read, so the default items (rules I1–I4) "
                    "are not known; lines are compared with their own items: %s", exc)
        return None
    le = doc.legal_entities.get(int(legal_entity_id))
    return le if le is not None and le.uniconta_company_id == int(company_id) else None


def reconcile(engine: Engine, legal_entity_id: int, start: date, end: date, *, company_id: int,
              tolerance: Decimal = DEFAULT_TOLERANCE, as_of: date | None = None, site: str | None = None,
              with_expenses: bool = True, settings: LegalEntitySettings | None = None) -> Reconciliation:
    """Reconcile one TimeLog legal entity with its Uniconta company (rule S2) for invoices dated ``start`` …
    ``end`` (inclusive). ``tolerance`` (Decimal, default 0.01) is the largest difference still counted as equal.
    ``settings``: the legal entity's settings, whose default items (rules I1–I4) tell which item tlsync sent for
    each line (default: :func:`entity_settings`)."""
    if end < start:
        raise ValueError(f"reconciliation period ends ({end}) before it starts ({start})")
    tolerance = Decimal(str(tolerance))
    site = site or load.site_code(engine, legal_entity_id)
    if settings is None:
        settings = entity_settings(legal_entity_id, company_id)
    src = load.load(engine, legal_entity_id, company_id, site, settings)
    found = pairing.pair(src, tolerance)
    rows = [compare.compare_pair(tl, uc, basis, src, tolerance) for tl, uc, basis in found.pairs]
    rows += compare.orphan_rows(found, src)
    rows = [r for r in rows if r.date is not None and start <= r.date <= end]
    rows.sort(key=lambda r: (r.date, r.timelog.number if r.timelog else "", r.uniconta.number if r.uniconta else ""))
    compare.set_age(rows, as_of or date.today())
    expenses, note = (imported_expenses(engine, legal_entity_id, (start, end)) if with_expenses
                      else (None, EXPENSES_NOT_RUN))
    return Reconciliation(legal_entity_id=int(legal_entity_id), company_id=int(company_id), site=site, start=start,
                          end=end, as_of=as_of or date.today(), tolerance=tolerance,
                          home_currency=src.home_currency, rows=rows, expenses=expenses, expenses_note=note,
                          quarantine=src.quarantine)
