"""The HTML page: one self-contained file a controller can open offline (inline CSS and JS, plotly.js inlined).

Rendered with Jinja2 with autoescape on, so every customer name, invoice text and reason is escaped; the only
unescaped parts are plotly.js itself and the plot fragments, which carry our own labels and numbers only
(:mod:`.plots`). Each table has a search box and sorts on a click on its header (a few lines of inline JS that
sort on the raw values kept in ``data-sort``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader

from tlsync.reconcile.model import CATEGORIES, LABELS, MEANING, Reconciliation

from . import plots
from .tables import INT, MONEY, NUMBER, Sheet, headline

TEMPLATES = Path(__file__).with_name("templates")
Q2 = Decimal("0.01")


def money(value: Decimal | None) -> str:
    return "" if value is None else f"{Decimal(value).quantize(Q2):,.2f}"


@dataclass
class Cell:
    text: str
    sort: str
    numeric: bool


@dataclass
class HtmlColumn:
    header: str
    kind: str
    numeric: bool
    wide: bool = False          # long texts (findings, hints) get room instead of a tall narrow column


@dataclass
class HtmlTable:
    slug: str
    title: str
    note: str
    columns: list[HtmlColumn]
    rows: list[list[Cell]]


def _cell(value: Any, kind: str) -> Cell:
    numeric = kind in (MONEY, INT, NUMBER)
    if value is None:
        return Cell("", "", numeric)
    if isinstance(value, Decimal) and kind == NUMBER:
        return Cell(f"{value:f}", str(value), True)
    if isinstance(value, Decimal):
        return Cell(money(value), str(value), True)
    if isinstance(value, datetime):
        return Cell(value.strftime("%Y-%m-%d %H:%M"), value.isoformat(), False)
    if isinstance(value, date):
        return Cell(value.isoformat(), value.isoformat(), False)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Cell(str(value), str(value), True)
    return Cell(str(value), str(value), numeric)


def _table(sheet: Sheet) -> HtmlTable:
    cols = [HtmlColumn(c.header, c.kind, c.kind in (MONEY, INT, NUMBER), c.width >= 50) for c in sheet.columns]
    rows = [[_cell(v, c.kind) for v, c in zip(values, sheet.columns)] for values in sheet.values()]
    return HtmlTable(sheet.slug, sheet.title, sheet.note, cols, rows)


def render(recon: Reconciliation, sheets: list[Sheet]) -> str:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True,
                      trim_blocks=False, lstrip_blocks=False)
    counts = recon.counts()
    return env.get_template("report.html.j2").render(
        h=headline(recon), as_of=recon.as_of, tolerance=recon.tolerance, money=money,
        category_counts=[(LABELS[c], counts[c], MEANING[c]) for c in CATEGORIES],
        tables=[_table(s) for s in sheets], plots=plots.all_plots(recon), plotly_js=plots.plotly_js(),
        generated=datetime.now().strftime("%Y-%m-%d %H:%M"))


def write_html(recon: Reconciliation, sheets: list[Sheet], path: Path) -> Path:
    path.write_text(render(recon, sheets), encoding="utf-8")
    return path
