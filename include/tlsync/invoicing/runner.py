"""Run the invoice transfer for every configured legal entity over one period — what the DAGs call.

The DAGs only wire (schedule, data interval, params); this module builds the clients from Connection fields,
loads the settings, and calls :func:`~tlsync.invoicing.transfer.transfer_invoices` per legal entity ↔ Uniconta
company (rule S2). It returns a small JSON-able summary per legal entity for XCom and the logs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

PLANNED_SHOWN = 200


def summarise(res: dict) -> dict:
    out = {k: v for k, v in res.items() if k not in ("planned", "failures")}
    out["failures"] = dict(list(res.get("failures", {}).items())[:PLANNED_SHOWN])
    out["planned"] = res.get("planned", [])[:PLANNED_SHOWN]
    out["planned_total"] = len(res.get("planned", []))
    return out


def transfer_period(period: tuple[date, date] | None, *, timelog_fields: Callable[[str], dict],
                    uniconta_fields: Callable[[str], dict], dry_run: bool = False,
                    legal_entity_ids: Iterable[int] | None = None, run_id: str | None = None,
                    engine: Any = None, settings: Any = None) -> dict[str, dict]:
    """Transfer every configured (or the chosen) legal entity's invoices dated in ``period``."""
    from tlsync import connections
    from tlsync.ledger import Ledger
    from tlsync.settings import store
    from tlsync.sync import config

    from .transfer import transfer_invoices

    engine = engine or config.staging_engine()
    settings = settings or store.load()
    wanted = None if legal_entity_ids is None else {int(i) for i in legal_entity_ids}
    out: dict[str, dict] = {}
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


def problems(summary: dict[str, dict]) -> list[str]:
    """What should fail a scheduled run: a refused legal entity (S8) or a stop (quota) — not single bad invoices,
    which wait in the ledger as ``failed`` with their reasons."""
    out = []
    for le_id, res in summary.items():
        out += [f"legal entity {le_id}: {line}" for line in res.get("refused") or []]
        if res.get("stopped"):
            out.append(f"legal entity {le_id}: {res['stopped']}")
    return out
