"""Run the nightly sync's steps in one process, without Airflow, in the DAG's order.

The DAG is the production path; this is the same code for tests, debugging and one-off runs by an operator
(``python -m tlsync.nightly.local --help``). Connections are given as the same fields an Airflow Connection holds.

A give-up (an API that stays unreachable through every retry, a refused connection, a database that is not there)
never leaves the run ``running``: :func:`run_once` marks it ``failed`` in ``sync_runs`` before the error leaves,
and the command prints one line — the run, the system and what it gave up on — and exits 1, no traceback
(issue 17; the traceback is logged at DEBUG level for whoever runs it with ``TLSYNC_DEBUG=1``).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from tlsync import config, connections
from tlsync.nightly import pipeline, runs, sources

log = logging.getLogger(__name__)


def run_once(timelog: Mapping[str, Any], uniconta: Mapping[str, Any], pairs: Sequence[Mapping[str, int]] | str,
             run_id: str | None = None) -> str:
    """One complete run: begin → TimeLog site → each legal entity ↔ company → finish. Returns the run id."""
    run_id = run_id or "local__" + datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")
    pairs = pipeline.parse_entity_pairs(pairs) if isinstance(pairs, (str, dict)) else list(pairs)
    pipeline.begin(run_id)
    try:
        with sources.timelog_source(**timelog) as source:
            site = pipeline.extract_timelog_site(source, run_id)
        parts = [pipeline.validate_and_stage_all(site)]
        for pair in pairs:
            with sources.timelog_source(**timelog) as source:
                tl = pipeline.extract_timelog_legal_entity(source, run_id, pair)
            with sources.uniconta_source(company_id=pair["company_id"], **uniconta) as source:
                uc = pipeline.extract_uniconta_company(source, run_id, pair)
            parts.append(pipeline.validate_and_stage_all(tl, uc))
        pipeline.finish(run_id, parts)
    except BaseException as exc:                 # a give-up (or a kill signal turned exception): never "running"
        try:
            pipeline.fail(run_id, runs.failure_line(exc))
        except Exception:  # noqa: BLE001 - the original error is the one to report
            log.warning("run %s: could not mark the run failed", run_id, exc_info=True)
        raise
    return run_id


def run_write_back(timelog: Mapping[str, Any], uniconta: Mapping[str, Any], pairs: Sequence[Mapping[str, int]] | str,
                   *, settings=None, run_id: str | None = None, dry_run: bool = False, engine=None) -> dict:
    """The transfer DAG's steps in its order (customers → projects → invoices → expenses) for each legal entity;
    an exception stops the run, as a failed task stops the DAG's later steps.
    Returns ``{legal entity: {step: result}}``."""
    from tlsync import writeback
    run_id = run_id or "local__" + datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")
    pairs = pipeline.parse_entity_pairs(pairs) if isinstance(pairs, (str, dict)) else list(pairs)
    settings = settings if settings is not None else writeback.load_settings()
    out: dict[int, dict] = {}
    for pair in pairs:
        le = pair["legal_entity_id"]
        out[le] = {}
        for step in writeback.STEPS:
            out[le][step] = writeback.run_step(step, le, run_id=run_id, timelog_fields=timelog,
                                               uniconta_fields=uniconta, settings=settings, dry_run=dry_run,
                                               engine=engine)
    return out


def _conn_from_env(name: str) -> dict[str, Any]:
    """``AIRFLOW_CONN_<NAME>`` as the fields :mod:`tlsync.connections` takes (:func:`connections.connection_fields`);
    a missing or malformed variable stops the command with its message."""
    try:
        return connections.connection_fields(name)
    except connections.ConnectionSettingError as exc:
        raise SystemExit(str(exc)) from None


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the nightly sync once without Airflow (same steps as the DAG).")
    parser.add_argument("--write-back", action="store_true",
                        help="then run the transfer DAG's steps too (customers, projects, invoices, expenses)")
    parser.add_argument("--dry-run", action="store_true", help="with --write-back: plan the writes, make none")
    args = parser.parse_args()
    logging.basicConfig(level=logging.DEBUG if config.value("TLSYNC_DEBUG") else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    from tlsync import writeback
    from tlsync.staging.engine import default_url, staging_engine
    from tlsync.staging.migrate import upgrade
    upgrade(default_url())   # an operator's one-off run is its own set-up step (docs/staging-migrations.md)

    timelog, uniconta = _conn_from_env("timelog_default"), _conn_from_env("uniconta_default")
    pairs = os.environ.get("AIRFLOW_VAR_TLSYNC_ENTITY_PAIRS", "")
    run_id = "local__" + datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")
    try:
        run_once(timelog, uniconta, pairs, run_id=run_id)
    except Exception as exc:  # noqa: BLE001 - a give-up: one line, the run is already marked failed
        log.debug("run %s failed", run_id, exc_info=True)
        print(f"run {run_id} failed: {runs.failure_line(exc)}", file=sys.stderr)
        raise SystemExit(1) from None
    print(runs.format_summary(staging_engine(), run_id))
    if args.write_back:
        for le, steps in run_write_back(timelog, uniconta, pairs, run_id=run_id, dry_run=args.dry_run).items():
            for step, result in steps.items():
                print(f"legal entity {le} — {step}: {writeback.summarise(result)}")


if __name__ == "__main__":
    main()
