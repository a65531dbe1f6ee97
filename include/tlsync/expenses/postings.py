"""Supplier postings from staging: the Uniconta GL transactions rule U4 imports, and the reversals among them.

A *supplier posting* is a staged ``GLTransClient`` row of the legal entity's Uniconta company (rule S2) that

- is on one of the GL accounts the administrator chose for the expense import (``expense_gl_accounts``, rule S6),
- comes from a creditor (``DCType`` = ``Creditor``; the enum's number 2 is accepted too, since the wire encoding
  of Uniconta's enums is not fixed by the public material).

Other postings on those accounts (a manual journal line, an accrual) are not supplier expenses and are left alone.

**The posting's key** is ``"<company id>:<RowId>"``. ``RowId`` (served as ``PrimaryKeyId`` by some servers, see
:mod:`tlsync.clients.uniconta.fields`) is the identity Uniconta gives every stored row and the natural key
staging keeps GL transactions by; a voucher number is not unique per line (one voucher has many lines, and number
series restart per journal), so it is shown to people but never used as the key. The company id in front keeps keys
apart if a legal entity is ever reconnected to another company (rule S1 "NULSTIL").

**Reversals.** Uniconta reverses a posted voucher with a counter-posting (same account, creditor and supplier
invoice, amounts negated). :func:`pair_reversals` finds these pairs so a reversed posting is never imported as if
it stood alone; what happens to a pair is decided in :mod:`tlsync.expenses.plan`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from datetime import date as calendar_date  # the field ``date`` hides the type inside SupplierPosting
from decimal import Decimal

from sqlalchemy import Engine

from tlsync.clients.uniconta.fields import MissingRowIdError, canonical
from tlsync.clients.uniconta.models import GLTransClient
from tlsync.settings.models import LegalEntitySettings
from tlsync.staging.read import Tenant, rows

OERE = Decimal("0.01")
CREDITOR = ("Creditor", 2, "2")


def _money(value: Decimal | None) -> Decimal:
    return (value or Decimal(0)).quantize(OERE)


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


@dataclass(frozen=True)
class SupplierPosting:
    """One supplier posting, with the fields the expense mapping needs (amounts exact to the øre)."""

    key: str
    company_id: str
    row_id: int
    date: date
    purchase_date: calendar_date   # DocumentDate (the supplier invoice's date) when there is one, else Date
    account: str
    amount: Decimal                # net, company currency (Uniconta ``Amount``)
    vat: Decimal                   # Uniconta ``AmountVat``
    creditor: str
    creditor_name: str = ""
    voucher: int | None = None
    invoice: str = ""
    text: str = ""
    comment: str = ""              # Uniconta ``JournalPostedComment``
    project: str = ""              # Uniconta project number, "" when none
    currency: str = ""             # the posting's own currency ("" = the company's); shown, not mapped
    amount_cur: Decimal | None = None
    correction: bool = False

    @property
    def amount_incl_vat(self) -> Decimal:
        """The mapping's "Amount incl. VAT" = ``Amount + AmountVat`` (exact)."""
        return self.amount + self.vat

    @property
    def label(self) -> str:
        """How a person finds the posting in Uniconta: key, voucher, date, account, creditor and amount."""
        voucher = f"voucher {self.voucher}, " if self.voucher is not None else ""
        return (f"posting {self.key} ({voucher}{self.date.isoformat()}, account {self.account}, creditor "
                f"{self.creditor or '?'}, {self.amount_incl_vat} incl. VAT)")

    def snapshot(self) -> dict:
        """The posting as stored in the ledger's details (Decimals as text, so no øre is ever lost)."""
        return {"key": self.key, "company_id": self.company_id, "row_id": self.row_id, "date": self.date.isoformat(),
                "purchase_date": self.purchase_date.isoformat(), "account": self.account, "amount": str(self.amount),
                "vat": str(self.vat), "amount_incl_vat": str(self.amount_incl_vat), "creditor": self.creditor,
                "creditor_name": self.creditor_name, "voucher": self.voucher, "invoice": self.invoice,
                "text": self.text, "comment": self.comment, "project": self.project, "currency": self.currency,
                "amount_cur": None if self.amount_cur is None else str(self.amount_cur),
                "correction": self.correction}

    @classmethod
    def from_model(cls, company_id: str, row: GLTransClient) -> SupplierPosting | None:
        """``None`` for a row that is not a supplier posting (no date, not from a creditor). A supplier posting
        without a row id is an error (:class:`MissingRowIdError`), never skipped: it would be lost for good."""
        if row.Date is None or row.DCType not in CREDITOR:
            return None
        if row.RowId is None:
            raise MissingRowIdError(
                "Uniconta", f"GLTransClient posting of company {company_id} on account {row.Account} dated "
                f"{row.Date} (voucher {row.Voucher}) has no row id (neither RowId nor PrimaryKeyId); set the Uniconta "
                "connection's extra 'row_id_field' and restage (rule U4)", where="staged GL postings")
        extra = row.model_extra or {}
        return cls(
            key=f"{company_id}:{row.RowId}", company_id=str(company_id), row_id=int(row.RowId), date=row.Date,
            purchase_date=row.DocumentDate or row.Date, account=_text(row.Account), amount=_money(row.Amount),
            vat=_money(row.AmountVat), creditor=_text(row.DCAccount), creditor_name=_text(row.DCName),
            voucher=row.Voucher, invoice=_text(row.Invoice), text=_text(row.Text),
            comment=_text(extra.get("JournalPostedComment")), project=_text(row.Project),
            currency=_text(row.Currency), amount_cur=row.AmountCur,
            correction=bool(extra.get("Correction")) or bool(extra.get("Canceled")))


def staged_postings(engine: Engine, le: LegalEntitySettings) -> list[SupplierPosting]:
    """The legal entity's supplier postings on its expense accounts (S6), oldest first (date, then RowId); read
    with :func:`tlsync.staging.read.rows` by the typed ``account`` column (exact Decimals)."""
    if le.tenant is None or not le.expense_gl_accounts:
        return []
    out = []
    for staged in rows(engine, "uniconta.gl_transactions", Tenant.company(le.tenant),
                       [str(a) for a in le.expense_gl_accounts], by="account"):
        row = GLTransClient.model_validate(canonical("GLTransClient", staged.payload, "PrimaryKeyId"))
        posting = SupplierPosting.from_model(le.tenant, row)
        if posting is not None:
            out.append(posting)
    return sorted(out, key=lambda p: (p.date, p.row_id))


def pair_reversals(postings: Iterable[SupplierPosting]) -> dict[str, str]:
    """``{reversal key: original key}``: a later posting on the same account, creditor and supplier invoice whose
    amount and VAT are exactly the earlier one's negated is its reversal. Each posting is in at most one pair; the
    earliest unpaired candidate is taken (date, then RowId)."""
    ordered = sorted(postings, key=lambda p: (p.date, p.row_id))
    open_by_group: dict[tuple, list[SupplierPosting]] = defaultdict(list)
    pairs: dict[str, str] = {}
    for p in ordered:
        group = (p.account, p.creditor, p.invoice)
        candidates = open_by_group[group]
        match = next((o for o in candidates if p.amount != 0 and o.amount == -p.amount and o.vat == -p.vat), None)
        if match is not None:
            candidates.remove(match)
            pairs[p.key] = match.key
        else:
            candidates.append(p)
    return pairs
