"""The nightly sync's task bodies, callable without Airflow (the DAG wires them; tests call them directly).

Every task returns a small JSON-able *manifest* (never data): which landing files it wrote, how many records,
the API calls it spent per system and which ``(entity, tenant)`` watermarks may advance once the whole run
succeeds. Data itself travels through landing files (bounded memory, retry-safe), never through XCom.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any

from tlsync import config
from tlsync.nightly import landing, runs, sources
from tlsync.nightly.steps import (
    check_something_survived,
    invalid_path,
    line_sums,
    read_landing,
    validate_and_stage,
    write_landing,
)
from tlsync.staging.engine import staging_engine
from tlsync.staging.entities import BY_NAME, TIMELOG_SITE_DATED, TIMELOG_SITE_FULL, EntitySpec
from tlsync.staging.read import Tenant

log = logging.getLogger(__name__)

# Staging order inside one validate task: lines before their headers (header = Σ lines needs the line sums).
STAGE_ORDER = ("invoice_lines", "invoice_line_details", "order_lines", "invoices", "orders")


def begin(run_id: str) -> str:
    """Start the run — on a staging database at the code's schema revision, else stop with one line naming the
    database, the revisions and ``tlsync deploy init`` (a task never migrates: docs/staging-migrations.md)."""
    from tlsync.staging.migrate import require_current

    engine = staging_engine()
    require_current(engine)
    runs.start_run(engine, run_id)
    return run_id


def parse_entity_pairs(raw: str | Mapping | None) -> list[dict]:
    """``{"<TimeLog legal entity id>": <Uniconta company id>, …}`` → pairs (rule S2: each legal entity has its
    own Uniconta company). A missing or malformed setting is an error that says what to set."""
    if raw in (None, ""):
        raise ValueError("the Airflow Variable 'tlsync_entity_pairs' is not set: give each TimeLog legal entity its "
                         'Uniconta company, e.g. {"1": 10001, "2": 10002} (rule S2)')
    try:
        mapping = json.loads(raw) if isinstance(raw, str) else dict(raw)
        pairs = [{"legal_entity_id": int(le), "company_id": int(co)} for le, co in mapping.items()]
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"the Airflow Variable 'tlsync_entity_pairs' must map legal entity ids to Uniconta "
                         f'company ids, e.g. {{"1": 10001}}; got {raw!r} ({exc})') from None
    if len({p["company_id"] for p in pairs}) != len(pairs):
        raise ValueError("the Airflow Variable 'tlsync_entity_pairs' maps two legal entities to one Uniconta "
                         "company; rule S2 needs one company per legal entity")
    return sorted(pairs, key=lambda p: p["legal_entity_id"])


def entity_pairs(variable: str | Mapping | None) -> list[dict]:
    """Which Uniconta company each TimeLog legal entity syncs with (rule S2). The integration settings file
    (``TLSYNC_SETTINGS``, default ``config/integration.yaml``; ``python -m tlsync.settings``) is the administrator's
    place for it; without that file, the Airflow Variable ``tlsync_entity_pairs`` is used."""
    from tlsync import settings

    if settings.settings_path().exists():
        configured = settings.load()
        pairs = {le: s.uniconta_company_id for le, s in configured.legal_entities.items() if s.uniconta_company_id}
        if not pairs:
            raise ValueError(f"{settings.settings_path()}: no legal entity has a Uniconta company yet (rule S1); "
                             "choose one with `python -m tlsync.settings`")
        return parse_entity_pairs(pairs)
    return parse_entity_pairs(variable)


def _manifest(run_id: str, tenant: str, written: dict[str, dict], calls: Mapping[str, int], advance: list,
              **extra: Any) -> dict:
    return {"run_id": run_id, "tenant": tenant, "entities": written, "calls": dict(calls),
            "advance": advance, **extra}


def _land(run_id: str, tenant: str, spec: EntitySpec, items: Iterable[sources.Extracted]) -> dict:
    """Write the raw records to the landing file, and the ones the client's model refused (with the reason) to a
    sibling ``.invalid.jsonl`` that the validate step quarantines with rule ``schema``. The files go to the
    landing area (``TLSYNC_LANDING_URL``: a local folder or object storage, :mod:`tlsync.nightly.landing`); the
    manifest names each by its URL, without credentials, so any worker host can stage it."""
    return _land_parts(run_id, tenant, (spec,), [(items,)])[spec.qualified]


def _land_parts(run_id: str, tenant: str, specs: Sequence[EntitySpec],
                parts: Iterable[Sequence[Iterable[sources.Extracted]]]) -> dict[str, dict]:
    """:func:`_land` for several entities read together in parts — ``parts`` yields one iterable of records per
    entity of ``specs`` at a time (the invoice reads' windows) — so no more than one part is in memory."""
    paths = [landing.file_path(landing.root(), run_id, tenant, spec.qualified) for spec in specs]
    invalid: list[list[dict]] = [[] for _ in specs]
    counts = [0] * len(specs)

    def valid(items: Iterable[sources.Extracted], refused: list[dict]) -> Iterable[dict]:
        for item in items:
            if item.error is None:
                yield item.raw
            else:
                refused.append({"raw": item.raw, "error": item.error})

    with ExitStack() as stack:
        adds = [stack.enter_context(landing.writer(path)) for path in paths]
        for part in parts:
            for k, items in enumerate(part):
                counts[k] += adds[k](valid(items, invalid[k]))
    out = {}
    for spec, path, count, refused in zip(specs, paths, counts, invalid):
        if refused:
            bad = write_landing(invalid_path(path), refused)
        else:   # a retry without refused records must not stage an earlier attempt's
            bad = 0
            landing.remove(invalid_path(path))
        log.info("%s@%s: landed %d records (%d refused by the API model)", spec.qualified, tenant, count, bad)
        out[spec.qualified] = {"path": str(path), "count": count + bad}
    return out


def _has_watermark(spec: EntitySpec, tenant: str) -> bool:
    return runs.watermark(staging_engine(), spec.qualified, tenant) is not None


def _window(spec: EntitySpec, tenant: str) -> datetime:
    return runs.window_start(staging_engine(), spec.qualified, tenant,
                             lookback_days=config.lookback_days(), history_start=config.history_start())


def _modified_since(spec: EntitySpec, tenant: str) -> datetime:
    """Where a "modified since" read starts: the last successful run's start minus a margin for clock skew and time
    zones (``TLSYNC_MODIFIED_OVERLAP_MINUTES``, hours) — never the dated reads' look-back of days. The source stamps the
    modification time itself, so a record modified before that start was seen by that run; with the look-back,
    every invoice the write-back touched (rule T2's Uniconta reference) was fetched again by id on each of the
    next seven nights (issue 11: 176 Reporting calls instead of 16 on a no-change night)."""
    mark = runs.watermark(staging_engine(), spec.qualified, tenant)
    if mark is None:
        return _window(spec, tenant)
    return max(_window(spec, tenant), mark - timedelta(minutes=config.modified_overlap_minutes()))


def extract_timelog_site(timelog: sources.TimeLogSource, run_id: str) -> dict:
    """Site-wide TimeLog data: reference lists in full; customers and projects in full the first time, then only
    those modified since the watermark (minus the look-back); expenses and mileage by date window (issue 4)."""
    tenant = timelog.site
    written, advance = {}, []
    started = runs.started_at(staging_engine(), run_id)
    for name in TIMELOG_SITE_FULL:
        spec = BY_NAME[f"timelog.{name}"]
        if spec.mode == "incremental" and _has_watermark(spec, tenant):
            records = timelog.changed(spec, _modified_since(spec, tenant), started + timedelta(days=1))
        else:
            records = timelog.records(spec)   # reference data, or the first load of customers / projects
        written[spec.qualified] = _land(run_id, tenant, spec, records)
        if spec.mode == "incremental":
            advance.append([spec.qualified, tenant])
    until = started.date() + timedelta(days=1)
    for name in TIMELOG_SITE_DATED:
        spec = BY_NAME[f"timelog.{name}"]
        written[spec.qualified] = _land(run_id, tenant, spec,
                                        timelog.records(spec, _window(spec, tenant).date(), until))
        advance.append([spec.qualified, tenant])
    currencies = sorted(timelog.currencies())  # before counting calls: this read is a call too
    return _manifest(run_id, tenant, written, timelog.calls(), advance, currencies=currencies)


def extract_timelog_legal_entity(timelog: sources.TimeLogSource, run_id: str, pair: Mapping[str, int]) -> dict:
    """One legal entity's dated TimeLog records from its watermark (minus the look-back window) to now."""
    legal_entity_id = int(pair["legal_entity_id"])
    tenant = str(Tenant(timelog.site, legal_entity_id))
    until = runs.started_at(staging_engine(), run_id) + timedelta(days=1)
    since = min(_window(BY_NAME[f"timelog.{n}"], tenant) for n in ("invoices", "invoice_lines"))
    modified = _has_watermark(BY_NAME["timelog.invoices"], tenant)
    specs = tuple(BY_NAME[f"timelog.{n}"] for n in ("invoices", "invoice_lines", "invoice_line_details"))
    written = _land_parts(run_id, tenant, specs, timelog.invoice_windows(
        legal_entity_id, since.date(), until.date(), modified=modified,
        modified_since=_modified_since(BY_NAME["timelog.invoices"], tenant) if modified else None))
    advance = [[spec.qualified, tenant] for spec in specs]
    currencies = sorted(timelog.currencies())  # the gate's "currency known" rule for these invoices
    return _manifest(run_id, tenant, written, timelog.calls(), advance, currencies=currencies)


def extract_uniconta_company(uniconta: sources.UnicontaSource, run_id: str, pair: Mapping[str, int]) -> dict:
    """One Uniconta company: reference classes in full, invoices and GL postings from the watermark."""
    tenant = str(pair["company_id"])
    written, advance = {}, []
    for spec in (s for s in BY_NAME.values() if s.system == "uniconta"):
        if spec.mode == "incremental":
            records = uniconta.records(spec, since=_window(spec, tenant))
            advance.append([spec.qualified, tenant])
        else:
            records = uniconta.records(spec)
        written[spec.qualified] = _land(run_id, tenant, spec, records)
    return _manifest(run_id, tenant, written, uniconta.calls(), advance, project_module=uniconta.project_module)


def _stage_order(qualified: str) -> tuple[int, str]:
    name = qualified.split(".", 1)[1]
    return (STAGE_ORDER.index(name) if name in STAGE_ORDER else -1, qualified)


def validate_and_stage_all(*manifests: Mapping) -> dict:
    """Validate and stage everything the given extract manifests landed; returns counts, calls, watermarks."""
    from tlsync.quality import QualityContext

    engine = staging_engine()
    currencies = frozenset(c for m in manifests for c in m.get("currencies", ())) or frozenset({"DKK"})
    counts, calls, advance = [], [], []
    for manifest in manifests:
        calls.append(manifest["calls"])
        advance.extend(manifest["advance"])
        for qualified in sorted(manifest["entities"], key=_stage_order):
            spec = BY_NAME[qualified]
            landing_file = landing.resolve(manifest["entities"][qualified]["path"])
            ctx = QualityContext(known_currencies=currencies, date_min=date(2000, 1, 1),
                                 date_max=date.today() + timedelta(days=366),
                                 line_sums=_line_sums_for(spec, landing_file),
                                 lines_complete=spec.system != "uniconta",
                                 parents=_parents_for(engine, spec, manifest["tenant"], landing_file))
            counts.append(validate_and_stage(engine, spec, manifest["tenant"], manifest["run_id"], landing_file,
                                             ctx))
    check_something_survived(counts, manifests[0]["run_id"] if manifests else "?")
    return {"counts": [asdict(c) for c in counts], "calls": runs.sum_calls(calls), "advance": advance}


def _parents_for(engine, spec: EntitySpec, tenant: str, child_landing) -> frozenset[str] | None:
    """For entities whose records point at a parent (``rules.ORPHAN_PARENTS``): the parent keys staged for the
    tenant plus those in tonight's sibling landing file — a child pointing elsewhere gets an ``orphan`` warning."""
    from sqlalchemy import select

    from tlsync.quality.rules import ORPHAN_PARENTS
    from tlsync.staging.entities import natural_key
    from tlsync.staging.tables import STAGING

    parent = ORPHAN_PARENTS.get(spec.qualified)
    if parent is None:
        return None
    table, parent_spec = STAGING[parent[1]], BY_NAME[parent[1]]
    with engine.connect() as conn:
        keys = set(conn.execute(select(table.c.natural_key).where(table.c.tenant == tenant)).scalars())
    sibling = child_landing.with_name(f"{parent[1]}.jsonl")
    if sibling.exists():
        for batch in read_landing(sibling):
            keys.update(k for k in (natural_key(parent_spec, r) for r in batch if isinstance(r, dict)) if k)
    return frozenset(keys)


def _line_sums_for(spec: EntitySpec, header_landing) -> dict | None:
    """For invoice headers: Σ line amounts per invoice from the sibling landing file of the lines — TimeLog's
    ``NetAmount`` = Σ line ``Amount``, and Uniconta's ``LineAmount`` = Σ ``InvoiceNetAmount`` of its posted lines
    (issue 17: a Uniconta invoice whose total differs from its lines was staged). Uniconta's lines are read by
    RowId after their headers, so a header read tonight has its lines in tonight's file; one read without any
    line (a header re-read alone) is not compared (``QualityContext.lines_complete`` is false for Uniconta)."""
    if spec.qualified == "timelog.invoices":
        return line_sums(header_landing.with_name("timelog.invoice_lines.jsonl"), "InvoiceID", "Amount")
    if spec.qualified == "uniconta.invoices":
        lines = header_landing.with_name("uniconta.invoice_lines.jsonl")
        return line_sums(lines, "InvoiceNumber", "InvoiceNetAmount") if lines.exists() else None
    return None


def finish(run_id: str, parts: Iterable[Mapping | None]) -> str:
    """All tasks succeeded: store calls, advance watermarks, and return (and log) the run summary."""
    engine = staging_engine()
    done = [p for p in parts if p]
    calls = runs.sum_calls(p.get("calls") for p in done)
    advance = [tuple(a) for p in done for a in p.get("advance", ())]
    runs.finish_run(engine, run_id, calls, advance)
    prune_landing(landing.root(), keep=config.landing_keep_runs())
    text = runs.format_summary(engine, run_id)
    log.info("run summary\n%s", text)
    return text


def prune_landing(folder, keep: int) -> list:
    """Delete all but the ``keep`` newest runs' landing folders or prefixes (they are only needed to retry a run's
    tasks and to look into a recent run; staging and quarantine hold what lasts) — :func:`landing.prune`."""
    return landing.prune(folder, keep)


def fail(run_id: str, reason: str | None = None) -> str | None:
    """A task of the run failed, ``finish`` included: mark the run failed with its reason — idempotent, and also
    when ``finish`` had already marked it successful before failing (``runs.fail_run``); a run whose ``begin``
    never ran has no row and stays so. Its staged changes are announced by the next successful night
    (tlsync.nightly.changes). Returns the run's recorded reason (the first task's, :func:`note_failure`)."""
    engine = staging_engine()
    runs.fail_run(engine, run_id, reason=reason)
    return runs.failure_reason(engine, run_id)


def note_failure(run_id: str, task: str, exc: BaseException) -> str:
    """A task of the run gave up (its last try failed): record ``<task>: <one line>`` as the run's reason, unless
    an earlier task's is already there. Returns the line."""
    line = f"{task}: {runs.failure_line(exc)}"
    runs.note_failure(staging_engine(), run_id, line)
    return line
