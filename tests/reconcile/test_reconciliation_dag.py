"""The reconciliation DAGs load, run on the nightly sync's staged invoice Assets (not the clock) and monthly for
the closed month, and only wire (the periods they compute are tested here against ``tlsync.reconcile.flow``)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from tlsync.reconcile import flow

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def bag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS / "reconciliation.py"))


def test_reconciliation_dags_load_without_errors(bag):
    assert bag.import_errors == {}
    assert {"tlsync_reconciliation", "tlsync_reconciliation_monthly"} <= set(bag.dags)


def test_nightly_reconciliation_runs_on_staged_invoices_not_on_the_clock(bag):
    dag = bag.dags["tlsync_reconciliation"]
    condition = dag.timetable.asset_condition
    assert type(condition).__name__ == "AssetAny"
    assert {a.uri for a in condition.objects} == {"tlsync://staging/timelog/invoices",
                                                  "tlsync://staging/uniconta/invoices",
                                                  "tlsync://staging/uniconta/orders"}
    assert dag.catchup is False and dag.max_active_runs == 1
    tasks = {t.task_id: t for t in dag.tasks}
    assert tasks["report_nightly"].upstream_task_ids == {"entity_pairs"}, "one report per legal entity pair"


def test_monthly_reconciliation_closes_the_previous_month_in_copenhagen_time(bag):
    dag = bag.dags["tlsync_reconciliation_monthly"]
    assert dag.timetable.expression == "0 6 2 * *"
    assert str(dag.timetable.timezone.name) == "Europe/Copenhagen"
    assert {t.task_id for t in dag.tasks} == {"entity_pairs", "report_closed_month", "deliver"}
    assert {t.task_id: t for t in dag.tasks}["deliver"].upstream_task_ids == {"report_closed_month"}, \
        "the report is e-mailed after it was written"


def test_periods():
    assert flow.closed_month(datetime(2026, 11, 2, 6, 0)) == (date(2026, 10, 1), date(2026, 10, 31))
    assert flow.closed_month(date(2026, 3, 2)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert flow.closed_month(date(2026, 1, 2)) == (date(2025, 12, 1), date(2025, 12, 31))
    assert flow.nightly_period(date(2026, 11, 27)) == (date(2026, 10, 1), date(2026, 11, 27))
    assert flow.nightly_period(date(2026, 1, 5)) == (date(2025, 12, 1), date(2026, 1, 5))


def test_run_report_writes_the_files_and_returns_a_json_safe_headline(engine, tmp_path, use_staging):
    import json

    import recon_scenario as scenario

    scenario.build(engine)
    use_staging(engine.url.render_as_string(hide_password=False))
    out = flow.run_report(1, 10001, date(2026, 1, 1), date(2026, 2, 28), out_dir=tmp_path, as_of=date(2026, 3, 1))
    json.dumps(out)
    assert out["difference"] == "-400.00" and out["counts"]["matched"] == 2
    assert Path(out["html"]).exists() and Path(out["xlsx"]).exists() and Path(out["csv"]).is_dir()


def test_tolerance_from_the_environment(monkeypatch):
    from decimal import Decimal

    monkeypatch.delenv("TLSYNC_RECONCILE_TOLERANCE", raising=False)
    assert flow.tolerance() == Decimal("0.01")
    monkeypatch.setenv("TLSYNC_RECONCILE_TOLERANCE", "0.50")
    assert flow.tolerance() == Decimal("0.50")
    for bad in ("abc", "-1"):
        monkeypatch.setenv("TLSYNC_RECONCILE_TOLERANCE", bad)
        with pytest.raises(ValueError, match="TLSYNC_RECONCILE_TOLERANCE"):
            flow.tolerance()
