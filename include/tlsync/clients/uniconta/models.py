"""Pydantic models of the Uniconta entity classes the sync reads and writes.

Each model is named after Uniconta's .NET client class (``DebtorClient``, ``InvItemClient`` …) because that name
is also the OData endpoint and the CRUD path segment; its fields carry Uniconta's own property names
(``Account``, ``CompanyRegNo``, ``SalesPrice1`` …; see Uniconta's API docs (Uniconta.WindowsAPI, Uniconta-Pages))
so a payload maps onto a model without a translation table.

Choices, and why:

- **Money is** :class:`~decimal.Decimal`. Amounts are summed and compared in reconciliation, so binary floats
  are not acceptable. Bodies are parsed with ``parse_float=Decimal`` (see :func:`loads`), so even amounts in
  fields we do not model arrive exact. On the way out, :func:`dumps` writes a Decimal as a JSON *number*
  (Uniconta's fields are .NET doubles) — never as a string.
- **Extra fields are allowed and kept** (``extra="allow"``). The real classes have 50–150 properties and
  companies add user fields; a full-object ``Update`` must send back what it read, so nothing may be dropped.
- **Keys are strings** (``Account``, ``Item``, ``Number`` …): numbers in key fields are coerced to ``str``.
- **Dates**: Uniconta writes ``YYYY-MM-DDT00:00:00`` for date-only fields and ``0001-01-01`` (``DateTime.MinValue``)
  for "no date"; :data:`UDate` accepts both and maps the empty date to ``None``.
- Enum-backed fields (``Country``, ``VatZone``, ``ItemType`` …) are kept as the server sends them (name string or
  number), because the public material does not fix the wire encoding (reference: OPEN / NOT CONFIRMED).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar

import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict

# ----------------------------------------------------------------------------------------------- field types

_MIN_DATE_PREFIX = "0001-01-01"


def _date_or_none(value: Any) -> Any:
    """Accept ``YYYY-MM-DD`` and ``YYYY-MM-DDTHH:MM:SS`` for a date field; ``0001-01-01``/empty → ``None``."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return None if value.year == 1 else value.date()
    if isinstance(value, str):
        if value.startswith(_MIN_DATE_PREFIX):
            return None
        return value[:10]
    return value


def _datetime_or_none(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.startswith(_MIN_DATE_PREFIX):
        return None
    return value


def _decimal_or_none(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, float):  # a float that slipped past parse_float=Decimal: go via its shortest repr
        return Decimal(repr(value))
    return value


UDate = Annotated[date | None, BeforeValidator(_date_or_none)]
"""A Uniconta date: time part dropped, ``0001-01-01`` (DateTime.MinValue) read as ``None``."""
UDateTime = Annotated[datetime | None, BeforeValidator(_datetime_or_none)]
"""A Uniconta timestamp (``Created``, ``UpdatedAt`` …); ``0001-01-01…`` read as ``None``."""
Money = Annotated[Decimal | None, BeforeValidator(_decimal_or_none)]
"""An amount, price, quantity or percentage: exact Decimal."""
Key = str | None
"""A key or reference to another record (``Account``, ``Item``, ``Group`` …): always a string in Uniconta."""
EnumValue = str | int | None
"""An enum-backed field, kept in whatever encoding the server used (name string or number)."""


# ------------------------------------------------------------------------------------------------- JSON I/O


def loads(data: bytes | str) -> Any:
    """Parse a Uniconta JSON body with every non-integer number as an exact :class:`Decimal`."""
    return json.loads(data, parse_float=Decimal)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Uniconta's amounts are .NET doubles: send a JSON number. int when integral, else float — the shortest
        # repr of a float round-trips every amount with ≤15 significant digits exactly (all realistic amounts).
        if value == value.to_integral_value():
            return int(value)
        return float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__} to JSON")


def dumps(payload: Any) -> bytes:
    """Serialise models / dicts / lists of them to the JSON Uniconta expects (Decimals as numbers, dates as ISO
    text by :func:`_json_default`), compact UTF-8 by orjson (issue 18: ``json.dumps`` of the invoice transfer's
    lists was ~8 % of the L backfill's main thread)."""

    def plain(obj: Any) -> Any:
        if isinstance(obj, UnicontaEntity):
            return obj.to_payload()
        if isinstance(obj, (list, tuple)):
            return [plain(o) for o in obj]
        return obj

    return orjson.dumps(plain(payload), default=_json_default, option=orjson.OPT_PASSTHROUGH_DATETIME)


# ------------------------------------------------------------------------------------------------ base model


class UnicontaEntity(BaseModel):
    """Base of every entity: ``RowId`` plus whatever the server sends (extra fields kept).

    Subclasses set ``CLASS_NAME`` (the OData endpoint / CRUD class name) and ``KEY_FIELDS`` (the fields that
    identify a record in messages and in :meth:`key`).
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True, coerce_numbers_to_str=True)

    CLASS_NAME: ClassVar[str] = ""
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("RowId",)
    LABEL_FIELDS: ClassVar[tuple[str, ...]] = ()  # shown in messages when the key is not known yet

    RowId: int | None = None

    @classmethod
    def class_name(cls) -> str:
        return cls.CLASS_NAME or cls.__name__

    def key(self) -> dict[str, Any]:
        """The identifying fields of this record (``{"Account": "1001"}``)."""
        return {f: getattr(self, f, None) for f in self.KEY_FIELDS}

    def describe(self) -> str:
        """``"DebtorClient Account=1001"`` — how a record is named in errors and logs (never contains secrets)."""
        key = self.key()
        parts = [f"{k}={v}" for k, v in key.items() if v is not None]
        if not parts and self.RowId is not None:
            parts = [f"RowId={self.RowId}"]
        if not parts:
            parts = [f"{k}={getattr(self, k, None)!s}" for k in self.LABEL_FIELDS if getattr(self, k, None) is not None]
        return f"{self.class_name()} {' '.join(parts) or '(no key)'}"

    def to_payload(self) -> dict[str, Any]:
        """The record as a JSON-ready dict with Uniconta's field names; ``None`` fields omitted (as Uniconta
        does on GET), extra fields included. Values are Python objects; :func:`dumps` renders them."""
        return self.model_dump(mode="python", exclude_none=True, by_alias=True)


class GenericEntity(UnicontaEntity):
    """Any class we have no model for (read by class name); every field is an extra field."""


# --------------------------------------------------------------------------------------------------- system


class CompanyClient(UnicontaEntity):
    """A company the user can see (rule S1: connect, then choose one; rule S2: one per TimeLog legal entity)."""

    CLASS_NAME: ClassVar[str] = "CompanyClient"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("CompanyId",)

    CompanyId: int
    Name: str | None = None
    Currency: EnumValue = None
    Country: EnumValue = None
    CompanyRegNo: Key = None  # the company's own CVR
    ProjectModule: bool | None = None  # whether the company has the project module (rule T3)


# ----------------------------------------------------------------------------------------------- debtors


class _DebtorCreditorBase(UnicontaEntity):
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("Account",)

    Account: Key = None
    Name: str | None = None
    CompanyRegNo: Key = None  # CVR (NB: not "LegalIdent")
    VatNumber: Key = None  # EU VAT number
    EAN: Key = None
    Address1: str | None = None
    Address2: str | None = None
    Address3: str | None = None
    ZipCode: Key = None
    City: str | None = None
    Country: EnumValue = None
    Phone: str | None = None
    MobilPhone: str | None = None
    ContactPerson: str | None = None
    ContactEmail: str | None = None
    InvoiceEmail: str | None = None
    Www: str | None = None
    Currency: EnumValue = None
    Group: Key = None
    Vat: Key = None
    VatZone: EnumValue = None
    Payment: Key = None
    LayoutGroup: Key = None
    Blocked: bool | None = None
    Created: UDateTime = None


class DebtorClient(_DebtorCreditorBase):
    """A customer (TimeLog customer ⇄ Uniconta debtor; rules T1, U1, L1). Key: ``Account``."""

    CLASS_NAME: ClassVar[str] = "DebtorClient"

    CreditMax: Money = None
    CurBalance: Money = None  # read-only, computed by Uniconta
    Overdue: Money = None  # read-only
    PriceList: Key = None
    Employee: Key = None


class CreditorClient(_DebtorCreditorBase):
    """A supplier; read for expense import (rule U4). Key: ``Account``."""

    CLASS_NAME: ClassVar[str] = "CreditorClient"

    PrCategory: Key = None
    PaymentMethod: EnumValue = None


class DebtorGroupClient(UnicontaEntity):
    """A debtor group; its values are offered as the default group for new debtors (rule S4). Key: ``Group``."""

    CLASS_NAME: ClassVar[str] = "DebtorGroupClient"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("Group",)

    Group: Key = None
    Name: str | None = None
    IsDefault: bool | None = None
    AutoNumber: bool | None = None
    RevenueAccount: Key = None
    SalesVat: Key = None
    LayoutGroup: Key = None


class PaymentTermClient(UnicontaEntity):
    """Payment terms (rule S4 default). Key: ``Payment``."""

    CLASS_NAME: ClassVar[str] = "PaymentTermClient"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("Payment",)

    Payment: Key = None
    Name: str | None = None
    IsDefault: bool | None = None
    PaymentMethod: EnumValue = None
    Days: int | None = None
    EndOfMonth: bool | None = None


class DebtorLayoutGroupClient(UnicontaEntity):
    """A layout (invoice template) group (rule S4 default). Key: ``Name``."""

    CLASS_NAME: ClassVar[str] = "DebtorLayoutGroupClient"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("Name",)

    Name: Key = None
    IsDefault: bool | None = None


class ContactClient(UnicontaEntity):
    """A contact person on a debtor (``DCAccount``). No natural key: identified by ``RowId``."""

    CLASS_NAME: ClassVar[str] = "ContactClient"
    LABEL_FIELDS: ClassVar[tuple[str, ...]] = ("DCAccount", "Name")

    DCAccount: Key = None
    DCType: EnumValue = None
    Name: str | None = None
    Email: str | None = None
    Mobil: str | None = None
    Title: str | None = None
    Invoice: bool | None = None


class EmployeeClient(UnicontaEntity):
    """An employee (rule T4; invoice internal reference → ``Employee``/``OurRef``). Key: ``Number``."""

    CLASS_NAME: ClassVar[str] = "EmployeeClient"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("Number",)

    Number: Key = None
    Name: str | None = None
    Title: str | None = None
    Group: Key = None
    Email: str | None = None
    Mobil: str | None = None
    CostPrice: Money = None
    SalesPrice: Money = None
    Blocked: bool | None = None
    Hired: UDate = None
    Terminated: UDate = None


class InvItemClient(UnicontaEntity):
    """An item (product number; rule U2). Key: ``Item``. Sales price is ``SalesPrice1`` (not "SalesPrice")."""

    CLASS_NAME: ClassVar[str] = "InvItemClient"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("Item",)

    Item: Key = None
    Name: str | None = None
    ItemType: EnumValue = None
    Group: Key = None
    Unit: EnumValue = None
    CostPrice: Money = None
    SalesPrice1: Money = None
    SalesPrice2: Money = None
    SalesPrice3: Money = None
    PrCategory: Key = None
    Blocked: bool | None = None


# ---------------------------------------------------------------------------------------------- projects


class ProjectGroupClient(UnicontaEntity):
    """A project group (rule S7: new projects go into the chosen one). Key: ``Group``."""

    CLASS_NAME: ClassVar[str] = "ProjectGroupClient"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("Group",)

    Group: Key = None
    Name: str | None = None
    IsDefault: bool | None = None
    Invoiceable: bool | None = None
    AutoNumber: bool | None = None


class ProjectClient(UnicontaEntity):
    """A project (rule T3). Key: ``Number``; the customer is ``Account`` (a debtor)."""

    CLASS_NAME: ClassVar[str] = "ProjectClient"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("Number",)

    Number: Key = None
    Name: str | None = None
    Account: Key = None
    Group: Key = None
    Description: str | None = None
    MasterProject: Key = None
    PersonInCharge: Key = None
    Currency: EnumValue = None
    Blocked: bool | None = None
    StartDate: UDate = None
    EndDate: UDate = None
    Created: UDateTime = None


class PrCategoryClient(UnicontaEntity):
    """A project category ("projektart", rule S5: required on project invoice drafts). Key: ``Number``."""

    CLASS_NAME: ClassVar[str] = "PrCategoryClient"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("Number",)

    Number: Key = None
    Name: str | None = None
    CatType: EnumValue = None
    Item: Key = None
    Invoiceable: bool | None = None
    IsDefault: bool | None = None
    Account: Key = None


# ------------------------------------------------------------------------------------------------ orders


class DebtorOrderClient(UnicontaEntity):
    """An order = invoice draft (rule T2: TimeLog invoices arrive as drafts). Key: ``OrderNumber``."""

    CLASS_NAME: ClassVar[str] = "DebtorOrderClient"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("OrderNumber",)

    OrderNumber: int | None = None
    Account: Key = None
    Name: str | None = None
    Currency: EnumValue = None
    Payment: Key = None
    Employee: Key = None
    OurRef: str | None = None
    YourRef: str | None = None
    Requisition: str | None = None
    Remark: str | None = None
    ContactRef: Key = None
    Project: Key = None
    PrCategory: Key = None
    DeliveryAddress1: str | None = None
    DeliveryAddress2: str | None = None
    DeliveryAddress3: str | None = None
    DeliveryZipCode: Key = None
    DeliveryCity: str | None = None
    DeliveryCountry: EnumValue = None
    InvoiceDate: UDate = None
    DueDate: UDate = None
    Created: UDateTime = None
    UpdatedAt: UDateTime = None
    OrderTotal: Money = None  # read-only


class DebtorOrderLineClient(UnicontaEntity):
    """A line of an invoice draft. Identified by ``OrderNumber`` + ``LineNumber``."""

    CLASS_NAME: ClassVar[str] = "DebtorOrderLineClient"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("OrderNumber", "LineNumber")

    OrderNumber: int | None = None
    LineNumber: Money = None  # Uniconta line numbers are doubles (lines can be inserted between)
    Item: Key = None
    Text: str | None = None
    Qty: Money = None
    Price: Money = None
    DiscountPct: Money = None
    Discount: Money = None
    Total: Money = None
    Unit: EnumValue = None
    Currency: EnumValue = None
    Project: Key = None
    PrCategory: Key = None
    Employee: Key = None
    Date: UDate = None


# ---------------------------------------------------------------------------------------------- invoices


class DebtorInvoiceClient(UnicontaEntity):
    """A posted sales invoice (rule U3 reconciliation). Key: ``InvoiceNumber``."""

    CLASS_NAME: ClassVar[str] = "DebtorInvoiceClient"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("InvoiceNumber",)

    InvoiceNumber: int | str | None = None  # an integer number series (kept as sent if a server uses text)
    Account: Key = None
    Name: str | None = None
    Date: UDate = None
    DueDate: UDate = None
    OrderNumber: int | None = None
    Currency: EnumValue = None
    NetAmount: Money = None
    VatAmount: Money = None
    TotalAmount: Money = None
    AmountLocalCur: Money = None
    Project: Key = None
    PrCategory: Key = None
    Employee: Key = None
    YourRef: str | None = None
    OurRef: str | None = None
    Requisition: str | None = None
    Remark: str | None = None
    Voucher: int | None = None
    JournalPostedId: int | None = None


class DebtorInvoiceLines(UnicontaEntity):
    """A line of a posted invoice. NB: the class has no "Client" suffix. Identified by ``RowId``."""

    CLASS_NAME: ClassVar[str] = "DebtorInvoiceLines"
    LABEL_FIELDS: ClassVar[tuple[str, ...]] = ("InvoiceNumber", "LineNumber")

    InvoiceNumber: int | str | None = None
    LineNumber: Money = None
    DCAccount: Key = None  # the customer, as Uniconta names it on invoice lines (Uniconta-Pages)
    Account: Key = None  # the same value under the pipeline's name (filled from DCAccount, see .fields)
    Item: Key = None
    Text: str | None = None
    InvoiceQty: Money = None
    SalesPrice: Money = None
    DiscountPct: Money = None
    NetDiscount: Money = None
    InvoiceNetAmount: Money = None
    InvoiceTotal: Money = None
    AmountInclVat: Money = None
    Currency: EnumValue = None
    Project: Key = None
    PrCategory: Key = None
    Employee: Key = None
    Date: UDate = None


# ----------------------------------------------------------------------------------------- general ledger


class GLAccountClient(UnicontaEntity):
    """A GL account (rule S6: accounts to import supplier expenses from). Key: ``Account``."""

    CLASS_NAME: ClassVar[str] = "GLAccountClient"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("Account",)

    Account: Key = None
    Name: str | None = None
    AccountType: EnumValue = None
    Vat: Key = None
    Currency: EnumValue = None
    Blocked: bool | None = None


class GLTransClient(UnicontaEntity):
    """A posted GL transaction (rule U4: supplier expenses on chosen accounts). Identified by ``RowId``."""

    CLASS_NAME: ClassVar[str] = "GLTransClient"
    LABEL_FIELDS: ClassVar[tuple[str, ...]] = ("Voucher", "VoucherLine", "Account")

    Date: UDate = None
    Account: Key = None
    Voucher: int | None = None
    VoucherLine: int | None = None
    JournalPostedId: int | None = None
    Text: str | None = None
    Amount: Money = None
    Debit: Money = None
    Credit: Money = None
    AmountVat: Money = None
    AmountCur: Money = None
    Currency: EnumValue = None
    Vat: Key = None
    Qty: Money = None
    DCType: EnumValue = None
    DCAccount: Key = None
    DCName: str | None = None
    Invoice: int | str | None = None  # the invoice number the posting came from
    DocumentDate: UDate = None
    Project: Key = None
    PrCategory: Key = None


class GLVatClient(UnicontaEntity):
    """A VAT code. Key: ``Vat``."""

    CLASS_NAME: ClassVar[str] = "GLVatClient"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("Vat",)

    Vat: Key = None
    Name: str | None = None
    VatType: EnumValue = None
    Rate: Money = None
    Account: Key = None
    OffsetAccount: Key = None


# -------------------------------------------------------------------------------------------- registry

MODELS: dict[str, type[UnicontaEntity]] = {
    m.CLASS_NAME: m
    for m in (
        CompanyClient, DebtorClient, DebtorGroupClient, PaymentTermClient, DebtorLayoutGroupClient, ContactClient,
        EmployeeClient, InvItemClient, ProjectGroupClient, ProjectClient, PrCategoryClient, DebtorOrderClient,
        DebtorOrderLineClient, DebtorInvoiceClient, DebtorInvoiceLines, GLAccountClient, GLTransClient, GLVatClient,
        CreditorClient,
    )
}
"""Uniconta class name → model."""

PROJECT_CLASSES = frozenset({"ProjectClient", "ProjectGroupClient", "PrCategoryClient"})
"""Classes that need the company's project module (rule T3)."""


def model_for(cls_or_name: type[UnicontaEntity] | str) -> tuple[str, type[UnicontaEntity]]:
    """Resolve a model class or a Uniconta class name to ``(class name, model)``; unknown names map to
    :class:`GenericEntity` so the server, not the client, decides whether the class exists."""
    if isinstance(cls_or_name, str):
        return cls_or_name, MODELS.get(cls_or_name, GenericEntity)
    return cls_or_name.class_name(), cls_or_name


def as_payloads(objs: Iterable[UnicontaEntity | dict[str, Any]]) -> list[dict[str, Any]]:
    return [o.to_payload() if isinstance(o, UnicontaEntity) else dict(o) for o in objs]
