"""The finance report of a reconciliation (rule U3): HTML page, PDF for the archive, Excel workbook, CSV files.

``write_report(recon, out_dir, language=None) -> ReportFiles`` renders one
:class:`~tlsync.reconcile.model.Reconciliation` into ``out_dir`` (created if missing), in Danish unless the
language (``TLSYNC_REPORT_LANGUAGE`` or the argument, :mod:`.i18n`) says English. All outputs are built from the
same tables (:mod:`.tables`), so they cannot disagree:

- the **HTML** for a controller (the amount bridge per currency first — TimeLog total, Uniconta total, one line per
  category summing to the difference to the øre, each linking to its rows — then counts, plots and one table per
  category with the hint first; opens offline), and the same page as **PDF** (A4 landscape, WeasyPrint);
- the **workbook** for finance (Summary with headline and bridge at the top, one sheet per category, expenses,
  quarantine; typed cells, frozen panes, filters, print set-up);
- **CSV for machines** (``<name>-csv/``: as before — comma, dot decimals, code names) and **CSV for Danish Excel**
  (``<name>-excel-csv/``: semicolon, decimal comma, UTF-8 with BOM, readable headers).

User-supplied text is escaped in HTML/PDF and neutralised against formula injection in Excel and CSV
(:func:`tlsync.excel.neutralise`). :func:`bridge_summary` is the bridge as JSON-safe data (the DAG's XCom and the
e-mail, :mod:`.mail`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from tlsync.excel import neutralise
from tlsync.reconcile.model import CATEGORIES, LABELS, Reconciliation

from .bridge import ROUNDING, bridges
from .csv_out import write_csv, write_excel_csv
from .excel import write_workbook
from .html import write_html, write_pdf
from .i18n import Lang, language
from .tables import headline, readable_sheets, sheets

__all__ = ["ReportFiles", "write_report", "headline", "sheets", "neutralise", "format_headline", "bridges",
           "bridge_summary", "Lang", "language"]


@dataclass
class ReportFiles:
    folder: Path
    html: Path
    xlsx: Path
    csv: list[Path] = field(default_factory=list)
    pdf: Path | None = None
    excel_csv: list[Path] = field(default_factory=list)
    language: str = "da"


def report_name(recon: Reconciliation) -> str:
    return f"reconciliation-le{recon.legal_entity_id}-{recon.start}-{recon.end}"


def write_report(recon: Reconciliation, out_dir: Path | str, language: str | None = None, *,
                 pdf: bool = True) -> ReportFiles:
    """Write ``<name>.html``, ``<name>.pdf``, ``<name>.xlsx``, ``<name>-csv/*.csv`` (machines) and
    ``<name>-excel-csv/*.csv`` (Danish Excel) into ``out_dir``; returns the paths. ``language``: ``da``/``en``
    (default ``TLSYNC_REPORT_LANGUAGE``, else Danish). ``pdf=False`` skips the PDF."""
    from .i18n import language as choose

    lang = Lang(choose(language))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    name = report_name(recon)
    tabs = sheets(recon)
    readable = readable_sheets(recon, lang)
    html = write_html(recon, readable, out / f"{name}.html", lang)
    pdf_path = write_pdf(recon, readable, out / f"{name}.pdf", lang) if pdf else None
    xlsx = write_workbook(recon, readable, out / f"{name}.xlsx", lang)
    excel_dir = out / f"{name}-excel-csv"
    excel_dir.mkdir(exist_ok=True)
    excel_csv = [write_excel_csv(s, excel_dir, lang) for s in readable]
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
    return ReportFiles(folder=out, html=html, xlsx=xlsx, csv=[*paths, counts_path], pdf=pdf_path,
                       excel_csv=excel_csv, language=lang.code)


def bridge_summary(recon: Reconciliation) -> list[dict]:
    """The amount bridge per currency as JSON-safe data (amounts as strings, exact): what the DAG task returns and
    the e-mail's body shows."""
    from tlsync.money import q2

    return [{"currency": b.currency, "timelog_total": str(q2(b.timelog_total)),
             "uniconta_total": str(q2(b.uniconta_total)), "difference": str(q2(b.difference)),
             "lines": [{"key": ln.key, "count": ln.count, "amount": str(q2(ln.amount))} for ln in b.lines]}
            for b in bridges(recon)]


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
    for b in bridges(recon):
        lines.append(f"  bridge {b.currency} (TimeLog − Uniconta): " + (", ".join(
            f"{'rounding' if ln.key == ROUNDING else LABELS[ln.key]} {ln.amount:+,.2f}" for ln in b.lines)
            + f" = {b.difference:,.2f}" if b.lines else "no difference"))
    if files is not None:
        lines += [f"  report (HTML)    {files.html}"]
        if files.pdf is not None:
            lines.append(f"  report (PDF)     {files.pdf}")
        lines += [f"  workbook (Excel) {files.xlsx}", f"  CSV files        {files.csv[0].parent}",
                  f"  CSV for Excel    {files.excel_csv[0].parent}" if files.excel_csv else ""]
        lines = [ln for ln in lines if ln]
    return "\n".join(lines)
