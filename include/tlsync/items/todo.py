"""Rule U2 as an external tool can honestly do it: the item-number changes to make **by hand** in TimeLog.

TimeLog's public API has no product-number write — REST v1 has only ``GET /product`` and the Transactional
``FinancialService`` only reads product numbers (issue 13, evidence 1). Outside the simulator tlsync therefore never
creates, activates, renames or deactivates a product number: it keeps a list of what the administrator should do in
TimeLog's own screens, and checks that list against TimeLog's ``GET /product`` as the nightly sync stages it
(staging ``timelog.products``) — an item TimeLog now has as wanted drops off the list the next night.

The list (:func:`todo_rows`; on screen ``tlsync items todo``, as Excel ``tlsync items todo --out FILE.xlsx``, on the
items page through the same function) is made of:

1. **the writes that could not be made** — the administrator's decisions (``tlsync items activate/deactivate``,
   ``import-decisions``, the items page) and the nightly items step's plan (Uniconta renamed, blocked or renumbered
   an item): :func:`record_by_hand` keeps each one in the sync ledger, domain ``product``, key = item number,
   state ``review`` (a person acts), action ``by_hand``, what to do in ``details``;
2. **the items invoices wait for** — an invoice with an item that is not a TimeLog product number is held back
   from transfer with that reason (:meth:`TimeLogProducts.hold_reason`; ledger domain ``invoice``, state
   ``failed``, ``details.missing_items``; ``tlsync invoicing list`` shows it). Once the item exists in TimeLog the
   next night's transfer sends the invoice: failed invoices are built again every run.

Decisions recorded:

- An invoice is held only for an item that is **not a product number at all** in its legal entity. An *inactive*
  product number exists: a posted invoice keeps the item numbers it was posted with, also after the item was
  deactivated (rule U2).
- The hold and the list use the **staged** product list (the nightly sync's one ``GET /product``): no extra call.
  With no product numbers staged at all (the nightly sync has not run), nothing is held.
- A wish met by TimeLog is closed by :func:`settle` (ledger ``done``, action ``found_in_timelog``, with TimeLog's
  state as written), which the nightly items step calls; the list itself never writes.
- Product numbers of another legal entity do not count; one without a legal entity counts for every legal entity
  (as :class:`~tlsync.items.products.ItemNumbers` reads them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import Engine

from tlsync.clients.timelog.models import Product
from tlsync.excel import TEXT_FORMAT, column_formats, freeze_and_filter, neutralise, save, write_header
from tlsync.ledger import DONE, FAILED, REVIEW, Ledger
from tlsync.ledger.domains import Domain
from tlsync.settings.models import LegalEntitySettings
from tlsync.staging.read import Tenant, rows

from .products import DOMAIN, NOT_IN_API, ItemNumbers, staged_items

INVOICE_DOMAIN = Domain.INVOICE
TODO = {"create": "create the product number and make it active", "activate": "make the product number active",
        "rename": "rename the product number", "deactivate": "make the product number inactive"}


def staged_products(engine: Engine, legal_entity_id: int) -> dict[str, Product] | None:
    """TimeLog's product numbers of a legal entity by number, as last staged from ``GET /product`` (site-wide
    tenant); ``None`` when none are staged at all (not known yet)."""
    payloads = [row.payload for row in rows(engine, "timelog.products", Tenant.site_only())]
    if not payloads:
        return None
    mine = (None, 0, int(legal_entity_id))
    out: dict[str, Product] = {}
    for raw in payloads:
        try:
            p = Product.model_validate(raw)
        except ValueError:
            continue
        if p.product_number and p.product_number.strip() and p.legal_entity_id in mine:
            out[p.product_number.strip()] = p
    return out


class TimeLogProducts:
    """Which items are TimeLog product numbers of one legal entity (the transfer's check, rule U2)."""

    def __init__(self, le: LegalEntitySettings, numbers: Iterable[str]) -> None:
        self.le = le
        self.numbers = frozenset(numbers)

    @classmethod
    def from_staging(cls, engine: Engine, le: LegalEntitySettings) -> TimeLogProducts | None:
        products = staged_products(engine, le.legal_entity_id)
        return None if products is None else cls(le, products)

    def missing(self, items: Iterable[str | None]) -> list[str]:
        """The items (in order, once each) that are not product numbers in TimeLog; blanks (GL-account lines)
        are not items."""
        out: dict[str, None] = {}
        for item in items:
            item = (item or "").strip()
            if item and item not in self.numbers:
                out.setdefault(item, None)
        return list(out)

    def hold_reason(self, what: str, missing: Sequence[str]) -> str:
        listed = ", ".join(repr(i) for i in missing)
        one = len(missing) == 1
        return (f"{what}: held back — {'item' if one else 'items'} {listed} "
                f"{'is not a product number' if one else 'are not product numbers'} in TimeLog (legal entity "
                f"{self.le.legal_entity_id}); {NOT_IN_API}, so create {'it' if one else 'them'} there by hand "
                f"(`tlsync items todo` lists {'it' if one else 'them'}) and the invoice goes with the next transfer "
                f"after the nightly sync (rule U2)")


def _met(todo: str, name: str, p: Product | None) -> bool:
    if todo in ("create", "activate"):
        return p is not None and bool(p.is_active)
    if todo == "deactivate":
        return p is None or not p.is_active
    return p is not None and (p.product_name or "") == name            # rename


def settle(ledger: Ledger, le: LegalEntitySettings, products: Mapping[str, Product]) -> list[str]:
    """Close the by-hand wishes TimeLog now meets (ledger ``done``, action ``found_in_timelog``); the item
    numbers closed."""
    closed = []
    for e in ledger.entries(DOMAIN, le.legal_entity_id, states=[REVIEW]):
        p = products.get(e.source_key)
        if e.details.get("todo") and _met(e.details["todo"], str(e.details.get("name") or ""), p):
            ledger.transition(DOMAIN, le.legal_entity_id, e.source_key, DONE, action="found_in_timelog",
                              target_key=str(p.product_number_id) if p is not None else None,
                              before=None, after=ItemNumbers._state(p))
            closed.append(e.source_key)
    return closed


@dataclass(frozen=True)
class TodoRow:
    """One change to make by hand in TimeLog."""

    item: str
    todo: str                 # create | activate | rename | deactivate
    name: str                 # the item's name in Uniconta (the product number's name to give it)
    timelog_state: str        # not in TimeLog | inactive | active
    product_id: int | None
    held_invoices: int        # invoices held back until the item exists in TimeLog
    why: str

    @property
    def what(self) -> str:
        return TODO[self.todo] + (f" to {self.name!r}" if self.todo == "rename" else "")


def todo_rows(engine: Engine, le: LegalEntitySettings) -> list[TodoRow]:
    """The item-number changes to make by hand in TimeLog for one legal entity, checked against the staged
    ``GET /product`` (what TimeLog already has as wanted is left out), by item number. Staging and ledger only:
    no call to either system. (The items page shows this list.)"""
    products = staged_products(engine, le.legal_entity_id) or {}
    items, _ = staged_items(engine, le.tenant) if le.tenant else ({}, {})
    ledger = Ledger(engine)
    wanted: dict[str, dict] = {}
    for e in ledger.entries(DOMAIN, le.legal_entity_id, states=[REVIEW]):
        todo, name = e.details.get("todo"), str(e.details.get("name") or "")
        if todo in TODO and not _met(todo, name, products.get(e.source_key)):
            wanted[e.source_key] = {"todo": todo, "name": name, "invoices": 0,
                                    "why": [str(e.details.get("why") or "chosen by the administrator")]}
    held: dict[str, int] = {}
    for e in ledger.entries(INVOICE_DOMAIN, le.legal_entity_id, states=[FAILED]):
        for item in e.details.get("missing_items") or []:
            held[str(item)] = held.get(str(item), 0) + 1
    for item, count in held.items():
        if item in products:                    # it exists now: the next transfer sends those invoices
            continue
        row = wanted.setdefault(item, {"todo": "create", "name": items[item].name if item in items else "",
                                       "invoices": 0, "why": []})
        row["todo"] = "create"
        row["invoices"] = count
        row["why"].append(f"{count} invoice(s) held back until it exists")
    out = []
    for item, row in sorted(wanted.items()):
        p = products.get(item)
        todo = row["todo"]
        if todo in ("create", "activate"):
            todo = "create" if p is None else "activate"
        state = "not in TimeLog" if p is None else ("active" if p.is_active else "inactive")
        out.append(TodoRow(item, todo, row["name"], state, p.product_number_id if p else None, row["invoices"],
                           "; ".join(w for w in row["why"] if w)))
    return out


SHEET = "To do in TimeLog"
COLUMNS = ("Item number", "Name in Uniconta", "To do in TimeLog", "TimeLog state", "TimeLog product ID",
           "Held invoices", "Why")
WIDTHS = (18, 40, 44, 16, 18, 14, 60)


def export_todo(rows: Sequence[TodoRow], path: str | Path) -> Path:
    """The list as an Excel sheet (frozen header, filters, item numbers as text; every text neutralised against
    formula injection)."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    write_header(ws, COLUMNS, WIDTHS)
    for r in rows:
        ws.append([neutralise(r.item), neutralise(r.name), neutralise(r.what), r.timelog_state, r.product_id,
                   r.held_invoices, neutralise(r.why)])
    column_formats(ws, {1: TEXT_FORMAT})
    freeze_and_filter(ws, len(COLUMNS), max(ws.max_row, 2))
    return save(wb, path)
