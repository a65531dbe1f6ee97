"""What every Excel file tlsync writes for people — and every decision file it reads back — has in common.

**Formula injection** (OWASP's advice for spreadsheet injection): customer names, invoice texts and reasons come
from users of either system; a text like ``=HYPERLINK(…)`` or ``@SUM(…)`` would be evaluated by Excel or
LibreOffice. :func:`neutralise` writes a text starting with ``= + - @``, tab or carriage return with a leading
``'``; a text that already starts with ``'`` gets one too, so :func:`restore` is its exact inverse and a name read
back from a decision file is the name that was written. Control characters an .xlsx file cannot hold become
``\\ufffd``. Numbers and dates are never touched (they are written as numbers and dates).

**Sheets**: a styled header row with column widths (:func:`write_header`), typed columns (:func:`column_formats`:
text ``@`` so ``1000`` stays an item number, ``#,##0.00`` money, ``yyyy-mm-dd`` dates), a frozen header and an
auto-filter (:func:`freeze_and_filter`), a drop-down for a decision column (:func:`choice_list`), and
:func:`save` (creates the folder).

**Decision files are refused as a whole**: :func:`decision_rows` opens the file and gives its header and its
non-blank rows; :class:`DecisionChecks` runs the checks every row gets (no formula, a key, listed once, a known
decision) and collects one line per problem; the caller adds its own and raises :class:`DecisionFileError` —
nothing is applied when any row is bad.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_QUOTED = TRIGGERS + ("'",)

TEXT_FORMAT = "@"
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def neutralise(value: Any) -> Any:
    """A text Excel must show as text, never evaluate (``=HYPERLINK(…)`` → ``'=HYPERLINK(…)``); anything that
    is not text is returned unchanged."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
        if value.startswith(_QUOTED):
            return "'" + value
    return value


def restore(value: Any) -> Any:
    """The inverse of :func:`neutralise` (for a text read back from a file tlsync wrote)."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1] in "".join(_QUOTED):
        return value[1:]
    return value


# ---- writing ---------------------------------------------------------------------------------------------------

def write_header(ws: Worksheet, names: Sequence[str], widths: Sequence[float], *, font: Font = HEADER_FONT,
                 fill: PatternFill = HEADER_FILL, alignment: Alignment | None = None) -> None:
    """Row 1: the column names, styled, and each column's width."""
    for j, (name, width) in enumerate(zip(names, widths, strict=True), start=1):
        cell = ws.cell(row=1, column=j, value=name)
        cell.font, cell.fill = font, fill
        if alignment is not None:
            cell.alignment = alignment
        ws.column_dimensions[get_column_letter(j)].width = width


def column_formats(ws: Worksheet, formats: Mapping[int, str], *, first_row: int = 2,
                   last_row: int | None = None) -> None:
    """Number formats by column (1-based) for the data rows (default: row 2 to the last row written)."""
    for row in ws.iter_rows(min_row=first_row, max_row=ws.max_row if last_row is None else last_row):
        for col, fmt in formats.items():
            row[col - 1].number_format = fmt


def freeze_and_filter(ws: Worksheet, columns: int, last_row: int) -> None:
    """Freeze the header row and put an auto-filter on rows 1 to ``last_row`` of the first ``columns``."""
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(columns)}{last_row}"


def choice_list(ws: Worksheet, column: int, choices: Sequence[str], *, last_row: int, allow_blank: bool,
                title: str, error: str) -> DataValidation:
    """A drop-down of ``choices`` on ``column`` (1-based) from row 2 to ``last_row``; other values are refused."""
    dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=allow_blank,
                        showErrorMessage=True, errorTitle=title, error=error)
    letter = get_column_letter(column)
    dv.add(f"{letter}2:{letter}{last_row}")
    ws.add_data_validation(dv)
    return dv


def save(wb: Workbook, path: str | Path) -> Path:
    """Save ``wb`` to ``path``, creating the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


# ---- reading decisions back ------------------------------------------------------------------------------------

class DecisionFileError(ValueError):
    """The file is refused as a whole; ``problems`` holds one line per problem (row number, what is wrong)."""

    def __init__(self, path: str | Path, problems: list[str]) -> None:
        super().__init__(f"{path}: refused, nothing applied ({len(problems)} problem(s))\n" + "\n".join(problems))
        self.problems = problems


def header_names(values: Sequence[Any]) -> list[str]:
    """A header row's cells as stripped text ("" for an empty cell)."""
    return [str(c).strip() if c is not None else "" for c in values]


def is_blank(cells: Sequence[Any]) -> bool:
    return all(c is None or str(c).strip() == "" for c in cells)


@contextmanager
def decision_rows(path: str | Path, sheet: str) -> Iterator[tuple[list[str], Iterator[tuple[int, list[Any]]]]]:
    """Open a decision file (formulas kept as written, so a formula can be refused) and give its header and its
    non-blank rows as ``(row number, cells padded to the header)``; the workbook is closed on leaving. The sheet
    named ``sheet``, else the first. A file that is no workbook: :class:`DecisionFileError` with one line."""
    path = Path(path)
    try:
        wb = load_workbook(path, data_only=False, read_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets one clear line
        raise DecisionFileError(path, [f"cannot read the file as an Excel workbook: {type(exc).__name__}"]) from None
    try:
        ws = wb[sheet] if sheet in wb.sheetnames else wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = header_names(next(rows, ()))

        def data() -> Iterator[tuple[int, list[Any]]]:
            for n, row in enumerate(rows, start=2):
                cells = list(row) + [None] * (len(header) - len(row))
                if not is_blank(cells):
                    yield n, cells

        yield header, data()
    finally:
        wb.close()


@dataclass
class DecisionChecks:
    """The checks every row of a decision file gets, one problem line each (``row N: …``): no cell is a formula
    (a value must be typed), the key is there (as written: :func:`restore`), it is listed once, and the decision
    is one of ``choices`` (case and blanks ignored)."""

    key: str                                   # the key's column header, e.g. "Item number"
    key_label: str                             # how an empty key is named: "the {key_label} is empty"
    choices: Sequence[str]
    name: Callable[[str], str]                 # how a row's key is named in a problem, e.g. "item 'X'"
    formula_label: Callable[[str], str] = str  # how a column is named when it holds a formula
    decision: str = "Decision"
    problems: list[str] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)

    def row(self, n: int, cells: Mapping[str, Any]) -> tuple[str, str] | None:
        """``(key, decision)`` of row ``n`` (``cells``: the checked columns by header), or ``None`` when a
        problem was recorded."""
        formulas = [c for c, v in cells.items() if isinstance(v, str) and v.startswith("=")]
        if formulas:
            self.problems.extend(f"row {n}: {self.formula_label(c)} is a formula ({str(cells[c])[:40]}); type the "
                                 f"value itself" for c in formulas)
            return None
        raw_key, raw_decision = cells[self.key], cells[self.decision]
        key = restore(str(raw_key).strip()) if raw_key is not None else ""
        decision = str(raw_decision).strip().lower() if raw_decision is not None else ""
        if not key:
            self.problems.append(f"row {n}: the {self.key_label} is empty")
            return None
        if key in self.seen:
            self.problems.append(f"row {n}: {self.name(key)} is listed twice (also in row {self.seen[key]})")
            return None
        self.seen[key] = n
        if decision not in self.choices:
            shown = repr(raw_decision) if decision else "empty"
            self.problems.append(f"row {n}: {self.name(key)}: the decision is {shown}; choose "
                                 f"{', '.join(self.choices[:-1])} or {self.choices[-1]}")
            return None
        return key, decision
