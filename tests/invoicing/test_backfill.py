"""Backfill: the monthly DAG's wiring (DagBag, schedule, params), and the CLI month by month — dry run first
(lists writes, writes nothing), then for real, then again (idempotent: nothing new)."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def bag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_backfill_dag_loads_monthly_with_dry_run_param(bag):
    assert not {k: v for k, v in bag.import_errors.items() if "invoice_backfill" in k}
    dag = bag.dags["tlsync_invoice_backfill"]
    assert type(dag.timetable).__name__ == "CronDataIntervalTimetable" and dag.timetable.summary in ("@monthly", "0 0 1 * *")
    assert dag.catchup is False and dag.max_active_runs == 1
    assert dag.params["dry_run"] is True, "the form shows a dry run; only the run's conf can ask for writes"
    assert dag.params["legal_entities"] == []
    (task,) = dag.tasks
    assert task.task_id == "transfer_month" and task.pool == "uniconta_api"
    # the data interval of a run is one calendar month
    import pendulum
    info = dag.timetable.infer_manual_data_interval(run_after=pendulum.datetime(2023, 3, 15, tz="UTC"))
    assert (info.start, info.end) == (pendulum.datetime(2023, 2, 1, tz="UTC"), pendulum.datetime(2023, 3, 1, tz="UTC"))


def test_month_range_and_months():
    from tlsync.invoicing.backfill import month_range
    from tlsync.invoicing.source import months

    start, end = month_range("2021-01", "2025-12")
    assert (start, end) == (date(2021, 1, 1), date(2025, 12, 31))
    ms = list(months(start, end))
    assert len(ms) == 60 and ms[1] == (date(2021, 2, 1), date(2021, 2, 28)) and ms[37][1] == date(2024, 2, 29)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_cli_backfill_dry_run_then_real_then_idempotent(world, tmp_path, monkeypatch):
    from tlsync.invoicing.cli import main
    from tlsync.settings import store
    from tlsync.settings.models import IntegrationSettings

    sims = world["sims"]
    for name, conn in (("timelog_default", sims["timelog"]), ("uniconta_default", sims["uniconta"])):
        monkeypatch.setenv(f"AIRFLOW_CONN_{name.upper()}", json.dumps(
            {"conn_type": name.split("_")[0], "host": conn["host"], "login": conn["login"],
             "password": conn["password"], "extra": conn["extra"]}))
    path = tmp_path / "integration.yaml"
    store.save(IntegrationSettings(legal_entities={1: world["le"](1)}), path)
    monkeypatch.setenv("TLSYNC_SETTINGS", str(path))
    from tests.invoicing.conftest import sim_state

    before = len(sim_state(sims, 10001)["DebtorOrderClient"])
    out = io.StringIO()
    assert main(["backfill", "--legal-entity", "1", "--from", "2024-11", "--to", "2026-10", "--dry-run"], out) in (0, 1)
    text = out.getvalue()
    assert "would insert DebtorOrderClient" in text.replace("write=", "") or "would write=insert" in text
    assert len(sim_state(sims, 10001)["DebtorOrderClient"]) == before
    out = io.StringIO()
    main(["backfill", "--legal-entity", "1", "--from", "2024-11", "--to", "2026-10"], out)
    first = out.getvalue()
    assert "transferred " in first and "Uniconta calls" in first
    after = len(sim_state(sims, 10001)["DebtorOrderClient"])
    assert after > before
    out = io.StringIO()
    main(["backfill", "--legal-entity", "1", "--from", "2024-11", "--to", "2026-10"], out)
    assert "transferred 0," in out.getvalue()
    assert len(sim_state(sims, 10001)["DebtorOrderClient"]) == after
    out = io.StringIO()
    assert main(["list", "--legal-entity", "1", "--state", "done"], out) == 0
    assert "transferred" in out.getvalue()
    # retry / ignore / unignore round trip on a failed invoice, if any; ignore on a done one is refused
    from tlsync.invoicing import DOMAIN
    done = world["ledger"].entries(DOMAIN, 1, states=["done"])[0].source_key
    out = io.StringIO()
    assert main(["ignore", "--legal-entity", "1", done], out) == 1 and "not changed" in out.getvalue()
    entry = world["ledger"].entries(DOMAIN, 1, states=["done"])[0]      # by its invoice number, as people say it
    number = str(entry.details["invoice_no"])
    out = io.StringIO()
    assert main(["ignore", "--legal-entity", "1", number], out) == 1
    assert out.getvalue().startswith(f"{entry.source_key}: not changed") and "not in the ledger" not in out.getvalue()
    assert main(["list", "--legal-entity", "9"], io.StringIO()) == 2      # not in the settings: a set-up mistake


def test_check_outcome_fails_a_writing_run_and_only_reports_in_a_dry_run():
    from tlsync.invoicing.runner import check_outcome

    summary = {1: {"refused": ["the activation checklist is not confirmed (rule S8)"]}, 2: {"transferred": 3}}
    assert check_outcome(summary, dry_run=True) == [
        "a real run would stop here: legal entity 1: the activation checklist is not confirmed (rule S8)"]
    with pytest.raises(RuntimeError, match="legal entity 1: the activation checklist"):
        check_outcome(summary, dry_run=False)
    assert check_outcome({2: {"transferred": 3}}, dry_run=False) == []


def test_the_ledger_statistics_are_refreshed_early_then_as_the_ledger_doubles():
    """Issue 18: statistics taken before a legal entity had ledger rows make PostgreSQL plan each batch's ledger
    statements as a nested loop over its whole range; a run refreshes them after 1,000 rows written, then each time
    the rows written have doubled, then every 20,000 — no longer first after 20,000."""
    from tlsync.invoicing.run import analyze_due

    at, refreshed = 0, []
    for written in range(0, 100_001, 250):
        if analyze_due(written, at):
            refreshed.append(written)
            at = written
    assert refreshed == [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 52_000, 72_000, 92_000]
