"""Run bookkeeping: watermarks move only when a run succeeds; the summary reconciles; pairs follow rule S2."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from tlsync.nightly import runs
from tlsync.nightly.pipeline import parse_entity_pairs
from tlsync.nightly.steps import EntityCounts, record_counts


def test_watermark_advances_only_when_the_run_finishes(engine):
    start = datetime(2026, 11, 2, 2, 0, 0)
    kwargs = dict(lookback_days=7, history_start=date(2021, 1, 1))
    assert runs.window_start(engine, "timelog.invoices", "S:1", **kwargs) == datetime(2021, 1, 1)
    runs.start_run(engine, "r1", now=start)
    # the run fails: nothing moves
    runs.fail_run(engine, "r1", {"TimeLog Reporting API": 3})
    assert runs.window_start(engine, "timelog.invoices", "S:1", **kwargs) == datetime(2021, 1, 1)
    runs.start_run(engine, "r2", now=start + timedelta(days=1))
    runs.finish_run(engine, "r2", {"Uniconta": 12}, [("timelog.invoices", "S:1")])
    assert runs.window_start(engine, "timelog.invoices", "S:1", **kwargs) == start + timedelta(days=1) - timedelta(days=7)
    assert runs.window_start(engine, "timelog.invoices", "S:2", **kwargs) == datetime(2021, 1, 1)


def test_summary_reconciles_and_names_calls(engine):
    runs.start_run(engine, "r")
    record_counts(engine, "r", EntityCounts("timelog.customers", "S", extracted=10, unchanged=7, staged=2, quarantined=1))
    record_counts(engine, "r", EntityCounts("uniconta.debtors", "10001", extracted=5, unchanged=0, staged=5))
    record_counts(engine, "r", EntityCounts("uniconta.debtors", "10002", extracted=4, unchanged=4))
    runs.finish_run(engine, "r", {"Uniconta": 9, "TimeLog Reporting API": 14}, [])
    rows = {r["entity"]: r for r in runs.summary_rows(engine, "r")}
    assert rows["uniconta.debtors"]["extracted"] == 9 and rows["uniconta.debtors"]["unchanged"] == 4
    text = runs.format_summary(engine, "r")
    assert "timelog.customers" in text and "Uniconta: 9" in text and "success" in text


def test_counts_must_reconcile():
    with pytest.raises(AssertionError, match="do not reconcile"):
        EntityCounts("timelog.invoices", "S", extracted=3, unchanged=1, staged=1).check()


def test_entity_pairs_rule_s2():
    assert parse_entity_pairs('{"2": 10002, "1": "10001"}') == [
        {"legal_entity_id": 1, "company_id": 10001}, {"legal_entity_id": 2, "company_id": 10002}]
    with pytest.raises(ValueError, match="tlsync_entity_pairs' is not set"):
        parse_entity_pairs(None)
    with pytest.raises(ValueError, match="one company per legal entity"):
        parse_entity_pairs({"1": 10001, "2": 10001})
    with pytest.raises(ValueError, match="must map legal entity ids"):
        parse_entity_pairs("[1, 2]")


def test_landing_keeps_only_the_newest_runs(tmp_path):
    import os
    import time

    from tlsync.nightly.pipeline import prune_landing

    for i in range(5):
        run = tmp_path / f"run-{i}" / "SITE"
        run.mkdir(parents=True)
        (run / "timelog.customers.jsonl").write_text("{}\n")
        os.utime(tmp_path / f"run-{i}", (time.time() - 100 + i, time.time() - 100 + i))
    removed = prune_landing(tmp_path, keep=2)
    assert sorted(p.name for p in removed) == ["run-0", "run-1", "run-2"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run-3", "run-4"]


def test_entity_pairs_come_from_the_settings_file_when_there_is_one(tmp_path, monkeypatch):
    from pathlib import Path

    from tlsync.nightly.pipeline import entity_pairs

    monkeypatch.setenv("TLSYNC_SETTINGS", str(tmp_path / "integration.yaml"))
    assert entity_pairs('{"1": 10001}') == [{"legal_entity_id": 1, "company_id": 10001}], "no file: the Variable"
    example = Path(__file__).resolve().parents[2] / "config" / "integration.example.yaml"
    (tmp_path / "integration.yaml").write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
    assert entity_pairs(None) == [{"legal_entity_id": 1, "company_id": 10001},
                                  {"legal_entity_id": 2, "company_id": 10002}]
