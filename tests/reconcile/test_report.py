"""The finance report of the hand-written scenario: the workbook's sheets, types, frozen headers and filters; totals
that tie out to the øre between Summary and the detail sheets (Excel and CSV) and equal the hand-computed ones;
formula injection neutralised; HTML escaped and opening in headless Chromium without console errors."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import recon_scenario as scenario  # tests/reconcile/recon_scenario.py
from openpyxl import load_workbook

from tlsync.ledger import Ledger
from tlsync.reconcile import reconcile
from tlsync.reconcile.report import format_headline, neutralise, write_report

ROOT = Path(__file__).resolve().parents[2]
SHEETS = ["Summary", "Missing in Uniconta", "Missing in TimeLog", "Still a draft in Uniconta", "Currency differs",
          "Debtor differs", "Lines edited in Uniconta", "Amounts differ", "Matched", "Expenses imported", "Quarantine"]
DETAIL = SHEETS[1:9]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def artefacts() -> Path:
    path = Path(os.environ.get("TLSYNC_TEST_ARTEFACTS", ROOT / "out" / "test-artefacts")) / "reconcile"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def files(engine, tmp_path):
    scenario.build(engine)
    recon = reconcile(engine, scenario.LE, date(2026, 1, 1), date(2026, 2, 28), company_id=scenario.COMPANY,
                      as_of=date(2026, 3, 1))
    return recon, write_report(recon, tmp_path / "report", "en")


def records(ws, first: str | None = None) -> list[dict]:
    """The table of a sheet: from row 1, or from the row whose first cell is ``first`` (Summary's monthly table)."""
    rows = list(ws.iter_rows(values_only=True))
    if first is not None:
        rows = rows[[r[0] for r in rows].index(first):]
    header = rows[0]
    out = []
    for r in rows[1:]:
        if all(v is None for v in r):
            break                      # a table ends at an empty row
        out.append(dict(zip(header, r)))
    return out


def dec(x) -> Decimal:
    return Decimal(str(x)).quantize(Decimal("0.01")) if x not in (None, "") else Decimal(0)


def test_workbook_sheets_types_frozen_headers_and_filters(files):
    recon, f = files
    wb = load_workbook(f.xlsx)
    assert wb.sheetnames == SHEETS
    for name in SHEETS[1:]:
        ws = wb[name]
        assert ws.freeze_panes == ("B2" if name in DETAIL else "A2"), name
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), name
    ws = wb["Amounts differ"]
    header = [c.value for c in ws[1]]
    row = {h: c for h, c in zip(header, ws[2])}
    assert isinstance(row["TimeLog date"].value, datetime) and row["TimeLog date"].number_format == "dd-mm-yyyy"
    assert row["TimeLog date"].value.date() == date(2026, 1, 12)
    assert row["TimeLog total"].data_type == "n" and row["TimeLog total"].number_format == "#,##0.00"
    assert row["TimeLog total"].value == 2500
    assert row["Open (days)"].data_type == "n" and row["Open (days)"].value == 48
    assert row["Category"].value == "Amounts differ" and row["Category"].data_type == "s"
    q = records(wb["Quarantine"])
    assert [(r["Entity"], r["Record key"], r["Rule"]) for r in q] == [("timelog.invoices", 13, "date_unparsable")], \
        "a numeric id is a number (no 'number stored as text')"
    assert isinstance(q[0]["Quarantined at"], datetime)


def test_summary_ties_out_to_the_detail_sheets_to_the_ore_and_to_the_hand_computed_totals(files):
    recon, f = files
    wb = load_workbook(f.xlsx)
    summary = {(r["Period"], r["Currency"]): r for r in records(wb["Summary"], "Period")}
    detail: dict[tuple, Decimal] = defaultdict(Decimal)
    counted = 0
    for name in DETAIL:
        for r in records(wb[name]):
            counted += 1
            if r["TimeLog invoice"]:
                detail[(r["Period"], "timelog", r["TimeLog currency"])] += dec(r["TimeLog total"])
                detail[(r["Period"], "timelog-net", r["TimeLog currency"])] += dec(r["TimeLog net"])
            if r["Uniconta status"] == "posted":
                detail[(r["Period"], "uniconta", r["Uniconta currency"])] += dec(r["Uniconta total"])
                detail[(r["Period"], "uniconta-vat", r["Uniconta currency"])] += dec(r["Uniconta VAT"])
    assert counted == len(recon.rows) == 12, "every row is on exactly one detail sheet"
    for (period, cur), s in summary.items():
        assert dec(s["TimeLog total"]) == detail[(period, "timelog", cur)]
        assert dec(s["TimeLog net"]) == detail[(period, "timelog-net", cur)]
        assert dec(s["Uniconta total"]) == detail[(period, "uniconta", cur)]
        assert dec(s["Uniconta VAT"]) == detail[(period, "uniconta-vat", cur)]
        assert dec(s["Difference (TimeLog − Uniconta)"]) == dec(s["TimeLog total"]) - dec(s["Uniconta total"])
    for (period, system, cur), expected in scenario.EXPECTED_TOTALS.items():
        column = "TimeLog total" if system == "timelog" else "Uniconta total"
        assert dec(summary[(period, cur)][column]) == expected, (period, system, cur)
    # the category counts under the bridge
    rows = [r for r in wb["Summary"].iter_rows(values_only=True)]
    start = [r[0] for r in rows].index("Count per category")
    counts = {r[0]: r[1] for r in rows[start + 1:start + 10]}
    assert counts["Matched"] == 2 and counts["Missing in Uniconta"] == 3 and counts["Total"] == 12


def test_csv_files_tie_out_and_are_machine_readable(files):
    recon, f = files
    by_name = {p.name: p for p in f.csv}
    assert set(by_name) >= {"summary.csv", "matched.csv", "differences.csv", "missing_in_uniconta.csv",
                            "missing_in_timelog.csv", "expenses_imported.csv", "quarantine.csv",
                            "category_counts.csv"}
    total = defaultdict(Decimal)
    for name in ("matched.csv", "differences.csv", "missing_in_uniconta.csv", "missing_in_timelog.csv"):
        with by_name[name].open(encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                if r["TimeLog total"]:
                    assert re.fullmatch(r"-?\d+\.\d\d", r["TimeLog total"]), r["TimeLog total"]
                    assert re.fullmatch(r"\d{4}-\d\d-\d\d", r["TimeLog date"])
                    total[(r["Period"], r["TimeLog currency"])] += Decimal(r["TimeLog total"])
    with by_name["summary.csv"].open(encoding="utf-8") as fh:
        summary = {(r["Period"], r["Currency"]): Decimal(r["TimeLog total"]) for r in csv.DictReader(fh)}
    assert summary == {k: v for k, v in total.items()} | {k: Decimal("0.00") for k in summary if k not in total}
    with by_name["category_counts.csv"].open(encoding="utf-8") as fh:
        assert {r["category"]: int(r["count"]) for r in csv.DictReader(fh)} == recon.counts()


def test_formula_injection_is_neutralised_in_excel_and_csv(files):
    recon, f = files
    wb = load_workbook(f.xlsx)
    [row] = records(wb["Missing in TimeLog"])[:1]
    assert row["Debtor name"] == "'" + scenario.INJECT_NAME
    assert all(c.data_type != "f" for ws in wb for r in ws.iter_rows() for c in r), "no formula cell anywhere"
    with next(p for p in f.csv if p.name == "missing_in_timelog.csv").open(encoding="utf-8") as fh:
        names = [r["Debtor name"] for r in csv.DictReader(fh)]
    assert "'" + scenario.INJECT_NAME in names and scenario.INJECT_NAME not in names
    for text in ("=1+1", "+45 70 10 20 30", "-2", "@SUM(A1)", "\tx"):
        assert neutralise(text) == "'" + text
    assert neutralise("Nordlys A/S") == "Nordlys A/S" and neutralise(Decimal("-5")) == Decimal("-5")


def test_expense_import_absence_is_a_note_not_a_crash(engine, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tlsync.expenses", None)      # the expense import is not installed
    scenario.build(engine)
    recon = reconcile(engine, scenario.LE, date(2026, 1, 1), date(2026, 2, 28), company_id=scenario.COMPANY)
    assert recon.expenses is None and "expense import not run" in recon.expenses_note
    ws = load_workbook(write_report(recon, tmp_path / "r", "en", pdf=False).xlsx)["Expenses imported"]
    assert ws["A1"].value == "Note" and "expense import not run" in ws["A2"].value


def test_imported_expenses_are_listed_typed_for_the_period(engine, tmp_path):
    from tlsync.expenses import DOMAIN

    scenario.build(engine)
    ledger = Ledger(engine, run_id="expense-import")
    for key, day in (("10001:20001:1", "2026-01-20"), ("10001:20002:1", "2026-04-02")):
        ledger.claim(DOMAIN, scenario.LE, key)
        ledger.complete(DOMAIN, scenario.LE, key, target_key="77", written={"x": key})
        ledger.transition(DOMAIN, scenario.LE, key, "done", action="details", details={
            "posting": {"date": day, "account": "2750", "amount": "1000.00", "vat": "250.00",
                        "amount_incl_vat": "1250.00", "text": "=cmd|' /C calc'!A0"},
            "currency": "DKK", "exchange_rate": "100.123456", "expense_type_name": "Hotel"})
    recon = reconcile(engine, scenario.LE, date(2026, 1, 1), date(2026, 2, 28), company_id=scenario.COMPANY)
    assert [e["posting_key"] for e in recon.expenses] == ["10001:20001:1"], "only the period's postings"
    rows = records(load_workbook(write_report(recon, tmp_path / "r", "en", pdf=False).xlsx)["Expenses imported"])
    assert len(rows) == 1
    assert rows[0]["Amount incl. VAT"] == 1250 and isinstance(rows[0]["Date"], datetime)
    assert rows[0]["Exchange rate"] == pytest.approx(100.123456), "a rate keeps its decimals"
    assert rows[0]["Text"] == "'=cmd|' /C calc'!A0"


def test_html_escapes_user_text_and_is_self_contained(files):
    recon, f = files
    html = f.html.read_text(encoding="utf-8")
    assert "<script>alert('x')</script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; ApS" in html
    assert not re.search(r"""<(script|link|img)[^>]+(src|href)=["']?https?:""", html), "nothing loaded from the net"
    assert html.index('id="summary"') < html.index('id="plots"') < html.index('id="matched"')
    assert html.count('class="plotly-graph-div"') == 1, "two months: no trend plots, the ageing only"


@pytest.fixture
def sqlite_files(tmp_path):
    """The page does not depend on the database kind: render it once, from a SQLite staging file."""
    from tlsync.staging.engine import create_staging_engine
    from tlsync.staging.migrate import upgrade

    engine = create_staging_engine(f"sqlite:///{tmp_path / 'staging.db'}")
    upgrade(engine)
    scenario.build(engine)
    recon = reconcile(engine, scenario.LE, date(2026, 1, 1), date(2026, 2, 28), company_id=scenario.COMPANY,
                      as_of=date(2026, 3, 1))
    yield recon, write_report(recon, tmp_path / "report", "en")
    engine.dispose()


def test_html_opens_in_headless_chromium_without_console_errors(sqlite_files):
    if CHROMIUM is None:
        if os.environ.get("TLSYNC_REQUIRE_CHROMIUM"):              # set by .ci/run, which installs it
            pytest.fail("Chromium is required here (TLSYNC_REQUIRE_CHROMIUM) but not installed")
        pytest.skip("needs Chromium (apt-get install chromium); .ci/run installs it")
    recon, f = sqlite_files
    shot = artefacts() / "reconciliation-report.png"
    shot.unlink(missing_ok=True)
    base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--virtual-time-budget=4000", "--window-size=1400,2600", f"--user-data-dir={f.folder / 'chrome'}"]
    url = f.html.as_uri()
    run = subprocess.run([*base, "--enable-logging=stderr", "--v=0", f"--screenshot={shot}", url],
                         capture_output=True, text=True, timeout=180)
    console = [ln for ln in run.stderr.splitlines() if ":CONSOLE" in ln]
    assert console == [], "\n".join(console)
    assert shot.exists() and shot.stat().st_size > 20_000, run.stderr[-2000:]
    dom = subprocess.run([*base, "--dump-dom", url], capture_output=True, text=True, timeout=180).stdout
    assert 'data-report-ready="yes"' in dom, "the table script ran to its end"
    assert dom.count('class="main-svg"') >= 1, "plotly drew the ageing plot"
    shutil.copy(f.html, artefacts() / f.html.name)


def test_headline_names_totals_counts_and_paths(files):
    recon, f = files
    text = format_headline(recon, f)
    assert "TimeLog booked" in text and "7,250.00 DKK" in text and "7,650.00 DKK" in text and "-400.00 DKK" in text
    assert "Matched 2" in text and "10 open, 1 weaker match(es)" in text
    assert str(f.html) in text and str(f.xlsx) in text
