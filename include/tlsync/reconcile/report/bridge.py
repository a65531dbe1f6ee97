"""The amount bridge of a reconciliation (issue 16): from TimeLog's total to Uniconta's, per currency, in lines
that explain the difference — one per category, plus the rounding on matched invoices.

Every reconciliation row is on exactly one line, and a row's amount on it is what it adds to the difference
TimeLog − Uniconta in that currency (:func:`contribution`: TimeLog's total when its invoice is in that currency,
minus Uniconta's *posted* total when its invoice is; a draft has none). So the lines add up to the difference to
the øre; :func:`bridges` checks that identity instead of assuming it (a failure is a bug, never a finding).

The report shows the bridge first (HTML, PDF, the workbook's Summary, :mod:`.html`, :mod:`.excel`, :mod:`.plots`),
the run prints it (:func:`tlsync.reconcile.report.format_headline`) and the DAG returns it
(:func:`tlsync.reconcile.report.bridge_summary`).
Decision: its own module beside :mod:`.tables` — the bridge is a computation over the rows, not a table; the two
share only the reconciliation model.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tlsync.reconcile.model import (
    AMOUNTS_DIFFER,
    CURRENCY_DIFFERS,
    DEBTOR_DIFFERS,
    DRAFT_IN_UNICONTA,
    LINES_EDITED,
    MATCHED,
    MISSING_IN_TIMELOG,
    MISSING_IN_UNICONTA,
    POSTED,
    Reconciliation,
    Row,
)

D0 = Decimal(0)

ROUNDING = "rounding"
#: the bridge's order: the big unexplained amounts first, rounding on matched invoices last
BRIDGE_ORDER: tuple[str, ...] = (MISSING_IN_UNICONTA, MISSING_IN_TIMELOG, DRAFT_IN_UNICONTA, CURRENCY_DIFFERS,
                                 DEBTOR_DIFFERS, LINES_EDITED, AMOUNTS_DIFFER, ROUNDING)


def contribution(r: Row, currency: str) -> Decimal:
    """What one row adds to the difference TimeLog − Uniconta in ``currency``: TimeLog's total when the TimeLog
    invoice is in that currency, minus Uniconta's posted total when the Uniconta invoice is (a draft has none)."""
    tl = r.timelog.total or D0 if r.timelog is not None and r.timelog.currency == currency else D0
    uc = (r.uniconta.total or D0 if r.uniconta is not None and r.uniconta.status == POSTED
          and r.uniconta.currency == currency else D0)
    return tl - uc


def touches(r: Row, currency: str) -> bool:
    return any(d is not None and d.currency == currency for d in (r.timelog, r.uniconta))


@dataclass
class BridgeLine:
    key: str                               # a category code, or ROUNDING (matched invoices that differ by øre)
    count: int
    amount: Decimal


@dataclass
class Bridge:
    """From TimeLog's total to Uniconta's, for one currency of one legal entity: one line per category."""
    currency: str
    timelog_total: Decimal
    uniconta_total: Decimal
    lines: list[BridgeLine]

    @property
    def difference(self) -> Decimal:
        return self.timelog_total - self.uniconta_total

    @property
    def explained(self) -> Decimal:
        return sum((ln.amount for ln in self.lines), D0)


def bridge_key(r: Row) -> str:
    return ROUNDING if r.category == MATCHED else r.category


def bridges(recon: Reconciliation) -> list[Bridge]:
    """The amount bridge per currency (home currency first): TimeLog total, Uniconta total, and per category the
    sum of its rows' differences; matched invoices that still differ (within the tolerance, VAT rounded per line
    in Uniconta) form the rounding line. The lines add up to the difference exactly — the same rows, the same
    amounts — and that is checked here, not assumed."""
    currencies = sorted({d.currency for r in recon.rows for d in (r.timelog, r.uniconta) if d is not None},
                        key=lambda c: (c != recon.home_currency, c))
    out = []
    for cur in currencies or [recon.home_currency]:
        rows = [r for r in recon.rows if touches(r, cur)]
        tl_total = sum((r.timelog.total or D0 for r in rows if r.timelog is not None and r.timelog.currency == cur),
                       D0)
        uc_total = sum((r.uniconta.total or D0 for r in rows if r.uniconta is not None
                        and r.uniconta.status == POSTED and r.uniconta.currency == cur), D0)
        acc: dict[str, BridgeLine] = {}
        for r in rows:
            amount = contribution(r, cur)
            key = bridge_key(r)
            if key == ROUNDING and amount == 0:
                continue                   # a matched invoice to the øre explains nothing
            line = acc.setdefault(key, BridgeLine(key, 0, D0))
            line.count += 1
            line.amount += amount
        b = Bridge(cur, tl_total, uc_total, [acc[k] for k in BRIDGE_ORDER if k in acc])
        if b.explained != b.difference:    # an identity of the sums above; a failure is a bug, never a finding
            raise RuntimeError(f"amount bridge in {cur} does not add up: {b.explained} explained, "
                               f"{b.difference} difference")
        out.append(b)
    return out
