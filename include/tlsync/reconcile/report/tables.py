"""The report's tables, defined once and rendered three ways (HTML, Excel, CSV) so they can never disagree.

A :class:`Sheet` is a title, typed columns and rows of Python values (``Decimal`` money, ``date`` dates, ``int``
counts, ``str`` text). The renderers decide only the presentation: Excel writes typed cells with number formats,
CSV writes plain machine-readable values, HTML formats for reading and sorts on the raw values.

Totals: the Summary sheet's amounts per month and currency are sums over the detail sheets' rows (Matched,
Differences, Missing in Uniconta, Missing in TimeLog) — each reconciliation row is on exactly one of them, the
TimeLog amounts counted under TimeLog's currency and the Uniconta amounts (posted invoices only; a draft has no
VAT or total yet) under Uniconta's — so they tie out to the øre. The amount bridge that explains the difference
line by line is computed over the same rows in :mod:`.bridge`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable

from tlsync.reconcile.model import (
    AMOUNTS_DIFFER,
    CATEGORIES,
    CURRENCY_DIFFERS,
    DEBTOR_DIFFERS,
    DIFFERENCE_CATEGORIES,
    DRAFT,
    DRAFT_IN_UNICONTA,
    LABELS,
    LINES_EDITED,
    MATCHED,
    MISSING_IN_TIMELOG,
    MISSING_IN_UNICONTA,
    POSTED,
    Reconciliation,
    Row,
)

D0 = Decimal(0)
Q2 = Decimal("0.01")
TEXT, DATE, DATETIME, MONEY, INT, NUMBER = "text", "date", "datetime", "money", "int", "number"   # NUMBER: exact


@dataclass
class Column:
    header: str                            # the machine export's name; people see ``Lang.header(header)``
    kind: str                              # text | date | datetime | money | int
    get: Callable[[Any], Any]
    width: int = 14
    detail: bool = False                   # a technical column: after the readable ones, hidden in HTML/PDF
    translate: bool = False                # a short code value shown translated (``Lang.value``)


@dataclass
class Sheet:
    name: str                              # Excel sheet name (≤ 31 characters) and CSV file stem
    title: str
    columns: list[Column]
    rows: list[Any]
    note: str = ""                         # shown above the table in HTML, in the CSV name list, in Excel's Summary
    extra: list[list[Any]] = field(default_factory=list)   # Summary only: further blocks below the main table
    key: str = ""                          # a stable slug (the category code) when the name is translated

    def values(self) -> list[list[Any]]:
        return [[c.get(r) for c in self.columns] for r in self.rows]

    @property
    def slug(self) -> str:
        return self.key or self.name.lower().replace(" ", "_")


def _tl(r: Row, attr: str):
    return getattr(r.timelog, attr) if r.timelog is not None else None


def _uc(r: Row, attr: str):
    return getattr(r.uniconta, attr) if r.uniconta is not None else None


def _posted(r: Row, attr: str) -> Decimal | None:
    return getattr(r.uniconta, attr) if r.uniconta is not None and r.uniconta.status == POSTED else None


def difference(r: Row) -> Decimal | None:
    """TimeLog total minus Uniconta's posted total (a missing side counts as 0); none when the two sides are in
    different currencies (amounts are never converted — the bridge counts each side in its own currency)."""
    if r.timelog is not None and r.uniconta is not None and r.timelog.currency != r.uniconta.currency:
        return None
    return (_tl(r, "total") or D0) - (_posted(r, "total") or D0)


ROW_COLUMNS: list[Column] = [
    Column("Period", TEXT, lambda r: r.period, 9),
    Column("Category", TEXT, lambda r: LABELS[r.category], 22),
    Column("Paired by", TEXT, lambda r: r.basis, 20),
    Column("TimeLog invoice", TEXT, lambda r: _tl(r, "number"), 14),
    Column("Kind", TEXT, lambda r: (r.timelog or r.uniconta).kind, 11),
    Column("TimeLog date", DATE, lambda r: _tl(r, "date"), 12),
    Column("Customer no.", TEXT, lambda r: _tl(r, "party_no"), 12),
    Column("Customer", TEXT, lambda r: _tl(r, "party_name"), 28),
    Column("TimeLog currency", TEXT, lambda r: _tl(r, "currency"), 9),
    Column("TimeLog net", MONEY, lambda r: _tl(r, "net")),
    Column("TimeLog VAT", MONEY, lambda r: _tl(r, "vat")),
    Column("TimeLog total", MONEY, lambda r: _tl(r, "total")),
    Column("Uniconta no.", TEXT, lambda r: _uc(r, "number"), 12),
    Column("Uniconta status", TEXT, lambda r: _uc(r, "status"), 10),
    Column("Uniconta date", DATE, lambda r: _uc(r, "date"), 12),
    Column("Debtor", TEXT, lambda r: _uc(r, "party"), 10),
    Column("Debtor name", TEXT, lambda r: _uc(r, "party_name"), 28),
    Column("Uniconta currency", TEXT, lambda r: _uc(r, "currency"), 9),
    Column("Uniconta net", MONEY, lambda r: _posted(r, "net")),
    Column("Uniconta VAT", MONEY, lambda r: _posted(r, "vat")),
    Column("Uniconta total", MONEY, lambda r: _posted(r, "total")),
    Column("Draft net (Uniconta)", MONEY, lambda r: r.uniconta.net if r.uniconta is not None
           and r.uniconta.status == DRAFT else None),
    Column("Difference (total)", MONEY, difference),
    Column("What differs", TEXT, lambda r: "; ".join(r.findings), 50),
    Column("Root-cause hint", TEXT, lambda r: "; ".join(r.hints), 60),
    Column("Ledger state", TEXT, lambda r: r.ledger_state, 10),
    Column("Open (days)", INT, lambda r: r.age_days, 8),
    Column("TimeLog GUID", TEXT, lambda r: _tl(r, "key"), 38),
]


@dataclass
class MonthTotals:
    period: str
    currency: str
    tl_count: int = 0
    tl_net: Decimal = D0
    tl_vat: Decimal = D0
    tl_total: Decimal = D0
    uc_count: int = 0
    uc_net: Decimal = D0
    uc_vat: Decimal = D0
    uc_total: Decimal = D0
    open: int = 0

    @property
    def difference(self) -> Decimal:
        return self.tl_total - self.uc_total


def month_totals(rows: list[Row]) -> list[MonthTotals]:
    """Per month and currency: TimeLog's booked invoices and Uniconta's posted invoices, summed from the rows."""
    acc: dict[tuple[str, str], MonthTotals] = {}

    def get(period: str, cur: str) -> MonthTotals:
        return acc.setdefault((period, cur), MonthTotals(period, cur))

    for r in rows:
        if r.timelog is not None:
            m = get(r.period, r.timelog.currency)
            m.tl_count += 1
            m.tl_net += r.timelog.net or D0
            m.tl_vat += r.timelog.vat or D0
            m.tl_total += r.timelog.total or D0
            m.open += r.open
        if r.uniconta is not None and r.uniconta.status == POSTED:
            m = get(r.period, r.uniconta.currency)
            m.uc_count += 1
            m.uc_net += r.uniconta.net or D0
            m.uc_vat += r.uniconta.vat or D0
            m.uc_total += r.uniconta.total or D0
            if r.timelog is None:
                m.open += r.open
        elif r.uniconta is not None and r.timelog is None:
            get(r.period, r.uniconta.currency).open += r.open     # an orphan draft: counted, no amounts
    return [acc[k] for k in sorted(acc)]


SUMMARY_COLUMNS: list[Column] = [
    Column("Period", TEXT, lambda m: m.period, 9),
    Column("Currency", TEXT, lambda m: m.currency, 9),
    Column("TimeLog invoices", INT, lambda m: m.tl_count, 10),
    Column("TimeLog net", MONEY, lambda m: m.tl_net),
    Column("TimeLog VAT", MONEY, lambda m: m.tl_vat),
    Column("TimeLog total", MONEY, lambda m: m.tl_total),
    Column("Uniconta invoices", INT, lambda m: m.uc_count, 10),
    Column("Uniconta net", MONEY, lambda m: m.uc_net),
    Column("Uniconta VAT", MONEY, lambda m: m.uc_vat),
    Column("Uniconta total", MONEY, lambda m: m.uc_total),
    Column("Difference (total)", MONEY, lambda m: m.difference),
    Column("Open differences", INT, lambda m: m.open, 10),
]

QUARANTINE_COLUMNS: list[Column] = [
    Column("Quarantined at", DATETIME, lambda q: q["quarantined_at"], 18),
    Column("Entity", TEXT, lambda q: q["entity"], 22),
    Column("Tenant", TEXT, lambda q: q["tenant"], 12),
    Column("Record key", TEXT, lambda q: q["natural_key"], 14),
    Column("Rule", TEXT, lambda q: q["rule"], 18),
    Column("Reason", TEXT, lambda q: q["reason"], 80),
]


def _field_getter(key: str, *, as_text: bool) -> Callable[[dict[str, Any]], Any]:
    """The cell value of ``key`` in an imported expense: the raw value, or its text when the column is text."""
    if as_text:
        return lambda e: None if e.get(key) is None else str(e.get(key))
    return lambda e: e.get(key)


def _kind_of(values: list[Any]) -> str:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, datetime) for v in present):
        return DATETIME
    if present and all(isinstance(v, date) and not isinstance(v, datetime) for v in present):
        return DATE
    if present and all(isinstance(v, Decimal) for v in present):
        return MONEY
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return INT
    return TEXT


def expense_sheet(recon: Reconciliation) -> Sheet:
    """Whatever the expense import reports, one column per key, typed by its values."""
    if recon.expenses is None or not recon.expenses:
        return Sheet("Expenses imported", "Expenses imported from Uniconta (U4)",
                     [Column("Note", TEXT, lambda x: x, 90)], [recon.expenses_note], note=recon.expenses_note)
    keys: list[str] = []
    for e in recon.expenses:
        keys += [k for k in e if k not in keys]
    cols = []
    for k in keys:
        kind = _kind_of([e.get(k) for e in recon.expenses])
        if kind == MONEY and "rate" in k.lower():
            kind = NUMBER          # an exchange rate keeps all its decimals
        cols.append(Column(k, kind, _field_getter(k, as_text=kind == TEXT), 14 if kind != TEXT else 24))
    return Sheet("Expenses imported", "Expenses imported from Uniconta (U4)", cols, list(recon.expenses),
                 note=recon.expenses_note)


def headline(recon: Reconciliation) -> dict[str, Any]:
    """The numbers the run command and the CLI print, and the HTML shows first (home currency)."""
    months = [m for m in month_totals(recon.rows) if m.currency == recon.home_currency]
    counts = recon.counts()
    open_rows = [r for r in recon.rows if r.open]
    return {
        "legal_entity_id": recon.legal_entity_id, "company_id": recon.company_id,
        "period": f"{recon.start} – {recon.end}", "currency": recon.home_currency,
        "timelog_total": sum((m.tl_total for m in months), D0).quantize(Q2),
        "uniconta_total": sum((m.uc_total for m in months), D0).quantize(Q2),
        "difference": sum((m.difference for m in months), D0).quantize(Q2),
        "rows": len(recon.rows), "matched": counts[MATCHED], "open": len(open_rows),
        "weak": sum(1 for r in recon.rows if r.weak), "counts": counts,
        "other_currencies": sorted({m.currency for m in month_totals(recon.rows)} - {recon.home_currency}),
    }


def sheets(recon: Reconciliation) -> list[Sheet]:
    """The workbook's sheets in order: Summary, Matched, Differences, Missing in Uniconta, Missing in TimeLog,
    Expenses imported, Quarantine."""
    counts = recon.counts()
    h = headline(recon)
    summary = Sheet("Summary", "Totals per month and currency", SUMMARY_COLUMNS, month_totals(recon.rows))
    summary.extra = [
        ["Reconciliation", f"legal entity {recon.legal_entity_id} ↔ Uniconta company {recon.company_id}"],
        ["Period", f"{recon.start} – {recon.end}"],
        ["As of", recon.as_of],
        ["Tolerance", recon.tolerance],
        [f"TimeLog total ({h['currency']})", h["timelog_total"]],
        [f"Uniconta total ({h['currency']})", h["uniconta_total"]],
        [f"Difference ({h['currency']})", h["difference"]],
        ["Weaker matches (debtor + date + amount)", h["weak"]],
        [],
        ["Category", "Count"],
        *[[LABELS[c], counts[c]] for c in CATEGORIES],
        ["Total", len(recon.rows)],
    ]
    diffs = [r for r in recon.rows if r.category in DIFFERENCE_CATEGORIES]
    return [
        summary,
        Sheet("Matched", "Matched", ROW_COLUMNS, recon.by_category(MATCHED)),
        Sheet("Differences", "Differences", ROW_COLUMNS, diffs),
        Sheet("Missing in Uniconta", "Missing in Uniconta", ROW_COLUMNS, recon.by_category(MISSING_IN_UNICONTA)),
        Sheet("Missing in TimeLog", "Missing in TimeLog", ROW_COLUMNS, recon.by_category(MISSING_IN_TIMELOG)),
        expense_sheet(recon),
        Sheet("Quarantine", "Rows refused by the quality gate", QUARANTINE_COLUMNS, recon.quarantine,
              note="Invoice, line, customer and debtor records the quality gate refused and that have not been "
                   "staged since"),
    ]


def by_period_and_category(rows: list[Row]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(lambda: {c: 0 for c in CATEGORIES})
    for r in rows:
        out[r.period][r.category] += 1
    return dict(sorted(out.items()))


# ---- the tables people read: readable headers, the hint first, technical columns last ---------------------------

#: the detail sheets in the order a controller works through them (the largest amounts first, matched last)
CATEGORY_SHEETS: tuple[str, ...] = (MISSING_IN_UNICONTA, MISSING_IN_TIMELOG, DRAFT_IN_UNICONTA, CURRENCY_DIFFERS,
                                    DEBTOR_DIFFERS, LINES_EDITED, AMOUNTS_DIFFER, MATCHED)


def _either(r: Row, attr: str):
    return _tl(r, attr) if r.timelog is not None else _uc(r, attr)


def findings_text(r: Row, lang) -> str:
    """What differs, in the report's language; a matched pair that still differs says it is rounding."""
    if r.category == MATCHED and r.timelog is not None and r.uniconta is not None:
        diffs = [(name, a, b) for name, a, b in (("VAT", r.timelog.vat, r.uniconta.vat),
                                                 ("total", r.timelog.total, r.uniconta.total))
                 if a is not None and b is not None and a != b]
        if diffs:
            words = {"VAT": "moms"} if lang.code == "da" else {}
            what = ", ".join(f"{words.get(name, name)} {lang.money(a - b, signed=True)}" for name, a, b in diffs)
            return lang.t("rounding_finding", what=what)
    return lang.phrases(r.findings)


def readable_row_columns(lang) -> list[Column]:
    """A reconciliation row for a person: the hint first, what differs, invoice, customer, amounts; then the
    technical columns (``detail``), starting with the category (each sheet holds one category)."""
    return [
        Column("Root-cause hint", TEXT, lambda r: lang.phrases(r.hints), 48),
        Column("What differs", TEXT, lambda r: findings_text(r, lang), 40),
        Column("TimeLog invoice", TEXT, lambda r: _tl(r, "number"), 11),
        Column("Uniconta no.", TEXT, lambda r: _uc(r, "number"), 11),
        Column("Customer / debtor", TEXT, lambda r: _either(r, "party_name"), 26),
        Column("Date", DATE, lambda r: r.date, 11),
        Column("Currency", TEXT, lambda r: _either(r, "currency"), 7),
        Column("TimeLog total", MONEY, lambda r: _tl(r, "total"), 14),
        Column("Uniconta total", MONEY, lambda r: _posted(r, "total"), 14),
        Column("Difference (total)", MONEY, difference, 15),
        Column("Open (days)", INT, lambda r: r.age_days, 8),
        Column("Category", TEXT, lambda r: lang.category(r.category), 20, detail=True),
        Column("Period", TEXT, lambda r: r.period, 9, detail=True),
        Column("Paired by", TEXT, lambda r: r.basis, 20, detail=True, translate=True),
        Column("Kind", TEXT, lambda r: (r.timelog or r.uniconta).kind, 11, detail=True, translate=True),
        Column("TimeLog date", DATE, lambda r: _tl(r, "date"), 12, detail=True),
        Column("Customer no.", TEXT, lambda r: _tl(r, "party_no"), 10, detail=True),
        Column("Customer", TEXT, lambda r: _tl(r, "party_name"), 24, detail=True),
        Column("TimeLog currency", TEXT, lambda r: _tl(r, "currency"), 8, detail=True),
        Column("TimeLog net", MONEY, lambda r: _tl(r, "net"), 14, detail=True),
        Column("TimeLog VAT", MONEY, lambda r: _tl(r, "vat"), 14, detail=True),
        Column("Uniconta status", TEXT, lambda r: _uc(r, "status"), 10, detail=True, translate=True),
        Column("Uniconta date", DATE, lambda r: _uc(r, "date"), 12, detail=True),
        Column("Debtor", TEXT, lambda r: _uc(r, "party"), 10, detail=True),
        Column("Debtor name", TEXT, lambda r: _uc(r, "party_name"), 24, detail=True),
        Column("Uniconta currency", TEXT, lambda r: _uc(r, "currency"), 8, detail=True),
        Column("Uniconta net", MONEY, lambda r: _posted(r, "net"), 14, detail=True),
        Column("Uniconta VAT", MONEY, lambda r: _posted(r, "vat"), 14, detail=True),
        Column("Draft net (Uniconta)", MONEY, lambda r: r.uniconta.net if r.uniconta is not None
               and r.uniconta.status == DRAFT else None, 14, detail=True),
        Column("Ledger state", TEXT, lambda r: r.ledger_state, 12, detail=True, translate=True),
        Column("TimeLog GUID", TEXT, lambda r: _tl(r, "key"), 38, detail=True),
    ]


#: the expense import's fields a person reads first; every other field follows as a technical column
EXPENSE_MAIN = ("date", "voucher", "creditor_name", "text", "amount", "vat", "amount_incl_vat", "currency",
                "expense_type", "project", "state", "reason")
EXPENSE_WIDTHS = {"text": 30, "reason": 40, "creditor_name": 22, "expense_type": 16}


def readable_expense_sheet(recon: Reconciliation, lang) -> Sheet:
    """The expense import's rows with readable headers (``Lang.header``), the fields a person reads first."""
    machine = expense_sheet(recon)
    name = "Expenses imported" if lang.code == "en" else "Udgifter importeret"
    title = "Expenses imported from Uniconta (U4)" if lang.code == "en" else "Udgifter importeret fra Uniconta (U4)"
    by_name = {c.header: c for c in machine.columns}
    if "Note" in by_name:
        return Sheet(name, title, machine.columns, machine.rows, note=machine.note, key="expenses_imported")
    cols = []
    for field_name in [*(n for n in EXPENSE_MAIN if n in by_name), *(n for n in by_name if n not in EXPENSE_MAIN)]:
        c = by_name[field_name]
        cols.append(Column(field_name, c.kind, c.get, EXPENSE_WIDTHS.get(field_name, 12 if c.kind != TEXT else 16),
                           detail=field_name not in EXPENSE_MAIN, translate=field_name == "state"))
    return Sheet(name, title, cols, machine.rows, note=machine.note, key="expenses_imported")


def readable_sheets(recon: Reconciliation, lang) -> list[Sheet]:
    """What people read (HTML, PDF, the workbook, the CSV files for Excel): the monthly totals, one sheet per
    category, the expenses and the quarantine — headers and category names in the report's language."""
    monthly = Sheet(lang.t("months")[:31] if lang.code == "en" else "Måneder", lang.t("months"), SUMMARY_COLUMNS,
                    month_totals(recon.rows), key="months")
    cols = readable_row_columns(lang)
    out = [monthly]
    for c in CATEGORY_SHEETS:
        out.append(Sheet(lang.category(c)[:31], lang.category(c), cols, recon.by_category(c), note=lang.meaning(c),
                         key=c))
    out.append(readable_expense_sheet(recon, lang))
    out.append(Sheet("Karantæne" if lang.code == "da" else "Quarantine",
                     "Rækker afvist af kvalitetskontrollen" if lang.code == "da"
                     else "Rows refused by the quality gate",
                     QUARANTINE_COLUMNS, recon.quarantine, key="quarantine",
                     note=("Faktura-, linje-, kunde- og debitorposter, som kvalitetskontrollen afviste, og som ikke er "
                           "indlæst siden" if lang.code == "da" else "Invoice, line, customer and debtor records the "
                           "quality gate refused and that have not been staged since")))
    return out
