"""``tlsync.excel``: formula injection neutralised and exactly undone; header, typed columns, filter, drop-down;
a decision file that is no workbook is refused with one line."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from tlsync.excel import (
    MONEY_FORMAT,
    TEXT_FORMAT,
    DecisionChecks,
    DecisionFileError,
    choice_list,
    column_formats,
    decision_rows,
    freeze_and_filter,
    neutralise,
    restore,
    save,
    write_header,
)

HOSTILE = ['=HYPERLINK("http://x")', "+45 1234", "-5", "@SUM(A1)", "\tTab", "\rCR", "'=already quoted", "'", "''"]


@pytest.mark.parametrize("text", HOSTILE + ["Nordlys A/S", "", "KONS-SR", "a'b"])
def test_neutralise_is_undone_exactly_and_never_leaves_a_formula(text):
    out = neutralise(text)
    assert restore(out) == text
    assert not out.startswith(("=", "+", "-", "@", "\t", "\r")), out


def test_only_text_is_touched_and_illegal_characters_are_replaced():
    assert neutralise(Decimal("-5")) == Decimal("-5") and neutralise(-5) == -5 and neutralise(None) is None
    assert neutralise(date(2026, 1, 2)) == date(2026, 1, 2)
    assert neutralise("Bell\x07 A/S") == "Bell\ufffd A/S"
    assert restore("'plain") == "'plain"                 # only a quote that neutralise added is taken off


def test_sheet_helpers_and_the_round_trip_of_a_decision_file(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "Review"
    write_header(ws, ["Item", "Amount", "Decision"], [18, 14, 12])
    for row in (["1000", Decimal("12.50"), "keep"], [neutralise("=cmd"), Decimal("-3.00"), None], [None, None, None],
                ["B", Decimal(0), "drop"]):
        ws.append(row)
    column_formats(ws, {1: TEXT_FORMAT, 2: MONEY_FORMAT})
    freeze_and_filter(ws, 3, ws.max_row)
    choice_list(ws, 3, ("keep", "drop"), last_row=1000, allow_blank=False, title="Decision", error="keep or drop")
    path = save(wb, tmp_path / "new" / "review.xlsx")

    back = load_workbook(path)["Review"]
    assert [c.value for c in back[1]] == ["Item", "Amount", "Decision"] and back["A1"].font.b
    assert back.column_dimensions["A"].width == 18 and back.freeze_panes == "A2"
    assert back.auto_filter.ref == "A1:C5"
    assert back["A2"].number_format == TEXT_FORMAT and back["B3"].number_format == MONEY_FORMAT
    (dv,) = back.data_validations.dataValidation
    assert dv.formula1 == '"keep,drop"' and str(dv.sqref) == "C2:C1000" and dv.showErrorMessage

    with decision_rows(path, "Review") as (header, rows):
        got = [(n, [restore(c) for c in cells]) for n, cells in rows]
    assert header == ["Item", "Amount", "Decision"]
    assert [n for n, _ in got] == [2, 3, 5]               # the blank row 4 is skipped, numbers stay the sheet's
    assert got[1][1][0] == "=cmd"


def test_a_file_that_is_no_workbook_is_refused_with_one_line(tmp_path):
    bad = tmp_path / "notes.xlsx"
    bad.write_text("not a workbook", encoding="utf-8")
    with pytest.raises(DecisionFileError) as exc:
        with decision_rows(bad, "Review"):
            pass
    assert exc.value.problems == ["cannot read the file as an Excel workbook: BadZipFile"]
    assert str(exc.value).startswith(f"{bad}: refused, nothing applied (1 problem(s))")


def test_decision_checks_give_one_line_per_bad_row_and_the_key_as_written():
    check = DecisionChecks(key="Key", key_label="key", choices=("take", "leave", "wait"), name=lambda k: f"key {k!r}")
    rows = {2: {"Key": neutralise("=A1"), "Decision": " Take "}, 3: {"Key": "B", "Decision": "=IF(1,\"take\")"},
            4: {"Key": None, "Decision": "take"}, 5: {"Key": "=A1", "Decision": "wait"},
            6: {"Key": "'=A1", "Decision": "leave"}, 7: {"Key": "C", "Decision": "maybe"},
            8: {"Key": "D", "Decision": None}}
    got = {n: check.row(n, cells) for n, cells in rows.items()}
    assert got == {2: ("=A1", "take"), 3: None, 4: None, 5: None, 6: None, 7: None, 8: None}
    assert check.problems == [
        'row 3: Decision is a formula (=IF(1,"take")); type the value itself',
        "row 4: the key is empty",
        "row 5: Key is a formula (=A1); type the value itself",
        "row 6: key '=A1' is listed twice (also in row 2)",
        "row 7: key 'C': the decision is 'maybe'; choose take, leave or wait",
        "row 8: key 'D': the decision is empty; choose take, leave or wait"]
