"""Read what reconciliation needs from the staging database into :class:`~tlsync.reconcile.model.Doc` objects.

Everything comes from staging (the raw API payloads, with the APIs' own field names), the sync ledger, the
customer links and the quarantine — never from the APIs: a report can be rebuilt at any time without spending one
call of Uniconta's daily quota. All invoices of the legal entity are read, whatever their date, so that a pair
whose two sides fall in different months is still found; the period is applied to the result rows.

Field names (the public API documentation of both systems): TimeLog ``GetInvoicesRaw`` (``NetAmount``, ``VATIncluded``,
``Amount`` = total, ``CurrencyAbb``, ``Status`` 0 draft / 1–3 booked, ``Type`` 2 credit note,
``ExternalInvoiceNo``/``ExternalInvoiceStatus`` set by TimeLog's built-in integration) and ``GetInvoiceLinesRaw``
(``Quantity``, ``Rate``, ``Discount``, ``Amount``, ``ProductNo``); Uniconta ``DebtorInvoiceClient``
(``NetAmount``, ``VatAmount``, ``TotalAmount``, blank ``Currency`` = the company's own), ``DebtorInvoiceLines``
(``InvoiceQty``, ``SalesPrice``, ``DiscountPct``, ``InvoiceNetAmount``), ``DebtorOrderClient`` and
``DebtorOrderLineClient`` (``Qty``, ``Price``, ``DiscountPct``, ``Total``).

Staged payloads are read with :mod:`tlsync.staging.read` (exact Decimals; the tenants as :class:`Tenant` values:
the site, ``<site>:<legal entity>``, the company), the links through :mod:`tlsync.linking.store`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Engine, select

from tlsync.ledger import DONE, IN_FLIGHT, Ledger, LedgerEntry
from tlsync.ledger.domains import Domain
from tlsync.linking.store import linked_customers
from tlsync.money import line_total
from tlsync.settings.models import LegalEntitySettings
from tlsync.staging.read import StagedPayloadError, Tenant, loads, rows, staged_times, tenants
from tlsync.staging.read import payload as staged_payload
from tlsync.staging.tables import quarantine

from .model import DRAFT, POSTED, TIMELOG, UNICONTA, Doc, Line

MARKER_FIELD = "CustomsNo"     # where the invoice transfer (issue 6) marks a draft with the TimeLog GUID
INVOICE_DOMAIN = Domain.INVOICE     # the invoice transfer's ledger domain (issue 6): key = TimeLog invoice GUID
BOOKED_STATUSES = {1, 2, 3}    # TimeLog invoice Status: 0 draft, 1 booked, 2 overdue, 3 paid
CREDIT_NOTE_TYPE = 2
D0 = Decimal(0)
RELEVANT_QUARANTINE = ("timelog.invoices", "timelog.invoice_lines", "uniconta.invoices", "uniconta.invoice_lines",
                       "uniconta.orders", "uniconta.order_lines", "timelog.customers", "uniconta.debtors")


def money(value: Any) -> Decimal | None:
    """API money (JSON number, XML text with 4 decimals, ``None``) → ``Decimal`` (never via float)."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        return None


def day(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


def text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def number_text(value: Any) -> str:
    """``5001`` / ``5001.0`` / ``"5001"`` → ``"5001"`` (Uniconta numbers arrive as JSON numbers)."""
    s = text(value)
    if s.endswith(".0"):
        s = s[:-2]
    return s


def _payloads(engine: Engine, entity: str, tenant: Tenant) -> list[dict]:
    return [row.payload for row in rows(engine, entity, tenant)]


@dataclass
class Sources:
    """Everything one reconciliation reads, indexed the way pairing and hints use it."""
    timelog: list[Doc]
    posted: list[Doc]
    drafts: list[Doc]
    ledger: dict[str, LedgerEntry]                           # TimeLog GUID → the invoice transfer's ledger entry
    linked_debtor: dict[str, str]                            # TimeLog customer ID → linked Uniconta debtor
    debtor_names: dict[str, str]
    items: set[str]
    quarantine: list[dict]
    home_currency: str
    customers: dict[str, dict] = field(default_factory=dict)


def site_code(engine: Engine, legal_entity_id: int) -> str:
    """The TimeLog site code the legal entity's invoices are staged under (tenant ``<site>:<legal entity>``), else
    the site the legal entities are staged under, else ``SIMSITE``."""
    found = (tenants(engine, "timelog.invoices", Tenant.of_legal_entity(legal_entity_id))
             or tenants(engine, "timelog.legal_entities", Tenant.site_only()))
    return found[0].code if found else "SIMSITE"


def _timelog_docs(engine: Engine, site: Tenant, legal_entity_id: int
                  ) -> tuple[list[Doc], dict[str, dict], dict[str, tuple[dict, list[dict]]]]:
    """The booked TimeLog invoices as docs, the staged customers, and each doc's raw invoice and line payloads
    (by doc key, lines in the docs' order) for :func:`_sent_items`."""
    tenant = site.for_legal_entity(legal_entity_id)
    raw: dict[str, tuple[dict, list[dict]]] = {}
    customers = {text(c.get("ID")): c for c in _payloads(engine, "timelog.customers", site)}
    lines_by_invoice: dict[str, list[dict]] = defaultdict(list)
    for ln in _payloads(engine, "timelog.invoice_lines", tenant):
        lines_by_invoice[text(ln.get("InvoiceID"))].append(ln)
    docs = []
    for inv in _payloads(engine, "timelog.invoices", tenant):
        try:
            status = int(text(inv.get("Status")) or -1)
        except ValueError:
            status = -1
        if status not in BOOKED_STATUSES:
            continue   # drafts in TimeLog are not invoices yet (rule T2: only booked invoices are transferred)
        rid = text(inv.get("ID"))
        raw_lines = sorted(lines_by_invoice.get(rid, []), key=lambda ln: int(text(ln.get("ID")) or 0))
        lines = [Line(number=i, item=text(ln.get("ProductNo")), text=text(ln.get("Text")),
                      qty=money(ln.get("Quantity")) or D0, price=money(ln.get("Rate")) or D0,
                      discount_pct=money(ln.get("Discount")) or D0, net=money(ln.get("Amount")) or D0)
                 for i, ln in enumerate(raw_lines, start=1)]
        cid = text(inv.get("CustomerID"))
        cust = customers.get(cid, {})
        kind = "credit note" if text(inv.get("Type")) == str(CREDIT_NOTE_TYPE) else "invoice"
        # key: the ledger's key for the invoice transfer is the GUID in lower case (issue 6)
        raw[text(inv.get("GUID")).lower() or rid] = (inv, raw_lines)
        docs.append(Doc(
            system=TIMELOG, key=text(inv.get("GUID")).lower() or rid, number=text(inv.get("InvoiceNumber")),
            status="booked", kind=kind, date=day(inv.get("InvoiceDate")), party=cid,
            party_no=text(inv.get("CustomerNo")) or text(cust.get("No")),
            party_name=text(inv.get("CustomerName")) or text(cust.get("Name")),
            currency=text(inv.get("CurrencyAbb")).upper(), net=money(inv.get("NetAmount")),
            vat=money(inv.get("VATIncluded")), total=money(inv.get("Amount")), lines=lines,
            external_no=number_text(inv.get("ExternalInvoiceNo")),
            external_status=text(inv.get("ExternalInvoiceStatus")),
            ignored_in_source=text(inv.get("IsIgnoredWhenTransfer")).lower() in ("true", "1"), record_id=rid))
    return docs, customers, raw


SENT_STATES = (DONE, IN_FLIGHT)   # the ledger states in which tlsync has written (or is writing) the draft


def _sent_items(engine: Engine, tenant: Tenant, docs: list[Doc], raw: dict[str, tuple[dict, list[dict]]],
                ledger: dict[str, LedgerEntry], settings: LegalEntitySettings | None) -> None:
    """Set ``Line.sent_item`` on the lines of the invoices tlsync transferred: the item it put on each draft line.

    The transfer does not take the line's ``ProductNo`` as it is: the default items (rules I1–I4; e.g. time by
    task type, fixed price = one specific item for lines without one) may choose another. The ledger's ``items``
    (one per line, when the transfer recorded them) are what was sent; otherwise they are derived the way the
    transfer derives them — :meth:`tlsync.items.ItemResolver.from_staging` with the legal entity's settings, on
    the staged lines with their details. Without settings nothing is derived (every line "on the line")."""
    from tlsync.settings.models import OnLine

    need: list[Doc] = []
    for doc in docs:
        entry = ledger.get(doc.key)
        if entry is None or entry.state not in SENT_STATES or not entry.target_key or not doc.lines:
            continue
        recorded = entry.details.get("items")
        if isinstance(recorded, list) and len(recorded) == len(doc.lines):
            for line, item in zip(doc.lines, recorded):
                line.sent_item = text(item)
        else:
            need.append(doc)
    if not need or settings is None:
        return
    defaults = settings.item_numbers
    if all(isinstance(getattr(defaults, k), OnLine) for k in type(defaults).model_fields):
        return                                          # every kind "on the line": the sent item is the line's own
    from tlsync.items.resolver import ItemResolver, attach_details

    resolver = ItemResolver.from_staging(engine, settings)
    ids = sorted({int(d.record_id) for d in need if d.record_id.isdigit()})
    details: dict[str, list[dict]] = defaultdict(list)
    for row in rows(engine, "timelog.invoice_line_details", tenant, ids, by="invoice_id"):
        details[text(row.payload.get("InvoiceID"))].append(row.payload)
    for doc in need:
        invoice, lines = raw[doc.key]
        lines = [dict(ln) for ln in lines]
        attach_details(lines, details.get(doc.record_id, ()))
        for line, payload in zip(doc.lines, lines):
            line.sent_item = resolver.resolve(payload, invoice).item or ""


def _line_net(qty: Decimal, price: Decimal, pct: Decimal) -> Decimal:
    """A line's net amount when Uniconta left it blank: the one rounding rule of the product (half-up to the øre,
    :func:`tlsync.money.line_total`), not a copy of it."""
    return line_total(qty, price, pct)


def _uniconta_lines(engine: Engine, entity: str, tenant: Tenant, *, doc: str, qty: str, price: str,
                    net: str) -> dict[str, list[Line]]:
    """Staged Uniconta invoice or order lines by document number, in ``LineNumber`` order and numbered from 1;
    the fields differ between the two (``InvoiceQty``/``SalesPrice``/``InvoiceNetAmount`` on posted invoice lines,
    ``Qty``/``Price``/``Total`` on order lines); a blank net amount is computed from quantity, price and discount."""
    raw_by_doc: dict[str, list[dict]] = defaultdict(list)
    for ln in _payloads(engine, entity, tenant):
        raw_by_doc[number_text(ln.get(doc))].append(ln)
    out: dict[str, list[Line]] = {}
    for no, raw in raw_by_doc.items():
        lines = out[no] = []
        for i, ln in enumerate(sorted(raw, key=lambda ln: money(ln.get("LineNumber")) or D0), start=1):
            q, p, pct = money(ln.get(qty)) or D0, money(ln.get(price)) or D0, money(ln.get("DiscountPct")) or D0
            amount = money(ln.get(net))
            lines.append(Line(number=i, item=text(ln.get("Item")), text=text(ln.get("Text")), qty=q, price=p,
                              discount_pct=pct, net=amount if amount is not None else _line_net(q, p, pct)))
    return out


def _uniconta_docs(engine: Engine, company_id: int, home: str, names: dict[str, str]) -> tuple[list[Doc], list[Doc]]:
    tenant = Tenant.company(company_id)
    invoice_lines = _uniconta_lines(engine, "uniconta.invoice_lines", tenant, doc="InvoiceNumber", qty="InvoiceQty",
                                    price="SalesPrice", net="InvoiceNetAmount")
    posted = []
    for inv in _payloads(engine, "uniconta.invoices", tenant):
        no = number_text(inv.get("InvoiceNumber"))
        lines = list(invoice_lines.get(no, ()))
        total = money(inv.get("TotalAmount"))
        account = text(inv.get("Account"))
        posted.append(Doc(
            system=UNICONTA, key=no, number=no, status=POSTED,
            kind="credit note" if (inv.get("CreditnoteDate") or (total is not None and total < 0)) else "invoice",
            date=day(inv.get("Date")), party=account, party_no=account,
            party_name=text(inv.get("Name")) or names.get(account, ""),
            currency=(text(inv.get("Currency")) or home).upper(), net=money(inv.get("NetAmount")),
            vat=money(inv.get("VatAmount")), total=total, lines=lines,
            order_number=number_text(inv.get("OrderNumber")), marker=text(inv.get(MARKER_FIELD)).lower()))
    order_lines = _uniconta_lines(engine, "uniconta.order_lines", tenant, doc="OrderNumber", qty="Qty", price="Price",
                                  net="Total")
    drafts = []
    for order in _payloads(engine, "uniconta.orders", tenant):
        no = number_text(order.get("OrderNumber"))
        lines = list(order_lines.get(no, ()))
        account = text(order.get("Account"))
        net = sum((ln.net for ln in lines), D0)
        drafts.append(Doc(
            system=UNICONTA, key=no, number=no, status=DRAFT, kind="credit note" if net < 0 else "invoice",
            date=day(order.get("InvoiceDate")) or day(order.get("Created")), party=account, party_no=account,
            party_name=text(order.get("Name")) or names.get(account, ""),
            currency=(text(order.get("Currency")) or home).upper(), net=net, vat=None, total=None, lines=lines,
            order_number=no, marker=text(order.get(MARKER_FIELD)).lower()))
    return posted, drafts


def _home_currency(engine: Engine, company_id: int, site: Tenant, legal_entity_id: int) -> str:
    """The company's own currency (what a blank Uniconta ``Currency`` means): the staged company's ``Currency``,
    else the TimeLog legal entity's ``CurrencyISO``, else DKK."""
    for entity, tenant, key, fld in (("uniconta.companies", Tenant.company(company_id), int(company_id), "Currency"),
                                     ("timelog.legal_entities", site, int(legal_entity_id), "CurrencyISO")):
        found = staged_payload(engine, entity, tenant, key)
        cur = text((found or {}).get(fld)).upper()
        if cur:
            return cur
    return "DKK"


def _quarantine(engine: Engine, of: set[Tenant]) -> list[dict]:
    """The rows the quality gate refused for these tenants — the latest refusal per record, and only while the
    record has not been staged since (a fixed record leaves the list)."""
    q = (select(quarantine).where(quarantine.c.tenant.in_(sorted(str(t) for t in of)),
                                  quarantine.c.entity.in_(RELEVANT_QUARANTINE))
         .order_by(quarantine.c.id))
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    with engine.connect() as conn:
        for m in conn.execute(q).mappings():
            latest[(m["entity"], m["tenant"], m["natural_key"] or f"#{m['id']}")] = dict(m)
    keys: dict[tuple[str, str], list[str]] = defaultdict(list)
    for entity, tenant, key in latest:
        keys[(entity, tenant)].append(key)
    staged = {(entity, tenant): staged_times(engine, entity, Tenant.parse(tenant), found)
              for (entity, tenant), found in keys.items()}
    out: list[dict[str, Any]] = []
    for (entity, tenant, key), r in latest.items():
        staged_at = staged[(entity, tenant)].get(key)
        if staged_at is not None and r["quarantined_at"] is not None and staged_at >= r["quarantined_at"]:
            continue
        try:
            r["payload_dict"] = loads(r["payload"])   # the refused record as it came, exact numbers
        except (TypeError, StagedPayloadError):
            r["payload_dict"] = {}
        out.append(r)
    return sorted(out, key=lambda r: (r["entity"], str(r["natural_key"])))


def load(engine: Engine, legal_entity_id: int, company_id: int, site: str,
         settings: LegalEntitySettings | None = None) -> Sources:
    """``site``: the TimeLog site code (:func:`site_code`). ``settings``: the legal entity's integration settings,
    for the items tlsync sent (:func:`_sent_items`)."""
    site_tenant, company = Tenant(site), Tenant.company(company_id)
    home = _home_currency(engine, company_id, site_tenant, legal_entity_id)
    names = {text(p.get("Account")): text(p.get("Name")) for p in _payloads(engine, "uniconta.debtors", company)}
    items = {text(p.get("Item")) for p in _payloads(engine, "uniconta.items", company)}
    tl, customers, raw = _timelog_docs(engine, site_tenant, legal_entity_id)
    posted, drafts = _uniconta_docs(engine, company_id, home, names)
    ledger = Ledger(engine).by_key(INVOICE_DOMAIN, legal_entity_id)
    _sent_items(engine, site_tenant.for_legal_entity(legal_entity_id), tl, raw, ledger, settings)
    linked = {text(c): text(d) for c, d in linked_customers(engine, legal_entity_id).items() if text(c)}
    return Sources(timelog=tl, posted=posted, drafts=drafts, ledger=ledger, linked_debtor=linked,
                   debtor_names=names, items=items,
                   quarantine=_quarantine(engine, {site_tenant.for_legal_entity(legal_entity_id), company,
                                                   site_tenant}),
                   home_currency=home, customers=customers)
