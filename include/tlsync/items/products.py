"""Item-number synchronisation (rule U2): Uniconta items ⇄ TimeLog product numbers of one legal entity.

The administrator sees Uniconta's active items (from staging: the company's ``InvItemClient`` records, blocked
ones left out) with whether each is an active TimeLog product number, and activates the ones TimeLog should
offer on invoice lines. Afterwards :meth:`ItemNumbers.plan_sync` keeps them in line with Uniconta:

* an item **renamed** in Uniconta (its name changed) → the product number's name follows;
* an item **blocked** in Uniconta → the product number is deactivated in TimeLog;
* an item whose **number** was changed in Uniconta (same ``RowId`` staged under a new ``Item``) → the new number
  becomes an active product number and the old one is deactivated.

Nothing here ever touches an invoice line: a posted invoice keeps the item numbers it was posted with, also when
Uniconta changes or blocks the item later (the old product number is deactivated, never deleted or renumbered).

**Outside the simulator nothing is written** (issue 13, evidence 1): TimeLog's public API has no product-number
write (REST v1 has only ``GET /product``), so :meth:`ItemNumbers.apply` records each planned write as one to make
by hand (ledger state ``review``, :mod:`.todo`) and ``tlsync items todo`` lists them, checked against the staged
``GET /product`` of the next night. Every write goes through the sync ledger, domain ``product``, key = item number,
with :meth:`~tlsync.ledger.Ledger.record_change`: a write happens only where TimeLog's current product list (read once,
one call) differs from what is wanted, and what was written is recorded with before/after values. A second
``sync`` therefore writes nothing. A crash between a TimeLog write and its ledger record is harmless: the next run
reads TimeLog's list again and sees the write landed (a create is never repeated for a number that exists).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import Engine

from tlsync.clients.timelog.models import Product, ProductCreate
from tlsync.ledger import REVIEW, Ledger
from tlsync.ledger.domains import Domain
from tlsync.settings.models import LegalEntitySettings
from tlsync.staging.read import Tenant, payloads, staged_times

DOMAIN = Domain.PRODUCT

Action = Literal["create", "activate", "deactivate", "rename"]


@dataclass(frozen=True)
class UnicontaItem:
    item: str
    name: str
    blocked: bool
    row_id: str | None = None


@dataclass(frozen=True)
class ItemStatus:
    """One line of ``list``: a Uniconta item and its TimeLog product number (if any)."""

    item: str
    name: str
    blocked: bool
    product_id: int | None
    product_name: str | None
    active: bool | None          # None = not a TimeLog product number yet

    @property
    def state(self) -> str:
        if self.active is None:
            return "not imported"
        return "active" if self.active else "inactive"


@dataclass(frozen=True)
class Write:
    """One planned TimeLog write, readable as it stands (``str(write)``)."""

    action: Action
    item: str
    name: str
    product_id: int | None = None
    why: str = ""

    def __str__(self) -> str:
        what = {"create": "create and activate product number", "activate": "activate product number",
                "deactivate": "deactivate product number", "rename": "rename product number"}[self.action]
        target = f"{self.item} ({self.name})" if self.action != "rename" else f"{self.item} to {self.name!r}"
        return f"{what} {target}" + (f": {self.why}" if self.why else "")


@dataclass
class Outcome:
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    by_hand: list[str] = field(default_factory=list)   # writes TimeLog's public API cannot make (``items todo``)

    @property
    def ok(self) -> bool:
        return not self.failed


class ItemProblem(ValueError):
    """Items that cannot be (de)activated; ``problems`` holds one readable line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def staged_items(engine: Engine, company: str) -> tuple[dict[str, UnicontaItem], dict[str, str]]:
    """The company's staged Uniconta items, and ``{old number: new number}`` for items whose number changed.

    Staging keeps the latest version of every key it ever saw, so after a renumbering in Uniconta both numbers are
    staged with the same ``RowId``; the one staged last (``staged_at``, then the number) is the item's current
    number. Read with :mod:`tlsync.staging.read` (the payloads, then the staging times of the renumbered ones)."""
    by_row: dict[str, list[tuple[str, str]]] = {}         # RowId → (natural key, number) of each version
    items: dict[str, UnicontaItem] = {}
    tenant = Tenant.company(company)
    for key, p in payloads(engine, "uniconta.items", tenant).items():
        number = str(p.get("Item") or "").strip()
        if not number:
            continue
        row_id = str(p["RowId"]) if p.get("RowId") not in (None, "", 0, "0") else None
        items[number] = UnicontaItem(number, str(p.get("Name") or ""), _truthy(p.get("Blocked")), row_id)
        if row_id is not None:
            by_row.setdefault(row_id, []).append((key, number))
    several = [versions for versions in by_row.values() if len(versions) > 1]
    staged_at = staged_times(engine, "uniconta.items", tenant, [k for versions in several for k, _ in versions])
    renamed: dict[str, str] = {}
    for keyed in several:
        versions = sorted((staged_at[k], n) for k, n in keyed)
        current = versions[-1][1]
        for _, old in versions[:-1]:
            renamed[old] = current
            items.pop(old, None)
    return items, renamed


def _truthy(value) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes")


class ItemNumbers:
    """Item numbers of one legal entity ↔ Uniconta company. ``rest`` is a
    :class:`~tlsync.clients.timelog.RestClient` (or anything with its product methods)."""

    def __init__(self, engine: Engine, le: LegalEntitySettings, rest, *, run_id: str | None = None,
                 actor: str = "tlsync") -> None:
        tenant = le.tenant                      # None exactly when no company is chosen
        if tenant is None:
            raise ItemProblem([f"{le.label}: no Uniconta company chosen, so there are no items to list (rule S1)"])
        self.engine, self.le, self.rest = engine, le, rest
        self.ledger = Ledger(engine, run_id=run_id, actor=actor)
        self.items, self.renamed = staged_items(engine, tenant)
        self._products: dict[str, Product] | None = None

    # -- reading -------------------------------------------------------------------------------------------

    @property
    def writes_available(self) -> bool:
        """Whether TimeLog takes product-number writes here (only the simulator, or a server vouched for): the
        public API has none, so elsewhere :meth:`apply` records each write as one to make by hand (rule U2)."""
        check = getattr(self.rest, "product_writes_available", None)
        return True if check is None else bool(check())

    @property
    def products(self) -> dict[str, Product]:
        """TimeLog's product numbers of this legal entity, by number (read once: one REST call)."""
        if self._products is None:
            mine = (None, 0, self.le.legal_entity_id)
            self._products = {p.product_number.strip(): p for p in self.rest.products()
                              if p.product_number and p.legal_entity_id in mine}
        return self._products

    def status(self, *, include_blocked: bool = False) -> list[ItemStatus]:
        """Uniconta's active items (all, with ``include_blocked``) and their TimeLog product state, by number."""
        out = []
        for number, u in sorted(self.items.items()):
            if u.blocked and not include_blocked:
                continue
            p = self.products.get(number)
            out.append(ItemStatus(number, u.name, u.blocked, p.product_number_id if p else None,
                                  p.product_name if p else None, bool(p.is_active) if p else None))
        return out

    # -- planning ------------------------------------------------------------------------------------------

    def refusal(self, number: str, decision: str) -> str | None:
        """Why item ``number`` cannot be activated (unknown in Uniconta or blocked there) or deactivated (known
        nowhere), rule U2; ``None`` when it can."""
        if decision == "activate":
            u = self.items.get(number)
            if u is None:
                hint = f" (its number is now {self.renamed[number]!r})" if number in self.renamed else ""
                return f"item {number!r} does not exist in Uniconta company {self.le.tenant}{hint} (rule U2)"
            if u.blocked:
                return (f"item {number!r} is blocked in Uniconta company {self.le.tenant}; a blocked item cannot be "
                        f"activated in TimeLog (rule U2)")
        elif decision == "deactivate" and number not in self.products and number not in self.items:
            return (f"item {number!r} is neither a Uniconta item of company {self.le.tenant} nor a TimeLog product "
                    f"number of legal entity {self.le.legal_entity_id} (rule U2)")
        return None

    def plan_activate(self, numbers: Iterable[str]) -> list[Write]:
        """The writes that make each item an active product number; :class:`ItemProblem` (nothing planned) if any
        item is unknown in Uniconta or blocked there."""
        writes, problems = [], []
        for number in _unique(numbers):
            why = self.refusal(number, "activate")
            if why:
                problems.append(why)
                continue
            u = self.items[number]
            p = self.products.get(number)
            if p is None:
                writes.append(Write("create", number, u.name, None, "chosen by the administrator"))
            elif not p.is_active:
                writes.append(Write("activate", number, u.name, p.product_number_id, "chosen by the administrator"))
        if problems:
            raise ItemProblem(problems)
        return writes

    def plan_deactivate(self, numbers: Iterable[str]) -> list[Write]:
        """The writes that make each product number inactive (numbers that are not product numbers, or already
        inactive, need none; a number known nowhere is a problem)."""
        writes, problems = [], []
        for number in _unique(numbers):
            why = self.refusal(number, "deactivate")
            if why:
                problems.append(why)
                continue
            p = self.products.get(number)
            if p is None:
                continue
            if p.is_active:
                name = self.items[number].name if number in self.items else (p.product_name or number)
                writes.append(Write("deactivate", number, name, p.product_number_id, "chosen by the administrator"))
        if problems:
            raise ItemProblem(problems)
        return writes

    def plan_sync(self) -> list[Write]:
        """What keeps TimeLog's product numbers in line with Uniconta (renamed, blocked, renumbered items)."""
        writes: list[Write] = []
        planned_new: set[str] = set()
        for number, p in sorted(self.products.items()):
            if number in self.renamed:
                new = self.renamed[number]
                u = self.items.get(new)
                if p.is_active and u is not None and not u.blocked and new not in planned_new:
                    q = self.products.get(new)
                    why = f"Uniconta changed item number {number} to {new}"
                    if q is None:
                        writes.append(Write("create", new, u.name, None, why))
                    elif not q.is_active:
                        writes.append(Write("activate", new, u.name, q.product_number_id, why))
                    planned_new.add(new)
                if p.is_active:
                    writes.append(Write("deactivate", number, p.product_name or number, p.product_number_id,
                                        f"Uniconta changed the item number to {new}; posted invoices keep {number}"))
                continue
            u = self.items.get(number)
            if u is None:
                continue                          # not (or no longer) a staged Uniconta item: leave it alone
            if u.blocked and p.is_active:
                writes.append(Write("deactivate", number, u.name, p.product_number_id,
                                    "the item is blocked in Uniconta"))
            if u.name and u.name != (p.product_name or ""):
                writes.append(Write("rename", number, u.name, p.product_number_id,
                                    f"renamed in Uniconta (was {p.product_name!r})"))
        return writes

    # -- writing -------------------------------------------------------------------------------------------

    def apply(self, writes: Iterable[Write]) -> Outcome:
        """Carry out planned writes, each recorded in the ledger (domain ``product``, key = item number). A write
        TimeLog refuses is reported and recorded as failed; the others still happen. Holds the legal entity's
        ``product`` write lease meanwhile (:mod:`tlsync.ledger.lease`): a second writer stops with one line."""
        writes = list(writes)
        if not writes:
            return Outcome()
        if not self.writes_available:
            return Outcome(by_hand=record_by_hand(self.ledger, self.le, writes, self.products))
        from tlsync.ledger.lease import write_lease

        with write_lease(self.engine, self.le.legal_entity_id, (DOMAIN,), run_id=self.ledger.run_id,
                         what="given item numbers"):
            return self._apply(writes)

    def _apply(self, writes: list[Write]) -> Outcome:
        out = Outcome()
        le_id = self.le.legal_entity_id
        for w in writes:
            before = self._state(self.products.get(w.item))
            try:
                if w.action == "create":
                    product = self.rest.create_product(ProductCreate(
                        product_number=w.item, product_name=w.name, is_active=True, legal_entity_id=le_id))
                elif w.action == "activate":
                    product = self.rest.activate_product(w.product_id)
                elif w.action == "deactivate":
                    product = self.rest.deactivate_product(w.product_id)
                else:
                    product = self.rest.update_product(w.product_id, product_name=w.name)
            except Exception as exc:  # noqa: BLE001 - every refusal is reported per item, the rest goes on
                product = self._created_meanwhile(w)
                if product is not None:       # someone else (another run, a person) created it: adopt, not fail
                    self.products[w.item] = product
                    self.ledger.record_change(DOMAIN, le_id, w.item, action="adopt", written=self._state(product),
                                              before=before, target_key=str(product.product_number_id))
                    out.done.append(f"{w} (it already existed in TimeLog)")
                    continue
                reason = f"{w}: TimeLog refused it: {exc}"
                out.failed.append(reason)
                self.ledger.transition(DOMAIN, le_id, w.item, "failed", action=w.action, reason=reason[:1000],
                                       before=before)
                continue
            product = product or self._assumed(w)
            self.products[w.item] = product
            written = self._state(product)
            self.ledger.record_change(DOMAIN, le_id, w.item, action=w.action, written=written, before=before,
                                      target_key=str(product.product_number_id))
            out.done.append(str(w))
        return out

    def _created_meanwhile(self, w: Write) -> Product | None:
        """After a refused create: the product number as TimeLog now has it, made active, if it exists."""
        if w.action != "create":
            return None
        try:
            self._products = None
            found = self.products.get(w.item)
            if found is not None and not found.is_active:
                found = self.rest.activate_product(found.product_number_id) or \
                    found.model_copy(update={"is_active": True})
            return found
        except Exception:  # noqa: BLE001 - the original refusal is what gets reported
            return None

    def _assumed(self, w: Write) -> Product:
        """What a write without a response body left behind (the activate/deactivate answer may be empty)."""
        old = self.products.get(w.item)
        data = old.model_dump() if old is not None else {"product_number_id": w.product_id or 0,
                                                          "product_number": w.item}
        if w.action in ("activate", "create"):
            data["is_active"] = True
        elif w.action == "deactivate":
            data["is_active"] = False
        else:
            data["product_name"] = w.name
        return Product.model_validate(data)

    @staticmethod
    def _state(p: Product | None) -> dict | None:
        if p is None:
            return None
        return {"product_number": p.product_number, "name": p.product_name, "active": bool(p.is_active),
                "product_number_id": p.product_number_id}

    # -- shortcuts -----------------------------------------------------------------------------------------

    def activate(self, numbers: Iterable[str]) -> Outcome:
        return self.apply(self.plan_activate(numbers))

    def deactivate(self, numbers: Iterable[str]) -> Outcome:
        return self.apply(self.plan_deactivate(numbers))

    def sync(self) -> Outcome:
        return self.apply(self.plan_sync())


def _unique(numbers: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for n in numbers:
        n = str(n).strip()
        if n:
            seen.setdefault(n, None)
    return list(seen)


BY_HAND = "by_hand"
NOT_IN_API = "product-number writes are not in TimeLog's public API"


def record_by_hand(ledger: Ledger, le: LegalEntitySettings, writes: Iterable[Write],
                   products: Mapping[str, Product]) -> list[str]:
    """Record each write as one to make by hand (ledger ``review``, action ``by_hand``); a write already recorded
    the same way is not recorded again (no new event every night). Returns one readable line per write."""
    lines = []
    for w in writes:
        details = {"todo": w.action, "name": w.name, "why": w.why}
        line = f"to do by hand in TimeLog ({NOT_IN_API}): {w}"
        lines.append(line)
        current = ledger.get(DOMAIN, le.legal_entity_id, w.item)
        if current is not None and current.state == REVIEW and current.details == details:
            continue
        ledger.transition(DOMAIN, le.legal_entity_id, w.item, REVIEW, action=BY_HAND, reason=f"{line} (rule U2)",
                          details=details, before=ItemNumbers._state(products.get(w.item)))
    return lines
