"""What the run command prints after a run: the latest run's summary, the staged row counts per entity, and how many
rows were quarantined and removed (no longer in the source, docs/staging-deletions.md) by that run."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from tlsync.nightly.runs import format_summary
from tlsync.staging.tables import STAGING, quarantine, staging_deletions, sync_runs


def latest_run_id(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(sync_runs.c.run_id).order_by(sync_runs.c.started_at.desc()).limit(1)).scalar()


def staged_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for name, table in sorted(STAGING.items())}


def after_run(engine: Engine) -> str:
    run_id = latest_run_id(engine)
    if run_id is None:
        return "No sync run recorded yet."
    parts = [f"Run summary ({run_id}):", format_summary(engine, run_id), "", "Rows now in staging per entity:"]
    counts = staged_counts(engine)
    width = max(map(len, counts))
    parts += [f"  {name:<{width}}  {n:>9,}" for name, n in counts.items()]
    with engine.connect() as conn:
        q = conn.execute(select(func.count()).select_from(quarantine).where(quarantine.c.run_id == run_id)).scalar_one()
        removed = conn.execute(select(staging_deletions.c.entity, func.count()).where(
            staging_deletions.c.run_id == run_id).group_by(staging_deletions.c.entity)
            .order_by(staging_deletions.c.entity)).all()
    parts.append(f"  {'quarantined this run':<{width}}  {q:>9,}")
    parts.append(f"  {'removed this run':<{width}}  {sum(n for _, n in removed):>9,}"
                 + ("  (no longer in the source: " + ", ".join(f"{e} {n:,}" for e, n in removed)
                    + "; python -m tlsync.staging.deletions --run " + run_id + ")" if removed else ""))
    return "\n".join(parts)
