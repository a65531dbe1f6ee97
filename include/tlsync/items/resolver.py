"""The default-item resolver: which Uniconta item (or GL account) one TimeLog invoice line gets (rules I1–I5).

TimeLog's setup page lets the administrator choose, per *kind* of invoice line, how the item number is found
(``ItemNumberDefaults`` in :mod:`tlsync.settings.models`):

========================  ========================================================================  =====
kind                      principles                                                                rule
========================  ========================================================================  =====
time                      on the line / by project type, project category, task type, hourly rate  I1
                          / one specific item
fixed_price               on the line / by project type or project category / one specific item    I2
expense                   on the line / by expense type / one specific item                         I3
mileage, per_diem,        on the line / one specific item **or a GL account**                      I4
accommodation
========================  ========================================================================  =====

A dimension value without a mapping falls back to the line's own item (``ProductNo``, rule I1). **One specific
item** is the item a line gets when it has none: TimeLog's help page (*Konfiguration af varenumre*) says the
chosen item is "automatisk tilføjet" to the lines and payments as they are made, and "For valgte varenumre kan
ændres på fakturakladden" — the pre-selected items can be changed on the invoice draft. So an item on the booked
line (chosen or changed on the draft, e.g. ``ABON`` on an instalment) stays, and only a line without one gets the
specific item (rules I1–I4; the demo sent ``ABON`` lines as ``FAST`` before). A line that ends
with no item is not transferable and says why (rule I5: without any defaults every line needs an item chosen by
hand, and the integration still works for the lines that have one). An item that does not exist in the
company's Uniconta items, or is blocked there, blocks the line too — Uniconta would refuse the order line.

**What a line is.** The Reporting ``GetInvoiceLinesRaw`` line carries no kind of its own; TimeLog models it in
the line *details* (``GetInvoiceLineDetailsRaw.RegistrationType``: work unit 2, expense 3, travel expense 4,
instalment 6, mileage 16 …). :meth:`ItemResolver.line_kind` therefore looks, in this order, at

1. ``line["_Kind"]`` — an explicit kind a caller already knows (one of :data:`LINE_KINDS`);
2. ``line["_Details"]`` — the line's detail payloads, attached by the caller (:func:`.reference.attach_details`); the
   most frequent registration type decides (rounding and currency differences do not count);
3. the staged expenses (``GetExpensesRaw.InvoiceLineId``): a line an expense was invoiced on is an expense;
4. the line's ``UnitType``: hours/minutes/days → time, km → mileage, anything else → fixed price.

**Credit notes** (``Type`` 2) are classified by the same rules as invoices. TimeLog serves their lines without
details (and no expense names them), so steps 2–3 would find nothing and every expense line would fall to "fixed
price" by its unit. A credit note names the invoice it credits (``RelatesToInvoiceID``): each of its lines is
matched to the line it credits there — same item and unit, then the same text (a partial credit prefixes
"Delkreditering: "), rate and quantity — and takes that line's details and expense registration, so it gets the
kind, task type and expense type, and therefore the item, the credited line got (rules I1–I4). When the credited
invoice is not staged, a line whose item is the product number of an active expense type is an expense (of that
type when only one has it); otherwise the unit decides as above.

Travel expenses (registration type 4/12) are TimeLog's allowances: a text naming lodging (*logi, ophold,
overnatning, hotel, accommodation*) makes them ``accommodation``, every other allowance is ``per_diem``.

The dimension of a line is read the same way: project type and category through the line's ``ProjectID`` (or
the invoice's), task type through the details' ``TaskID``, expense type through the expense registration, and
the hourly rate from ``line["HourlyRateID"]`` when the caller knows it, otherwise inferred from the line's rate,
currency and customer when exactly one TimeLog hourly rate fits (several or none: the line's own item applies).

**Speed.** Everything is read once (:meth:`ItemResolver.from_staging`: the :class:`ReferenceData` of both
systems, read from staging by :mod:`.reference`); :meth:`ItemResolver.resolve` is a few dictionary look-ups and
reuses one :class:`LineItem` per distinct outcome, so a backfill of a million lines spends its time elsewhere
(``bench/items.py`` measures it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from tlsync.settings.models import (
    ExpenseByDimension,
    FixedPriceByDimension,
    GlAccount,
    ItemNumberDefaults,
    LegalEntitySettings,
    OnLine,
    SpecificItem,
    TimeByDimension,
)

from .reference import (
    DETAILS_KEY,
    ReferenceData,
    _dec,
    _int,
    _s,
    _truthy,
    attach_details,
    load_reference,
    staged_invoice_lines,
    staged_invoice_lines_many,
)

__all__ = ["DETAILS_KEY", "DIMENSION_WORDS", "KIND_KEY", "LINE_KINDS", "RULE_OF_KIND", "SETTING_OF_KIND",
           "ItemResolver", "LineItem", "ReferenceData", "attach_details", "load_reference"]

LINE_KINDS = ("time", "fixed_price", "expense", "mileage", "per_diem", "accommodation")
"""What :meth:`ItemResolver.line_kind` answers (``expense`` is the settings' ``expenses`` section)."""

KIND_KEY = "_Kind"
CREDITED_KEY = "_CreditedLineID"      # internal: the ID of the line a credit note's line credits
CREDIT_NOTE_KEY = "_OnCreditNote"     # internal: the line is a credit note's
_CREDITED_KEPT = 10_000               # credited invoices' lines kept by a resolver (then the cache starts over)
CREDIT_NOTE_TYPE = 2                  # GetInvoicesRaw.Type: 1 invoice, 2 credit note

SETTING_OF_KIND = {"time": "time", "fixed_price": "fixed_price", "expense": "expenses", "mileage": "mileage",
                   "per_diem": "per_diem", "accommodation": "accommodation"}
RULE_OF_KIND = {"time": "I1", "fixed_price": "I2", "expense": "I3", "mileage": "I4", "per_diem": "I4",
                "accommodation": "I4"}
DIMENSION_WORDS = {"project_type": "project type", "project_category": "project category",
                   "task_type": "task type", "hourly_rate": "hourly rate", "expense_type": "expense type"}

# GetInvoiceLineDetailsRaw.RegistrationType → kind (None: does not say what the line is); both tables are looked
# up with _int(value), None for a value that is no number (never a key: the default applies)
_REGISTRATION_KIND: dict[int | None, str | None] = {
    0: "fixed_price", 2: "time", 3: "expense", 4: "travel", 6: "fixed_price", 8: None, 9: None, 10: "time",
    11: "expense", 12: "travel", 13: "fixed_price", 15: "fixed_price", 16: "mileage", 17: "fixed_price",
    18: "fixed_price",
}
_UNIT_KIND: dict[int | None, str] = {1: "time", 2: "time", 3: "time", 4: "mileage"}
_LODGING_WORDS = ("logi", "ophold", "overnat", "hotel", "accommodation", "lodging")


@dataclass(frozen=True)
class LineItem:
    """The outcome for one invoice line."""

    item: str | None          # Uniconta InvItem.Item to put on the draft order line
    gl_account: str | None    # for mileage / per diem / accommodation configured to a GL account (I4)
    rule: str                 # which rule decided, readable: "I1 by task type 'Udvikling'", "I1 on the line", …
    blocked: str | None       # None = transferable; else the reason, naming the line, invoice and rule

    @property
    def transferable(self) -> bool:
        return self.blocked is None


class ItemResolver:
    """Resolves the item of invoice lines of one legal entity ↔ Uniconta company (rules I1–I5)."""

    def __init__(self, defaults: ItemNumberDefaults, ref: ReferenceData, *,
                 invoice_lines: Callable[[str], list[dict] | None] | None = None,
                 invoice_lines_many: Callable[[Iterable[str]], dict[str, list[dict]]] | None = None) -> None:
        """``invoice_lines(invoice_id)``: the staged lines of an invoice with their ``_Details`` attached (``None``
        when not staged) — how a credit note finds the lines it credits (:meth:`from_staging` reads staging).
        ``invoice_lines_many(invoice_ids)``: the same for many invoices at once (``{id: lines}``, an invoice
        without lines left out), for :meth:`prefetch_credited`."""
        self.defaults = defaults
        self.ref = ref
        self._invoice_lines = invoice_lines
        self._invoice_lines_many = invoice_lines_many
        self._credited: dict[str, list[dict]] = {}
        self._expense_type_of_item: dict[str, str | None] = {}
        for type_id, payload in ref.expense_types.items():
            item = _s(payload.get("ProductNo"))
            if item and payload.get("IsActive", True) not in (False, "0", "false", "False"):
                # one active expense type with this product number: that type; several: an expense of unknown type
                self._expense_type_of_item[item] = type_id if item not in self._expense_type_of_item else None
        self._cache: dict[tuple, tuple[LineItem, str | None]] = {}
        self._rate_cache: dict[tuple, str | None] = {}
        self._rates: dict[tuple[Decimal, str], list[tuple[str, str | None]]] = {}
        for r in ref.hourly_rates:
            amount, rid = _dec(r.get("Amount")), _s(r.get("ID"))
            if amount is None or rid is None or not _truthy(r.get("IsActive", "1")):
                continue
            le = _s(r.get("LegalEntityID"))
            if le is not None and ref.legal_entity_id is not None and le != str(ref.legal_entity_id):
                continue
            customer = _s(r.get("CustomerID"))
            self._rates.setdefault((amount, (_s(r.get("CurrencyISO")) or "").upper()), []).append(
                (rid, None if customer in (None, "0") else customer))
        self._by_kind = {kind: getattr(defaults, SETTING_OF_KIND[kind]) for kind in LINE_KINDS}

    # -- construction --------------------------------------------------------------------------------------

    @classmethod
    def from_staging(cls, engine: Engine, le: LegalEntitySettings) -> ItemResolver:
        """Read the staged TimeLog dimensions (site-wide tenant) and the company's staged Uniconta items once."""
        ref = load_reference(engine, le)
        return cls(le.item_numbers, ref, invoice_lines=staged_invoice_lines(engine, le.legal_entity_id),
                   invoice_lines_many=staged_invoice_lines_many(engine, le.legal_entity_id))

    # -- the kind of a line --------------------------------------------------------------------------------

    def line_kind(self, line: Mapping, invoice: Mapping | None = None) -> str:
        """``time | fixed_price | expense | mileage | per_diem | accommodation`` (see the module docstring;
        ``invoice``: the line's invoice, which a credit note's line needs to find the line it credits)."""
        return self._kind(self._as_credited(line, invoice))

    def _kind(self, line: Mapping) -> str:
        explicit = line.get(KIND_KEY)
        if explicit in LINE_KINDS:
            return explicit
        details = line.get(DETAILS_KEY)
        if details:
            kinds = [k for k in (_REGISTRATION_KIND.get(_int(d.get("RegistrationType")), "fixed_price")
                                 for d in details) if k is not None]
            if kinds:
                kind = kinds[0]
                if len(kinds) > 1 and any(k != kind for k in kinds):      # mixed details: the majority decides
                    votes = Counter(kinds)
                    kind = max(votes, key=lambda k: (votes[k], -_ORDER.get(k, 9)))
                return self._travel_kind(line, details) if kind == "travel" else kind
        for line_id in (_s(line.get("ID")), line.get(CREDITED_KEY)):
            if line_id is not None and line_id in self.ref.expense_by_line:
                return "expense"
        if line.get(CREDIT_NOTE_KEY) and _s(line.get("ProductNo")) in self._expense_type_of_item:
            return "expense"                       # a credit note's line, its credited line unknown (docstring)
        return _UNIT_KIND.get(_int(line.get("UnitType")), "fixed_price")

    # -- credit notes --------------------------------------------------------------------------------------

    def _as_credited(self, line: Mapping, invoice: Mapping | None) -> Mapping:
        """A credit note's line without details, with the details (and the ID, for the staged expenses) of the
        line it credits attached: classified by the same rules as an invoice's line (module docstring)."""
        if invoice is None or line.get(DETAILS_KEY) or line.get(KIND_KEY) in LINE_KINDS or \
                _int(invoice.get("Type")) != CREDIT_NOTE_TYPE:
            return line
        out = dict(line)
        out[CREDIT_NOTE_KEY] = True
        credited = self._credited_line(line, _s(invoice.get("RelatesToInvoiceID")))
        if credited is not None:
            out[DETAILS_KEY] = credited.get(DETAILS_KEY) or []
            out[CREDITED_KEY] = _s(credited.get("ID"))
        return out

    def prefetch_credited(self, invoices: Iterable[Mapping]) -> None:
        """Read the credited invoices of the credit notes among ``invoices`` (staged payloads) at once into the
        cache :meth:`_credited_line` reads — the same lines it would read one invoice at a time, in two reads per
        500 invoices instead of two per invoice (the invoice transfer calls this once per batch)."""
        if self._invoice_lines_many is None or self._invoice_lines is None:
            return
        wanted = {i for inv in invoices if _int(inv.get("Type")) == CREDIT_NOTE_TYPE
                  and (i := _s(inv.get("RelatesToInvoiceID"))) is not None and i not in self._credited}
        if not wanted:
            return
        if len(self._credited) + len(wanted) > _CREDITED_KEPT:
            self._credited.clear()
        found = self._invoice_lines_many(sorted(wanted))
        for invoice_id in wanted:
            self._credited[invoice_id] = list(found.get(invoice_id) or ())

    def _credited_line(self, line: Mapping, invoice_id: str | None) -> Mapping | None:
        if invoice_id is None or self._invoice_lines is None:
            return None
        if invoice_id not in self._credited:
            if len(self._credited) >= _CREDITED_KEPT:
                self._credited.clear()
            self._credited[invoice_id] = list(self._invoice_lines(invoice_id) or ())
        product, unit = _s(line.get("ProductNo")), _int(line.get("UnitType"))
        text, rate = _s(line.get("Text")) or "", _dec(line.get("Rate"))
        qty = abs(_dec(line.get("Quantity")) or Decimal(0))
        best, best_score = None, -1
        for cand in self._credited[invoice_id]:
            if _s(cand.get("ProductNo")) != product or _int(cand.get("UnitType")) != unit:
                continue
            ctext = _s(cand.get("Text")) or ""
            score = (8 if ctext == text else 4 if ctext and text.endswith(ctext) else 0) \
                + (2 if _dec(cand.get("Rate")) == rate else 0) \
                + (1 if abs(_dec(cand.get("Quantity")) or Decimal(0)) == qty else 0)
            if score > best_score:
                best, best_score = cand, score
        return best

    @staticmethod
    def _travel_kind(line: Mapping, details: Iterable[Mapping]) -> str:
        text = " ".join(str(x.get("Text") or "") for x in (line, *details)).lower()
        return "accommodation" if any(w in text for w in _LODGING_WORDS) else "per_diem"

    # -- dimension values ----------------------------------------------------------------------------------

    def _project(self, line: Mapping, invoice: Mapping | None) -> tuple[str | None, str | None]:
        pid = _s(line.get("ProjectID")) or (_s(invoice.get("ProjectID")) if invoice else None)
        return self.ref.projects.get(pid, (None, None)) if pid else (None, None)

    def _task_type(self, line: Mapping) -> str | None:
        task = _s(line.get("TaskID"))
        if task is None:
            for d in line.get(DETAILS_KEY) or ():
                task = _s(d.get("TaskID"))
                if task is not None:
                    break
        return self.ref.tasks.get(task) if task is not None else None

    def _expense_type(self, line: Mapping) -> str | None:
        explicit = _s(line.get("ExpenseTypeID"))
        if explicit is not None:
            return explicit
        for d in line.get(DETAILS_KEY) or ():
            if _int(d.get("RegistrationType")) in (3, 11):
                found = self.ref.expenses.get(_s(d.get("RegistrationID")) or "")
                if found is not None:
                    return found
        for line_id in (_s(line.get("ID")), line.get(CREDITED_KEY)):
            found = self.ref.expense_by_line.get(line_id or "")
            if found is not None:
                return found
        if line.get(CREDIT_NOTE_KEY) and not line.get(CREDITED_KEY):
            return self._expense_type_of_item.get(_s(line.get("ProductNo")) or "")
        return None

    def _hourly_rate(self, line: Mapping, invoice: Mapping | None) -> str | None:
        explicit = _s(line.get("HourlyRateID"))
        if explicit is not None:
            return explicit
        currency = (_s(invoice.get("CurrencyAbb")) or "").upper() if invoice else None
        customer = _s(invoice.get("CustomerID")) if invoice else None
        key = (_s(line.get("Rate")), currency, customer)
        if key in self._rate_cache:
            return self._rate_cache[key]
        amount = _dec(line.get("Rate"))
        found: str | None = None
        if amount is not None:
            if currency is not None:
                candidates = self._rates.get((amount, currency), [])
            else:
                candidates = [c for (a, _), cs in self._rates.items() if a == amount for c in cs]
            own = [rid for rid, cust in candidates if cust is not None and cust == customer]
            general = [rid for rid, cust in candidates if cust is None]
            pick = own or general
            found = pick[0] if len(pick) == 1 else None
        self._rate_cache[key] = found
        return found

    def _dimension_value(self, dimension: str, line: Mapping, invoice: Mapping | None) -> str | None:
        if dimension == "project_type":
            return self._project(line, invoice)[0]
        if dimension == "project_category":
            return self._project(line, invoice)[1]
        if dimension == "task_type":
            return self._task_type(line)
        if dimension == "hourly_rate":
            return self._hourly_rate(line, invoice)
        return self._expense_type(line)

    # -- resolving -----------------------------------------------------------------------------------------

    def resolve(self, line: Mapping, invoice: Mapping | None = None) -> LineItem:
        """The item (or GL account) of one staged invoice line, the rule that chose it, and — when the line
        cannot be transferred — why (rules I1–I5)."""
        line = self._as_credited(line, invoice)
        kind = self._kind(line)
        default = self._by_kind[kind]
        own = _s(line.get("ProductNo"))
        value = None
        if isinstance(default, (TimeByDimension, FixedPriceByDimension, ExpenseByDimension)):
            value = self._dimension_value(default.dimension, line, invoice)
        result, problem = self._decided(kind, value, own)
        if problem is None:
            return result
        return LineItem(result.item, result.gl_account, result.rule, f"{_where(line, invoice)} {problem}")

    def decide(self, kind: str, value: str | None = None, own: str | None = None) -> LineItem:
        """What a line of ``kind`` (one of :data:`LINE_KINDS`) gets when its dimension value (the one its kind's
        default maps by, if any) is ``value`` and its own item is ``own``: the decision :meth:`resolve` makes once
        it has read those from a line — same code, same cache. ``blocked`` says why without naming a line. The
        items page shows the current rules with it (:mod:`.preview`)."""
        if kind not in LINE_KINDS:
            raise ValueError(f"unknown kind of invoice line {kind!r}; one of {', '.join(LINE_KINDS)}")
        if not isinstance(self._by_kind[kind], (TimeByDimension, FixedPriceByDimension, ExpenseByDimension)):
            value = None
        result, problem = self._decided(kind, value, own)
        return result if problem is None else LineItem(result.item, result.gl_account, result.rule, problem)

    def _decided(self, kind: str, value: str | None, own: str | None) -> tuple[LineItem, str | None]:
        key = (kind, value, own)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = self._decide(kind, self._by_kind[kind], value, own)
        return hit

    def _decide(self, kind: str, default: Any, value: str | None, own: str | None) -> tuple[LineItem, str | None]:
        rule = RULE_OF_KIND[kind]
        label = kind.replace("_", " ")
        if isinstance(default, GlAccount):
            how = f"{rule} GL account {default.account}"
            if self.ref.gl_accounts is not None and default.account not in self.ref.gl_accounts:
                return (LineItem(None, default.account, how, "?"),
                        f"is a {label} line set to GL account {default.account}, which does not exist in Uniconta "
                        f"company {self.ref.company} (rule {rule})")
            return LineItem(None, default.account, how, None), None
        item: str | None
        if isinstance(default, SpecificItem):
            # the pre-selected item of a line that has none; an item on the line stays (module docstring)
            item, how = (own, f"{rule} on the line") if own else (default.item, f"{rule} specific item")
        elif isinstance(default, OnLine):
            item, how = own, f"{rule} on the line"
        else:
            what = DIMENSION_WORDS[default.dimension]
            name = self.ref.names.get(default.dimension, {}).get(value or "")
            shown = f"{what} {name!r}" if name else (f"{what} {value}" if value else f"{what} (unknown)")
            mapped = default.mapping.get(value) if value is not None else None
            if mapped:
                item, how = mapped, f"{rule} by {shown}"
            else:
                item, how = own, f"{rule} {shown} not mapped: on the line"
        if not item:
            return (LineItem(None, None, how, "?"),
                    f"has no item number and no default applies ({label} line, {how}; rule I5)")
        blocked = self.ref.items.get(item)
        if blocked is None:
            return (LineItem(item, None, how, "?"),
                    f"has item {item!r} ({how}), which does not exist in Uniconta company {self.ref.company}; "
                    f"import it or choose another item (rule {rule})")
        if blocked:
            return (LineItem(item, None, how, "?"),
                    f"has item {item!r} ({how}), which is blocked in Uniconta company {self.ref.company}; "
                    f"unblock it or choose another item (rule {rule})")
        return LineItem(item, None, how, None), None

    # -- warnings ------------------------------------------------------------------------------------------

    def warnings(self) -> list[str]:
        """Rule I3: the same item on several (active) expense types breaks the expense import's detection of the
        type. Looks at the item each expense type actually gets: the configured mapping, else the expense type's
        own product number (what TimeLog puts on the line), else the one specific item."""
        default = self.defaults.expenses
        by_item: dict[str, list[str]] = {}
        types = {k: v for k, v in self.ref.expense_types.items() if v.get("IsActive", True) not in (False, "0")}
        if not types and isinstance(default, ExpenseByDimension):
            types = {k: {} for k in default.mapping}
        for type_id, payload in sorted(types.items(), key=lambda kv: (len(kv[0]), kv[0])):
            item: str | None
            if isinstance(default, SpecificItem):
                item = _s(payload.get("ProductNo")) or default.item     # the line's own item stays (I3)
            elif isinstance(default, ExpenseByDimension):
                item = default.mapping.get(type_id) or _s(payload.get("ProductNo"))
            else:
                item = _s(payload.get("ProductNo"))
            if item:
                name = _s(payload.get("ExpenseTypeName"))
                by_item.setdefault(item, []).append(f"{type_id} {name!r}" if name else type_id)
        return [f"item {item!r} is used for several expense types ({', '.join(names)}); the expense import cannot "
                f"tell them apart (rule I3)" for item, names in sorted(by_item.items()) if len(names) > 1]


_ORDER = {k: i for i, k in enumerate(("time", "fixed_price", "expense", "mileage", "travel"))}


def _where(line: Mapping, invoice: Mapping | None) -> str:
    number = (_s(invoice.get("InvoiceNumber")) if invoice else None) or _s(line.get("InvoiceNo"))
    if number:
        return f"line {_s(line.get('ID')) or '?'} of invoice {number}"
    invoice_id = (_s(invoice.get("ID")) if invoice else None) or _s(line.get("InvoiceID")) or "?"
    return f"line {_s(line.get('ID')) or '?'} of invoice ID {invoice_id} (a draft, no number yet)"

