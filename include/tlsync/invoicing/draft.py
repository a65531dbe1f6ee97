"""One TimeLog invoice or credit note → one Uniconta draft (``DebtorOrderClient`` + ``DebtorOrderLineClient``s).

Mapping (TimeLog's Uniconta field mapping (api.timelog.com), "Invoices" and "Invoice lines"; rule T2):

==========================  ===============================================================================
Uniconta                    TimeLog
==========================  ===============================================================================
``Account``                 the customer's Uniconta debtor (customer link; created first in mode S3b)
``Project``, ``PrCategory`` the invoice's project (transferred first, rule T3) and the configured invoice project
                            category (rule S5) — only when the company has the project module
``Requisition``             ``PurchaseNo`` (Rekvisitionsnr.)
``YourRef``                 ``CustomerReference`` (Kundens ref.)
``Employee``, ``OurRef``    the internal reference: its Uniconta employee (rule T4) and the employee's name
``Remark``                  ``Header`` and ``Text``, concatenated (Overskrift + Besked)
``Delivery*``               the invoice address (customer address on the invoice)
``Currency``                ``CurrencyAbb`` — blank for the company's own currency; must exist in Uniconta
``InvoiceDate``             ``InvoiceDate``; ``Payment``/``DueDate`` are left blank (the debtor's terms apply)
``CustomsNo``               **the marker**: the TimeLog invoice GUID (see below)
line ``Item``               the resolved item (rules I1–I5); I4 lines configured to a GL account get
                            ``PostingAccount`` instead
line ``Text/Qty/Price``     ``Text`` / ``Quantity`` / ``Rate``; ``DiscountPct`` = ``Discount`` (a percentage)
==========================  ===============================================================================

**The marker.** The exactly-once protocol needs to find a draft by its TimeLog invoice after a crash between the
write and the ledger update, with one filtered read (``CustomsNo eq '<guid>'``), not a scan. ``CustomsNo`` is a
plain text field of the real ``DebtorOrderClient`` that the official mapping leaves free and that a
consultancy's service invoices do not use (it is the customs registration number for exports of goods);
``YourRef``/``OurRef``/``Requisition``/``Remark`` are all taken by the mapping. The GUID is written in its
canonical lower-case form (36 characters).

**Credit notes** travel as drafts with **negative quantities** and positive prices, as TimeLog itself books them
(so Uniconta posts a credit note from the draft). Should a credit note arrive with positive quantities and a
positive net amount, the quantities are negated so that the draft's total is the negative of the credited amount.

**Totals to the øre.** Each line total is ``Qty × Price × (1 − DiscountPct/100)`` rounded half-up to 2 decimals
(what Uniconta computes); it must equal TimeLog's line ``Amount``, and the line totals must add up to TimeLog's
``NetAmount`` (VAT is Uniconta's business). Any difference blocks the invoice with the amounts in the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from tlsync.clients.timelog.models import Invoice, InvoiceType
from tlsync.clients.uniconta.models import DebtorOrderClient, DebtorOrderLineClient
from tlsync.money import ZERO, dec, line_total, show

from .currencies import uniconta_currency
from .source import Payload

if TYPE_CHECKING:                            # read at run time from staging by drafting.load_context
    from tlsync.items.resolver import ItemResolver
    from tlsync.items.todo import TimeLogProducts

MARKER_FIELD = "CustomsNo"
INVOICE, CREDIT_NOTE = "invoice", "credit_note"


def marker(guid: str) -> str:
    return str(guid).strip().lower()


def stored_number(order: DebtorOrderClient) -> int:
    """The number of an order read back from Uniconta — its key, which a stored order always has."""
    if order.OrderNumber is None:
        raise TypeError(f"Uniconta returned a DebtorOrderClient without its OrderNumber "
                        f"({MARKER_FIELD} {getattr(order, MARKER_FIELD, None)!r})")
    return int(order.OrderNumber)


def kind_of(inv: Invoice) -> str:
    return CREDIT_NOTE if inv.type == InvoiceType.CREDIT_NOTE else INVOICE


def describe(inv: Invoice) -> str:
    what = "credit note" if kind_of(inv) == CREDIT_NOTE else "invoice"
    return f"{what} {inv.invoice_number or inv.id} (GUID {marker(inv.guid or '')})"


class InvoiceDetails(TypedDict):
    """The ledger's facts about an invoice (``details`` of its ledger entry; amounts as strings) — what the
    reconciliation report and ``tlsync invoicing list`` read."""

    invoice_no: str | None
    kind: str                                # INVOICE or CREDIT_NOTE
    customer_id: int
    debtor_account: str | None
    currency: str | None                     # upper case; None: TimeLog gave none
    date: str                                # ISO invoice date
    net: str
    vat: str
    total: str
    items: NotRequired[list[str]]            # the item sent per line ("" for a GL-account line; rule U3)
    missing_items: NotRequired[list[str]]    # held back: items TimeLog does not have (rule U2)
    order_number: NotRequired[int | None]    # done: the Uniconta order
    written_back: NotRequired[bool]          # done: TimeLog was told where it went


@dataclass
class Draft:
    """A draft ready to write: the order header, its lines, and the facts the ledger keeps."""

    guid: str
    order: DebtorOrderClient
    lines: list[DebtorOrderLineClient]
    details: InvoiceDetails
    project_id: int | None = None

    def total(self) -> Decimal:
        return sum((dec(ln.Total) for ln in self.lines), ZERO)


@dataclass
class Context:
    """What a run knows while it builds drafts (read once per run; see :mod:`.transfer`)."""

    company_currency: str | None
    project_module: bool
    category: str | None                     # S5, only meaningful with the project module
    categories: set[str]                     # staged PrCategoryClient numbers
    resolver: ItemResolver
    projects: dict[int, Payload]             # TimeLog projects by ID (staged payloads)
    employee_names: dict[str, str] = field(default_factory=dict)   # Uniconta employee Number → Name
    timelog_products: TimeLogProducts | None = None   # None: not staged, not checked


def details_of(inv: Invoice, debtor: str | None) -> InvoiceDetails:
    """The ledger's facts about an invoice — the reconciliation report reads these fields."""
    return {"invoice_no": inv.invoice_number, "kind": kind_of(inv), "customer_id": inv.customer_id,
            "debtor_account": debtor, "currency": (inv.currency_abb or "").upper() or None,
            "date": inv.invoice_date.date().isoformat(),
            "net": str(dec(inv.net_amount)), "vat": str(dec(inv.vat_included)), "total": str(dec(inv.amount))}


def internal_reference(raw: Payload, ctx: Context, inv: Invoice) -> str | None:
    """The invoice's internal reference (initials): the Transactional ``InternalReference`` when staged, else the
    project manager of the invoice's project (what TimeLog proposes as internal reference)."""
    ref = raw.get("InternalReference")
    if isinstance(ref, dict):
        ref = ref.get("Initials")
    if ref:
        return str(ref).strip() or None
    project = ctx.projects.get(inv.project_id or -1) or {}
    return (str(project.get("PMInitials") or "").strip()) or None


def _text(*parts: Any) -> str | None:
    out = "\n".join(str(p).strip() for p in parts if p and str(p).strip())
    return out or None


def build(inv: Invoice, raw: Payload, lines: list[Payload], ctx: Context, *, debtor: str | None,
          employee: str | None, project_number: str | None, project_problem: str | None,
          customer_problem: str | None) -> tuple[Draft | None, list[str]]:
    """Build the draft of one invoice, or say every reason it cannot travel (each blocks only this invoice)."""
    problems: list[str] = []
    what = describe(inv)
    if customer_problem:
        problems.append(customer_problem)
    currency, cur_problem = uniconta_currency(inv.currency_abb, ctx.company_currency)
    if cur_problem:
        problems.append(f"{what}: {cur_problem}")
    project = None
    category = None
    if ctx.project_module and inv.project_id:
        if project_problem:
            problems.append(project_problem)
        project = project_number
        category = ctx.category
        if not category:
            problems.append(f"{what}: no invoice project category is configured; nothing can be posted on project "
                            f"{project} without one (rule S5)")
        elif ctx.categories and category not in ctx.categories:
            problems.append(f"{what}: the invoice project category {category!r} does not exist in the Uniconta "
                            f"company (rule S5)")
    if not lines:
        problems.append(f"{what}: TimeLog has no lines for it (rule T2)")
    credit = kind_of(inv) == CREDIT_NOTE
    flip = credit and dec(inv.net_amount) > 0
    order_lines: list[DebtorOrderLineClient] = []
    net = ZERO
    for n, line in enumerate(lines, start=1):
        li = ctx.resolver.resolve(line, raw)
        if li.blocked:
            problems.append(li.blocked)
            continue
        try:
            qty, price = dec(line.get("Quantity")), dec(line.get("Rate"))
            pct = dec(line.get("Discount"))
            amount = dec(line.get("Amount"), None)
        except ValueError as exc:
            problems.append(f"{what}: line {n} has an amount that is not a number ({exc}) (rule T2)")
            continue
        if flip:
            qty, amount = -qty, (-amount if amount is not None else None)
        total = line_total(qty, price, pct)
        if amount is not None and total != amount:
            problems.append(f"{what}: line {n} ({line.get('Text') or ''!s}) comes to {show(total)} "
                            f"({qty} × {price} − {pct}%) but TimeLog says {show(amount)} (rule T2)")
        net += total
        line_project = None
        if ctx.project_module and project:
            lp = ctx.projects.get(int(line.get("ProjectID") or 0) or -1)
            line_project = (str(lp.get("No")) if lp and lp.get("No") else None) or project
        order_lines.append(DebtorOrderLineClient(
            LineNumber=Decimal(n), Item=li.item, Text=line.get("Text") or None, Qty=qty, Price=price,
            DiscountPct=pct, Total=total, Project=line_project, PrCategory=category if line_project else None,
            Date=_date(line.get("Date")), **({"PostingAccount": li.gl_account} if li.gl_account else {})))
    expected = dec(inv.net_amount)
    if not credit and expected < 0:      # issue 17: an "invoice" of −1,000,000 went out as an ordinary draft
        problems.append(f"{what}: it is an invoice (not a credit note) with a negative net amount {show(expected)}; "
                        f"held back — TimeLog should issue a credit note for this (rule T2)")
    if flip:
        expected = -expected
    if order_lines and not problems and net != expected:
        problems.append(f"{what}: the lines add up to {show(net)} but TimeLog's net amount is {show(expected)} "
                        f"(rule T2)")
    if problems:
        return None, problems
    order = DebtorOrderClient(
        Account=debtor, Currency=currency, Employee=employee,
        OurRef=ctx.employee_names.get(employee or "", None) if employee else None,
        YourRef=inv.customer_reference, Requisition=inv.purchase_no, Remark=_text(inv.header, inv.text),
        Project=project, PrCategory=category,
        DeliveryAddress1=inv.customer_address1, DeliveryAddress2=inv.customer_address2,
        DeliveryAddress3=inv.customer_address3, DeliveryZipCode=inv.customer_zip_code,
        DeliveryCity=inv.customer_city, DeliveryCountry=_country(inv), InvoiceDate=inv.invoice_date.date(),
        **{MARKER_FIELD: marker(inv.guid or "")})
    details = details_of(inv, debtor)
    details["items"] = [ln.Item or "" for ln in order_lines]   # what was sent, per line (the report compares, U3)
    return Draft(marker(inv.guid or ""), order, order_lines, details, inv.project_id), []


def _date(value: Any) -> date | None:
    text = str(value or "")[:10]
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _country(inv: Invoice) -> str | None:
    from tlsync.customers.countries import uniconta_country

    return uniconta_country(inv.customer_country_id, inv.customer_country)
