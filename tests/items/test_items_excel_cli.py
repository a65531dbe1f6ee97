"""The item-number review as an Excel round trip and the ``python -m tlsync.items`` CLI (rule U2), against the
simulators: export → decide → import; a file with any bad row is refused as a whole with one line per problem and
nothing applied; formula injection is neutralised. The database part is the same code as in ``test_products.py``
(run there on SQLite and PostgreSQL), so these run on SQLite only to keep the suite fast."""

from __future__ import annotations

import json

import pytest
from openpyxl import load_workbook

from tlsync.excel import neutralise
from tlsync.items.cli import main
from tlsync.items.excel import COLUMNS, DecisionFileError, export_items, read_decisions
from tlsync.items.products import ItemNumbers, ItemStatus


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite:///{tmp_path / 'staging.db'}"


def numbers(world) -> ItemNumbers:
    return ItemNumbers(world.engine, world.le, world.rest, run_id="test")


def decide(path, decisions: dict[str, str], extra_rows: list[list] = ()) -> None:
    wb = load_workbook(path)
    ws = wb.active
    for row in ws.iter_rows(min_row=2):
        if row[0].value in decisions:
            row[5].value = decisions[row[0].value]
    for r in extra_rows:
        ws.append(r)
    wb.save(path)


def test_export_is_a_usable_review_sheet(world, tmp_path):
    path = export_items(numbers(world).status(), tmp_path / "items.xlsx")
    wb = load_workbook(path)
    ws = wb.active
    assert [c.value for c in ws[1]] == list(COLUMNS)
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref.startswith("A1:F")
    assert any('"activate,deactivate,keep"' == dv.formula1 for dv in ws.data_validations.dataValidation)
    rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows["HW-100"][2] == "not imported" and rows["HW-100"][5] == "keep"
    assert rows["KONS-SR"][3] == 1 and isinstance(rows["KONS-SR"][3], int)          # typed cell
    assert "RABAT" not in rows                                                     # blocked: not offered


def test_formula_injection_is_neutralised_and_read_back(tmp_path, world):
    assert neutralise("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")" and neutralise("-5") == "'-5"
    assert neutralise("KONS-SR") == "KONS-SR"
    path = export_items([ItemStatus("=CMD", "@evil", False, None, None, None)], tmp_path / "evil.xlsx")
    ws = load_workbook(path).active
    assert ws["A2"].value == "'=CMD" and ws["B2"].value == "'@evil" and ws["A2"].data_type == "s"


def test_round_trip_applies_the_decisions(world, tmp_path):
    path = export_items(numbers(world).status(), tmp_path / "items.xlsx")
    decide(path, {"HW-100": "activate", "GEBYR": "Activate ", "KONS-JR": "deactivate"})
    n = numbers(world)
    d = read_decisions(path, n)
    assert (sorted(d.activate), d.deactivate) == (["GEBYR", "HW-100"], ["KONS-JR"])
    assert n.apply(n.plan_activate(d.activate) + n.plan_deactivate(d.deactivate)).ok
    p = world.products()
    assert p["HW-100"]["IsActive"] and p["GEBYR"]["IsActive"] and not p["KONS-JR"]["IsActive"]


def test_a_bad_file_is_refused_as_a_whole_with_one_line_per_problem(world, tmp_path):
    path = export_items(numbers(world).status(), tmp_path / "items.xlsx")
    decide(path, {"HW-100": "activate", "GEBYR": "maybe", "KURSUS": None},
           extra_rows=[["NOPE", None, None, None, None, "activate"],
                       ["RABAT", None, None, None, None, "activate"],
                       ["HW-100", None, None, None, None, "keep"],
                       ["=A2", None, None, None, None, "keep"],
                       [None, "no number", None, None, None, "keep"]])
    before = world.rest_calls()
    with pytest.raises(DecisionFileError) as exc:
        read_decisions(path, numbers(world))
    problems = exc.value.problems
    assert len(problems) == 7, problems
    assert "item 'GEBYR': the decision is 'maybe'; choose activate, deactivate or keep" in " ".join(problems)
    assert any("item 'KURSUS': the decision is empty" in p for p in problems)
    assert any(p.endswith("item 'NOPE' does not exist in Uniconta company 10001 (rule U2)") for p in problems)
    assert any("item 'RABAT' is blocked" in p for p in problems)
    assert any("item 'HW-100' is listed twice (also in row" in p for p in problems)
    assert any("the item number is a formula" in p for p in problems)
    assert any("the item number is empty" in p for p in problems)
    assert all(p.startswith("row ") for p in problems)
    assert world.rest_calls() - before <= 1 and "HW-100" not in world.products()   # at most the read: nothing applied


def test_a_file_without_the_header_is_refused(world, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["Item", "Something"])
    wb.save(tmp_path / "wrong.xlsx")
    with pytest.raises(DecisionFileError, match="row 1: the header must contain 'Item number' and 'Decision'"):
        read_decisions(tmp_path / "wrong.xlsx", numbers(world))


@pytest.fixture
def cli_env(world, monkeypatch, tmp_path, db_url):
    settings = tmp_path / "integration.yaml"
    settings.write_text("version: 1\nlegal_entities:\n  1:\n    uniconta_company_id: 10001\n"
                        "  2:\n    uniconta_company_id: 10002\n", encoding="utf-8")
    monkeypatch.setenv("TLSYNC_SETTINGS", str(settings))
    monkeypatch.setenv("TLSYNC_STAGING_URL", db_url)
    monkeypatch.setenv("AIRFLOW_CONN_TIMELOG_DEFAULT", json.dumps(
        {"host": f"{world.tl}/tlsim", "extra": {"rest_token": "sim-pat-token"}}))
    return world


def test_cli_list_activate_import_and_sync(cli_env, tmp_path, capsys):
    world = cli_env
    assert main(["list"]) == 2                                       # two legal entities: which one?
    assert "choose one with --legal-entity N" in capsys.readouterr().err

    assert main(["--legal-entity", "1", "list"]) == 0
    out = capsys.readouterr().out
    assert "HW-100" in out and "not imported" in out and "RABAT" not in out
    assert "warning: item 'REJSE' is used for several expense types" in out       # rule I3

    assert main(["--legal-entity", "1", "activate", "HW-100", "--dry-run"]) == 0
    assert "would create and activate product number HW-100" in capsys.readouterr().out
    assert "HW-100" not in world.products()
    assert main(["--legal-entity", "1", "activate", "HW-100", "NOPE"]) == 1
    assert "item 'NOPE' does not exist" in capsys.readouterr().out and "HW-100" not in world.products()
    assert main(["--legal-entity", "1", "activate", "HW-100"]) == 0
    assert world.products()["HW-100"]["IsActive"] is True
    capsys.readouterr()

    sheet = tmp_path / "review.xlsx"
    assert main(["--legal-entity", "1", "export", "--out", str(sheet)]) == 0
    decide(sheet, {"HW-100": "deactivate", "GEBYR": "bogus"})
    assert main(["--legal-entity", "1", "import-decisions", str(sheet)]) == 1
    out = capsys.readouterr().out
    assert "refused, nothing applied" in out and "item 'GEBYR': the decision is 'bogus'" in out
    assert world.products()["HW-100"]["IsActive"] is True
    decide(sheet, {"GEBYR": "keep"})
    assert main(["--legal-entity", "1", "import-decisions", str(sheet), "--dry-run"]) == 0
    assert "would deactivate product number HW-100" in capsys.readouterr().out
    assert main(["--legal-entity", "1", "import-decisions", str(sheet)]) == 0
    assert world.products()["HW-100"]["IsActive"] is False
    capsys.readouterr()

    assert main(["--legal-entity", "1", "sync"]) == 0
    assert "nothing to write" in capsys.readouterr().out


def test_cli_without_staged_items_or_connection_says_what_to_do(cli_env, monkeypatch, capsys):
    assert main(["--legal-entity", "2", "list"]) == 2                # company 10002 not staged in this test
    assert "no Uniconta items are staged for company 10002; run the nightly sync first" in capsys.readouterr().err
    monkeypatch.delenv("AIRFLOW_CONN_TIMELOG_DEFAULT")
    monkeypatch.setenv("AIRFLOW_CONN_NOWHERE", json.dumps({"host": "http://x", "extra": {}}))
    assert main(["--legal-entity", "1", "--timelog-conn", "nowhere", "list"]) == 2
    assert "REST API personal access token" in capsys.readouterr().err
