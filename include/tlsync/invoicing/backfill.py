"""Backfill of historical invoices: month by month over a range, idempotent, bounded memory.

One :func:`~tlsync.invoicing.transfer.transfer_invoices` run over the whole range, which reads staging one month
at a time, so only one month's invoices (and one batch's lines) are in memory at a time; invoices already
``done``/``elsewhere``/``ignored`` are skipped, so a backfill can be stopped and started again (or driven month by
month by the ``tlsync_invoice_backfill`` DAG) without a double post. When Uniconta's daily quota runs out the
backfill stops and says where to continue.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from tlsync.ledger import Ledger
from tlsync.settings.models import LegalEntitySettings

from .run import TransferResult
from .transfer import transfer_invoices

if TYPE_CHECKING:                            # the clients are built by the callers (tlsync.connections)
    from tlsync.clients.timelog import TransactionalClient
    from tlsync.clients.uniconta import UnicontaClient


def month_range(first: str, last: str) -> tuple[date, date]:
    """``"2021-01"``, ``"2025-12"`` → 2021-01-01 .. 2025-12-31."""
    y1, m1 = (int(x) for x in first.split("-")[:2])
    y2, m2 = (int(x) for x in last.split("-")[:2])
    end = date(y2 + (m2 == 12), m2 % 12 + 1, 1) - timedelta(days=1)
    return date(y1, m1, 1), end


def backfill(engine: Engine, le: LegalEntitySettings, uniconta: UnicontaClient, timelog_tx: TransactionalClient, *,
             ledger: Ledger, start: date, end: date, dry_run: bool = False,
             progress: Callable[[int], None] | None = None) -> TransferResult:
    """Transfer every month of ``start..end`` in order, in one run: the run streams month by month (one month's
    invoices in memory) and fills its 100-draft batches across month ends, so a quiet month costs no extra call.
    Stops when the quota stops; run it again to continue (done invoices are skipped)."""
    from .source import months

    res = transfer_invoices(engine, le, uniconta, timelog_tx, ledger=ledger, period=(start, end), dry_run=dry_run,
                            progress=progress)
    res["months"] = sum(1 for _ in months(start, end))
    if res["stopped"]:
        res["stopped"] = (f"{res['stopped']}; run the same backfill again tomorrow — transferred invoices are "
                          f"skipped, the rest continue")
    return res
