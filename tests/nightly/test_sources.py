"""What the sync reads from each system, against the simulators."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import httpx

from tlsync import config, connections
from tlsync.nightly import sources
from tlsync.nightly.sources import UnicontaSource
from tlsync.staging.cursors import high_water
from tlsync.staging.entities import get
from tlsync.staging.loader import StagingLoader


def test_company_without_project_module_has_no_projects_and_says_so(sims):
    with sources.uniconta_source(company_id=10002, **sims["uniconta"]) as source:
        assert list(source.records(get("uniconta.projects"))) == []
        assert source.project_module is False, "rule T3: a clear fact, not a crash"
    with sources.uniconta_source(company_id=10001, **sims["uniconta"]) as source:
        assert list(source.records(get("uniconta.projects")))
        assert source.project_module is True


def test_incremental_uniconta_read_by_date_filters_on_the_date(sims, engine):
    """A date-cursored class (none of the posted ones any more) still reads ``<cursor> ge since``."""
    dated = replace(get("uniconta.invoices"), cursor="Date")
    with UnicontaSource(connections.uniconta_client(company_id=10001, **sims["uniconta"]), 10001,
                        staging=engine) as source:
        everything = [r.raw for r in source.records(dated)]
        recent = [r.raw for r in source.records(dated, since=datetime(2026, 1, 1))]
    assert recent and len(recent) < len(everything)
    assert all(str(r["Date"]) >= "2026-01-01" for r in recent)


def test_posted_classes_read_from_the_highest_staged_row_id(sims, engine):
    """Posted invoices, lines and GL postings follow ``RowId`` (docs/staging-cursors.md): a first load reads the
    history, then only rows above the highest staged RowId of the company are read — whatever their date."""
    for name in ("uniconta.invoices", "uniconta.invoice_lines", "uniconta.gl_transactions"):
        spec = get(name)
        assert spec.row_cursor and "RowId" in spec.columns, name
        with UnicontaSource(connections.uniconta_client(company_id=10001, **sims["uniconta"]), 10001,
                            staging=engine) as source:
            assert str(source.cursor_filter(spec, datetime(2026, 1, 1))) == "Date ge datetime'2021-01-01T00:00:00'"
            first = [r.raw for r in source.records(spec, since=datetime(2026, 1, 1))]
            assert len(first) > 3, name
            older = sorted(first, key=lambda r: r["RowId"])[: len(first) // 2]
            StagingLoader(engine).load(spec, "10001", "run-a", older)
            mark = max(r["RowId"] for r in older)
            assert high_water(engine, spec, "10001") == mark
            assert high_water(engine, spec, "10002") is None, "the cursor is per company (rule S2)"
            assert str(source.cursor_filter(spec, datetime(2026, 1, 1))) == f"RowId gt {mark}"
            rest = [r.raw for r in source.records(spec, since=datetime(2099, 1, 1))]
        assert sorted(r["RowId"] for r in rest) == sorted(r["RowId"] for r in first if r["RowId"] > mark), name


def test_row_id_overlap_and_periodic_full_read_are_configurable(sims, engine, monkeypatch):
    spec = get("uniconta.invoices")
    StagingLoader(engine).load(spec, "10001", "run-a", [{"InvoiceNumber": 7, "RowId": 40, "Date": "2026-01-02"}])
    source = UnicontaSource(None, 10001, staging=engine)
    monkeypatch.setenv("TLSYNC_UNICONTA_ROWID_OVERLAP", "5")
    assert str(source.cursor_filter(spec, datetime(2026, 1, 1))) == "RowId gt 35"
    monkeypatch.setenv("TLSYNC_UNICONTA_FULL_READ_EVERY_DAYS", "7")
    full_day = date.fromordinal(7 * (date(2026, 11, 27).toordinal() // 7))
    assert str(source.cursor_filter(spec, datetime(2026, 1, 1), today=full_day)).startswith("Date ge ")
    assert str(source.cursor_filter(spec, datetime(2026, 1, 1), today=full_day + timedelta(days=1))) == "RowId gt 35"
    assert source.cursor_filter(spec, None) is None, "no since: a full read"


def test_legal_entity_invoices_only_and_their_lines(sims):
    with sources.timelog_source(**sims["timelog"]) as source:
        invoices, lines, details = source.invoices_with_lines(2, date(2020, 1, 1), date(2026, 12, 31))
    assert invoices and all(i.raw["LegalEntityID"] == "2" for i in invoices), "rule S2: one legal entity"
    ids = {i.raw["ID"] for i in invoices}
    assert lines and {l.raw["InvoiceID"] for l in lines} <= ids
    assert {d.raw["InvoiceID"] for d in details} <= ids


def test_customers_modified_since_reads_only_those(sims):
    tl = sims["timelog_url"]
    at = httpx.get(f"{tl}/_sim/clock").json()["now"]
    # stamped exactly at ``at`` (a touch "now" could fall in the next second and miss the read)
    httpx.post(f"{tl}/_sim/touch", json={"collection": "Customers", "ids": [3, 5], "changes": {"Phone": "70 10 20 30"},
                                         "at": at}).raise_for_status()
    with sources.timelog_source(**sims["timelog"]) as source:
        changed = [r.raw for r in source.changed(get("timelog.customers"), datetime.fromisoformat(at),
                                                 datetime(2030, 1, 1))]
        calls = source.calls()
    assert sorted(r["ID"] for r in changed) == ["3", "5"]
    assert calls["TimeLog Reporting API"] == 2, "one read per changed customer"


def test_many_old_invoices_modified_are_read_with_the_history_not_one_by_one(sims, monkeypatch):
    """Invoices modified outside the read's window (e.g. written back by the previous night's backfill, rule T2)
    are read by id while they are few; past ``BY_ID_LIMIT`` by reading the history window by window, as a first
    load does — the same records either way."""
    tl = sims["timelog_url"]
    with sources.timelog_source(**sims["timelog"]) as source:
        everything, all_lines, _ = source.invoices_with_lines(1, date(2000, 1, 1), date(2030, 1, 1), modified=False)
    old = sorted((i.raw for i in everything if i.raw["InvoiceDate"] < "2026-01-01"), key=lambda r: int(r["ID"]))[:6]
    assert len(old) == 6
    at = httpx.get(f"{tl}/_sim/clock").json()["now"]
    httpx.post(f"{tl}/_sim/touch", json={"collection": "Invoices", "ids": [int(r["ID"]) for r in old],
                                         "changes": {"Comment": "written back"}, "at": at}).raise_for_status()
    today = date.fromisoformat(at[:10])
    read = {}
    for limit in (100, 2):
        monkeypatch.setattr(sources, "BY_ID_LIMIT", limit)
        with sources.timelog_source(**sims["timelog"]) as source:
            got = source.invoices_with_lines(1, today - timedelta(days=7), today,
                                             modified_since=datetime.fromisoformat(at) - timedelta(seconds=1))
            read[limit] = (got, source.calls()["TimeLog Reporting API"])
    by_id, history = read[100], read[2]
    wanted = {r["ID"] for r in old}
    assert wanted <= {i.raw["ID"] for i in by_id[0][0]}
    for part in range(3):
        assert sorted(str(x.raw) for x in by_id[0][part]) == sorted(str(x.raw) for x in history[0][part])
    with_lines = {x.raw["InvoiceID"] for x in all_lines} & wanted
    assert with_lines and {x.raw["InvoiceID"] for x in history[0][1]} >= with_lines
    # by id: the dated read + 3 reads per invoice; by date: invoices, lines and details in each window that holds
    # a touched invoice's date (the Transactional contracts give it) — not per invoice, nor the whole history
    spans = sources.spans_holding([date.fromisoformat(r["InvoiceDate"][:10]) for r in old],
                                  config.timelog_read_window_days())
    assert by_id[1] == 1 + 3 * 6
    assert 1 <= len(spans) <= 6 and history[1] == 1 + 3 * len(spans), (history[1], spans)

    # a contract without a date: every window of the history from HISTORY_FLOOR on, the years before
    # TLSYNC_HISTORY_START too — none longer than a window (one read of them could exhaust the memory, issue 13)
    asked: list[tuple[date, date]] = []
    monkeypatch.setattr(sources, "_tx_date", lambda doc: None)
    with sources.timelog_source(**sims["timelog"]) as source:
        reading = source.reporting.invoices_raw

        def invoices_raw(lo, hi, **kw):
            asked.append((lo, hi))
            return reading(lo, hi, **kw)

        monkeypatch.setattr(source.reporting, "invoices_raw", invoices_raw)
        undated = source.invoices_with_lines(1, today - timedelta(days=7), today,
                                             modified_since=datetime.fromisoformat(at) - timedelta(seconds=1))
    for part in range(3):
        assert sorted(str(x.raw) for x in undated[part]) == sorted(str(x.raw) for x in by_id[0][part])
    days = config.timelog_read_window_days()
    history_reads = asked[1:-1]          # after the dated read, before the far-future span
    assert history_reads[0][0] == sources.HISTORY_FLOOR and history_reads[-1][1] == today
    assert all((hi - lo).days <= days for lo, hi in history_reads)
    assert all(a[1] == b[0] for a, b in zip(history_reads, history_reads[1:]))


def test_spans_holding_cover_each_date_with_a_day_to_spare_in_the_fewest_windows():
    d = date(2024, 3, 10)
    assert sources.spans_holding([], 183) == []
    assert sources.spans_holding([d, d], 183) == [(date(2024, 3, 9), date(2024, 9, 8))]
    dates = [d + timedelta(days=k) for k in (0, 1, 180, 181, 182, 400, 3000)]
    spans = sources.spans_holding(reversed(dates), 183)
    assert spans == [(date(2024, 3, 9), date(2024, 9, 8)), (date(2024, 9, 6), date(2025, 3, 8)),
                     (date(2025, 4, 13), date(2025, 10, 13)), (date(2032, 5, 26), date(2032, 11, 25))]
    for x in dates:
        assert any(lo < x and x + timedelta(days=1) < hi for lo, hi in spans), x
    assert all((hi - lo).days == 183 for lo, hi in spans)
    assert all((hi - lo).days == 3 for lo, hi in sources.spans_holding([d, d + timedelta(days=5)], 1))


def test_read_windows_cover_the_range_and_share_their_boundary_days():
    assert list(sources.read_windows(date(2026, 1, 1), date(2026, 1, 5), 183)) == [(date(2026, 1, 1),
                                                                                     date(2026, 1, 5))]
    windows = list(sources.read_windows(date(2021, 1, 1), date(2026, 11, 2), 183))
    assert windows[0][0] == date(2021, 1, 1) and windows[-1][1] == date(2026, 11, 2)
    assert all(a[1] == b[0] for a, b in zip(windows, windows[1:]))
    assert all((hi - lo).days <= 183 for lo, hi in windows) and len(windows) == 12


def test_a_long_history_is_read_window_by_window_with_the_same_records(sims, monkeypatch):
    """An initial load of years reads invoices, lines and line details per window (each answer a part of the
    history, issue 13: L's one five-year answer exhausted 24 GB); the records are the same as one read's, each
    invoice once although adjacent windows share a day."""
    read = {}
    for days in ("100000", "30"):
        monkeypatch.setenv("TLSYNC_TIMELOG_READ_WINDOW_DAYS", days)
        with sources.timelog_source(**sims["timelog"]) as source:
            parts = list(source.invoice_windows(1, date(2019, 1, 1), date(2030, 1, 1), modified=False))
            read[days] = (parts, source.calls()["TimeLog Reporting API"])
    (whole,), one_read_calls = read["100000"]
    windows, window_calls = read["30"]
    assert len(windows) > 100 and window_calls > one_read_calls
    for k in range(3):
        got = [x.raw for part in windows for x in part[k]]
        assert len({str(r) for r in got}) == len(got), "no record twice"
        assert sorted(map(str, got)) == sorted(str(x.raw) for x in whole[k])
    assert whole[0] and whole[1] and whole[2]
