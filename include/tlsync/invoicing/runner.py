"""Run the invoice transfer for every configured legal entity over one period — what the DAGs call.

The DAGs only wire (schedule, data interval, conf); this module builds the clients from Connection fields,
loads the settings, and calls :func:`~tlsync.invoicing.transfer.transfer_invoices` per legal entity ↔ Uniconta
company (rule S2). It returns a small JSON-able summary per legal entity for XCom and the logs.

**No surprise writes** (issue 11 item 7): a run of the backfill DAG writes only when its ``dag_run.conf`` names its
legal entities and says ``"dry_run": false`` (:func:`backfill_request`). Params defaults are not read: a run the
scheduler makes after unpausing has no conf, and Airflow 3.3's backfill form drops the conf it shows
(``dag_run_conf: null``) — such runs are dry runs that say so in one log line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from tlsync.settings.models import IntegrationSettings

    from .run import TransferResult

log = logging.getLogger(__name__)

PLANNED_SHOWN = 200
HOW_TO_WRITE = ('to write, start the run with conf {"legal_entities": [1], "dry_run": false} '
                "(airflow backfill create … --dag-run-conf, or the REST API; docs/invoicing.md)")


@dataclass(frozen=True)
class BackfillRequest:
    """What one backfill run may do: write (``dry_run`` false) only for the legal entities its conf names."""

    dry_run: bool
    legal_entity_ids: tuple[int, ...] | None   # None: every configured legal entity (dry runs only)
    reason: str                                # the one log line that says what the run does and why


def backfill_request(conf: Mapping[str, Any] | None) -> BackfillRequest:
    """Read a backfill run's ``dag_run.conf``. A malformed conf is an error naming the key and what it needs."""
    conf = dict(conf or {})
    raw_ids = conf.get("legal_entities")
    if raw_ids in (None, []):
        ids = None
    elif isinstance(raw_ids, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in raw_ids):
        ids = tuple(sorted(set(raw_ids)))
    else:
        raise ValueError(f"tlsync_invoice_backfill: conf 'legal_entities' must be a list of TimeLog legal entity ids "
                         f"such as [1, 2], got {raw_ids!r}")
    dry = conf.get("dry_run", True)
    if not isinstance(dry, bool):
        raise ValueError(f"tlsync_invoice_backfill: conf 'dry_run' must be true or false, got {dry!r}")
    if not conf:
        return BackfillRequest(True, None, "dry run: this run has no conf (a scheduled run, or started from a form "
                                           f"that drops it), so nothing is written; {HOW_TO_WRITE}")
    if dry:
        return BackfillRequest(True, ids, f"dry run: the conf asks for one (dry_run is not false); {HOW_TO_WRITE}")
    if ids is None:
        return BackfillRequest(True, None, "dry run: the conf says dry_run false but names no legal entities, so "
                                           f"nothing is written; {HOW_TO_WRITE}")
    return BackfillRequest(False, ids, f"writing: the conf asks for legal entities {', '.join(map(str, ids))}")


def summarise(res: TransferResult) -> dict[str, Any]:
    """A transfer's result for XCom and the logs: the planned writes and failures cut to :data:`PLANNED_SHOWN`."""
    out: dict[str, Any] = {k: v for k, v in res.items() if k not in ("planned", "failures")}
    out["failures"] = dict(list(res.get("failures", {}).items())[:PLANNED_SHOWN])
    out["planned"] = res.get("planned", [])[:PLANNED_SHOWN]
    out["planned_total"] = len(res.get("planned", []))
    return out


def transfer_period(period: tuple[date, date] | None, *, timelog_fields: Callable[[str], dict[str, Any]],
                    uniconta_fields: Callable[[str], dict[str, Any]], dry_run: bool = False,
                    legal_entity_ids: Iterable[int] | None = None, run_id: str | None = None,
                    engine: Engine | None = None,
                    settings: IntegrationSettings | None = None) -> dict[str, dict[str, Any]]:
    """Transfer every configured (or the chosen) legal entity's invoices dated in ``period``."""
    from tlsync import connections
    from tlsync.ledger import Ledger
    from tlsync.settings import store
    from tlsync.staging.engine import staging_engine

    from .transfer import transfer_invoices

    engine = engine or staging_engine()
    settings = settings or store.load()
    wanted = None if legal_entity_ids is None else {int(i) for i in legal_entity_ids}
    out: dict[str, dict[str, Any]] = {}
    for le_id, le in sorted(settings.legal_entities.items()):
        if wanted is not None and int(le_id) not in wanted:
            continue
        if le.uniconta_company_id is None or not le.uniconta_connection_id:
            out[str(le_id)] = {"refused": [f"{le.label}: no Uniconta connection/company chosen (rule S1)"]}
            continue
        ledger = Ledger(engine, run_id=run_id, actor="airflow")
        with connections.timelog_source(**timelog_fields(le.timelog_connection_id)) as tl, \
                connections.uniconta_client(company_id=le.uniconta_company_id,
                                            **uniconta_fields(le.uniconta_connection_id)) as uc:
            res = transfer_invoices(engine, le, uc, tl.transactional, ledger=ledger, period=period, dry_run=dry_run)
        out[str(le_id)] = summarise(res)
    return out


def problems(summary: dict[str, dict[str, Any]]) -> list[str]:
    """What should fail a scheduled run: a refused legal entity (S8) or a stop (quota) — not single bad invoices,
    which wait in the ledger as ``failed`` with their reasons."""
    out = []
    for le_id, res in summary.items():
        out += [f"legal entity {le_id}: {line}" for line in res.get("refused") or []]
        if res.get("stopped"):
            out.append(f"legal entity {le_id}: {res['stopped']}")
    return out


def check_outcome(summary: dict[str, dict[str, Any]], *, dry_run: bool) -> list[str]:
    """A writing run fails on its :func:`problems` (``RuntimeError`` with all of them); a dry run only reports
    them — they are returned as lines to log — so that unpausing the backfill never leaves a failed run behind."""
    issues = problems(summary)
    if issues and not dry_run:
        raise RuntimeError("; ".join(issues))
    return [f"a real run would stop here: {issue}" for issue in issues]
