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
    problems: list[str] = []
    activate: list[str] = []
    deactivate: list[str] = []
    keep = 0
    seen: dict[str, int] = {}
    with decision_rows(path, SHEET) as (header, rows):
        try:
            col_item, col_decision = header.index(COLUMNS[0]), header.index(COLUMNS[-1])
        except ValueError:
            raise DecisionFileError(path, [f"row 1: the header must contain {COLUMNS[0]!r} and {COLUMNS[-1]!r} "
                                           f"(found: {', '.join(h for h in header if h) or 'nothing'})"]) from None
        for n, cells in rows:
            raw_item, raw_decision = cells[col_item], cells[col_decision]
            bad = False
            for what, raw in (("item number", raw_item), ("decision", raw_decision)):
                if isinstance(raw, str) and raw.startswith("="):
                    problems.append(f"row {n}: the {what} is a formula ({raw[:40]}); type the value itself")
                    bad = True
            if bad:
                continue
            item = restore(str(raw_item).strip()) if raw_item is not None else ""
            decision = str(raw_decision).strip().lower() if raw_decision is not None else ""
            if not item:
                problems.append(f"row {n}: the item number is empty")
                continue
            if item in seen:
                problems.append(f"row {n}: item {item!r} is listed twice (also in row {seen[item]})")
                continue
            seen[item] = n
            if decision not in DECISIONS:
                shown = f"{raw_decision!r}" if decision else "empty"
                problems.append(f"row {n}: item {item!r}: the decision is {shown}; choose activate, deactivate or keep")
                continue
            if decision == "keep":
                keep += 1
                continue
            why = numbers.refusal(item, decision)
            if why:
                problems.append(f"row {n}: {why}")
                continue
            (activate if decision == "activate" else deactivate).append(item)
    if problems:
        raise DecisionFileError(path, problems)
    return Decisions(activate, deactivate, keep)
