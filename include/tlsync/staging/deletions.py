"""Records that vanished from the source: removed from staging after a complete full read, kept in an audit table.

Entities read in **full** every night (``mode="full"`` in :mod:`tlsync.staging.entities`: TimeLog reference lists,
Uniconta reference classes and the Uniconta drafts ``DebtorOrderClient`` / ``DebtorOrderLineClient``) see the
source's whole population each time. A staged row whose natural key is not in such a read was deleted in the
source — a draft the accountant deleted or posted (posting removes the draft in Uniconta), a deleted debtor, a
removed item. Left staged, it would make the reconciliation say "still a draft in Uniconta" (rule U3), keep a
deleted debtor in the customer-linking views (L2) and a deleted item selectable (I1–I4).

:func:`prune_vanished` removes such rows and copies each, with its last payload, into the append-only
``staging_deletions`` table in the same transaction, so nothing is lost and an operator sees what disappeared and
when (``python -m tlsync.staging.deletions``). It is only called after the whole landing file of a full read was
read (see ``tlsync.nightly.steps.validate_and_stage``); every record of that read counts as present — also those the
quality gate quarantined or the client's model refused. **Incremental entities are never pruned** (their reads are
partial by design).

Safety valve: nothing is removed, and a warning names entity, tenant and counts (a warning of the run), when

- the read returned no records while rows are staged (an API hiccup answering with an empty list),
- the read would remove more than ``TLSYNC_MAX_PRUNE_SHARE`` (default ``0.5``) of the staged rows,
- a refused record had no natural key (it might be any of the missing rows).

Held rows are remembered in ``staging_vanished``; when ``TLSYNC_PRUNE_CONFIRM_READS`` (default 2) complete reads in
a row — in different runs — did not have them, they are removed (not with a keyless refused record). One hiccup
never removes anything; an accountant posting every draft (an empty draft list, legitimately) is followed the night
after. ``0`` keeps the valve closed until an operator raises ``TLSYNC_MAX_PRUNE_SHARE``.

See docs/staging-deletions.md.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, delete, func, insert, select, update

from tlsync import config

from .entities import EntitySpec

log = logging.getLogger(__name__)

MAX_SHARE_ENV = "TLSYNC_MAX_PRUNE_SHARE"
CONFIRM_ENV = "TLSYNC_PRUNE_CONFIRM_READS"
_BATCH = 500   # keys per IN (…) list


def max_prune_share() -> float:
    """The largest share (0–1) of an entity's staged rows one run may remove (``TLSYNC_MAX_PRUNE_SHARE``,
    default 0.5). ``1`` allows removing all but an empty read; ``0`` disables pruning."""
    return float(config.value(MAX_SHARE_ENV))


def confirm_reads() -> int:
    """After how many complete full reads in a row without them rows held by the safety valve are removed anyway
    (``TLSYNC_PRUNE_CONFIRM_READS``, default 2; ``0`` = never, the valve then holds until an operator raises
    ``TLSYNC_MAX_PRUNE_SHARE``). Drafts are the reason: an accountant posting every draft empties the list, which
    the valve cannot tell from an API hiccup on that night — but a hiccup does not repeat on the next night."""
    return int(config.value(CONFIRM_ENV))


@dataclass(frozen=True)
class PruneResult:
    removed: int = 0            # rows moved from staging to staging_deletions
    vanished: int = 0           # staged keys the read did not have
    held: str | None = None     # the warning, when the safety valve kept (some of) them


def prune_vanished(engine: Engine, spec: EntitySpec, tenant: str, run_id: str, *, staged_keys: Collection[str],
                   seen: Collection[str], extracted: int, keyless: int = 0, now: datetime | None = None,
                   max_share: float | None = None, confirm: int | None = None) -> PruneResult:
    """Remove the rows of ``(spec, tenant)`` staged before this run (``staged_keys``) whose natural key is not in
    the complete full read (``seen``: every key the read returned, quarantined and refused records included), and
    record each in ``staging_deletions``. ``extracted`` is the number of records read, ``keyless`` how many of
    them had no natural key. Rows the safety valve holds are remembered in ``staging_vanished`` and removed once
    ``confirm`` complete reads in a row (different runs) did not have them. Returns the outcome."""
    from .tables import staging_vanished as sv

    if spec.mode != "full":
        raise ValueError(f"{spec.qualified} is read incrementally; its staged rows are never pruned")
    now = now or datetime.now().replace(microsecond=0)
    vanished = sorted(k for k in staged_keys if k not in seen)
    with engine.begin() as conn:
        pending = {r.natural_key: r for r in conn.execute(select(sv).where(sv.c.entity == spec.qualified,
                                                                           sv.c.tenant == tenant))}
        # rows that are back in the source (or no longer staged) are no longer pending
        missing = set(vanished)
        back = [k for k in pending if k not in missing]
        for start in range(0, len(back), _BATCH):
            conn.execute(delete(sv).where(sv.c.entity == spec.qualified, sv.c.tenant == tenant,
                                          sv.c.natural_key.in_(back[start:start + _BATCH])))
    if not vanished:
        return PruneResult()
    share = max_prune_share() if max_share is None else max_share
    confirm = confirm_reads() if confirm is None else confirm
    # complete reads in a row that did not have the key, this one included (a retried task is the same read)
    misses = {k: (pending[k].misses + (pending[k].last_run_id != run_id)) if k in pending else 1 for k in vanished}
    staged = len(staged_keys)
    where = f"{spec.qualified}@{tenant}"
    held = None
    if keyless:
        held = (f"{where}: {keyless:,} records without a natural key were quarantined, so the {len(vanished):,} of "
                f"{staged:,} staged rows missing from the read may be among them; not removing any")
    elif extracted == 0:
        held = (f"{where}: the full read returned no records while {staged:,} rows are staged; not removing them "
                f"(an empty answer may be an API hiccup)")
    elif len(vanished) > share * staged:
        held = (f"{where}: the full read would remove {len(vanished):,} of {staged:,} staged rows "
                f"({len(vanished) / staged:.0%}), more than {MAX_SHARE_ENV}={share:g}; not removing them "
                f"(read {extracted:,} records)")
    if held is None:
        remove, keep = vanished, []
    elif keyless or not confirm:
        remove, keep = [], vanished
    else:
        remove = [k for k in vanished if misses[k] >= confirm]
        keep = [k for k in vanished if misses[k] < confirm]
    removed = _move_to_audit(engine, spec, tenant, run_id, remove, now) if remove else 0
    with engine.begin() as conn:
        for start in range(0, len(remove), _BATCH):
            conn.execute(delete(sv).where(sv.c.entity == spec.qualified, sv.c.tenant == tenant,
                                          sv.c.natural_key.in_(remove[start:start + _BATCH])))
        again = [{"b_key": k, "b_misses": misses[k]} for k in keep if k in pending]
        if again:
            conn.execute(update(sv).where(sv.c.entity == spec.qualified, sv.c.tenant == tenant,
                                          sv.c.natural_key == bindparam("b_key"))
                         .values(misses=bindparam("b_misses"), last_run_id=run_id), again)
        new = [{"entity": spec.qualified, "tenant": tenant, "natural_key": k, "misses": misses[k],
                "first_run_id": run_id, "last_run_id": run_id, "first_missing_at": now}
               for k in keep if k not in pending]
        if new:
            conn.execute(insert(sv), new)
    if remove:
        shown = ", ".join(remove[:10]) + (f", … ({len(remove) - 10} more)" if len(remove) > 10 else "")
        log.info("%s: removed %d staged rows no longer in the source%s (%s); see staging_deletions", where, removed,
                 f" — missing from {confirm} complete reads in a row" if held else "", shown)
    if held and keep:
        if keyless or not confirm:
            then = f"raise {MAX_SHARE_ENV} for one run if they really were deleted"
        else:
            then = (f"they are removed if the next {confirm - min(misses[k] for k in keep)} complete read(s) do not "
                    f"have them either ({CONFIRM_ENV}={confirm}), or raise {MAX_SHARE_ENV} for one run")
        held = f"{held}; {len(keep):,} held in staging_vanished — {then}"
        log.warning("%s", held)
        return PruneResult(removed, len(vanished), held)
    return PruneResult(removed, len(vanished))


def _move_to_audit(engine: Engine, spec: EntitySpec, tenant: str, run_id: str, keys: list[str],
                   now: datetime) -> int:
    """Copy the rows to ``staging_deletions`` and delete them, in one transaction."""
    from .tables import STAGING, staging_deletions

    table = STAGING[spec.qualified]
    removed = 0
    with engine.begin() as conn:
        for start in range(0, len(keys), _BATCH):
            batch = keys[start:start + _BATCH]
            match = (table.c.tenant == tenant) & table.c.natural_key.in_(batch)
            rows = conn.execute(select(table.c.natural_key, table.c.content_hash, table.c.run_id,
                                       table.c.staged_at, table.c.payload).where(match)).all()
            if not rows:
                continue
            conn.execute(insert(staging_deletions), [
                {"run_id": run_id, "entity": spec.qualified, "tenant": tenant, "natural_key": key,
                 "content_hash": digest, "staged_run_id": staged_run, "staged_at": staged_at, "payload": payload,
                 "deleted_at": now}
                for key, digest, staged_run, staged_at, payload in rows])
            removed += conn.execute(delete(table).where(match)).rowcount
    return removed


def removed_in_run(engine: Engine, run_id: str, entity: str, tenant: str) -> int:
    """How many rows of ``(entity, tenant)`` run ``run_id`` removed (also right for a retried task)."""
    from .tables import staging_deletions as d

    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(d).where(
            d.c.run_id == run_id, d.c.entity == entity, d.c.tenant == tenant)).scalar_one()


def deletions(engine: Engine, *, entity: str | None = None, tenant: str | None = None, run_id: str | None = None,
              key: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """The audit rows, newest first, optionally for one entity / tenant / run / natural key."""
    from .tables import staging_deletions as d

    stmt = select(d).order_by(d.c.deleted_at.desc(), d.c.id.desc())
    for column, value in ((d.c.entity, entity), (d.c.tenant, tenant), (d.c.run_id, run_id),
                          (d.c.natural_key, key)):
        if value is not None:
            stmt = stmt.where(column == value)
    if limit:
        stmt = stmt.limit(limit)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def format_deletions(rows: Iterable[dict[str, Any]]) -> str:
    lines = [f"{'deleted at':<19}  {'run':<28}  {'entity':<24}  {'tenant':<12}  natural key"]
    for r in rows:
        lines.append(f"{str(r['deleted_at']):<19}  {r['run_id']:<28}  {r['entity']:<24}  {r['tenant']:<12}  "
                     f"{r['natural_key']}")
    return "\n".join(lines) if len(lines) > 1 else "No staged row was removed."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="List staged rows removed because the source no longer had them.")
    parser.add_argument("--entity", help="e.g. uniconta.orders")
    parser.add_argument("--tenant", help="e.g. 10001 (Uniconta company) or the TimeLog site code")
    parser.add_argument("--run", dest="run_id")
    parser.add_argument("--key", help="natural key, e.g. 1042 or 1042|2")
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--staging-url", help="default: $TLSYNC_STAGING_URL, else the embedded SQLite database")
    args = parser.parse_args(argv)
    from .engine import create_staging_engine, default_url
    from .migrate import StagingSchemaError, require_current

    engine = create_staging_engine(args.staging_url or default_url())
    try:
        require_current(engine)
    except StagingSchemaError as exc:   # one line, exit 2 (as every administrator's command)
        print(exc, file=sys.stderr)
        return 2
    print(format_deletions(deletions(engine, entity=args.entity, tenant=args.tenant, run_id=args.run_id,
                                     key=args.key, limit=args.limit)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
