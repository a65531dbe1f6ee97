"""The Excel round trip (rule L5): export the views, decide in Excel, import — 200+ rows; a file with errors is
refused as a whole with one line per problem; names survive unchanged and never run as formulas."""

from __future__ import annotations

import pytest
from conftest import COMPANY, HOSTILE, LE, confirmed_settings, customer, debtor, stage, twins
from openpyxl import load_workbook
from sqlalchemy import func, select

from tlsync.ledger import Ledger
from tlsync.linking import (
    DecisionFileError,
    Linker,
    export_views,
    neutralise,
    read_decisions,
    restore,
    view_counts,
)
from tlsync.matching.refresh import refresh_suggestions
from tlsync.staging.tables import customer_links, ledger_events

FORMULAS = ["=1+1", "+45 12 34", "-5", "@SUM(A1)", "'quoted", "''=x", "'=x", "\t=x", "plain", "", "€=5", "a=b"]


@pytest.mark.parametrize("text", FORMULAS + [HOSTILE])
def test_neutralise_is_exactly_undone_and_never_leaves_a_formula(text):
    out = neutralise(text)
    assert not out.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert restore(out) == text


def test_a_control_character_cannot_break_the_export():
    assert neutralise("Bell\x07 A/S") == "Bell\ufffd A/S"
    assert neutralise("=\x00") == "'=\ufffd"


def world(engine, n: int = 210):
    customers, debtors = twins(n)
    customers.append(customer(9001, HOSTILE, "9001", Phone="+4570707070"))
    debtors += [debtor("30001", HOSTILE, Phone="+4570707070"), debtor("30002", "=HYPERLINK(\"http://x\")"),
                debtor("30003", "Ingen Match K/S", City="Skagen")]
    stage(engine, customers, debtors)
    refresh_suggestions(engine, [COMPANY])


def fill(path, decide) -> None:
    """Open the exported file as a person would, fill in the decision column via ``decide(sheet, row) -> value``."""
    wb = load_workbook(path)
    for ws in wb.worksheets[1:]:
        header = [c.value for c in ws[1]]
        col = header.index("decision") + 1
        for r in range(2, ws.max_row + 1):
            row = {h: ws.cell(r, i + 1).value for i, h in enumerate(header)}
            value = decide(ws.title, row)
            if value is not None:
                ws.cell(r, col).value = value
    wb.save(path)


def test_round_trip_of_more_than_200_rows_links_and_ignores(engine, tmp_path):
    world(engine)
    path = tmp_path / "review.xlsx"
    counts = export_views(engine, LE, COMPANY, path)
    assert counts["one"] >= 210 and counts["none"] >= 1

    wb = load_workbook(path)
    assert wb.sheetnames == ["About", "One suggestion", "Several", "No suggestion", "Ignored"]
    one = wb["One suggestion"]
    assert one.freeze_panes == "A2" and one.auto_filter.ref.startswith("A1:")
    validations = one.data_validations.dataValidation
    assert validations and "link-timelog" in validations[0].formula1 and "O2" in str(validations[0].sqref)
    header = [c.value for c in one[1]]
    score_col = header.index("score") + 1
    assert all(isinstance(one.cell(r, score_col).value, int) for r in range(2, 12)), "typed cells"
    names = {ws.cell(r, 4).value for ws in wb.worksheets[1:] for r in range(2, ws.max_row + 1)}
    assert neutralise('=HYPERLINK("http://x")') in names, "formula injection neutralised"
    assert {restore(n) for n in names} >= {HOSTILE, '=HYPERLINK("http://x")'}, "names come back unchanged"

    fill(path, lambda sheet, row: "link-timelog" if sheet == "One suggestion"
         else "ignore" if sheet == "No suggestion" else None)
    found = read_decisions(engine, path, LE, COMPANY)
    assert found.problems == []
    assert len(found.decisions) == counts["one"] + counts["none"]
    # equal data on both sides: linking writes nothing, so no API connection is needed (targets=None)
    Linker(engine, LE, COMPANY).apply_all(found.decisions)
    after = view_counts(engine, COMPANY)
    assert after["linked"] == counts["one"] and after["one"] == 0 and after["none"] == 0
    assert after["ignored"] == counts["none"]
    events = Ledger(engine).events("customer_link", LE, "30002")
    assert events[-1]["action"] == "ignore"


def test_a_file_with_errors_is_refused_whole_with_one_line_per_problem(engine, tmp_path):
    world(engine, n=20)
    Linker(engine, LE, COMPANY).link("20003", "3", wins="timelog")        # linked before the export
    refresh_suggestions(engine, [COMPANY])
    path = tmp_path / "review.xlsx"
    export_views(engine, LE, COMPANY, path)
    Linker(engine, LE, COMPANY).link("20004", "4", wins="timelog")        # linked after the export
    refresh_suggestions(engine, [COMPANY])

    def decide(sheet, row):
        account = row["debtor account"]
        return {"20001": "link-timelog", "20002": "merge", "20004": "ignore", "20005": "link-uniconta",
                "20006": "import", "30003": "link-timelog"}.get(account)

    fill(path, decide)
    wb = load_workbook(path)
    one = wb["One suggestion"]
    header = [c.value for c in one[1]]
    r = next(i for i in range(2, one.max_row + 1) if one.cell(i, 3).value == "20001")
    one.cell(r + 0, header.index("decision") + 1).value = "link-timelog"
    one.append(["nope#1", "one", "nope"] + [None] * 11 + ["ignore"])                     # unknown id
    r5 = next(i for i in range(2, one.max_row + 1) if one.cell(i, 3).value == "20005")
    one.cell(r5, header.index("customer id") + 1).value = "3"                           # customer linked already
    dup = [one.cell(r, i + 1).value for i in range(len(header))]
    dup[header.index("decision")] = "ignore"
    one.append(dup)                                                                      # 2nd decision, 20001
    none = wb["No suggestion"]
    r3 = next(i for i in range(2, none.max_row + 1) if none.cell(i, 3).value == "30003")
    none.cell(r3, header.index("customer id") + 1).value = "424242"                     # unknown customer
    wb.save(path)

    with engine.connect() as conn:
        links_before = conn.execute(select(func.count()).select_from(customer_links)).scalar_one()
        events_before = conn.execute(select(func.count()).select_from(ledger_events)).scalar_one()
    found = read_decisions(engine, path, LE, COMPANY)
    text = "\n".join(found.problems)
    assert len(found.problems) == 6, text
    assert "unknown decision 'merge'" in text
    assert "unknown id 'nope#1'" in text
    assert "second decision for debtor 20001" in text
    assert "debtor 20004 has been linked to customer 4 since the export" in text
    assert "TimeLog customer 3 is already linked to debtor 20003" in text
    assert "unknown TimeLog customer id '424242'" in text
    assert all(line.startswith(("One suggestion row ", "No suggestion row ")) for line in found.problems)

    from tlsync.linking.cli import main

    settings = tmp_path / "settings.yaml"
    from tlsync.settings import save

    save(confirmed_settings(), settings)
    url = engine.url.render_as_string(hide_password=False)
    assert main(["--db", url, "--settings", str(settings), "import-decisions", str(path), "--legal-entity", "1"]) == 1
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(customer_links)).scalar_one() == links_before
        assert conn.execute(select(func.count()).select_from(ledger_events)).scalar_one() == events_before, \
            "nothing applied"
    with pytest.raises(DecisionFileError, match=r"refused, nothing applied \(6 problem"):
        raise DecisionFileError(str(path), found.problems)


def test_in_several_the_row_chosen_names_the_customer(engine, tmp_path):
    from tlsync.linking import Decision

    stage(engine, [customer(9002, "Eriksen Vin ApS", "601", Phone="33431918"),
                   customer(9003, "Eriksen Vine A/S", "602", Phone="33431918")],
          [debtor("30004", "Eriksen Vin", Phone="33 43 19 18"), debtor("30005", "Ingen Match K/S")])
    refresh_suggestions(engine, [COMPANY])
    path = tmp_path / "review.xlsx"
    assert export_views(engine, LE, COMPANY, path)["several"] == 2
    fill(path, lambda sheet, row: "link-uniconta" if sheet == "Several" and row["customer id"] == "9003"
         else "link-timelog" if sheet == "No suggestion" else None)
    wb = load_workbook(path)
    none = wb["No suggestion"]
    none.cell(2, 9).value = 9002                      # typed as a number by the person: still customer "9002"
    wb.save(path)
    found = read_decisions(engine, path, LE, COMPANY)
    assert found.problems == []
    assert found.decisions == [Decision("link-uniconta", "30004", "9003"), Decision("link-timelog", "30005", "9002")]
