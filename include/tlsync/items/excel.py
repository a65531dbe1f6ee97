"""Excel round trip of the item-number review (rule U2): export the Uniconta items with their TimeLog state and a
*Decision* column, let the administrator fill it in, import the decisions.

The import refuses the whole file — one line per problem, naming the row — and applies nothing when any row is
bad: a row with an unknown or blocked item, an item listed twice, a decision other than activate / deactivate /
keep, a formula instead of a value, or a missing header. Text is neutralised against formula injection and restored
on import (:func:`tlsync.excel.neutralise` / :func:`~tlsync.excel.restore`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook

from tlsync.excel import (
    TEXT_FORMAT,
    DecisionChecks,
    DecisionFileError,
    choice_list,
    column_formats,
    decision_rows,
    freeze_and_filter,
    neutralise,
    save,
    write_header,
)

from .products import ItemNumbers, ItemStatus

SHEET = "Item numbers"
COLUMNS = ("Item number", "Name in Uniconta", "TimeLog state", "TimeLog product ID", "TimeLog name", "Decision")
DECISIONS = ("activate", "deactivate", "keep")
WIDTHS = (18, 42, 16, 20, 42, 14)


def export_items(rows: list[ItemStatus], path: Path) -> Path:
    """Write the review sheet: frozen header, filters, typed cells, a validated *Decision* column (``keep``)."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    write_header(ws, COLUMNS, WIDTHS)
    for r in rows:
        ws.append([neutralise(r.item), neutralise(r.name), r.state, r.product_id, neutralise(r.product_name), "keep"])
    column_formats(ws, {1: TEXT_FORMAT})                # item numbers are text, even "1000"
    last = max(ws.max_row, 2)
    freeze_and_filter(ws, len(COLUMNS), last)
    choice_list(ws, len(COLUMNS), DECISIONS, last_row=max(last, 1000), allow_blank=False, title="Decision",
                error="Choose activate, deactivate or keep")
    return save(wb, path)


@dataclass(frozen=True)
class Decisions:
    activate: list[str]
    deactivate: list[str]
    keep: int


def read_decisions(path: Path, numbers: ItemNumbers) -> Decisions:
    """Read and check every row against the staged Uniconta items; :class:`DecisionFileError` if any is bad."""
    path = Path(path)
    check = DecisionChecks(key=COLUMNS[0], key_label="item number", choices=DECISIONS, name=lambda k: f"item {k!r}",
                           formula_label={COLUMNS[0]: "the item number", COLUMNS[-1]: "the decision"}.__getitem__)
    activate: list[str] = []
    deactivate: list[str] = []
    keep = 0
    with decision_rows(path, SHEET) as (header, rows):
        try:
            col_item, col_decision = header.index(COLUMNS[0]), header.index(COLUMNS[-1])
        except ValueError:
            raise DecisionFileError(path, [f"row 1: the header must contain {COLUMNS[0]!r} and {COLUMNS[-1]!r} "
                                           f"(found: {', '.join(h for h in header if h) or 'nothing'})"]) from None
        for n, cells in rows:
            checked = check.row(n, {COLUMNS[0]: cells[col_item], COLUMNS[-1]: cells[col_decision]})
            if checked is None:
                continue
            item, decision = checked
            if decision == "keep":
                keep += 1
                continue
            why = numbers.refusal(item, decision)
            if why:
                check.problems.append(f"row {n}: {why}")
                continue
            (activate if decision == "activate" else deactivate).append(item)
    if check.problems:
        raise DecisionFileError(path, check.problems)
    return Decisions(activate, deactivate, keep)
