"""The expense review as an Excel round trip and the ``python -m tlsync.expenses`` CLI (rule U4), against the
simulators: import → review → export → decide → import-decisions; a file with any bad row is refused as a whole
with one line per problem and nothing applied; formula injection is neutralised. The database side is the same
code as in ``test_import.py`` (run there on SQLite and PostgreSQL), so these run on SQLite only."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pytest
from expense_world import gl
from openpyxl import load_workbook

from tlsync.expenses.cli import main
from tlsync.expenses.excel import COLUMNS
from tlsync.expenses.report import imported_expenses, waiting
from tlsync.settings.models import IntegrationSettings
from tlsync.settings.store import dumps_yaml


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite:///{tmp_path / 'staging.db'}"


@pytest.fixture
def cli(world, tmp_path, monkeypatch, capsys):
    settings = tmp_path / "integration.yaml"
    settings.write_text(dumps_yaml(IntegrationSettings(legal_entities={1: world.le})), encoding="utf-8")
    monkeypatch.setenv("AIRFLOW_CONN_TIMELOG_DEFAULT", json.dumps(
        {"conn_type": "timelog", "host": f"{world.tl}/tlsim", "extra": {"rest_token": "sim-pat-token"}}))
    url = world.engine.url.render_as_string(hide_password=False)

    def call(*args: str) -> tuple[int, str]:
        capsys.readouterr()
        code = main(["--file", str(settings), "--staging-url", url, *args])
        out = capsys.readouterr()
        return code, out.out + out.err

    return call


COL = {name: i for i, name in enumerate(COLUMNS)}


def decide(path, decisions: dict[str, dict], extra_rows: list[list] = ()) -> None:
    wb = load_workbook(path)
    ws = wb.active
    for row in ws.iter_rows(min_row=2):
        for name, value in decisions.get(row[0].value, {}).items():
            row[COL[name]].value = value
    for r in extra_rows:
        ws.append(r)
    wb.save(path)


def states(world) -> dict[str, str]:
    return {r["posting_key"]: r["state"] for r in imported_expenses(world.engine, 1)}


def test_cli_import_dry_run_review_and_list(world, cli):
    code, out = cli("import", "--dry-run")
    assert code == 0 and "would import posting 10001:1" in out
    assert out.strip().endswith("legal entity 1 (company 10001): 3 imported, 5 waiting for review, 2 ignored, "
                                "0 unchanged, 0 failed (dry run: nothing written)")
    assert world.expenses() == [] and states(world) == {}
    code, out = cli("import")
    assert code == 0 and "→ TimeLog expense 1" in out and "3 imported, 5 waiting for review, 2 ignored" in out
    code, out = cli("review")
    assert code == 0 and "5 posting(s) waiting for review" in out
    assert "several TimeLog expense types carry account number 2250 (Taxi [4], Parkering [9])" in out
    code, out = cli("list", "--state", "done")
    assert code == 0 and "3 posting(s)" in out and "1,250.00" in out
    code, out = cli("import")
    assert code == 0 and "0 imported, 5 waiting for review, 0 ignored, 5 unchanged, 0 failed" in out
    assert len(world.expenses()) == 3


def test_export_decide_and_import_the_decisions(world, cli, tmp_path):
    cli("import")
    path = tmp_path / "review.xlsx"
    code, out = cli("export", "--out", str(path))
    assert code == 0 and "5 posting(s) waiting" in out
    ws = load_workbook(path).active
    assert [c.value for c in ws[1]] == list(COLUMNS)
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref.startswith("A1:P")
    assert any(dv.formula1 == '"import,ignore,wait"' for dv in ws.data_validations.dataValidation)
    rows = {r[0].value: r for r in ws.iter_rows(min_row=2)}
    assert set(rows) == {"10001:2", "10001:3", "10001:4", "10001:5", "10001:6"}
    two = rows["10001:2"]
    assert isinstance(two[COL["Date"]].value, datetime) and two[COL["Date"]].value.date().isoformat() == "2026-03-03"
    assert two[COL["Amount incl. VAT"]].value == 250 and two[COL["Amount incl. VAT"]].number_format == "#,##0.00"
    assert two[COL["TimeLog project number"]].value == "P-101"          # prefilled: the import knew it
    assert rows["10001:4"][COL["Expense type ID"]].value == 1 and two[COL["Decision"]].value == "wait"

    decide(path, {"10001:2": {"Expense type ID": 4, "Decision": "import"},
                  "10001:3": {"Expense type ID": "6", "Decision": "Import "},
                  "10001:4": {"Decision": "ignore"},
                  "10001:6": {"Expense type ID": 1, "TimeLog project number": "P-101", "Decision": "import"}})
    code, out = cli("import-decisions", str(path), "--dry-run")
    assert code == 0 and "would import posting 10001:2" in out and "would ignore: posting 10001:4" in out
    assert "(dry run: nothing written)" in out and len(world.expenses()) == 3 and len(waiting(world.engine)) == 5

    code, out = cli("import-decisions", str(path))
    assert code == 0, out
    assert "5 row(s) read, 1 left waiting" in out and "3 imported, 0 waiting for review, 1 ignored" in out
    tl = {e["ExternalID"]: e for e in world.expenses()}
    assert (tl["10001:2"]["ExpenseTypeID"], tl["10001:2"]["ProjectID"]) == (4, 101)
    assert (tl["10001:3"]["ExpenseTypeID"], tl["10001:3"]["ProjectID"]) == (6, 102)
    assert (tl["10001:6"]["ExpenseTypeID"], tl["10001:6"]["ProjectID"]) == (1, 101)
    assert Decimal(str(tl["10001:3"]["Amount"])) == Decimal("1125.00")
    s = states(world)
    assert (s["10001:4"], s["10001:5"], s["10001:6"]) == ("ignored", "review", "done")
    ignored = next(r for r in imported_expenses(world.engine, 1) if r["posting_key"] == "10001:4")
    assert "ignored by" in ignored["reason"] and "in the review (rule U4)" in ignored["reason"]

    code, out = cli("import")                                            # decided postings are done: nothing new
    assert code == 0 and "0 imported, 1 waiting for review" in out and len(world.expenses()) == 6
    code, out = cli("import-decisions", str(path))                      # the same file again: refused
    assert code == 1 and "row 2: posting 10001:2 is not waiting for review" in out


def test_a_file_with_any_bad_row_is_refused_whole(world, cli, tmp_path):
    cli("import")
    path = tmp_path / "review.xlsx"
    cli("export", "--out", str(path))
    before_states, before_tl = states(world), len(world.expenses())
    decide(path, {"10001:2": {"Decision": "maybe"},
                  "10001:3": {"Expense type ID": 8, "TimeLog project number": "P-201", "Decision": "import"},
                  "10001:5": {"Expense type ID": None, "Decision": "import"},
                  "10001:6": {"Decision": "=IF(1,\"import\")", "Expense type ID": 1}},
           extra_rows=[["10001:99"] + [None] * 14 + ["ignore"], ["10001:4"] + [None] * 14 + ["ignore"]])
    code, out = cli("import-decisions", str(path))
    assert code == 1
    lines = out.strip().splitlines()
    assert lines[0].endswith("refused, nothing applied (8 problem(s))")
    assert lines[1:] == [
        "row 2: posting 10001:2: the decision is 'maybe'; choose import, ignore or wait",
        "row 3: posting 10001:3: expense type 8 is not an active TimeLog expense type of legal entity 1 (rule U4)",
        "row 3: posting 10001:3: TimeLog project 'P-201' belongs to legal entity 2, not to legal entity 1 (rule U4)",
        "row 5: posting 10001:5: the expense type ID is empty; an import needs one (rule U4)",
        "row 5: posting 10001:5: the TimeLog project number is empty; an import needs one (rule U4)",
        "row 6: Decision is a formula (=IF(1,\"import\")); type the value itself",
        "row 7: posting 10001:99 is not waiting for review (unknown, already imported or ignored); export the list "
        "again (rule U4)",
        "row 8: posting 10001:4 is listed twice (also in row 4)",
    ]
    assert states(world) == before_states and len(world.expenses()) == before_tl


def test_formula_injection_is_neutralised(world, cli, tmp_path):
    world.add_postings(gl(14, "2026-03-21", "2220", "80.00", "20.00", "", invoice=130,
                          JournalPostedComment="=HYPERLINK(\"http://evil\",\"klik\")", DCName="@Evil ApS"))
    cli("import")
    path = tmp_path / "review.xlsx"
    cli("export", "--out", str(path))
    row = next(r for r in load_workbook(path).active.iter_rows(min_row=2) if r[0].value == "10001:14")
    assert row[COL["Text"]].value == "'=HYPERLINK(\"http://evil\",\"klik\")" and row[COL["Text"]].data_type == "s"
    assert row[COL["Creditor"]].value == "50001 @Evil ApS"


def test_setup_errors_exit_2(world, cli, tmp_path, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_TIMELOG_DEFAULT")
    code, out = cli("import")
    assert code == 2 and "AIRFLOW_CONN_TIMELOG_DEFAULT" in out
    settings = tmp_path / "none.yaml"
    settings.write_text(dumps_yaml(IntegrationSettings(legal_entities={
        1: world.le.model_copy(update={"expense_gl_accounts": []})})), encoding="utf-8")
    assert main(["--file", str(settings), "import"]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["--file", str(settings)])
    assert exc.value.code == 2
