"""What the default-item resolver (:mod:`.resolver`, rules I1–I5) knows about both systems, and how it is read
from staging once.

:class:`ReferenceData` holds the company's Uniconta items (and whether each is blocked) and GL accounts, and the
site's TimeLog projects (type, category), tasks (task type), expenses (expense type, by expense and by the invoice
line it was invoiced on), expense types, hourly rates and the names of every dimension value — keyed by the
APIs' own ids as strings. :func:`load_reference` fills it from staging; tests may build one by hand.
:func:`staged_invoice_lines` is how a credit note's line finds the line it credits (its invoice's staged lines with
their details, :func:`attach_details`); :func:`staged_invoice_lines_many` reads those of many invoices at once.

Reading staging goes through :mod:`tlsync.staging.read` (issue 12, item 5): the company's data under its tenant
(:meth:`~tlsync.staging.read.Tenant.company`), TimeLog's reference data under the site tenant, whose code the
settings do not know (:meth:`~tlsync.staging.read.Tenant.site_only`), and a legal entity's invoice lines under
``<site>:<legal entity>`` (:meth:`~tlsync.staging.read.Tenant.of_legal_entity`).

Decisions recorded:

- Every staged row is read (of an id staged under several site tenants, the last read wins, as before), in
  natural-key order — the order :mod:`tlsync.staging.read` gives on every database (the hand-written reader before
  it took the database's own order). Non-integer JSON numbers come back as exact ``Decimal``; the value readers
  here (:func:`_s`, :func:`_dec`) give the same text and number for them as for the floats read before.
- The value readers are total: Reporting serves every value as text, so a blank or odd value is "unknown"
  (``None``), never an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Engine

from tlsync.settings.models import LegalEntitySettings
from tlsync.staging.read import Payload, Tenant, Tenants, rows, tenants

DETAILS_KEY = "_Details"     # a line's GetInvoiceLineDetailsRaw payloads (attach_details)


@dataclass
class ReferenceData:
    """What the resolver knows about both systems, keyed by the API's own ids as strings.

    Filled from staging by :func:`load_reference` (through :meth:`ItemResolver.from_staging
    <tlsync.items.resolver.ItemResolver.from_staging>`); tests may build one by hand."""

    company: str = "?"                                              # Uniconta company id (for messages)
    legal_entity_id: int | None = None                              # TimeLog legal entity (hourly rates)
    items: dict[str, bool] = field(default_factory=dict)           # InvItemClient.Item → Blocked
    item_names: dict[str, str] = field(default_factory=dict)       # InvItemClient.Item → Name
    gl_accounts: set[str] | None = None                             # GLAccountClient.Account (None: not staged)
    projects: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)  # ID → (type, category)
    tasks: dict[str, str | None] = field(default_factory=dict)     # task ID → TaskTypeID
    expenses: dict[str, str] = field(default_factory=dict)         # expense ID → ExpenseTypeID
    expense_by_line: dict[str, str] = field(default_factory=dict)  # InvoiceLineId → ExpenseTypeID
    expense_types: dict[str, dict] = field(default_factory=dict)   # ExpenseTypeID → REST payload
    hourly_rates: list[dict] = field(default_factory=list)         # GetHourlyRatesRaw payloads
    names: dict[str, dict[str, str]] = field(default_factory=dict) # dimension → id → name


# -- reading staged values ----------------------------------------------------------------------------------

def _s(value: Any) -> str | None:
    """A staged value as a trimmed string; blank → None (Reporting serves every value as text)."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _int(value: Any) -> int | None:
    if type(value) is int:
        return value
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _dec(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value).strip()).normalize() if value is not None and str(value).strip() else None
    except InvalidOperation:
        return None


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes")


def attach_details(lines: Iterable[dict], details: Iterable[Mapping]) -> None:
    """Put each line's ``GetInvoiceLineDetailsRaw`` payloads under ``line["_Details"]`` (in place), so that
    :meth:`ItemResolver.line_kind <tlsync.items.resolver.ItemResolver.line_kind>` and the task-type /
    expense-type dimensions can see them. Lines without details get an empty list."""
    by_line: dict[str, list[Mapping]] = {}
    for d in details:
        by_line.setdefault(_s(d.get("InvoiceLineID")) or "", []).append(d)
    for line in lines:
        line[DETAILS_KEY] = by_line.get(_s(line.get("ID")) or "", [])


# -- reading staging ----------------------------------------------------------------------------------------

def _payloads(engine: Engine, entity: str, tenant: Tenants) -> list[Payload]:
    """Every staged payload of ``entity`` under ``tenant`` (a tenant or a scope of tenants)."""
    return [r.payload for r in rows(engine, entity, tenant)]


def _by_id(payloads: Iterable[Payload], id_field: str = "ID") -> Iterator[tuple[str, Payload]]:
    """``(id, payload)`` of the payloads that have an id."""
    for p in payloads:
        key = _s(p.get(id_field))
        if key is not None:
            yield key, p


def staged_invoice_lines(engine: Engine, legal_entity_id: int) -> Callable[[str], list[dict] | None]:
    """``invoice_lines(invoice_id)`` on staging: the legal entity's staged lines of one invoice (tenant
    ``<site>:<legal entity>``), each with its line details under ``_Details`` — two indexed reads per credited
    invoice, and only for credit notes."""
    scope = Tenant.of_legal_entity(legal_entity_id)
    exact: list[Tenant] = []     # the legal entity's tenants, named: an index probe on (tenant, invoice_id) each

    def invoice_lines(invoice_id: str) -> list[dict] | None:
        try:
            wanted = int(invoice_id)
        except (TypeError, ValueError):
            return None
        if not exact:
            exact.extend(tenants(engine, "timelog.invoice_lines", scope))
        lines = [r.payload for t in exact for r in rows(engine, "timelog.invoice_lines", t, [wanted], by="invoice_id")]
        if not lines:
            return None
        details = [r.payload for t in exact
                   for r in rows(engine, "timelog.invoice_line_details", t, [wanted], by="invoice_id")]
        attach_details(lines, details)
        return sorted(lines, key=lambda ln: _int(ln.get("ID")) or 0)

    return invoice_lines


def staged_invoice_lines_many(engine: Engine, legal_entity_id: int) -> Callable[[Iterable[str]], dict[str, list[dict]]]:
    """``invoice_lines_many(invoice_ids)`` on staging: :func:`staged_invoice_lines` of many invoices at once —
    ``{invoice id: its lines}`` (an invoice without staged lines is left out), each list equal to what
    :func:`staged_invoice_lines` gives for that id. Two reads per :data:`~tlsync.staging.read.IN_CHUNK` invoices and
    tenant instead of two per invoice: the invoice transfer reads the credited invoices of a whole batch's credit
    notes this way (:meth:`ItemResolver.prefetch_credited <tlsync.items.resolver.ItemResolver.prefetch_credited>`;
    at M, 506 credited invoices read one by one were 1,012 reads, each with its own connection check-out)."""
    scope = Tenant.of_legal_entity(legal_entity_id)
    exact: list[Tenant] = []

    def invoice_lines_many(invoice_ids: Iterable[str]) -> dict[str, list[dict]]:
        asked: dict[int, list[str]] = {}
        for invoice_id in invoice_ids:
            try:
                asked.setdefault(int(invoice_id), []).append(invoice_id)
            except (TypeError, ValueError):
                continue
        if not asked:
            return {}
        if not exact:
            exact.extend(tenants(engine, "timelog.invoice_lines", scope))
        lines: dict[int, list[dict]] = {}
        details: dict[int, list[dict]] = {}
        for entity, into in (("timelog.invoice_lines", lines), ("timelog.invoice_line_details", details)):
            for t in exact:
                for r in rows(engine, entity, t, list(asked), by="invoice_id"):
                    into.setdefault(_int(r.payload.get("InvoiceID")) or 0, []).append(r.payload)
        out: dict[str, list[dict]] = {}
        for number, found in lines.items():
            if number not in asked:
                continue
            attach_details(found, details.get(number, ()))
            found.sort(key=lambda ln: _int(ln.get("ID")) or 0)
            for invoice_id in asked[number]:
                out[invoice_id] = found
        return out

    return invoice_lines_many


def load_reference(engine: Engine, le: LegalEntitySettings) -> ReferenceData:
    """Everything the resolver needs, read once from staging: the company's Uniconta items and GL accounts, and
    the site's TimeLog projects, tasks, dimensions and expenses."""
    company = Tenant.company(le.uniconta_company_id) if le.uniconta_company_id is not None else None
    items = _payloads(engine, "uniconta.items", company) if company is not None else []
    accounts = _payloads(engine, "uniconta.gl_accounts", company) if company is not None else []
    site = Tenant.site_only()
    ref = ReferenceData(
        company=le.tenant or "(none chosen)", legal_entity_id=le.legal_entity_id,
        items={item: _truthy(i.get("Blocked")) for item, i in _by_id(items, "Item")},
        item_names={item: str(i.get("Name") or "") for item, i in _by_id(items, "Item")},
        gl_accounts={account for account, _ in _by_id(accounts, "Account")} or None,
    )
    for pid, p in _by_id(_payloads(engine, "timelog.projects", site)):
        ref.projects[pid] = (_s(p.get("ProjectTypeID")), _s(p.get("ProjectCategoryID")))
    for tid, t in _by_id(_payloads(engine, "timelog.tasks", site)):
        ref.tasks[tid] = _s(t.get("TaskTypeID"))
    for e in _payloads(engine, "timelog.expenses", site):
        type_id = _s(e.get("ExpenseTypeID"))
        if type_id is None:
            continue
        expense_id, line_id = _s(e.get("ID")), _s(e.get("InvoiceLineId"))
        if expense_id is not None:
            ref.expenses[expense_id] = type_id
        if line_id is not None:
            ref.expense_by_line[line_id] = type_id
    for type_id, et in _by_id(_payloads(engine, "timelog.expense_types", site), "ExpenseTypeID"):
        ref.expense_types[type_id] = et
    ref.hourly_rates = _payloads(engine, "timelog.hourly_rates", site)
    for dimension, entity, id_field, name_field in (
            ("project_type", "timelog.project_types", "ID", "Name"),
            ("project_category", "timelog.project_categories", "ID", "Name"),
            ("task_type", "timelog.task_types", "ID", "Name"),
            ("hourly_rate", "timelog.hourly_rates", "ID", "Name"),
            ("expense_type", "timelog.expense_types", "ExpenseTypeID", "ExpenseTypeName")):
        named = ref.hourly_rates if entity == "timelog.hourly_rates" else \
            (list(ref.expense_types.values()) if entity == "timelog.expense_types" else
             _payloads(engine, entity, site))
        ref.names[dimension] = {key: str(r.get(name_field) or "") for key, r in _by_id(named, id_field)}
    return ref
