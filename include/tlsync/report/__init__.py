"""The finance report of a reconciliation (rule U3): a self-contained HTML page, an Excel workbook, CSV files.

``write_report(recon, out_dir) -> ReportFiles`` renders one :class:`~tlsync.reconcile.model.Reconciliation` into
``out_dir`` (created if missing). The three outputs are built from the same tables (:mod:`.tables`): the HTML for a
controller (summary first, plots, searchable/sortable tables; opens offline), the workbook for finance (sheets
Summary, Matched, Differences, Missing in Uniconta, Missing in TimeLog, Expenses imported, Quarantine; typed cells,
frozen header, filters), the CSV files for machines. User-supplied text is escaped in HTML and neutralised against
formula injection in Excel and CSV (:func:`tlsync.excel.neutralise`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from tlsync.excel import neutralise
from tlsync.reconcile.model import CATEGORIES, LABELS, Reconciliation

from .csv_out import write_csv
from .excel import write_workbook
from .html import write_html
from .tables import headline, sheets

__all__ = ["ReportFiles", "write_report", "headline", "sheets", "neutralise", "format_headline"]


@dataclass
class ReportFiles:
    folder: Path
    html: Path
    xlsx: Path
    csv: list[Path] = field(default_factory=list)


def report_name(recon: Reconciliation) -> str:
    return f"reconciliation-le{recon.legal_entity_id}-{recon.start}-{recon.end}"


def write_report(recon: Reconciliation, out_dir: Path | str) -> ReportFiles:
    """Write ``<name>.html``, ``<name>.xlsx`` and ``<name>-csv/*.csv`` into ``out_dir``; returns the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    name = report_name(recon)
    tabs = sheets(recon)
    html = write_html(recon, tabs, out / f"{name}.html")
    xlsx = write_workbook(tabs, out / f"{name}.xlsx")
    csv_dir = out / f"{name}-csv"
    csv_dir.mkdir(exist_ok=True)
    paths = [write_csv(s, csv_dir) for s in tabs]
    counts_path = csv_dir / "category_counts.csv"
    counts = recon.counts()
    with counts_path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["category", "label", "count"])
        for c in CATEGORIES:
            w.writerow([c, LABELS[c], counts[c]])
    return ReportFiles(folder=out, html=html, xlsx=xlsx, csv=[*paths, counts_path])


def format_headline(recon: Reconciliation, files: ReportFiles | None = None) -> str:
    """The few lines a person reads in a terminal: totals, difference, counts per category, where the files are."""
    h = headline(recon)
    cur = h["currency"]
    lines = [f"Invoice reconciliation, legal entity {h['legal_entity_id']} ↔ Uniconta company {h['company_id']}, "
             f"{h['period']}:",
             f"  TimeLog booked   {h['timelog_total']:>16,.2f} {cur}",
             f"  Uniconta posted  {h['uniconta_total']:>16,.2f} {cur}",
             f"  difference       {h['difference']:>16,.2f} {cur}"]
    if h["other_currencies"]:
        lines.append(f"  (also invoices in {', '.join(h['other_currencies'])}: per currency in the report)")
    lines.append("  " + ", ".join(f"{LABELS[c]} {n}" for c, n in h["counts"].items() if n or c == "matched")
                 + f" — {h['open']} open, {h['weak']} weaker match(es)")
    if files is not None:
        lines += [f"  report (HTML)    {files.html}", f"  workbook (Excel) {files.xlsx}",
                  f"  CSV files        {files.csv[0].parent}"]
    return "\n".join(lines)
