"""Backfill of historical invoices: month by month over a range, idempotent, bounded memory.

Each month is one :func:`~tlsync.invoicing.transfer.transfer_invoices` run over that month's dates, so only one
month's invoices (and one batch's lines) are in memory at a time; invoices already ``done``/``elsewhere``/
``ignored`` are skipped, so a backfill can be stopped and started again (or driven month by month by the
``tlsync_invoice_backfill`` DAG) without a double post. When Uniconta's daily quota runs out the backfill stops
and says where to continue.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from .transfer import COUNT_KEYS, transfer_invoices


def month_range(first: str, last: str) -> tuple[date, date]:
    """``"2021-01"``, ``"2025-12"`` → 2021-01-01 .. 2025-12-31."""
    y1, m1 = (int(x) for x in first.split("-")[:2])
    y2, m2 = (int(x) for x in last.split("-")[:2])
    end = date(y2 + (m2 == 12), m2 % 12 + 1, 1) - timedelta(days=1)
    return date(y1, m1, 1), end


def backfill(engine, le, uniconta, timelog_tx, *, ledger, start: date, end: date, dry_run: bool = False,
             progress: Callable[[int], None] | None = None,
             on_month: Callable[[date, dict], None] | None = None) -> dict[str, Any]:
    """Transfer every month of ``start..end`` in order; stops at the first month the quota stops."""
    from .source import invoice_tenant, months
    from .transfer import load_context

    total: Counter = Counter()
    out: dict[str, Any] = {"months": 0, "messages": [], "refused": [], "stopped": None, "planned": [],
                           "failures": {}}
    tenant = invoice_tenant(engine, le.legal_entity_id)
    context = load_context(engine, le, tenant) if tenant else None
    for m_start, m_end in months(start, end):
        res = transfer_invoices(engine, le, uniconta, timelog_tx, ledger=ledger, period=(m_start, m_end),
                                dry_run=dry_run, progress=progress, context=context)
        out["months"] += 1
        total.update({k: res.get(k, 0) for k in (*COUNT_KEYS, "lines")})
        for msg in res["messages"]:
            if msg not in out["messages"]:
                out["messages"].append(msg)
        out["planned"].extend(res["planned"])
        out["failures"].update(res["failures"])
        if on_month:
            on_month(m_start, res)
        if res["refused"]:
            out["refused"] = res["refused"]
            break
        if res["stopped"]:
            out["stopped"] = f"{res['stopped']} in {m_start:%Y-%m}; run the backfill again from {m_start:%Y-%m}"
            break
    out.update({k: total.get(k, 0) for k in (*COUNT_KEYS, "lines")})
    return out
