"""Run bookkeeping: the ``sync_runs`` row, watermarks that advance only when the whole run succeeds, and the run
summary (rows extracted / unchanged / staged / quarantined per entity, API calls spent per system)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, delete, insert, select, update

from tlsync.staging.tables import run_entity_counts, sync_runs, watermarks


def start_run(engine: Engine, run_id: str, now: datetime | None = None) -> None:
    """Register the run (idempotent: a retried start resets the row to *running*, without a reason)."""
    now = now or datetime.now().replace(microsecond=0)
    with engine.begin() as conn:
        conn.execute(delete(sync_runs).where(sync_runs.c.run_id == run_id))
        conn.execute(insert(sync_runs), [{"run_id": run_id, "started_at": now, "status": "running", "calls": {}}])


def started_at(engine: Engine, run_id: str) -> datetime:
    with engine.connect() as conn:
        value = conn.execute(select(sync_runs.c.started_at).where(sync_runs.c.run_id == run_id)).scalar_one_or_none()
    if value is None:
        raise LookupError(f"sync run {run_id!r} was never started")
    return value


def watermark(engine: Engine, entity: str, tenant: str) -> datetime | None:
    """The high-water mark of the last successful run for ``(entity, tenant)``; ``None`` before the first."""
    with engine.connect() as conn:
        return conn.execute(select(watermarks.c.high_water).where(
            watermarks.c.entity == entity, watermarks.c.tenant == tenant)).scalar_one_or_none()


def window_start(engine: Engine, entity: str, tenant: str, *, lookback_days: int, history_start: date) -> datetime:
    """Where an incremental read begins: the watermark minus the look-back window, or the history start."""
    mark = watermark(engine, entity, tenant)
    if mark is None:
        return datetime.combine(history_start, datetime.min.time())
    return mark - timedelta(days=lookback_days)


def finish_run(engine: Engine, run_id: str, calls: Mapping[str, int], advanced: Iterable[tuple[str, str]],
               now: datetime | None = None) -> None:
    """Mark the run successful, store API calls, and advance the watermarks of ``(entity, tenant)`` pairs to the
    run's start time — the only place a watermark moves (issue 4: advance only when the run succeeds)."""
    now = now or datetime.now().replace(microsecond=0)
    high_water = started_at(engine, run_id)
    with engine.begin() as conn:
        for entity, tenant in sorted(set(advanced)):
            conn.execute(delete(watermarks).where(watermarks.c.entity == entity, watermarks.c.tenant == tenant))
            conn.execute(insert(watermarks), [{"entity": entity, "tenant": tenant, "high_water": high_water,
                                               "run_id": run_id, "updated_at": now}])
        conn.execute(update(sync_runs).where(sync_runs.c.run_id == run_id).values(
            status="success", finished_at=now, calls=dict(calls)))


def failure_line(exc: BaseException) -> str:
    """One line for a give-up: the typed client errors and a wrong setting already name the system or the setting
    and what failed; anything else is its type and message. Never a traceback; the clients' messages hold no
    secret (issue 17)."""
    from tlsync.clients.errors import SyncAPIError
    from tlsync.errors import UserSettingError

    plain = isinstance(exc, (SyncAPIError, UserSettingError))     # their messages say it all
    text = str(exc) if plain else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split()) or type(exc).__name__


def note_failure(engine: Engine, run_id: str, reason: str) -> bool:
    """Record why the run is failing — the first reason stays (the first task that gave up is the cause; later
    ones are its consequences). Does not change the status: :func:`fail_run` does. Returns whether it was stored."""
    with engine.begin() as conn:
        changed = conn.execute(update(sync_runs).where(sync_runs.c.run_id == run_id, sync_runs.c.reason.is_(None))
                               .values(reason=reason[:2000])).rowcount
    return bool(changed)


def fail_run(engine: Engine, run_id: str, calls: Mapping[str, int] | None = None, reason: str | None = None) -> bool:
    """Mark the run failed — whether it was still *running* or ``finish`` had already marked it successful before
    failing later (its changes were then never announced, tlsync.nightly.changes) — with its ``reason`` when given
    (the first recorded reason stays, :func:`note_failure`). Idempotent: a run already failed keeps its first
    ``finished_at`` and calls; returns whether this call changed the status."""
    if reason:
        note_failure(engine, run_id, reason)
    values: dict = {"status": "failed", "finished_at": datetime.now().replace(microsecond=0)}
    if calls is not None:
        values["calls"] = dict(calls)
    with engine.begin() as conn:
        changed = conn.execute(update(sync_runs).where(sync_runs.c.run_id == run_id, sync_runs.c.status != "failed")
                               .values(**values)).rowcount
    return bool(changed)


def failure_reason(engine: Engine, run_id: str) -> str | None:
    """What :func:`note_failure` recorded for the run, or ``None``."""
    with engine.connect() as conn:
        return conn.execute(select(sync_runs.c.reason).where(sync_runs.c.run_id == run_id)).scalar_one_or_none()


def sum_calls(parts: Iterable[Mapping[str, int] | None]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for part in parts:
        total.update(part or {})
    return dict(sorted(total.items()))


def summary_rows(engine: Engine, run_id: str) -> list[dict]:
    """Per entity (summed over tenants): extracted, unchanged, staged, quarantined, warnings, and removed (staged
    rows a complete full read no longer had, docs/staging-deletions.md)."""
    with engine.connect() as conn:
        rows = conn.execute(select(run_entity_counts).where(run_entity_counts.c.run_id == run_id)).mappings().all()
    totals: dict[str, Counter] = {}
    for row in rows:
        totals.setdefault(row["entity"], Counter()).update(
            {k: row[k] or 0 for k in ("extracted", "unchanged", "staged", "quarantined", "warnings", "removed")})
    return [{"entity": entity, **counts} for entity, counts in sorted(totals.items())]


def format_summary(engine: Engine, run_id: str) -> str:
    """A fixed-width table for logs and the README's run command."""
    rows = summary_rows(engine, run_id)
    with engine.connect() as conn:
        run = conn.execute(select(sync_runs).where(sync_runs.c.run_id == run_id)).mappings().one_or_none()
    cols = ("extracted", "unchanged", "staged", "quarantined", "warnings")
    width = max([len(r["entity"]) for r in rows] + [len("entity"), len("total")])
    lines = [f"{'entity':<{width}}  " + "  ".join(f"{c:>11}" for c in cols)]
    lines.append("-" * len(lines[0]))
    for r in rows:
        lines.append(f"{r['entity']:<{width}}  " + "  ".join(f"{r.get(c, 0):>11,}" for c in cols))
    totals = {c: sum(r.get(c, 0) for r in rows) for c in cols}
    lines.append("-" * len(lines[0]))
    lines.append(f"{'total':<{width}}  " + "  ".join(f"{totals[c]:>11,}" for c in cols))
    removed = [(r["entity"], r.get("removed", 0)) for r in rows if r.get("removed")]
    if removed:   # not part of extracted = unchanged + staged + quarantined (docs/staging-deletions.md)
        lines.append("removed (no longer in the source): " + ", ".join(f"{e} {n:,}" for e, n in removed)
                     + f" — python -m tlsync.staging.deletions --run {run_id}")
    if run is not None:
        calls = ", ".join(f"{k}: {v:,}" for k, v in (run["calls"] or {}).items()) or "none recorded"
        lines.append(f"run {run_id}: {run['status']}; API calls spent: {calls}")
        if run["status"] == "failed" and run["reason"]:
            lines.append(f"why it failed: {run['reason']}")
    return "\n".join(lines)
