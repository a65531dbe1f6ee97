"""The HTML page and the PDF for the archive: one template, two media.

**HTML**: one self-contained file a controller opens offline (inline CSS and JS, plotly.js inlined). The amount
bridge comes first (per currency, each line linking to its rows), then the counts, the plots, and one table per
category with the hint first; the technical columns are behind "Show technical columns". Every table has a search
box and sorts on a click on its header (a few lines of inline JS that sort on the raw values in ``data-sort``).

**PDF** (:func:`write_pdf`): the same template rendered for print (``pdf=True``: no scripts or plotly figures, no
technical columns, the first :data:`PDF_ROWS` rows of each table and a line saying how many more the workbook
holds, A4 landscape with repeated table headers and page numbers) and converted by WeasyPrint, which needs Pango on
the machine (Debian: ``libpango-1.0-0 libpangoft2-1.0-0``).

Rendered with Jinja2 with autoescape on, so every customer name, invoice text and reason is escaped; the only
unescaped parts are plotly.js itself, the plot fragments (our own labels and numbers only, :mod:`.plots`) and the
waterfall SVG (its labels escaped when drawn). Numbers and dates in the report's language (:mod:`.i18n`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader

from tlsync.reconcile.model import CATEGORIES, Reconciliation

from . import plots
from .bridge import ROUNDING, bridges
from .i18n import Lang
from .tables import DATE, DATETIME, INT, MONEY, NUMBER, Sheet, headline

TEMPLATES = Path(__file__).with_name("templates")
CSS_NAMES = {"Root-cause hint": "col-hint", "What differs": "col-what", "Customer / debtor": "col-party",
             "text": "col-what", "reason": "col-what", "Reason": "col-hint", "Period": "col-period"}


@dataclass
class Cell:
    text: str
    sort: str
    numeric: bool
    negative: bool = False


@dataclass
class HtmlColumn:
    header: str
    kind: str
    numeric: bool
    wide: bool = False          # long texts (findings, hints) get room instead of a tall narrow column
    detail: bool = False        # technical: hidden until asked for, left out of the PDF
    css: str = ""               # a class naming the column for the print layout (col-hint, col-what, …)


@dataclass
class HtmlTable:
    slug: str
    title: str
    note: str
    columns: list[HtmlColumn]
    rows: list[list[Cell]]
    more: int = 0                          # rows left out of the PDF (every row is in the workbook and the page)


def _cell(value: Any, kind: str, lang: Lang, translate: bool = False) -> Cell:
    numeric = kind in (MONEY, INT, NUMBER)
    if value is None:
        return Cell("", "", numeric)
    if isinstance(value, Decimal) and kind == NUMBER:
        return Cell(lang.number(value), str(value), True)
    if isinstance(value, Decimal):
        return Cell(lang.money(value), str(value), True, value < 0)
    if isinstance(value, datetime) or kind == DATETIME and isinstance(value, date):
        return Cell(lang.date(value), value.isoformat(), False)
    if isinstance(value, date) or kind == DATE and isinstance(value, date):
        return Cell(lang.date(value), value.isoformat(), False)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Cell(lang.number(value) if isinstance(value, int) else str(value), str(value), True)
    text = lang.value(str(value)) if translate else str(value)
    return Cell(text, text, numeric)


PDF_ROWS = 500
"""Rows of one table the PDF prints; the rest are counted under it. WeasyPrint lays a table out at ~20–50 rows a
second on this machine: the first M reconciliation (11,630 matched pairs, ~9,000 other rows) kept the PDF busy for
more than ten minutes, hundreds of pages no one reads on paper. The HTML page, the workbook and the CSV files hold
every row."""


def html_table(sheet: Sheet, lang: Lang, *, pdf: bool = False) -> HtmlTable:
    columns = [c for c in sheet.columns if not (pdf and c.detail)]
    cols = [HtmlColumn(lang.header(c.header), c.kind, c.kind in (MONEY, INT, NUMBER), c.width >= 40, c.detail,
                       CSS_NAMES.get(c.header, "")) for c in columns]
    shown = sheet.rows[:PDF_ROWS] if pdf else sheet.rows
    rows = [[_cell(c.get(r), c.kind, lang, c.translate) for c in columns] for r in shown]
    return HtmlTable(sheet.slug, sheet.title, sheet.note, cols, rows, len(sheet.rows) - len(shown))


def render(recon: Reconciliation, sheets: list[Sheet], lang: Lang, *, pdf: bool = False) -> str:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True,
                      trim_blocks=False, lstrip_blocks=False)
    counts = recon.counts()
    h = headline(recon)
    the_bridges = bridges(recon)
    return env.get_template("report.html.j2").render(
        lang=lang, t=lang.t, h=h, recon=recon, pdf=pdf, ROUNDING=ROUNDING,
        period=lang.period(recon.start, recon.end), as_of=lang.date(recon.as_of),
        tolerance=lang.money(recon.tolerance),
        bridges=[(b, plots.waterfall_svg(b, lang)) for b in the_bridges],
        category_counts=[(c, lang.category(c), counts[c], lang.meaning(c)) for c in CATEGORIES],
        tables=[html_table(s, lang, pdf=pdf) for s in sheets],
        plots=[] if pdf else plots.all_plots(recon, lang), plotly_js="" if pdf else plots.plotly_js(),
        generated=lang.date(datetime.now()))


def write_html(recon: Reconciliation, sheets: list[Sheet], path: Path, lang: Lang | None = None) -> Path:
    path.write_text(render(recon, sheets, lang or Lang()), encoding="utf-8")
    return path


def write_pdf(recon: Reconciliation, sheets: list[Sheet], path: Path, lang: Lang | None = None) -> Path:
    """The report as an A4-landscape PDF for the archive (WeasyPrint)."""
    from weasyprint import HTML

    HTML(string=render(recon, sheets, lang or Lang(), pdf=True), base_url=str(TEMPLATES)).write_pdf(path)
    return path
