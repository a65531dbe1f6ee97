"""What a night announces (tlsync.nightly.changes; issue 11 item 1), the idempotent failure mark (item 8) and the day a
reconciliation run reports for — on SQLite and PostgreSQL. The DAGs' use of them runs under Airflow in
tests/e2e/test_dag_semantics.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from tlsync.nightly import changes, runs
from tlsync.nightly.steps import EntityCounts, record_counts
from tlsync.staging.tables import sync_runs

T0 = datetime(2026, 12, 1, 2, 0)


def _night(engine, run_id: str, day: int, counts: list[EntityCounts], status: str | None) -> None:
    runs.start_run(engine, run_id, now=T0 + timedelta(days=day))
    for c in counts:
        record_counts(engine, run_id, c)
    if status == "success":
        runs.finish_run(engine, run_id, {}, [])
    elif status == "failed":
        runs.fail_run(engine, run_id)


def test_one_event_per_changed_entity_with_counts_per_tenant(engine):
    _night(engine, "n1", 0, [
        EntityCounts("timelog.invoices", "S:1", extracted=5, unchanged=2, staged=3),
        EntityCounts("timelog.invoices", "S:2", extracted=4, staged=4),
        EntityCounts("uniconta.debtors", "10001", extracted=9, unchanged=8, removed=1, staged=1),
        EntityCounts("uniconta.items", "10001", extracted=3, unchanged=2, quarantined=1),   # no change
        EntityCounts("timelog.customers", "S", extracted=7, unchanged=7)], "success")
    assert changes.night_changes(engine, "n1") == {
        "timelog.invoices": {"run_id": "n1", "staged": 7, "removed": 0, "runs": ["n1"],
                             "tenants": {"S:1": {"staged": 3, "removed": 0}, "S:2": {"staged": 4, "removed": 0}}},
        "uniconta.debtors": {"run_id": "n1", "staged": 1, "removed": 1, "runs": ["n1"],
                             "tenants": {"10001": {"staged": 1, "removed": 1}}},
    }
    _night(engine, "n2", 1, [EntityCounts("timelog.invoices", "S:1", extracted=5, unchanged=5)], "success")
    assert changes.night_changes(engine, "n2") == {}
    assert changes.describe({}) == "nothing was staged or removed: no asset events, no downstream run"


def test_a_failed_nights_changes_are_announced_by_the_next_successful_one_only(engine):
    _night(engine, "ok", 0, [EntityCounts("uniconta.debtors", "10001", extracted=2, staged=2)], "success")
    _night(engine, "bad", 1, [EntityCounts("uniconta.debtors", "10002", extracted=3, staged=3)], "failed")
    _night(engine, "now", 2, [EntityCounts("uniconta.debtors", "10001", extracted=2, staged=1, unchanged=1)], None)
    announced = changes.night_changes(engine, "now")
    assert announced["uniconta.debtors"]["tenants"] == {"10001": {"staged": 1, "removed": 0},
                                                        "10002": {"staged": 3, "removed": 0}}
    assert announced["uniconta.debtors"]["runs"] == ["bad", "now"]
    runs.finish_run(engine, "now", {}, [])
    _night(engine, "later", 3, [], None)
    assert changes.night_changes(engine, "later") == {}, "announced once"
    with pytest.raises(LookupError):
        changes.night_changes(engine, "never-started")


def test_fail_run_is_idempotent_and_covers_a_run_finish_had_marked_successful(engine):
    runs.start_run(engine, "r", now=T0)
    runs.finish_run(engine, "r", {"Uniconta": 4}, [])          # finish marked it, then failed afterwards
    assert runs.fail_run(engine, "r") is True
    with engine.connect() as conn:
        first = conn.execute(select(sync_runs).where(sync_runs.c.run_id == "r")).mappings().one()
    assert first["status"] == "failed" and first["calls"] == {"Uniconta": 4}
    assert runs.fail_run(engine, "r") is False
    with engine.connect() as conn:
        assert conn.execute(select(sync_runs).where(sync_runs.c.run_id == "r")).mappings().one() == first
    assert runs.fail_run(engine, "begin-never-ran") is False


def test_a_failed_run_keeps_the_first_reason_and_the_summary_names_it(engine):
    runs.start_run(engine, "r", now=T0)
    assert runs.failure_reason(engine, "r") is None
    assert runs.note_failure(engine, "r", "legal_entity.extract_uniconta[0]: Uniconta gave up after 6 attempts")
    assert not runs.note_failure(engine, "r", "finish: a consequence"), "the first task's reason stays"
    assert runs.fail_run(engine, "r", reason="record_failure: later") is True
    assert runs.failure_reason(engine, "r") == "legal_entity.extract_uniconta[0]: Uniconta gave up after 6 attempts"
    assert runs.format_summary(engine, "r").splitlines()[-1] == (
        "why it failed: legal_entity.extract_uniconta[0]: Uniconta gave up after 6 attempts")
    runs.start_run(engine, "r", now=T0)                         # a retried start: running again, no old reason
    assert runs.failure_reason(engine, "r") is None
    runs.fail_run(engine, "r2", reason="never started")         # no row: nothing recorded, nothing raised
    assert runs.failure_reason(engine, "r2") is None


def test_failure_line_is_one_line_without_a_traceback():
    try:
        int("x\ny")
    except ValueError as exc:
        assert runs.failure_line(exc) == "ValueError: invalid literal for int() with base 10: 'x\\ny'"


def test_linking_refreshes_only_the_companies_that_changed():
    debtors = {"entity": "uniconta.debtors", "extra": {"tenants": {"10002": {"staged": 1, "removed": 0}}}}
    customers = {"entity": "timelog.customers", "extra": {"tenants": {"SIM": {"staged": 1, "removed": 0}}}}
    assert changes.companies_to_refresh([debtors], [10001, 10002]) == [10002]
    assert changes.companies_to_refresh([debtors, customers], [10002, 10001]) == [10001, 10002]
    assert changes.companies_to_refresh([], [10001, 10002]) == [10001, 10002], "a manual run refreshes all"
    invoices = {"entity": "timelog.invoices", "extra": {"tenants": {"SIM:1": {}}}}
    assert changes.companies_to_refresh([invoices], [10001]) == []


def test_reconciliation_day_comes_from_the_run_in_copenhagen_time():
    from tlsync.reconcile import flow

    event = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)           # 00:30 on 1 December in Copenhagen
    assert flow.run_day(event, datetime(2026, 1, 1, tzinfo=UTC)) == date(2026, 12, 1)
    assert flow.nightly_period(flow.run_day(None, None, event)) == (date(2026, 11, 1), date(2026, 12, 1))
    monthly = datetime(2026, 11, 2, 5, 0, tzinfo=UTC)            # the cron's 06:00 Copenhagen on the 2nd
    assert flow.closed_month(flow.run_day(monthly)) == (date(2026, 10, 1), date(2026, 10, 31))
    with pytest.raises(ValueError, match="run_after"):
        flow.run_day(None, None)


@pytest.mark.parametrize(("name", "value", "getter"), [
    ("TLSYNC_LANDING_KEEP_RUNS", "not-a-number", "landing_keep_runs"),
    ("TLSYNC_LANDING_KEEP_RUNS", "0", "landing_keep_runs"),
    ("TLSYNC_LOOKBACK_DAYS", "-1", "lookback_days"),
    ("TLSYNC_MODIFIED_OVERLAP_MINUTES", "soon", "modified_overlap_minutes"),
    ("TLSYNC_HISTORY_START", "01-01-2021", "history_start"),
])
def test_a_bad_environment_setting_is_one_line_naming_it(monkeypatch, name, value, getter):
    from tlsync import config
    monkeypatch.setenv(name, value)
    with pytest.raises(config.SettingError) as err:
        getattr(config, getter)()
    assert name in str(err.value) and repr(value) in str(err.value) and "\n" not in str(err.value)
