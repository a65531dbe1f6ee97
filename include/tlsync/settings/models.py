"""The integration settings (the seed's setup page) as pydantic models, one :class:`LegalEntitySettings` per
TimeLog legal entity (rule S2), collected in one :class:`IntegrationSettings` document.

Only *references* to secrets are stored here (Airflow Connection ids); passwords, tokens and API keys live in
Airflow Connections and nowhere else (rule S1). Unknown keys are refused (``extra="forbid"``), so a password
pasted into the file is an error, not a silently stored secret; error messages never echo input values.

Most sections are optional so that a half-finished setup can be stored, as on TimeLog's setup page. What must be
set before invoices are transferred is checked by :meth:`LegalEntitySettings.invoice_transfer_blockers` (the
activation gate, rule S8). Values that must exist in the Uniconta company are checked against staged data by
:func:`tlsync.settings.checks.validate_against_staging`.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# The rule each settings field implements (MISSION.md); used to name the rule in every error message.
FIELD_RULES: dict[str, str] = {
    "timelog_connection_id": "S1",
    "uniconta_connection_id": "S1",
    "uniconta_company_id": "S1/S2",
    "customer_master": "S3",
    "debtor_defaults": "S4",
    "invoice_project_category": "S5",
    "expense_gl_accounts": "S6",
    "project_group": "S7",
    "item_numbers.time": "I1",
    "item_numbers.fixed_price": "I2",
    "item_numbers.expenses": "I3",
    "item_numbers.mileage": "I4",
    "item_numbers.per_diem": "I4",
    "item_numbers.accommodation": "I4",
    "item_numbers": "I1-I4",
    "activation": "S8",
    "legal_entities": "S2",
}


def rule_for(path: str) -> str | None:
    """The rule of a dotted field path (longest known prefix wins): ``"debtor_defaults.vat_zone"`` → ``"S4"``."""
    parts = path.split(".")
    for n in range(len(parts), 0, -1):
        rule = FIELD_RULES.get(".".join(parts[:n]))
        if rule:
            return rule
    return None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, use_enum_values=False)


class CustomerMaster(str, Enum):
    """Rule S3: how TimeLog customers become Uniconta debtors."""

    manual = "manual"        # (a) pushed when a user links the customer; later edits pushed on save
    automatic = "automatic"  # (b) created when its first invoice is transferred; later edits pushed


class VatZone(str, Enum):
    """Uniconta's ``VatZones`` enum (the help page's *Momszone*; Danish UI: Indland / EU / Udland / Momsfri).
    A fixed list in Uniconta, so it is checked here rather than against staged data."""

    Domestic = "Domestic"
    EU = "EU"
    Abroad = "Abroad"
    VatFree = "VatFree"


NonEmpty = Annotated[str, Field(min_length=1, max_length=200)]


class DebtorDefaults(_Model):
    """Rule S4: values a new Uniconta debtor gets when tlsync creates it. Used **only on creation**; whatever
    Uniconta holds later is never overwritten with these."""

    debtor_group: NonEmpty                      # DebtorGroupClient.Group
    vat_zone: VatZone = VatZone.Domestic        # DebtorClient.VatZone
    vat: NonEmpty | None = None                 # optional VAT code (GLVatClient.Vat); default: the group's SalesVat
    payment_terms: NonEmpty                     # PaymentTermClient.Payment
    layout_group: NonEmpty                      # DebtorLayoutGroupClient.Name (invoice template group)


# ---- item-number defaults (I1–I4) ---------------------------------------------------------------------------

class OnLine(_Model):
    """Choose the item on each invoice line (*Vælg ved fakturering*); also what I5 falls back to."""

    mode: Literal["on_line"] = "on_line"


class SpecificItem(_Model):
    """One Uniconta item number for the lines of this kind that carry no item of their own.

    TimeLog's help page: the item is "automatisk tilføjet" when the invoice lines are made, and pre-selected items
    can still be changed on the draft — so a line's own item is kept (rules I1–I4)."""

    mode: Literal["specific_item"] = "specific_item"
    item: NonEmpty


class GlAccount(_Model):
    """Rule I4: mileage, per diem and accommodation may go to a Uniconta GL account instead of an item."""

    mode: Literal["gl_account"] = "gl_account"
    account: NonEmpty


def _mapping_keys(value: Any) -> Any:
    # YAML gives int keys for TimeLog ids; store them as strings (JSON object keys are strings anyway).
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    return value


class _ByDimension(_Model):
    """Map each value of a TimeLog dimension (its TimeLog id, as a string) to an item number. A value without a
    mapping falls back to choosing the item on the line (rule I1)."""

    mode: Literal["by_dimension"] = "by_dimension"
    mapping: dict[str, NonEmpty] = Field(default_factory=dict)

    @field_validator("mapping", mode="before")
    @classmethod
    def _normalise_keys(cls, v: Any) -> Any:
        return _mapping_keys(v)

    def item_for(self, value: Any) -> str | None:
        """The mapped item, or ``None`` = choose on the line."""
        return self.mapping.get(str(value)) if value is not None else None


class TimeByDimension(_ByDimension):
    dimension: Literal["project_type", "project_category", "task_type", "hourly_rate"]


class FixedPriceByDimension(_ByDimension):
    dimension: Literal["project_type", "project_category"]


class ExpenseByDimension(_ByDimension):
    dimension: Literal["expense_type"] = "expense_type"


TimeDefault = Annotated[OnLine | TimeByDimension | SpecificItem, Field(discriminator="mode")]
FixedPriceDefault = Annotated[OnLine | FixedPriceByDimension | SpecificItem, Field(discriminator="mode")]
ExpenseDefault = Annotated[OnLine | ExpenseByDimension | SpecificItem, Field(discriminator="mode")]
TravelDefault = Annotated[OnLine | SpecificItem | GlAccount, Field(discriminator="mode")]

ItemDefault = OnLine | TimeByDimension | FixedPriceByDimension | ExpenseByDimension | SpecificItem | GlAccount
LINE_KINDS = ("time", "fixed_price", "expenses", "mileage", "per_diem", "accommodation")


class ItemNumberDefaults(_Model):
    """Rules I1–I4. Without any defaults (all ``on_line``) the integration still works: every line then needs
    an item chosen by hand (rule I5)."""

    time: TimeDefault = Field(default_factory=OnLine)                 # I1
    fixed_price: FixedPriceDefault = Field(default_factory=OnLine)    # I2
    expenses: ExpenseDefault = Field(default_factory=OnLine)          # I3
    mileage: TravelDefault = Field(default_factory=OnLine)            # I4
    per_diem: TravelDefault = Field(default_factory=OnLine)           # I4
    accommodation: TravelDefault = Field(default_factory=OnLine)      # I4

    def items(self) -> list[tuple[str, str]]:
        """Every Uniconta item number referenced, as ``(field path, item)`` pairs."""
        out: list[tuple[str, str]] = []
        for kind in LINE_KINDS:
            d = getattr(self, kind)
            if isinstance(d, SpecificItem):
                out.append((f"item_numbers.{kind}.item", d.item))
            elif isinstance(d, _ByDimension):
                out.extend((f"item_numbers.{kind}.mapping.{k}", v) for k, v in d.mapping.items())
        return out

    def gl_accounts(self) -> list[tuple[str, str]]:
        return [(f"item_numbers.{kind}.account", getattr(self, kind).account)
                for kind in LINE_KINDS if isinstance(getattr(self, kind), GlAccount)]

    def warnings(self) -> list[str]:
        """Rule I3: the same item on several expense types breaks the expense import's type detection."""
        d = self.expenses
        if not isinstance(d, ExpenseByDimension):
            return []
        by_item: dict[str, list[str]] = {}
        for expense_type, item in d.mapping.items():
            by_item.setdefault(item, []).append(expense_type)
        return [f"item {item!r} is used for several expense types ({', '.join(sorted(types))}); the expense "
                f"import cannot tell them apart (rule I3)" for item, types in sorted(by_item.items())
                if len(types) > 1]


class ActivationChecklist(_Model):
    """Rule S8: the setup page's three check boxes, confirmed by an administrator (*AKTIVÉR*). Until confirmed,
    no invoices are transferred — otherwise Uniconta could get duplicate debtors."""

    configuration_complete: bool = False   # every configuration section is set up (connection, defaults, …)
    customers_linked: bool = False         # customer linking handled: "one/several/no suggestion" views empty (L2)
    item_numbers_imported: bool = False    # the Uniconta items to use are imported and activated in TimeLog (U2)
    confirmed_by: NonEmpty | None = None
    confirmed_at: datetime | None = None

    @model_validator(mode="after")
    def _confirmation_needs_all_items(self) -> ActivationChecklist:
        if self.confirmed_at is not None or self.confirmed_by is not None:
            missing = [f for f in ("configuration_complete", "customers_linked", "item_numbers_imported")
                       if not getattr(self, f)]
            if missing:
                raise ValueError(f"cannot be confirmed while {', '.join(missing)} is not checked")
            if self.confirmed_at is None or self.confirmed_by is None:
                raise ValueError("a confirmation needs both confirmed_by and confirmed_at")
        return self

    @property
    def activated(self) -> bool:
        return (self.configuration_complete and self.customers_linked and self.item_numbers_imported
                and self.confirmed_by is not None and self.confirmed_at is not None)


ConnId = Annotated[str, Field(min_length=1, max_length=250, pattern=r"^[A-Za-z0-9_.\-]+$")]


class LegalEntitySettings(_Model):
    """The setup page of one TimeLog legal entity ↔ its Uniconta company (rule S2)."""

    legal_entity_id: int = Field(ge=1)
    name: str | None = None                                         # a label for people, not used by the sync
    timelog_connection_id: ConnId = "timelog_default"               # Airflow Connection id (never a secret)
    uniconta_connection_id: ConnId | None = "uniconta_default"      # Airflow Connection id; None after NULSTIL
    uniconta_company_id: int | None = Field(default=None, ge=1)     # chosen after the login works (S1)
    customer_master: CustomerMaster = CustomerMaster.manual          # S3
    debtor_defaults: DebtorDefaults | None = None                   # S4
    invoice_project_category: NonEmpty | None = None                # S5: Uniconta PrCategory.Number
    expense_gl_accounts: list[NonEmpty] = Field(default_factory=list)   # S6: GLAccount.Account
    project_group: NonEmpty | None = None                           # S7: ProjectGroup.Group
    item_numbers: ItemNumberDefaults = Field(default_factory=ItemNumberDefaults)   # I1–I4
    activation: ActivationChecklist = Field(default_factory=ActivationChecklist)   # S8

    @field_validator("expense_gl_accounts", mode="before")
    @classmethod
    def _accounts_as_strings(cls, v: Any) -> Any:
        return [str(a) for a in v] if isinstance(v, list) else v

    @field_validator("expense_gl_accounts")
    @classmethod
    def _no_duplicate_accounts(cls, v: list[str]) -> list[str]:
        dupes = sorted({a for a in v if v.count(a) > 1})
        if dupes:
            raise ValueError(f"account(s) listed twice: {', '.join(dupes)}")
        return v

    @property
    def label(self) -> str:
        company = f"company {self.uniconta_company_id}" if self.uniconta_company_id else "no Uniconta company"
        return f"legal entity {self.legal_entity_id} ({company})"

    @property
    def tenant(self) -> str | None:
        """The staging tenant of this entity's Uniconta data (the company id as a string)."""
        return str(self.uniconta_company_id) if self.uniconta_company_id is not None else None

    def invoice_transfer_blockers(self, project_module: bool = True) -> list[str]:
        """Why invoices of this legal entity may not be transferred yet (empty = they may). The activation gate
        of rule S8 plus the settings an invoice transfer cannot do without (S1, S4, S5 — the project category
        only where the company has Uniconta's project module, see ``checks.project_module``). Customer linking
        (L1–L3) is confirmed by the checklist here; issue 5 adds the check that the link views are empty."""
        out = []
        if not self.uniconta_connection_id or self.uniconta_company_id is None:
            out.append(f"{self.label}: no Uniconta connection/company chosen (rule S1)")
        if self.debtor_defaults is None:
            out.append(f"{self.label}: debtor defaults are not set (rule S4)")
        if project_module and self.invoice_project_category is None:
            out.append(f"{self.label}: invoice_project_category is not set; nothing can be posted on a project "
                       f"without one (rule S5)")
        if not self.activation.activated:
            out.append(f"{self.label}: the activation checklist is not confirmed; no invoices are transferred "
                       f"until it is (rule S8)")
        return out

    @property
    def can_transfer_invoices(self) -> bool:
        return not self.invoice_transfer_blockers()


class IntegrationSettings(_Model):
    """The whole settings document: one entry per TimeLog legal entity, keyed by its id."""

    version: Literal[1] = 1
    legal_entities: dict[int, LegalEntitySettings] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _ids_from_keys(cls, data: Any) -> Any:
        """The file keys entries by legal entity id; copy the key into each entry (a differing id is an error).
        A list of entries that each carry ``legal_entity_id`` is accepted too (and stored keyed)."""
        if isinstance(data, dict) and isinstance(data.get("legal_entities"), list):
            keyed: dict = {}
            for entry in data["legal_entities"]:
                key = entry.get("legal_entity_id") if isinstance(entry, dict) else None
                if key is None:
                    raise ValueError("legal entity ?: an entry of the legal_entities list has no legal_entity_id "
                                     "(rule S2)")
                if str(key) in keyed:
                    raise ValueError(f"legal entity {key}: listed twice (rule S2)")
                keyed[str(key)] = entry
            data = {**data, "legal_entities": keyed}
        if isinstance(data, dict) and isinstance(data.get("legal_entities"), dict):
            entries = {}
            for key, entry in data["legal_entities"].items():
                if isinstance(entry, dict):
                    entry = dict(entry)
                    given = entry.setdefault("legal_entity_id", key)
                    if str(given) != str(key):
                        raise ValueError(f"legal entity {key}: legal_entity_id {given} differs from its key "
                                         f"(rule S2)")
                elif entry is None:
                    entry = {"legal_entity_id": key}
                entries[key] = entry
            data = {**data, "legal_entities": entries}
        return data

    @model_validator(mode="after")
    def _one_company_per_entity(self) -> IntegrationSettings:
        seen: dict[int, int] = {}
        for le_id, le in sorted(self.legal_entities.items()):
            if le.legal_entity_id != le_id:
                raise ValueError(f"legal entity {le_id}: legal_entity_id {le.legal_entity_id} differs from its key "
                                 f"(rule S2)")
            if le.uniconta_company_id is not None:
                if le.uniconta_company_id in seen:
                    raise ValueError(f"legal entity {le_id}: Uniconta company {le.uniconta_company_id} is already "
                                     f"connected to legal entity {seen[le.uniconta_company_id]}; each legal entity "
                                     f"needs its own company (rule S2)")
                seen[le.uniconta_company_id] = le_id
        return self

    def entity(self, legal_entity_id: int) -> LegalEntitySettings:
        try:
            return self.legal_entities[int(legal_entity_id)]
        except KeyError:
            known = ", ".join(str(k) for k in sorted(self.legal_entities)) or "none"
            raise KeyError(f"legal entity {legal_entity_id} is not in the settings; configured: {known}") from None

    def warnings(self) -> list[str]:
        return [f"{le.label}: {w}" for _, le in sorted(self.legal_entities.items())
                for w in le.item_numbers.warnings()]
