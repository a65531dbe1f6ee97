"""The shapes reconciliation works on (rule U3): one invoice document per side, one result row per pair or orphan.

Both systems' invoices are read into the same :class:`Doc` shape (amounts in the invoice's own currency, as
``Decimal``; lines in their original order) so that pairing and comparing never need to know which API a field
came from. A :class:`Row` is what finance reads: the TimeLog side, the Uniconta side (either may be absent), the
one **category** the row is counted in, every **finding** (what differs, in words), and the **hints** (why it
probably differs, from what the pipeline knows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

# ---- categories, in the order a row is assigned to them (the first that applies wins) ----------------------------
MISSING_IN_UNICONTA = "missing_in_uniconta"
MISSING_IN_TIMELOG = "missing_in_timelog"
DRAFT_IN_UNICONTA = "draft_in_uniconta"
CURRENCY_DIFFERS = "currency_differs"
DEBTOR_DIFFERS = "debtor_differs"
LINES_EDITED = "lines_edited"
AMOUNTS_DIFFER = "amounts_differ"
MATCHED = "matched"

CATEGORIES: tuple[str, ...] = (MATCHED, AMOUNTS_DIFFER, MISSING_IN_UNICONTA, MISSING_IN_TIMELOG, DEBTOR_DIFFERS,
                               CURRENCY_DIFFERS, DRAFT_IN_UNICONTA, LINES_EDITED)
LABELS: dict[str, str] = {
    MATCHED: "Matched",
    AMOUNTS_DIFFER: "Amounts differ",
    MISSING_IN_UNICONTA: "Missing in Uniconta",
    MISSING_IN_TIMELOG: "Missing in TimeLog",
    DEBTOR_DIFFERS: "Debtor differs",
    CURRENCY_DIFFERS: "Currency differs",
    DRAFT_IN_UNICONTA: "Still a draft in Uniconta",
    LINES_EDITED: "Lines edited in Uniconta",
}
MEANING: dict[str, str] = {
    MATCHED: "same amounts (within the tolerance), debtor, currency and lines; posted in Uniconta",
    AMOUNTS_DIFFER: "the lines agree but net, VAT or total differ (end discount, VAT code or zone in Uniconta)",
    MISSING_IN_UNICONTA: "booked in TimeLog, not found in Uniconta — see the hint for why",
    MISSING_IN_TIMELOG: "in Uniconta, but no TimeLog invoice refers to it (often invoiced directly in Uniconta)",
    DEBTOR_DIFFERS: "the Uniconta invoice is on another debtor than the customer's linked one",
    CURRENCY_DIFFERS: "TimeLog and Uniconta hold the invoice in different currencies",
    DRAFT_IN_UNICONTA: "transferred as a draft that nobody has posted yet",
    LINES_EDITED: "a line's price, quantity, discount or item changed, or a line was added or removed, in Uniconta",
}
# A pair's category: the most consequential finding wins (a draft is not booked at all; a wrong currency or debtor
# makes every amount comparison moot; edited lines explain differing amounts, so they come before them).
PAIR_PRECEDENCE: tuple[str, ...] = (DRAFT_IN_UNICONTA, CURRENCY_DIFFERS, DEBTOR_DIFFERS, LINES_EDITED, AMOUNTS_DIFFER)
# The categories shown on the "Differences" sheet (the missing ones have sheets of their own).
DIFFERENCE_CATEGORIES: tuple[str, ...] = (AMOUNTS_DIFFER, DEBTOR_DIFFERS, CURRENCY_DIFFERS, DRAFT_IN_UNICONTA,
                                          LINES_EDITED)

# ---- how a pair was found ---------------------------------------------------------------------------------------
BY_LEDGER = "ledger"
BY_EXTERNAL_NUMBER = "external invoice number"
BY_DEBTOR_DATE_AMOUNT = "debtor + date + amount (weaker match)"

TIMELOG, UNICONTA = "timelog", "uniconta"
POSTED, DRAFT = "posted", "draft"


@dataclass
class Line:
    """One invoice line, in the invoice currency. ``number`` is the position shown to finance (1-based)."""
    number: int
    item: str
    text: str
    qty: Decimal
    price: Decimal
    discount_pct: Decimal
    net: Decimal
    sent_item: str | None = None        # TimeLog: the item tlsync sent for the line (rules I1–I4), when it did


@dataclass
class Doc:
    """One invoice, credit note or draft of either system."""
    system: str                         # timelog | uniconta
    key: str                            # TimeLog GUID (ID when absent); Uniconta invoice or order number
    number: str                         # what finance calls it: TimeLog invoice number, Uniconta invoice/order no
    status: str                         # TimeLog: booked; Uniconta: posted | draft
    kind: str                           # invoice | credit note
    date: date | None
    party: str                          # TimeLog customer ID; Uniconta debtor account
    party_no: str                       # TimeLog customer number; Uniconta debtor account
    party_name: str
    currency: str
    net: Decimal | None
    vat: Decimal | None
    total: Decimal | None
    lines: list[Line] = field(default_factory=list)
    order_number: str = ""              # Uniconta: the draft's order number (posted invoices keep it)
    external_no: str = ""               # TimeLog: ExternalInvoiceNo (set by TimeLog's own integration)
    external_status: str = ""           # TimeLog: ExternalInvoiceStatus (Posted | Draft | …)
    ignored_in_source: bool = False     # TimeLog: IsIgnoredWhenTransfer
    record_id: str = ""                 # TimeLog: the invoice ID (lines hang on it)
    marker: str = ""                    # Uniconta: tlsync's marker of the source invoice (``CustomsNo`` = GUID)


@dataclass
class Row:
    """One reconciliation result: a pair, or an invoice found on one side only."""
    category: str
    timelog: Doc | None
    uniconta: Doc | None
    basis: str = ""                     # how the pair was found (empty for orphans)
    findings: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    ledger_state: str = ""
    age_days: int | None = None

    @property
    def date(self) -> date | None:
        """The date the row is reported under: TimeLog's invoice date, else Uniconta's."""
        if self.timelog is not None and self.timelog.date is not None:
            return self.timelog.date
        return self.uniconta.date if self.uniconta is not None else None

    @property
    def period(self) -> str:
        d = self.date
        return f"{d.year:04d}-{d.month:02d}" if d else ""

    @property
    def weak(self) -> bool:
        return self.basis == BY_DEBTOR_DATE_AMOUNT

    @property
    def open(self) -> bool:
        """An open difference: anything finance still has to look at."""
        return self.category != MATCHED


@dataclass
class Reconciliation:
    """The result for one legal entity ↔ Uniconta company and one period (inclusive dates)."""
    legal_entity_id: int
    company_id: int
    site: str
    start: date
    end: date
    as_of: date
    tolerance: Decimal
    home_currency: str
    rows: list[Row]
    expenses: list[dict] | None          # None: the expense import has not run (or is not installed)
    expenses_note: str
    quarantine: list[dict]

    def by_category(self, category: str) -> list[Row]:
        return [r for r in self.rows if r.category == category]

    def counts(self) -> dict[str, int]:
        out = {c: 0 for c in CATEGORIES}
        for r in self.rows:
            out[r.category] += 1
        return out
