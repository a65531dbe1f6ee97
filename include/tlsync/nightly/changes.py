"""What a night changed in staging — the content of the asset events the nightly sync emits, and how the DAGs
they trigger read them back (issue 11 item 1).

An asset event means **"this staged entity changed"**: the nightly sync emits them once, from its ``finish``
task, after every legal entity was staged — one event per staged entity (``timelog.invoices``, …) that staged
or removed at least one row, none for an entity that only counted unchanged or quarantined rows, and none at all
on a night that changed nothing. The tenant is not a separate asset: the event's ``extra`` lists the counts per
tenant (the TimeLog site, ``<site>:<legal entity>``, or the Uniconta company id), so a consumer can limit itself
to the companies that changed (the customer linking refresh does)::

    {"run_id": "scheduled__2026-12-06T01:00:00+00:00", "staged": 12, "removed": 1,
     "tenants": {"10001": {"staged": 12, "removed": 1}}, "runs": ["scheduled__2026-12-06T01:00:00+00:00"]}

Decisions:

- The counts come from ``run_entity_counts`` (what each ``validate_and_stage`` task recorded — the same numbers
  its manifest returns; a retried task replaces its row, so nothing is counted twice).
- A night that failed announced nothing, but what it staged stays staged, and the next night counts it as
  *unchanged*. So the next successful night also announces the rows staged by the failed nights since the last
  successful one (``runs`` lists them): a change is announced exactly once, late rather than never.
- Quarantined rows are not a change of staging (the last good version stays), so they trigger nothing.

No Airflow import here: ``plugins/tlsync_airflow/assets.py`` turns these dicts into events and back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Engine, select

from tlsync.staging.tables import run_entity_counts, sync_runs

NOT_ANNOUNCED = ("failed", "running")


def _unannounced_runs(engine: Engine, run_id: str) -> list[str]:
    """``run_id`` and the runs before it whose changes were never announced: every run that did not succeed,
    started after the last successful run that started before ``run_id``."""
    with engine.connect() as conn:
        rows = conn.execute(select(sync_runs.c.run_id, sync_runs.c.started_at, sync_runs.c.status)
                            .order_by(sync_runs.c.started_at, sync_runs.c.run_id)).all()
    this = next((r for r in rows if r.run_id == run_id), None)
    if this is None:
        raise LookupError(f"sync run {run_id!r} was never started")
    before = [r for r in rows if r.run_id != run_id and r.started_at <= this.started_at]
    last_success = max((r.started_at for r in before if r.status == "success"), default=None)
    carried = [r.run_id for r in before if r.status in NOT_ANNOUNCED
               and (last_success is None or r.started_at > last_success)]
    return [*carried, run_id]


def night_changes(engine: Engine, run_id: str) -> dict[str, dict[str, Any]]:
    """Per changed staged entity (qualified name), the extra of its asset event; ``{}`` when nothing changed."""
    included = _unannounced_runs(engine, run_id)
    with engine.connect() as conn:
        rows = conn.execute(select(run_entity_counts.c.run_id, run_entity_counts.c.entity,
                                   run_entity_counts.c.tenant, run_entity_counts.c.staged,
                                   run_entity_counts.c.removed)
                            .where(run_entity_counts.c.run_id.in_(included))).all()
    out: dict[str, dict[str, Any]] = {}
    for row in sorted(rows, key=lambda r: (included.index(r.run_id), r.entity, r.tenant)):
        staged, removed = int(row.staged or 0), int(row.removed or 0)
        if not staged and not removed:
            continue
        event = out.setdefault(row.entity, {"run_id": run_id, "staged": 0, "removed": 0, "tenants": {}, "runs": []})
        tenant = event["tenants"].setdefault(row.tenant, {"staged": 0, "removed": 0})
        tenant["staged"] += staged
        tenant["removed"] += removed
        event["staged"] += staged
        event["removed"] += removed
        if row.run_id not in event["runs"]:
            event["runs"].append(row.run_id)
    return dict(sorted(out.items()))


def describe(changes: Mapping[str, Mapping[str, Any]]) -> str:
    """One log line: what the night announces."""
    if not changes:
        return "nothing was staged or removed: no asset events, no downstream run"
    return "asset events: " + "; ".join(
        f"{entity} (staged {c['staged']:,}, removed {c['removed']:,} in {', '.join(sorted(c['tenants']))})"
        for entity, c in changes.items())


def changed_tenants(events: Iterable[Mapping[str, Any]], entity: str) -> set[str] | None:
    """The tenants the triggering events of ``entity`` name; ``None`` when there is no event for it.

    ``events``: ``{"entity": "<qualified>", "extra": {...}, "timestamp": datetime}`` as
    ``tlsync_airflow.assets.triggering_changes`` returns them."""
    found = [e for e in events if e["entity"] == entity]
    if not found:
        return None
    return {str(t) for e in found for t in (e.get("extra") or {}).get("tenants", {})}


def companies_to_refresh(events: Iterable[Mapping[str, Any]], company_ids: Iterable[int]) -> list[int]:
    """The Uniconta companies whose linking suggestions a run must recompute (rules L1/L2): all of them when
    TimeLog's customers changed (they are site-wide, every company's suggestions may move) or when the run was
    not triggered by events (a manual run); otherwise only the companies whose debtors changed."""
    events = list(events)
    companies = sorted(int(c) for c in company_ids)
    if not events or changed_tenants(events, "timelog.customers") is not None:
        return companies
    debtors = changed_tenants(events, "uniconta.debtors") or set()
    return [c for c in companies if str(c) in debtors]
