"""What the expense import looks postings up in, read once from staging: TimeLog's expense types (by the account
number they carry), TimeLog's projects (by number) and the Uniconta company's currency.

Why these rules (U4):

- **Expense type by account number.** The help page: "add account numbers to your active expense types in
  TimeLog, and the expense type is chosen automatically in the import table". So only *active* types count, and
  a type that belongs to another legal entity does not. Exactly one type must carry the posting's account; none
  or several send the posting to the review list (rule I3 warns about the same item on several types for the same
  reason: the detection breaks).
- **Project by number.** TimeLog's own import sets ``ProjectID`` 0 and leaves the project to an administrator.
  We do better where it is safe: a posting that carries a Uniconta project whose number is a TimeLog project
  number of the *same* legal entity gets that project. Projects go from TimeLog to Uniconta with their number
  (rule T3), so the numbers agree by construction.
- **Currency.** The mapping takes the expense currency from the Uniconta *company* (``Amount``/``AmountVat`` are in
  the company's currency) and the exchange rate from TimeLog's currency of that code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from tlsync.clients.timelog.models import ExpenseType, Project
from tlsync.settings.models import LegalEntitySettings
from tlsync.staging.read import Tenant, Tenants, rows


def _payloads(engine: Engine, entity: str, tenant: Tenants) -> list[dict[str, Any]]:
    """Every staged payload of ``entity`` in ``tenant`` (exact Decimals, :mod:`tlsync.staging.read`)."""
    return [row.payload for row in rows(engine, entity, tenant)]


@dataclass
class ExpenseReference:
    legal_entity_id: int
    company_currency: str = "DKK"
    types: dict[int, ExpenseType] = field(default_factory=dict)          # every staged type, by ID
    projects: dict[str, list[Project]] = field(default_factory=dict)     # TimeLog projects by number (all LEs)
    projects_by_id: dict[int, Project] = field(default_factory=dict)

    @classmethod
    def from_staging(cls, engine: Engine, le: LegalEntitySettings) -> ExpenseReference:
        ref = cls(legal_entity_id=le.legal_entity_id)
        for raw in _payloads(engine, "timelog.expense_types", Tenant.site_only()):
            t = ExpenseType.model_validate(raw)
            ref.types[t.expense_type_id] = t
        for raw in _payloads(engine, "timelog.projects", Tenant.site_only()):
            p = Project.model_validate(raw)
            ref.projects_by_id[p.id] = p
            if p.no:
                ref.projects.setdefault(p.no.strip(), []).append(p)
        if le.tenant:
            companies = [c for c in _payloads(engine, "uniconta.companies", Tenant.company(le.tenant))
                         if str(c.get("CompanyId")) == le.tenant]
            currency = str((companies[0].get("Currency") if companies else None) or "").strip()
            if currency and not currency.isdigit():
                ref.company_currency = currency.upper()
        return ref

    def _ours(self, legal_entity_id: int | None) -> bool:
        return legal_entity_id in (None, 0, self.legal_entity_id)

    def types_for_account(self, account: str) -> list[ExpenseType]:
        """The active expense types of this legal entity that carry ``account`` as their account number."""
        return sorted((t for t in self.types.values()
                       if (t.account_no or "").strip() == account and t.is_active is not False
                       and self._ours(t.legal_entity_id)), key=lambda t: t.expense_type_id)

    def usable_type(self, expense_type_id: int) -> ExpenseType | None:
        """A type an administrator may choose: exists, active, this legal entity's."""
        t = self.types.get(expense_type_id)
        return t if t is not None and t.is_active is not False and self._ours(t.legal_entity_id) else None

    def project_by_number(self, number: str) -> tuple[Project | None, str | None]:
        """``(project, None)`` or ``(None, why not)`` for a TimeLog project number in this legal entity."""
        found = self.projects.get(number.strip(), [])
        ours = [p for p in found if self._ours(p.legal_entity_id)]
        if len(ours) == 1:
            return ours[0], None
        if len(ours) > 1:
            ids = ", ".join(str(p.id) for p in ours)
            return None, f"several TimeLog projects have number {number!r} (IDs {ids})"
        if found:
            les = ", ".join(sorted({str(p.legal_entity_id) for p in found}))
            return None, (f"TimeLog project {number!r} belongs to legal entity {les}, not to legal entity "
                          f"{self.legal_entity_id}")
        return None, f"Uniconta project {number!r} is not a TimeLog project number"
