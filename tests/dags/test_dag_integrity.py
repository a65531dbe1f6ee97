"""Every DAG loads without import errors, does no I/O at import, and is wired as issues 3 and 4 ask."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tlsync_airflow.assets import STAGED_CHANGES

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def bag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_no_import_errors(bag):
    assert bag.import_errors == {}
    assert "tlsync_nightly_sync" in bag.dags


def test_dag_files_do_no_io_and_no_heavy_imports_at_parse_time(tmp_path):
    """Parse every DAG file in a fresh interpreter where sockets, database engines and HTTP clients explode."""
    probe = textwrap.dedent(f"""
        import socket, sys
        from airflow.dag_processing.dagbag import DagBag   # Airflow's own start-up may touch its metadata DB
        def refuse(*a, **k):
            raise AssertionError("I/O at DAG import time")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        import sqlalchemy, httpx
        sqlalchemy.create_engine = refuse
        httpx.Client.send = refuse
        bag = DagBag(dag_folder={str(DAGS)!r})
        assert not bag.import_errors, bag.import_errors
        heavy = [m for m in ("great_expectations", "pandas", "lxml.etree") if m in sys.modules]
        assert not heavy, f"heavy modules imported while parsing DAGs: {{heavy}}"
        print("ok", sorted(bag.dags))
    """)
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "tlsync_nightly_sync" in result.stdout


def test_nightly_sync_schedule_and_wiring(bag):
    dag = bag.dags["tlsync_nightly_sync"]
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    assert str(dag.timezone.name) == "Europe/Copenhagen"
    assert dag.timetable.expression == "0 2 * * *"
    assert str(dag.timetable.timezone.name) == "Europe/Copenhagen", "02:00 Copenhagen time, DST-aware"
    tasks = {t.task_id: t for t in dag.tasks}
    assert tasks["timelog_site.extract"].pool == "timelog_api"
    assert tasks["legal_entity.extract_timelog"].pool == "timelog_api"
    assert tasks["legal_entity.extract_uniconta"].pool == "uniconta_api"
    for tid in ("timelog_site.extract", "legal_entity.extract_uniconta"):
        assert tasks[tid].retries >= 3 and tasks[tid].retry_exponential_backoff
    # The staging tasks (one per legal entity, mapped) emit nothing: finish announces the night's changes once,
    # after every legal entity was staged, through the one alias (issue 11 item 1).
    assert {tid: t.outlets for tid, t in tasks.items() if t.outlets} == {"finish": [STAGED_CHANGES]}
    assert tasks["finish"].upstream_task_ids >= {"timelog_site.validate_and_stage", "legal_entity.validate_and_stage"}
    assert tasks["record_failure"].trigger_rule == "one_failed" and tasks["record_failure"].retries == 0
    assert tasks["record_failure"].upstream_task_ids >= {"timelog_site.validate_and_stage",
                                                         "legal_entity.validate_and_stage", "finish"}, \
        "a failing finish marks the run failed too"
    assert tasks["record_failure"].downstream_task_ids == set(), "a leaf: it fails the DAG run when it fires"


def test_customer_linking_runs_on_staged_customers_not_on_the_clock(bag):
    dag = bag.dags["tlsync_customer_linking"]
    condition = dag.timetable.asset_condition
    assert type(condition).__name__ == "AssetAny", "either side's new customers trigger a refresh"
    assert {a.uri for a in condition.objects} == {"tlsync://staging/uniconta/debtors",
                                                  "tlsync://staging/timelog/customers"}


def test_transfer_runs_on_staged_data_in_dependency_order(bag):
    dag = bag.dags["tlsync_transfer"]
    condition = dag.timetable.asset_condition
    assert {a.uri for a in condition.objects} == {"tlsync://staging/timelog/invoices",
                                                  "tlsync://staging/uniconta/debtors"}
    assert dag.max_active_runs == 1 and dag.catchup is False
    tasks = {t.task_id: t for t in dag.tasks}
    order = ["legal_entity.customers", "legal_entity.items", "legal_entity.projects", "legal_entity.invoices", "legal_entity.expenses"]
    for before, after in zip(order, order[1:]):
        assert before in tasks[after].upstream_task_ids, f"{after} must wait for {before}"
        assert tasks[after].trigger_rule == "all_success", "a failed step holds back the later ones"
    assert tasks["legal_entity.invoices"].pool == "uniconta_api"
    summary = tasks["summary"]
    assert "legal_entity.expenses" in summary.upstream_task_ids and "entity_pairs" in summary.upstream_task_ids
    assert summary.trigger_rule == "all_done" and summary.retries == 0, \
        "the summary reports failed steps too (and then fails the run itself)"
