"""Extract → validate → stage for one entity of one tenant, through landing files so that memory stays bounded
and each step can be retried alone.

*Landing*: the extract step streams the API's raw records (payload dicts with the API's own field names) into
``<landing>/<run_id>/<tenant>/<entity>.jsonl`` — a local folder or S3-compatible object storage
(``TLSYNC_LANDING_URL``, :mod:`tlsync.nightly.landing`). A retried extract rewrites its file whole.

*Validate and stage*: the landing file is read in chunks; each record's content hash is compared with what is
staged, so unchanged records are counted and skipped (never rewritten, never re-validated); changed and new
records pass the quality gate (issue 4: GX suites + quarantine); good ones are upserted, bad ones quarantined
with rule, reason and raw payload. The counts reconcile per entity and tenant —
``extracted = unchanged + staged + quarantined`` — which is asserted and recorded in ``run_entity_counts``.

*Vanished records*: after the whole landing file of a **full** read was read, staged rows whose natural key the
read did not have are removed and kept in ``staging_deletions`` (``removed`` in the counts; safety valve and
details in :mod:`tlsync.staging.deletions`, docs/staging-deletions.md). Incremental entities are never pruned.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import Engine, delete, insert

from tlsync.nightly import landing
from tlsync.staging import deletions
from tlsync.staging.entities import EntitySpec, natural_key
from tlsync.staging.loader import StagingLoader, canonical_json, content_hash
from tlsync.staging.tables import quarantine, run_entity_counts

CHUNK = 20_000


@dataclass
class EntityCounts:
    entity: str
    tenant: str
    extracted: int = 0
    unchanged: int = 0
    staged: int = 0
    quarantined: int = 0
    warnings: int = 0
    removed: int = 0      # staged rows removed because a complete full read no longer had them (not in the sum)

    def check(self) -> None:
        if self.extracted != self.unchanged + self.staged + self.quarantined:
            raise AssertionError(
                f"{self.entity}@{self.tenant}: counts do not reconcile: extracted {self.extracted} != unchanged "
                f"{self.unchanged} + staged {self.staged} + quarantined {self.quarantined}")


def invalid_path(landing_file):
    """Where records refused by the client's model wait (``{"raw": …, "error": …}`` per line)."""
    return landing.invalid_path(landing_file)


def write_landing(path, records: Iterable[dict]) -> int:
    """Stream records into the landing file ``path`` atomically; return how many were written
    (:func:`tlsync.nightly.landing.write`: local folder or object storage)."""
    return landing.write(path, records)


def read_landing(path, chunk: int = CHUNK) -> Iterator[list[dict]]:
    """The landing file's records in chunks (bounded memory, either backend)."""
    return landing.read(path, chunk)


def line_sums(path, key_field: str, amount_field: str) -> dict[str, Decimal]:
    """Sum of line amounts per header key, in Decimal, streamed from a landing file (for the header = Σ lines rule)."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for batch in read_landing(path):
        for rec in batch:
            key = rec.get(key_field)
            try:
                sums[str(key)] += Decimal(str(rec.get(amount_field) or "0"))
            except InvalidOperation:
                continue  # the line itself is quarantined by its own suite
    return dict(sums)


def validate_and_stage(engine: Engine, spec: EntitySpec, tenant: str, run_id: str, landing_file,
                       context, *, now: datetime | None = None, prune: bool | None = None) -> EntityCounts:
    """Run the quality gate on new/changed records of ``landing_file`` and stage the good ones (see module doc).

    ``prune`` (default: whether ``spec`` is read in full): remove staged rows the read no longer had. Only ever
    for a full read whose landing file exists — the extract writes it whole or not at all (:func:`landing.write`),
    so a file here is a read that finished."""
    from tlsync.quality import check_batch

    now = now or datetime.now().replace(microsecond=0)
    prune = (spec.mode == "full") if prune is None else prune
    if prune and spec.mode != "full":
        raise ValueError(f"{spec.qualified} is read incrementally; its staged rows are never pruned")
    prune = prune and landing_file.exists()
    loader = StagingLoader(engine)
    counts = EntityCounts(spec.qualified, tenant)
    existing = loader.existing_hashes(spec, tenant)
    seen: set[str] = set()     # every natural key the read returned: staged, unchanged, quarantined or refused
    keyless = 0
    with engine.begin() as conn:  # a retried task replaces its own quarantine rows instead of adding twins
        conn.execute(delete(quarantine).where(quarantine.c.run_id == run_id, quarantine.c.entity == spec.qualified,
                                              quarantine.c.tenant == tenant))
    refused = [(r["raw"], r["error"]) for batch in read_landing(invalid_path(landing_file)) for r in batch]
    for raw, _ in refused:
        key = natural_key(spec, raw) if isinstance(raw, dict) else None
        if key is None:
            keyless += 1
        else:
            seen.add(key)
    if refused:
        counts.extracted += len(refused)
        counts.quarantined += len(refused)
        _quarantine(engine, run_id, spec, tenant, now, [
            (natural_key(spec, raw), "schema", f"{spec.qualified} {natural_key(spec, raw) or '(no key)'}: {error}", raw)
            for raw, error in refused])
    for batch in read_landing(landing_file):
        counts.extracted += len(batch)
        changed = []
        for rec in batch:
            key = natural_key(spec, rec) if isinstance(rec, dict) else None
            if key is None:
                keyless += 1
            else:
                seen.add(key)
            if key is not None and existing.get(key) == content_hash(canonical_json(rec)):
                counts.unchanged += 1
            else:
                changed.append(rec)
        if not changed:
            continue
        result = check_batch(spec, changed, context)
        counts.warnings += len(result.warnings)
        written = loader.load(spec, tenant, run_id, result.good, staged_at=now)
        counts.staged += written
        # Exact duplicates collapsed by the gate, and good records identical to what an earlier chunk of this
        # same file just staged, are re-reads of known data: they count as unchanged.
        counts.unchanged += (len(changed) - result.extracted) + (len(result.good) - written)
        if result.quarantined:
            _quarantine(engine, run_id, spec, tenant, now,
                        [(q.natural_key, q.rule, q.reason, q.payload) for q in result.quarantined])
            counts.quarantined += len(result.quarantined)
    counts.check()
    if prune:
        outcome = deletions.prune_vanished(engine, spec, tenant, run_id, staged_keys=existing.keys(), seen=seen,
                                           extracted=counts.extracted, keyless=keyless, now=now)
        counts.warnings += 1 if outcome.held else 0
        # from the audit table, so that a retried task (whose rows were already removed) reports them too
        counts.removed = deletions.removed_in_run(engine, run_id, spec.qualified, tenant)
    record_counts(engine, run_id, counts)
    return counts


# Below this many records, "all of them quarantined" is a handful of bad records (quarantined, reported), not a
# broken feed; at or above it, it is the hard failure of issue 4.
HARD_FAILURE_MIN = 10


def check_something_survived(all_counts: list[EntityCounts], run_id: str, minimum: int = HARD_FAILURE_MIN) -> None:
    """Issue 4's hard failure — "the API reported N records but we staged 0" — raised *after* every entity of
    the task was validated and staged, so one broken feed never holds back the others' good rows."""
    from tlsync.quality import HardQualityFailure

    broken = [c for c in all_counts if c.extracted >= minimum and not c.staged and not c.unchanged]
    if broken:
        detail = "; ".join(f"{c.entity}@{c.tenant}: the API reported {c.extracted} records but we staged 0 "
                           f"({c.quarantined} quarantined)" for c in broken)
        raise HardQualityFailure(f"{detail} — see the quarantine table for run {run_id}",
                                 reported_count=sum(c.extracted for c in broken))


def _quarantine(engine: Engine, run_id: str, spec: EntitySpec, tenant: str, now: datetime,
                rows: list[tuple[str | None, str, str, dict]]) -> None:
    with engine.begin() as conn:
        conn.execute(insert(quarantine), [
            {"run_id": run_id, "entity": spec.qualified, "tenant": tenant, "natural_key": key, "rule": rule,
             "reason": reason, "payload": canonical_json(payload), "quarantined_at": now}
            for key, rule, reason, payload in rows])


def record_counts(engine: Engine, run_id: str, counts: EntityCounts) -> None:
    row = {"run_id": run_id, **asdict(counts)}
    with engine.begin() as conn:
        conn.execute(delete(run_entity_counts).where(run_entity_counts.c.run_id == run_id,
                                                     run_entity_counts.c.entity == counts.entity,
                                                     run_entity_counts.c.tenant == counts.tenant))
        conn.execute(insert(run_entity_counts), [row])
