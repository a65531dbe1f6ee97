"""Records that vanished from the source (docs/staging-deletions.md): after a complete full read, staged rows whose
natural key the read did not have are removed and kept in ``staging_deletions``; quarantined/refused records count
as present; an empty read or a mass removal is held by the safety valve; incremental entities are never pruned.
Rules U3 (a deleted/posted draft is not "still a draft"), L2 (a deleted debtor leaves the linking views), I1–I4.
SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime

import pytest
from sqlalchemy import Column, MetaData, Table, create_engine, insert, inspect, select

from tlsync.nightly import report, runs
from tlsync.nightly.steps import invalid_path, validate_and_stage, write_landing
from tlsync.quality import QualityContext
from tlsync.staging import deletions
from tlsync.staging.entities import get
from tlsync.staging.migrate import head, upgrade
from tlsync.staging.tables import STAGING, run_entity_counts, staging_deletions, staging_vanished

DEBTORS = get("uniconta.debtors")
ORDER_LINES = get("uniconta.order_lines")
CUSTOMERS = get("timelog.customers")
CTX = QualityContext(known_currencies=frozenset({"DKK"}), date_min=date(2000, 1, 1), date_max=date(2030, 1, 1))


def debtor(n: int, **over) -> dict:
    return {"Account": str(n), "Name": f"Kunde {n} ApS", "Phone": f"+45 70 00 00 {n:02d}", **over}


def line(order: int, n: int, **over) -> dict:
    return {"OrderNumber": order, "LineNumber": n, "Item": "TIME", "Qty": "2.0", "Price": "950.00", **over}


def night(engine, tmp_path, spec, tenant, run_id, records, *, refused=(), **kw):
    landing = tmp_path / run_id / tenant / f"{spec.qualified}.jsonl"
    write_landing(landing, records)
    if refused:
        write_landing(invalid_path(landing), [{"raw": raw, "error": "model refused"} for raw in refused])
    runs.start_run(engine, run_id)
    counts = validate_and_stage(engine, spec, tenant, run_id, landing, CTX, **kw)
    counts.check()
    return counts


def keys(engine, spec, tenant) -> list[str]:
    table = STAGING[spec.qualified]
    with engine.connect() as conn:
        return sorted(conn.execute(select(table.c.natural_key).where(table.c.tenant == tenant)).scalars())


def audit(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(staging_deletions).order_by(staging_deletions.c.id)).mappings()]


def test_a_deleted_debtor_is_removed_and_kept_in_the_audit_with_its_last_payload(engine, tmp_path):
    night(engine, tmp_path, DEBTORS, "10001", "n1", [debtor(n) for n in range(1, 6)])
    night(engine, tmp_path, DEBTORS, "10002", "n1", [debtor(n) for n in range(1, 3)])   # another company
    changed = debtor(3, Name="Kunde 3 A/S")
    night(engine, tmp_path, DEBTORS, "10001", "n2", [debtor(1), debtor(2), changed, debtor(5)])   # 4 deleted

    counts = night(engine, tmp_path, DEBTORS, "10001", "n3", [debtor(1), debtor(2), debtor(5)])   # 3 deleted

    assert (counts.extracted, counts.unchanged, counts.staged, counts.quarantined) == (3, 3, 0, 0)
    assert counts.removed == 1 and counts.warnings == 0
    assert keys(engine, DEBTORS, "10001") == ["1", "2", "5"]
    assert keys(engine, DEBTORS, "10002") == ["1", "2"], "only the company that was read is pruned"
    rows = audit(engine)
    assert [(r["run_id"], r["entity"], r["tenant"], r["natural_key"]) for r in rows] == [
        ("n2", "uniconta.debtors", "10001", "4"), ("n3", "uniconta.debtors", "10001", "3")]
    assert json.loads(rows[1]["payload"]) == changed, "the last staged version is kept"
    assert rows[1]["staged_run_id"] == "n2" and isinstance(rows[1]["deleted_at"], datetime)
    with engine.connect() as conn:
        recorded = conn.execute(select(run_entity_counts.c.removed).where(
            run_entity_counts.c.run_id == "n3", run_entity_counts.c.tenant == "10001")).scalar_one()
    assert recorded == 1
    assert [r["natural_key"] for r in deletions.deletions(engine, entity="uniconta.debtors", run_id="n3")] == ["3"]

    # A retried task of the same run removes nothing more and still reports what the run removed.
    again = night(engine, tmp_path, DEBTORS, "10001", "n3", [debtor(1), debtor(2), debtor(5)])
    assert again.removed == 1 and len(audit(engine)) == 2

    # The record comes back in the source: staged again, the audit stays as it was (append-only).
    back = night(engine, tmp_path, DEBTORS, "10001", "n4", [debtor(1), debtor(2), changed, debtor(5)])
    assert back.staged == 1 and back.removed == 0 and keys(engine, DEBTORS, "10001") == ["1", "2", "3", "5"]
    assert len(audit(engine)) == 2


def test_a_no_change_night_removes_nothing(engine, tmp_path):
    records = [debtor(n) for n in range(1, 5)]
    night(engine, tmp_path, DEBTORS, "10001", "n1", records)
    counts = night(engine, tmp_path, DEBTORS, "10001", "n2", records)
    assert (counts.unchanged, counts.staged, counts.removed, counts.warnings) == (4, 0, 0, 0)
    assert keys(engine, DEBTORS, "10001") == ["1", "2", "3", "4"] and audit(engine) == []


def test_quarantined_and_refused_records_still_exist_in_the_source_and_are_not_pruned(engine, tmp_path):
    night(engine, tmp_path, ORDER_LINES, "10001", "n1", [line(7, n) for n in range(1, 5)])
    # line 1 now fails the gate (Qty not a number), line 2 was refused by the client's model, 3 and 4 unchanged
    counts = night(engine, tmp_path, ORDER_LINES, "10001", "n2", [line(7, 1, Qty="abc"), line(7, 3), line(7, 4)],
                   refused=[line(7, 2, Price="n/a")])
    assert (counts.extracted, counts.unchanged, counts.staged, counts.quarantined) == (4, 2, 0, 2)
    assert counts.removed == 0 and audit(engine) == []
    assert keys(engine, ORDER_LINES, "10001") == ["7|1", "7|2", "7|3", "7|4"], "the last good versions stay"


def test_a_refused_record_without_key_holds_the_pruning(engine, tmp_path, caplog):
    night(engine, tmp_path, DEBTORS, "10001", "n1", [debtor(n) for n in range(1, 5)])
    with caplog.at_level(logging.WARNING, logger="tlsync.staging.deletions"):
        counts = night(engine, tmp_path, DEBTORS, "10001", "n2", [debtor(1), debtor(2), debtor(3)],
                       refused=[{"Name": "no account"}])
    assert counts.removed == 0 and counts.warnings == 1 and keys(engine, DEBTORS, "10001") == ["1", "2", "3", "4"]
    assert "without a natural key" in caplog.text and "uniconta.debtors@10001" in caplog.text


def test_an_empty_read_while_rows_are_staged_prunes_nothing_and_warns(engine, tmp_path, caplog):
    night(engine, tmp_path, DEBTORS, "10001", "n1", [debtor(n) for n in range(1, 4)])
    with caplog.at_level(logging.WARNING, logger="tlsync.staging.deletions"):
        counts = night(engine, tmp_path, DEBTORS, "10001", "n2", [])
    assert (counts.extracted, counts.removed, counts.warnings) == (0, 0, 1)
    assert keys(engine, DEBTORS, "10001") == ["1", "2", "3"] and audit(engine) == []
    assert "uniconta.debtors@10001: the full read returned no records while 3 rows are staged" in caplog.text
    with engine.connect() as conn:
        assert conn.execute(select(run_entity_counts.c.warnings).where(
            run_entity_counts.c.run_id == "n2")).scalar_one() == 1, "counted as a warning of the run"
    assert "removed" not in runs.format_summary(engine, "n2"), "nothing removed, nothing said"


def pending(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {r.natural_key: r.misses for r in conn.execute(select(staging_vanished))}


def test_rows_held_by_the_valve_are_removed_when_the_next_complete_read_confirms_them_gone(engine, tmp_path):
    """An accountant posts every draft: the draft list is legitimately empty. One empty answer may be a hiccup
    (held); the next night's complete read without them confirms (TLSYNC_PRUNE_CONFIRM_READS, default 2)."""
    orders = get("uniconta.orders")
    night(engine, tmp_path, orders, "10001", "n1", [{"OrderNumber": n, "Account": "1"} for n in (1, 2, 3)])
    first = night(engine, tmp_path, orders, "10001", "n2", [])
    assert (first.removed, first.warnings) == (0, 1) and pending(engine) == {"1": 1, "2": 1, "3": 1}
    retried = night(engine, tmp_path, orders, "10001", "n2", [])
    assert retried.removed == 0 and pending(engine) == {"1": 1, "2": 1, "3": 1}, "a retried task is the same read"
    # next night: one new draft, the three old ones still missing (75% > 50%) — confirmed by two reads, removed
    second = night(engine, tmp_path, orders, "10001", "n3", [{"OrderNumber": 4, "Account": "1"}])
    assert (second.removed, second.warnings) == (3, 0) and keys(engine, orders, "10001") == ["4"]
    assert pending(engine) == {} and {r["natural_key"] for r in audit(engine)} == {"1", "2", "3"}


def test_a_held_row_that_comes_back_starts_over_and_the_confirmation_can_be_switched_off(engine, tmp_path,
                                                                                         monkeypatch):
    records = [debtor(n) for n in range(1, 4)]
    night(engine, tmp_path, DEBTORS, "10001", "n1", records)
    night(engine, tmp_path, DEBTORS, "10001", "n2", [])                       # hiccup: held
    assert pending(engine) == {"1": 1, "2": 1, "3": 1}
    night(engine, tmp_path, DEBTORS, "10001", "n3", records)                  # all back
    assert pending(engine) == {}
    assert night(engine, tmp_path, DEBTORS, "10001", "n4", []).removed == 0   # another hiccup: held again, not removed
    monkeypatch.setenv("TLSYNC_PRUNE_CONFIRM_READS", "0")
    assert night(engine, tmp_path, DEBTORS, "10001", "n5", []).removed == 0, "0: the valve stays closed"
    assert pending(engine) == {"1": 2, "2": 2, "3": 2} and keys(engine, DEBTORS, "10001") == ["1", "2", "3"]
    monkeypatch.setenv("TLSYNC_PRUNE_CONFIRM_READS", "1")
    with pytest.raises(ValueError, match="0 \\(never\\) or at least 2"):
        deletions.confirm_reads()


def test_a_keyless_refused_record_is_never_confirmed_away(engine, tmp_path):
    night(engine, tmp_path, DEBTORS, "10001", "n1", [debtor(n) for n in range(1, 5)])
    for run in ("n2", "n3", "n4"):
        counts = night(engine, tmp_path, DEBTORS, "10001", run, [debtor(1), debtor(2), debtor(3)],
                       refused=[{"Name": "no account"}])
        assert counts.removed == 0 and counts.warnings == 1
    assert keys(engine, DEBTORS, "10001") == ["1", "2", "3", "4"]


def test_removing_more_than_the_allowed_share_is_held_unless_the_setting_allows_it(engine, tmp_path, caplog,
                                                                                    monkeypatch):
    night(engine, tmp_path, DEBTORS, "10001", "n1", [debtor(n) for n in range(1, 11)])
    kept = [debtor(n) for n in range(1, 5)]
    with caplog.at_level(logging.WARNING, logger="tlsync.staging.deletions"):
        held = night(engine, tmp_path, DEBTORS, "10001", "n2", kept)
    assert (held.removed, held.warnings) == (0, 1) and len(keys(engine, DEBTORS, "10001")) == 10
    assert "would remove 6 of 10 staged rows (60%), more than TLSYNC_MAX_PRUNE_SHARE=0.5" in caplog.text

    monkeypatch.setenv("TLSYNC_MAX_PRUNE_SHARE", "0.6")
    allowed = night(engine, tmp_path, DEBTORS, "10001", "n3", kept)
    assert (allowed.removed, allowed.warnings) == (6, 0) and keys(engine, DEBTORS, "10001") == ["1", "2", "3", "4"]

    monkeypatch.setenv("TLSYNC_MAX_PRUNE_SHARE", "2")
    with pytest.raises(ValueError, match="TLSYNC_MAX_PRUNE_SHARE must be a number between 0 and 1"):
        deletions.max_prune_share()


def test_incremental_entities_are_never_pruned(engine, tmp_path):
    customers = [{"ID": str(n), "No": str(n), "Name": f"C{n}", "CreatedAt": "2026-01-01T00:00:00",
                  "LastModifiedAt": "2026-01-01T00:00:00"} for n in range(1, 5)]
    night(engine, tmp_path, CUSTOMERS, "SITE", "n1", customers)
    counts = night(engine, tmp_path, CUSTOMERS, "SITE", "n2", customers[:1])   # "modified since": one customer
    assert counts.removed == 0 and counts.warnings == 0 and keys(engine, CUSTOMERS, "SITE") == ["1", "2", "3", "4"]
    with pytest.raises(ValueError, match="read incrementally"):
        night(engine, tmp_path, CUSTOMERS, "SITE", "n3", customers[:1], prune=True)
    with pytest.raises(ValueError, match="never pruned"):
        deletions.prune_vanished(engine, CUSTOMERS, "SITE", "n3", staged_keys=["1"], seen=set(), extracted=1)


def test_a_missing_landing_file_is_not_a_read_and_prunes_nothing(engine, tmp_path):
    night(engine, tmp_path, DEBTORS, "10001", "n1", [debtor(n) for n in range(1, 4)])
    runs.start_run(engine, "n2")
    counts = validate_and_stage(engine, DEBTORS, "10001", "n2", tmp_path / "absent.jsonl", CTX)
    assert (counts.extracted, counts.removed, counts.warnings) == (0, 0, 0)
    assert keys(engine, DEBTORS, "10001") == ["1", "2", "3"]


def test_the_run_summary_and_after_run_report_show_removed_rows(engine, tmp_path):
    night(engine, tmp_path, DEBTORS, "10001", "n1", [debtor(n) for n in range(1, 5)])
    night(engine, tmp_path, DEBTORS, "10001", "n2", [debtor(n) for n in range(1, 4)])
    runs.start_run(engine, "n2", now=datetime(2099, 1, 1))   # the latest run, whatever the clock says
    runs.finish_run(engine, "n2", {}, [])
    row = {r["entity"]: r for r in runs.summary_rows(engine, "n2")}["uniconta.debtors"]
    assert row["removed"] == 1
    text = runs.format_summary(engine, "n2")
    assert "removed (no longer in the source): uniconta.debtors 1 — python -m tlsync.staging.deletions --run n2" \
        in text.splitlines()
    total = next(x for x in text.splitlines() if x.startswith("total "))
    assert len(total.split()) == 6, "the total line keeps its five counts (extracted … warnings)"
    after = report.after_run(engine)
    assert "removed this run" in after and "uniconta.debtors 1" in after
    assert "4" in deletions.format_deletions(deletions.deletions(engine, run_id="n2"))


def test_a_database_created_before_the_removed_count_gets_the_column(db_url):
    current = run_entity_counts
    old = Table(current.name, MetaData(), *[Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
                                           for c in current.columns if c.name != "removed"])
    eng = create_engine(db_url)
    try:
        old.create(eng)
        with eng.begin() as conn:
            conn.execute(insert(old), [{"run_id": "old", "entity": "uniconta.debtors", "tenant": "1", "extracted": 2,
                                        "unchanged": 2, "staged": 0, "quarantined": 0, "warnings": 0}])
        upgrade(eng)                          # the set-up step adopts the database (revision 0001)
        assert "removed" in {c["name"] for c in inspect(eng).get_columns(current.name)}
        assert inspect(eng).has_table("staging_deletions")
        with eng.connect() as conn:
            assert conn.execute(select(current.c.removed)).scalar_one() == 0
        assert runs.summary_rows(eng, "old")[0]["removed"] == 0
        assert upgrade(eng) == head(), "idempotent"
    finally:
        eng.dispose()
