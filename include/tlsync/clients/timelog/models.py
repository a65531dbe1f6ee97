"""Pydantic models for the TimeLog PSA payloads, named after the API's own entities.

Three families, one per API surface (see TimeLog's API docs (api.timelog.com, TimeLogApiSdk)):

* **Reporting API** (``service.asmx``, XML in ``http://www.timelog.com/XML/Schema/tlp/v4_4``): :class:`Customer`,
  :class:`Contact`, :class:`Employee`, :class:`Project`, :class:`ProjectType`, :class:`ProjectCategory`,
  :class:`Task`, :class:`TaskType`, :class:`HourlyRate`, :class:`Invoice`, :class:`InvoiceLine`,
  :class:`InvoiceLineDetail`, :class:`Expense`, :class:`Mileage`, :class:`WorkUnit`, :class:`LegalEntity`.
  Field lists follow the method XSDs (``<Method>.xsd`` in TimeLog/TimeLogApiSdk).
* **Transactional API** (SOAP data contracts): :class:`SecurityToken`, :class:`APIMessage`, :class:`Address`,
  :class:`ExternalSystemContext`, :class:`InvoiceState`, :class:`TxCustomer`, :class:`TxProject`,
  :class:`TxInvoice`, :class:`TxInvoiceLine`, :class:`TxCreditNote` (``Tx`` = the Transactional contract of an
  entity that the Reporting API also has).
* **REST API v1** (``*ApiReadModel`` / ``*ApiCreateModel`` in the swagger): :class:`Product`,
  :class:`ExpenseType`, :class:`PaymentTerm`, :class:`Currency`, :class:`RestCustomer`, :class:`RestProjectType`,
  :class:`RestProjectCategory`, :class:`RestTaskType`, :class:`RestHourlyRate`, :class:`RestLegalEntity`,
  :class:`ProjectExpense`, and the write models :class:`CustomerCreate`, :class:`CustomerUpdate`,
  :class:`ProductCreate`, :class:`ProjectExpenseCreate`.

Python attributes are snake_case; the API's exact field name is the alias (``customer_id`` ⇄ ``CustomerID``),
so models validate straight from the wire and dump back with ``by_alias=True``. Money and quantities are
:class:`~decimal.Decimal` (the XML carries 4 decimals, JSON numbers are read with ``parse_float=Decimal``).
Empty elements (``<tlp:Address2></tlp:Address2>``) become ``None``. Unknown extra fields are ignored here — the
clients hand the raw payload to staging alongside the model, so nothing is lost.

The official XML samples do not always match their XSDs (``ProjectLink`` vs ``Link``, ``EmployeeTypeId`` vs
``EmployeeTypeID``, ``[OBSOLETE from v6.0.5]`` in decimal budget fields, invoice ``Type`` 0); the models accept
those variants where noted rather than rejecting real-world answers.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import IntEnum
from typing import Annotated, Any, TypeVar
from uuid import UUID

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

__all__ = [
    "APIMessage", "APIMessageSeverity", "Address", "Contact", "Currency", "Customer", "CustomerCreate",
    "CustomerUpdate", "Employee", "ExecutionStatus", "Expense", "ExpenseType", "ExternalSystemContext", "HourlyRate",
    "Invoice", "InvoiceLine", "InvoiceLineDetail", "InvoiceLineUnitType", "InvoiceState", "InvoiceStatus",
    "InvoiceType", "LegalEntity", "Mileage", "PaymentTerm", "Product", "ProductCreate", "Project", "ProjectCategory",
    "ProjectExpense", "ProjectExpenseCreate", "ProjectType", "RegistrationType", "RestCustomer", "RestHourlyRate",
    "RestLegalEntity", "RestProjectCategory", "RestProjectType", "RestTaskType", "SecurityToken", "Task", "TaskType",
    "TimeLogModel", "TxCreditNote", "TxCustomer", "TxInvoice", "TxInvoiceLine", "TxProject", "WorkUnit",
    "api_alias",
]


# --------------------------------------------------------------------------------------------------------------
# Enumerations (Reporting "EnumerableTypes" page; Transactional Reference.cs)
# --------------------------------------------------------------------------------------------------------------


class _OpenIntEnum(IntEnum):
    """An ``IntEnum`` that keeps values it does not know (``UNKNOWN_<n>``) instead of failing.

    TimeLog documents enumerations loosely — the official GetInvoicesRaw sample carries ``Type`` 0, which the
    enumeration page does not list — so an unknown value must reach staging (and the quality gate) intact.
    """

    @classmethod
    def _missing_(cls, value: object) -> Any:
        try:
            number = int(str(value).strip()) if not isinstance(value, int) else value
        except (TypeError, ValueError):
            return None
        if number in cls._value2member_map_:
            return cls._value2member_map_[number]
        member = int.__new__(cls, number)
        member._name_ = f"UNKNOWN_{number}"
        member._value_ = number
        return member


class InvoiceStatus(_OpenIntEnum):
    """Reporting ``Invoice.Status``. Only booked invoices are transferred (rule T2)."""

    DRAFT = 0
    BOOKED = 1
    OVERDUE = 2
    PAID = 3  # "Payed/Checked" in TimeLog's enumeration page


class InvoiceType(_OpenIntEnum):
    """Reporting ``Invoice.Type``. Invoices and credit notes are transferred (rule T2)."""

    INVOICE = 1
    CREDIT_NOTE = 2
    REMINDER = 3
    VOUCHER = 4


class InvoiceLineUnitType(_OpenIntEnum):
    UNDEFINED = 0
    HOURS = 1
    MINUTES = 2
    DAYS = 3
    KM = 4
    PIECES = 6
    LITERS = 7
    METERS = 8
    KILOGRAMS = 9


class RegistrationType(_OpenIntEnum):
    """``InvoiceLineDetail.RegistrationType``: what a line detail was made from (time, expense, mileage …)."""

    RAW_INVOICEABLE = 0
    WORK_UNIT = 2
    EXPENSE = 3
    TRAVEL_EXPENSE = 4
    INSTALLMENT = 6
    ROUNDING = 8
    CURRENCY_DIFFERENCE = 9
    WORK_REMAINING_REVENUE_SHARE = 10
    EXPENSE_REMAINING_REVENUE_SHARE = 11
    TRAVEL_REMAINING_REVENUE_SHARE = 12
    UNALLOCATED_REVENUE_SHARE = 13
    PENDING_BOOKING_ACTION_RAW_INVOICEABLE = 15
    MILEAGE = 16
    INVOICING_PERCENTAGE_FEE = 17
    INVOICING_FIXED_FEE = 18


class ExecutionStatus(_OpenIntEnum):
    """Transactional ``ResponseState`` (serialised by *name* on the wire: ``Success``, ``Error`` …)."""

    NOT_SET = 0
    SUCCESS = 1
    INVALID = 2
    ERROR = 3

    @classmethod
    def parse(cls, value: str | int | None) -> ExecutionStatus:
        if value is None:
            return cls.NOT_SET
        text = str(value).strip()
        by_name = {"notset": cls.NOT_SET, "success": cls.SUCCESS, "invalid": cls.INVALID, "error": cls.ERROR}
        if text.lower() in by_name:
            return by_name[text.lower()]
        return cls(text)  # type: ignore[arg-type]  # _OpenIntEnum._missing_ reads numeric text


class APIMessageSeverity(_OpenIntEnum):
    ERROR = 0
    INVALID = 1
    MESSAGE = 2

    @classmethod
    def parse(cls, value: str | int | None) -> APIMessageSeverity:
        text = str(value or "").strip()
        by_name = {"error": cls.ERROR, "invalid": cls.INVALID, "message": cls.MESSAGE}
        return by_name.get(text.lower()) or cls(text or 0)  # type: ignore[arg-type]  # _missing_ reads numeric text


# --------------------------------------------------------------------------------------------------------------
# Base model and field types
# --------------------------------------------------------------------------------------------------------------

_UPPER_TOKENS = {
    "id": "ID", "guid": "GUID", "vat": "VAT", "iso": "ISO", "pm": "PM", "po": "PO", "wbs": "WBS", "bar": "BAR",
    "km": "KM", "kam": "KAM", "abb": "Abb", "eu": "EU",
}


def api_alias(name: str) -> str:
    """``customer_id`` → ``CustomerID``: the default mapping from a Python attribute to TimeLog's field name.

    Most TimeLog names are PascalCase with ``ID``/``GUID``/``VAT``/``ISO`` upper-cased; the irregular ones
    (``CustomerId`` in work units, ``VatNo`` on REST writes, ``CurrencyABB`` …) carry an explicit alias.
    """
    return "".join(_UPPER_TOKENS.get(part, part[:1].upper() + part[1:]) for part in name.split("_"))


_DOTNET_MIN_DATETIME = "0001-01-01T00:00:00"


def _empty_to_none(value: Any) -> Any:
    """Blank text, and .NET's ``DateTime.MinValue`` (WCF's "no date"), mean "no value"."""
    if isinstance(value, str) and (not value.strip() or value.startswith(_DOTNET_MIN_DATETIME)):
        return None
    return value


def _obsolete_to_none(value: Any) -> Any:
    """Budget fields TimeLog retired in v6.0.5 answer ``[OBSOLETE from v6.0.5]`` instead of a number."""
    if isinstance(value, str) and value.strip().startswith("[OBSOLETE"):
        return None
    return value


ObsoleteDecimal = Annotated[Decimal | None, BeforeValidator(_obsolete_to_none)]


class TimeLogModel(BaseModel):
    """Base for every TimeLog payload: aliases = API field names, empty text = ``None``, extras ignored."""

    model_config = ConfigDict(
        alias_generator=api_alias, validate_by_name=True, validate_by_alias=True, extra="ignore",
        str_strip_whitespace=False, coerce_numbers_to_str=True,
    )

    @model_validator(mode="before")
    @classmethod
    def _blank_is_none(cls, data: Any) -> Any:
        # Empty and nil values are left out, so each field's default applies (None, or [] for arrays).
        # (:func:`_empty_to_none` inlined, ``isspace`` for ``strip``: this runs for every field of every record.)
        if isinstance(data, dict):
            return {k: v for k, v in data.items()
                    if v is not None and not (isinstance(v, str) and (not v or v.isspace()
                                                                      or v.startswith(_DOTNET_MIN_DATETIME)))}
        return data

    def to_api(self, *, exclude_none: bool = True) -> dict[str, Any]:
        """The model as the API spells it (aliases), ``None`` fields left out by default."""
        return self.model_dump(by_alias=True, exclude_none=exclude_none)


def _alias(name: str, *alternatives: str) -> Any:
    """An explicit alias (and accepted variants seen in TimeLog's own samples)."""
    if alternatives:
        return Field(default=None, alias=name, validation_alias=AliasChoices(name, *alternatives))
    return Field(default=None, alias=name)


# --------------------------------------------------------------------------------------------------------------
# Reporting API (XSD field lists from TimeLog's API docs (api.timelog.com, TimeLogApiSdk),
# "Reporting API response schemas")
# --------------------------------------------------------------------------------------------------------------


class LegalEntity(TimeLogModel):
    """GetLegalEntitiesRaw ``LegalEntity``. Each legal entity maps to one Uniconta company (rule S2)."""

    id: int
    guid: str | None = None
    name: str | None = None
    is_active: bool | None = None
    currency_iso: str | None = None
    country: str | None = None


class Customer(TimeLogModel):
    """GetCustomersRaw ``Customer`` (CustomerRaw_Type): the full customer record used for linking (rule L1)."""

    id: int
    guid: str | None = None
    name: str | None = None
    nick_name: str | None = None
    no: str | None = None
    customer_status_id: int | None = None
    customer_status: str | None = None
    address1: str | None = None
    address2: str | None = None
    address3: str | None = None
    zip_code: str | None = None
    city: str | None = None
    state: str | None = None
    country_id: int | None = None
    country: str | None = None
    phone: str | None = None
    fax: str | None = None
    email: str | None = None
    web_page: str | None = None
    ean_no: str | None = None  # XSD says integer, but a 13-digit EAN is an identifier: keep leading zeros
    invoice_template_id: int | None = None
    vat_no: str | None = None
    comment: str | None = None
    account_manager_id: int | None = None
    account_manager_full_name: str | None = None
    account_manager_initials: str | None = None
    secondary_account_manager_id: int | None = None
    secondary_account_manager_full_name: str | None = None
    secondary_account_manager_initials: str | None = None
    industry_id: int | None = None
    industry_name: str | None = None
    customer_since: date | None = None
    created_at: datetime | None = None
    created_by_employee_id: int | None = _alias("CreatedByEmployeeId")
    created_by: str | None = None
    last_modified_at: datetime | None = None
    last_modified_by_employee_id: int | None = _alias("LastModifiedByEmployeeId")
    last_modified_by: str | None = None


class Contact(TimeLogModel):
    """GetContactsRaw ``Contact`` (ContactRaw_Type)."""

    id: int
    salutation: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    full_name: str | None = None
    customer_id: int | None = None
    customer_name: str | None = None
    customer_no: str | None = None
    title: str | None = None
    phone: str | None = None
    mobile: str | None = None
    private_phone: str | None = None
    email: str | None = None
    address1: str | None = None
    address2: str | None = None
    zip_code: str | None = None
    city: str | None = None
    state: str | None = None
    birthday: datetime | None = None
    country: str | None = None
    comment: str | None = None
    account_manager_id: int | None = None
    account_manager_full_name: str | None = None
    created_at: datetime | None = None
    created_by_employee_id: int | None = _alias("CreatedByEmployeeId")
    created_by: str | None = None
    last_modified_at: datetime | None = None
    last_modified_by_employee_id: int | None = _alias("LastModifiedByEmployeeId")
    last_modified_by: str | None = None
    is_active: bool | None = None
    department: str | None = None


class Employee(TimeLogModel):
    """GetEmployeesRaw ``Employee`` (EmployeeRaw_Type). Employees are created in Uniconta too (rule T4)."""

    id: int
    employee_user_id: int | None = _alias("EmployeeUserId")
    first_name: str | None = None
    last_name: str | None = None
    full_name: str | None = None
    initials: str | None = None
    title: str | None = None
    email: str | None = None
    phone: str | None = None
    mobile: str | None = None
    private_phone: str | None = None
    address: str | None = None
    zip_code: str | None = None
    city: str | None = None
    status: int | None = None
    hired_date: datetime | None = None
    terminated_date: datetime | None = None
    department_name_id: int | None = None
    department_name: str | None = None
    work_week: str | None = None
    employee_type_id: int | None = _alias("EmployeeTypeID", "EmployeeTypeId")
    employee_type_name: str | None = None
    employee_no: str | None = None
    username: str | None = None
    cost_price: Decimal | None = None
    legal_entity_id: int | None = None
    approval_manager_user_id: int | None = None
    approval_manager_employee_id: int | None = None
    default_hourly_rate_id: int | None = None
    default_hourly_rate: Decimal | None = None
    default_hourly_rate_currency: str | None = None


class Project(TimeLogModel):
    """GetProjectsRaw ``Project`` (ProjectRaw_Type). Projects go to the chosen Uniconta project group (T3/S7)."""

    id: int
    guid: str | None = None
    name: str | None = None
    no: str | None = None
    status: int | None = None
    department: int | None = None
    ordered_by_department: int | None = None
    project_start_date: datetime | None = None
    project_end_date: datetime | None = None
    link: str | None = _alias("Link", "ProjectLink")
    description: str | None = None
    customer_id: int | None = None
    customer_name: str | None = None
    customer_no: str | None = None
    pm_id: int | None = _alias("PMID")
    pm_initials: str | None = None
    pm_full_name: str | None = None
    account_manager_id: int | None = None
    account_manager_initials: str | None = None
    account_manager_full_name: str | None = None
    partner_id: int | None = None
    partner_initials: str | None = None
    partner_full_name: str | None = None
    project_type_id: int | None = None
    project_type_name: str | None = None
    project_category_id: int | None = None
    project_category_name: str | None = None
    budget_amount_fixed_price_tasks: ObsoleteDecimal = None
    budget_amount_fixed_price_project: ObsoleteDecimal = None
    budget_amount_time_and_material: ObsoleteDecimal = None
    budget_amount_expenses: Decimal | None = None
    budget_amount_travel: Decimal | None = None
    budget_amount_work_currency: Decimal | None = None
    budget_amount_expense_currency: Decimal | None = None
    budget_amount_travel_currency: Decimal | None = None
    budget_hours_fixed_price_tasks: ObsoleteDecimal = None
    budget_hours_fixed_price_project: ObsoleteDecimal = None
    budget_hours_time_and_material: ObsoleteDecimal = None
    budget_amount: Decimal | None = None
    budget_hours: Decimal | None = None
    forecast_percent: Decimal | None = None
    created_at: datetime | None = None
    created_by_employee_id: int | None = _alias("CreatedByEmployeeId")
    created_by: str | None = None
    last_modified_at: datetime | None = None
    last_modified_by_employee_id: int | None = _alias("LastModifiedByEmployeeId")
    last_modified_by: str | None = None
    project_status_name: str | None = None
    contact_id: int | None = None
    contact_full_name: str | None = None
    contact_email: str | None = None
    internal_project: bool | None = None
    po_number: str | None = None
    project_stage: str | None = None
    currency_iso_code: str | None = None
    currency_rate: Decimal | None = None
    is_multi_customer_project: bool | None = None
    legal_entity_id: int | None = None


class ProjectType(TimeLogModel):
    """GetProjectTypesShortList ``ProjectType`` — a dimension for default item numbers (rules I1/I2)."""

    id: int
    name: str | None = None


class ProjectCategory(TimeLogModel):
    """GetProjectCategoriesShortList ``ProjectCategory`` (rules I1/I2; Uniconta "projektart", rule S5)."""

    id: int
    name: str | None = None


class Task(TimeLogModel):
    """GetTasksRaw ``Task`` (TaskRaw_Type)."""

    id: int
    guid: str | None = None
    name: str | None = None
    wbs: str | None = None
    task_no: str | None = None
    project_id: int | None = None
    project_no: str | None = None
    status: int | None = None
    status_detailed: int | None = None
    project_sub_contract_id: int | None = None
    parent_id: int | None = None
    is_parent: bool | None = None
    task_type_id: int | None = None
    task_type: str | None = None
    task_category_id: int | None = None
    task_category: str | None = None
    budget_hours: Decimal | None = None
    budget_amount: Decimal | None = None
    budget_amount_currency: Decimal | None = None
    is_fixed_price: bool | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    invoicing_type: str | None = None
    created_at: datetime | None = None
    created_by_employee_id: int | None = _alias("CreatedByEmployeeId")
    created_by: str | None = None
    last_modified_at: datetime | None = None
    last_modified_by_employee_id: int | None = _alias("LastModifiedByEmployeeId")
    last_modified_by: str | None = None
    is_billable: bool | None = None
    allocated_revenue_amount: Decimal | None = None
    allocated_revenue_amount_currency: Decimal | None = None


class TaskType(TimeLogModel):
    """GetTaskTypesShortList ``TaskType`` — a dimension for default item numbers (rule I1)."""

    id: int
    name: str | None = None


class HourlyRate(TimeLogModel):
    """GetHourlyRatesRaw ``HourlyRate`` (HourlyRateRaw_Type). ``is_active`` is an integer flag on the wire."""

    id: int
    guid: str | None = None
    name: str | None = None
    amount: Decimal | None = None
    currency_iso: str | None = None
    is_active: bool | None = None
    price_group_id: int | None = None
    price_group_name: str | None = None
    customer_id: int | None = None
    customer_name: str | None = None


class Invoice(TimeLogModel):
    """GetInvoicesRaw ``Invoice`` (InvoiceRaw_Type).

    ``currency_rate`` is per 100 units (629.96 = DKK per 100 USD), so
    ``amount_system_currency == amount * currency_rate / 100``. ``status``/``type`` are enums; only
    :attr:`InvoiceStatus.BOOKED` invoices and credit notes are transferred (rule T2).
    """

    id: int
    guid: str | None = None
    invoice_number: str | None = None
    header: str | None = None
    text: str | None = None
    invoice_date: datetime
    due_date: datetime | None = None
    amount: Decimal
    amount_system_currency: Decimal | None = None
    status: InvoiceStatus
    type: InvoiceType
    customer_id: int
    customer_name: str | None = None
    customer_no: str | None = None
    customer_address1: str | None = None
    customer_address2: str | None = None
    customer_address3: str | None = None
    customer_zip_code: str | None = None
    customer_city: str | None = None
    customer_state: str | None = None
    customer_country: str | None = None
    customer_country_id: int | None = None
    payment_term_id: int | None = None
    payment_term_text: str | None = None
    currency_abb: str | None = None
    currency_rate: Decimal | None = None
    default_vat: Decimal | None = None
    add_vat: bool | None = None
    net_amount: Decimal | None = None
    net_amount_system_currency: Decimal | None = None
    vat_included: Decimal | None = None
    vat_included_system_currency: Decimal | None = None
    project_id: int | None = None
    project_no: str | None = None
    purchase_no: str | None = None
    contact_full_name: str | None = None
    department_id: int | None = None
    department_tree: str | None = None
    external_invoice_no: str | None = None
    customer_reference: str | None = None
    external_invoice_status: str | None = None
    relates_to_invoice_id: int | None = None
    internal_note: str | None = None
    legal_entity_id: int | None = None
    invoice_template_id: int | None = None
    is_ignored_when_transfer: bool | None = None
    is_ready_for_invoicing: bool | None = None

    @property
    def is_credit_note(self) -> bool:
        return self.type == InvoiceType.CREDIT_NOTE


class InvoiceLine(TimeLogModel):
    """GetInvoiceLinesRaw ``InvoiceLine``. ``vat`` and ``discount`` are percentages; ``product_no`` is the item."""

    id: int
    invoice_id: int
    invoice_no: str | None = None
    date: datetime | None = None
    text: str | None = None
    quantity: Decimal
    rate: Decimal
    rate_system_currency: Decimal | None = None
    amount: Decimal
    amount_system_currency: Decimal | None = None
    project_id: int | None = None
    project_name: str | None = None
    project_no: str | None = None
    vat: Decimal | None = None
    discount: Decimal | None = None
    unit_type: InvoiceLineUnitType | None = None
    product_no: str | None = None


class InvoiceLineDetail(TimeLogModel):
    """GetInvoiceLineDetailsRaw ``InvoiceLineDetail``: what an invoice line was made from (registration type)."""

    id: int
    invoice_line_id: int | None = None
    invoice_id: int | None = None
    registration_date: datetime | None = None
    text: str | None = None
    quantity: Decimal | None = None
    rate: Decimal | None = None
    rate_system_currency: Decimal | None = None
    amount: Decimal | None = None
    amount_system_currency: Decimal | None = None
    registered_quantity: Decimal | None = None
    registered_rate_system_currency: Decimal | None = None
    registered_amount_system_currency: Decimal | None = None
    registration_type: RegistrationType | None = None
    employee_initials: str | None = None
    task_id: int | None = None
    task_name: str | None = None
    registration_id: int | None = None
    unit_type: InvoiceLineUnitType | None = None
    project_id: int | None = None
    project_name: str | None = None
    contract_id: int | None = None
    contract_model_type: int | None = None


class Expense(TimeLogModel):
    """GetExpensesRaw ``Expense`` (Expense_Type). The XSD has no ``ID``; answers carry one as an attribute."""

    id: int | None = None
    customer_name: str | None = None
    customer_no: str | None = None
    customer_id: int | None = None
    project_name: str | None = None
    project_no: str | None = None
    project_id: int | None = None
    contract_name: str | None = None
    contract_id: int | None = None
    expense_type: str | None = None
    expense_type_id: int | None = None
    supplier_customer_name: str | None = None
    supplier_customer_id: int | None = None
    date: datetime | None = None
    amount: Decimal | None = None
    amount_system_currency: Decimal | None = None
    vat: Decimal | None = None
    currency_abb: str | None = _alias("CurrencyABB")
    currency_rate: Decimal | None = None
    payment_method: str | None = None
    payment_method_id: int | None = None
    comment: str | None = None
    approved_status: int | None = None
    billable: int | None = None
    employee_first_name: str | None = None
    employee_last_name: str | None = None
    employee_initials: str | None = None
    employee_id: int | None = None
    user_id: int | None = None
    reg_amount: Decimal | None = None
    reg_amount_currency: Decimal | None = None
    estimated_amount: Decimal | None = None
    estimated_amount_currency: Decimal | None = None
    inv_amount: Decimal | None = None
    inv_amount_currency: Decimal | None = None
    profit_ratio: Decimal | None = None
    invoice_line_id: int | None = _alias("InvoiceLineId")
    supplier_invoice_no: str | None = None
    created: datetime | None = None


class Mileage(TimeLogModel):
    """GetMileageRaw ``Mileage`` (MileageRaw_Type). The official sample calls ``TravelCar`` ``TravelForm``."""

    id: int
    customer_name: str | None = None
    customer_no: str | None = None
    customer_id: int | None = None
    project_name: str | None = None
    project_no: str | None = None
    project_id: int | None = None
    employee_first_name: str | None = None
    employee_last_name: str | None = None
    employee_full_name: str | None = None
    employee_initials: str | None = None
    employee_id: int | None = None
    employee_user_id: int | None = None
    travel_start_date: datetime | None = None
    travel_end_date: datetime | None = None
    travel_purpose: str | None = None
    travel_departure: str | None = None
    travel_destination: str | None = None
    travel_cost_amount: Decimal | None = None
    travel_reg_amount: Decimal | None = None
    travel_invoiced_amount: Decimal | None = None
    travel_trip_start: Decimal | None = None
    travel_trip_end: Decimal | None = None
    travel_km: Decimal | None = None
    travel_car: str | None = _alias("TravelCar", "TravelForm")
    travel_self_payment: bool | None = None
    transport_rate_amount: Decimal | None = None
    transport_rate: str | None = None
    is_billable: bool | None = None


class WorkUnit(TimeLogModel):
    """GetWorkUnitsRaw[Paged] ``WorkUnit`` — a time registration (there is no GetTimeRegistrationsRaw)."""

    id: int
    old_id: int | None = None
    time_registration_guid: str | None = _alias("TimeRegistrationGuid")
    work_unit_guid: str | None = _alias("WorkUnitGuid")
    overtime_factor: Decimal | None = None
    employee_id: int | None = None
    employee_initials: str | None = None
    employee_first_name: str | None = None
    employee_last_name: str | None = None
    allocation_id: int | None = None
    task_id: int | None = None
    task_name: str | None = None
    project_id: int | None = None
    project_name: str | None = None
    customer_id: int | None = _alias("CustomerId")
    customer_name: str | None = None
    date: datetime | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    note: str | None = None
    department_id: int | None = None
    department_name: str | None = None
    additional_text_field: str | None = None
    actual_exchange_rate: Decimal | None = None
    reg_hours: Decimal | None = None
    reg_hourly_rate: Decimal | None = None
    reg_hourly_rate_project_currency: Decimal | None = None
    reg_amount: Decimal | None = None
    reg_amount_project_currency: Decimal | None = None
    estimated_hours: Decimal | None = None
    estimated_hourly_rate: Decimal | None = None
    estimated_hourly_rate_project_currency: Decimal | None = None
    estimated_amount: Decimal | None = None
    estimated_amount_project_currency: Decimal | None = None
    bar_hours: Decimal | None = None
    bar_hourly_rate: Decimal | None = None
    bar_hourly_rate_project_currency: Decimal | None = None
    bar_amount: Decimal | None = None
    bar_amount_project_currency: Decimal | None = None
    invoiced_hours: Decimal | None = None
    invoiced_hourly_rate: Decimal | None = None
    invoiced_hourly_rate_project_currency: Decimal | None = None
    invoiced_amount: Decimal | None = None
    invoiced_amount_project_currency: Decimal | None = None
    inv_hours: Decimal | None = None
    inv_amount: Decimal | None = None
    cost_amount: Decimal | None = None
    cost_amount_currency: Decimal | None = None
    hourly_rate_id: int | None = _alias("HourlyRateId")
    invoice_status: int | None = None
    billable_status: int | None = None
    is_billable: bool | None = None
    approved_status: int | None = None
    monthly_period: str | None = None
    created_at: datetime | None = None
    created_by_employee_id: int | None = _alias("CreatedByEmployeeId")
    created_by: str | None = None
    last_modified_at: datetime | None = None
    last_modified_by_employee_id: int | None = _alias("LastModifiedByEmployeeId")
    last_modified_by: str | None = None
    user_id: int | None = None


# --------------------------------------------------------------------------------------------------------------
# Transactional API data contracts (TimeLog's Transactional WSDL proxies (TimeLogApiSdk))
# --------------------------------------------------------------------------------------------------------------


class SecurityToken(TimeLogModel):
    """``SecurityService.GetToken`` answer: passed as the ``token`` parameter of every other operation.

    Valid about 12 hours; ``expires`` tells when. TimeLog sends it without a time zone; the client treats a
    naive value as UTC and refreshes well before it (see :class:`~.transactional.TransactionalClient`).
    """

    initials: str
    expires: datetime
    hash: str = Field(repr=False)


class APIMessage(TimeLogModel):
    """One entry of ``ResponseOfX.Messages``. ``severity`` arrives by name (``Error``/``Invalid``/``Message``)."""

    message: str | None = None
    severity: str | None = None
    error_code: int | None = None


class Address(TimeLogModel):
    address1: str | None = None
    address2: str | None = None
    address3: str | None = None
    zip_code: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None


class ExternalSystemContext(TimeLogModel):
    """An external key on a TimeLog entity (``{SystemName, ExternalID}``) — how an ERP id is remembered."""

    system_name: str | None = None
    external_id: str | None = None


class InvoiceState(TimeLogModel):
    """``InvoiceState{ID, Name}`` — used in ``Invoice.Details.Status`` and ``UpdateExternalData``."""

    id: int | None = None
    name: str | None = None


class _Header(TimeLogModel):
    id: int | None = None
    name: str | None = None
    no: str | None = None
    guid: str | None = None


class TxCurrency(TimeLogModel):
    id: int | None = None
    abbreviation: str | None = None
    rate: Decimal | None = None
    rate_date: datetime | None = None
    descriptive_name: str | None = None


class TxInvoiceDetails(TimeLogModel):
    status: InvoiceState | None = None
    type: InvoiceState | None = None
    internal_reference: dict[str, Any] | None = None
    currency: TxCurrency | None = None
    customer_header: _Header | None = None
    contact_header: dict[str, Any] | None = None
    project_header: _Header | None = None


class TxCustomer(TimeLogModel):
    """CRM ``Customer`` contract (``CRMService.GetCustomersModifiedSincePaged``): richer than REST's read model."""

    id: int
    guid: UUID | None = None
    name: str | None = None
    no: str | None = None
    vat: Decimal | None = None
    calculate_vat: bool | None = None
    default_discount_percent: Decimal | None = None
    address: Address | None = None
    fax: str | None = None
    web_site: str | None = None
    phone: str | None = None
    email: str | None = None
    kam: str | None = None
    ean: str | None = _alias("EAN")
    is_oio_customer: bool | None = _alias("IsOIOCustomer")
    creditor_id: str | None = None
    account_no: str | None = None
    industry: str | None = None
    status: str | None = None
    vat_no: str | None = None
    currency: str | None = None
    payment_term_id: int | None = _alias("PaymentTermId")
    invoicing_address: Address | None = None
    invoicing_name: str | None = None
    use_invoicing_address: bool | None = None
    customer_since_date: datetime | None = None
    nick_name: str | None = None
    organization_number: str | None = None
    kam2: str | None = _alias("KAM2")
    action: str | None = None
    external_keys: list[ExternalSystemContext] = Field(default_factory=list)


class TxProject(TimeLogModel):
    """ProjectManagement ``ProjectApiReadModel`` contract (``GetProjectsModifiedInPeriodPaged``)."""

    id: UUID | None = None
    project_id: int
    customer_id: int | None = None
    name: str | None = None
    no: str | None = None
    description: str | None = None
    link: str | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    is_internal_project: bool | None = None
    project_manager_id: int | None = None
    account_manager_id: int | None = None
    department_handled_by_id: int | None = None
    department_ordered_by_id: int | None = None
    type_id: int | None = None
    category_id: int | None = None
    stage_id: int | None = None
    legal_entity_id: int | None = None
    price_group_id: int | None = None
    exchange_rate: Decimal | None = None
    currency_id: int | None = None
    main_contract_id: int | None = None
    budget_work_hours_fixed_price_project: Decimal | None = None
    budget_work_hours_fixed_price_tasks: Decimal | None = None
    budget_work_hours_time_and_material: Decimal | None = None
    budget_work_amount_fixed_price_project: Decimal | None = None
    budget_work_amount_fixed_price_tasks: Decimal | None = None
    budget_work_amount_time_and_material: Decimal | None = None
    budget_amount_expenses: Decimal | None = None
    budget_amount_travel_expenses: Decimal | None = None
    project_contact_id: int | None = None
    purchase_order_number: str | None = None
    external_keys: list[ExternalSystemContext] = Field(default_factory=list)


class TxInvoiceLine(TimeLogModel):
    """Invoicing ``InvoiceLine`` contract. Maps to Uniconta order lines: ProductNo→Item, Text, Quantity→Qty,
    Rate→Price, Discount→DiscountPct (timelog-uniconta-mapping.md)."""

    id: int
    invoice_id: int | None = None
    date: datetime | None = None
    product_no: str | None = None
    text: str | None = None
    quantity: Decimal | None = None
    rate: Decimal | None = None
    amount: Decimal | None = None
    discount: Decimal | None = None
    invoice_line_type: int | None = None
    vat: Decimal | None = None


class _TxInvoiceBase(TimeLogModel):
    id: int
    guid: UUID | None = None
    header: str | None = None
    message: str | None = None
    status: str | None = None
    type: str | None = None
    requisition_no: str | None = None
    invoicing_address: Address | None = None
    customer_id: int | None = None
    contact_id: int | None = None
    customer_reference: str | None = None
    internal_reference: str | None = None
    calculate_vat: bool | None = None
    net_amount: Decimal | None = None
    vat_included: Decimal | None = _alias("VATIncluded")
    rounding: Decimal | None = None
    amount_due: Decimal | None = None
    invoice_lines: list[TxInvoiceLine] = Field(default_factory=list)
    currency: str | None = None
    ean: str | None = _alias("EAN")
    invoicing_customer_name: str | None = None
    customer_reference_id: int | None = None
    details: TxInvoiceDetails | None = None
    action: str | None = None
    external_keys: list[ExternalSystemContext] = Field(default_factory=list)


class TxInvoice(_TxInvoiceBase):
    """Invoicing ``Invoice`` contract (``GetInvoicesModifiedInPeriodPaged``).

    ``status``/``type`` are free strings here; ``details.status``/``details.type`` carry ``{ID, Name}``.
    ``invoice_currency_rate`` is per 100 units like everywhere in TimeLog.
    """

    invoice_no: str | None = None
    invoice_date: datetime | None = None
    due_date: datetime | None = None
    invoice_currency_rate: Decimal | None = None
    invoicing_attention: str | None = None
    invoice_no_external: str | None = None

    @property
    def status_enum(self) -> InvoiceStatus | None:
        return _state_enum(InvoiceStatus, self.details.status if self.details else None, self.status)


class TxCreditNote(_TxInvoiceBase):
    """Invoicing ``CreditNote`` contract (``GetCreditNotesModifiedInPeriodPaged``)."""

    credit_note_no: str | None = _alias("CreditNoteNO")
    credit_note_date: datetime | None = None
    currency_rate: Decimal | None = None
    credited_invoice_id: int | None = None
    relates_to_invoice_no: str | None = None

    @property
    def status_enum(self) -> InvoiceStatus | None:
        return _state_enum(InvoiceStatus, self.details.status if self.details else None, self.status)


_E = TypeVar("_E", bound=_OpenIntEnum)


def _state_enum(enum: type[_E], state: InvoiceState | None, text: str | None) -> _E | None:
    if state is not None and state.id is not None:
        return enum(state.id)
    if text:
        key = text.strip().upper().replace(" ", "_").replace("/", "_")
        aliases = {"PAYED": "PAID", "CHECKED": "PAID", "PAYED_CHECKED": "PAID"}
        key = aliases.get(key, key)
        if key in enum.__members__:
            return enum[key]
        if text.strip().lstrip("-").isdigit():
            return enum(int(text))
    return None


# --------------------------------------------------------------------------------------------------------------
# REST API v1 (TimeLog's REST v1 swagger (TimeLogApiSdk), "Definitions")
# --------------------------------------------------------------------------------------------------------------


class Product(TimeLogModel):
    """REST ``ProductApiReadModel`` — a TimeLog *product number* (Danish "varenummer"), rule U2."""

    product_number_id: int
    product_number: str | None = None
    product_name: str | None = None
    description: str | None = None
    use_vat: bool | None = None
    vat_percentage: Decimal | None = None
    is_active: bool | None = None
    product_number_guid: UUID | None = _alias("ProductNumberGuid")
    legal_entity_id: int | None = None


class ExpenseType(TimeLogModel):
    """REST ``ExpenseTypeApiReadModel``: ``account_no`` drives expense-type detection in the import (rule U4),
    ``product_no`` the default item for expense lines (rule I3)."""

    expense_type_id: int
    expense_type_name: str | None = None
    show_in_travel: bool | None = None
    account_no: str | None = None
    vat: Decimal | None = None
    product_no: str | None = None
    salary_code: str | None = None
    is_active: bool | None = None
    is_equipment: bool | None = None
    cost_price: Decimal | None = None
    sales_price: Decimal | None = None
    equipment_text: str | None = None
    legal_entity_id: int | None = None


class PaymentTerm(TimeLogModel):
    """REST ``PaymentTermApiReadModel``."""

    id: int
    name: str | None = None
    term_message: str | None = None
    credit_term: str | None = None
    days_of_credit: int | None = None
    interest_rate: Decimal | None = None
    interest_period: str | None = None
    reminder_fee: Decimal | None = None
    is_default_term: bool | None = None
    is_active: bool | None = None
    currency_id: int | None = None
    payment_term_guid: UUID | None = _alias("PaymentTermGuid")


class Currency(TimeLogModel):
    """REST ``CurrencyApiReadModel``; ``current_rate`` is per 100 units of the currency."""

    currency_id: int
    currency_abb: str | None = _alias("CurrencyABB")
    descriptive_name: str | None = None
    current_rate: Decimal | None = None
    is_active: bool | None = None

    @property
    def abbreviation(self) -> str | None:
        """The ISO code, under the name the Transactional ``Currency`` contract uses (``Abbreviation``)."""
        return self.currency_abb


class RestCustomer(TimeLogModel):
    """REST ``CustomerApiReadModel`` — only 8 fields (hence read-modify-write needs another source, see
    :meth:`~.rest.RestClient.update_customer`)."""

    customer_id: int
    id: UUID | None = None
    name: str | None = None
    no: str | None = None
    default_mileage_distance: int | None = None
    customer_status_id: int | None = None
    vat_no: str | None = None
    organization_no: str | None = None


class _RestDimension(TimeLogModel):
    name: str | None = None
    is_active: bool | None = None
    product_no: str | None = None
    id: UUID | None = None


class RestProjectType(_RestDimension):
    """REST ``ProjectTypeApiReadModel``: carries the ``ProductNo`` used as default item (rules I1/I2)."""

    project_type_id: int


class RestProjectCategory(_RestDimension):
    """REST ``ProjectCategoryApiReadModel`` (with ``ProductNo``)."""

    project_category_id: int


class RestTaskType(_RestDimension):
    """REST ``TaskTypeApiReadModel`` (with ``ProductNo``)."""

    task_type_id: int


class RestHourlyRate(TimeLogModel):
    """REST ``HourlyRateApiReadModel`` (with ``ProductNo``, rule I1)."""

    hourly_rate_id: int
    hourly_rate_name: str | None = None
    amount: Decimal | None = None
    description: str | None = None
    is_active: bool | None = None
    customer_id: int | None = None
    product_no: str | None = None
    id: UUID | None = None
    service_id: int | None = None
    hourly_rate_currency_id: int | None = None
    is_default: bool | None = None
    currency_iso: str | None = None
    legal_entity_id: int | None = None


class RestLegalEntity(TimeLogModel):
    """REST ``LegalEntityApiReadModel``."""

    legal_entity_id: int
    name: str | None = None
    is_active: bool | None = None
    id: UUID | None = None
    currency_id: int | None = None
    currency_iso: str | None = None
    country_iso: str | None = None
    is_system_legal_entity: bool | None = None


class ProjectExpense(TimeLogModel):
    """REST ``ProjectExpenseApiReadModel`` (answer of a project-expense create/read)."""

    project_expense_id: int | None = None
    expense_no: str | None = None
    project_id: int | None = None
    employee_id: int | None = None
    purchase_date: datetime | None = None
    invoice_no: str | None = None
    customer_id: int | None = None
    expense_currency_iso: str | None = None
    amount_expense_currency: Decimal | None = None
    vat_expense_currency: Decimal | None = _alias("VatExpenseCurrency")
    project_currency_iso: str | None = None
    sales_price_project_currency: Decimal | None = None
    sales_price_system_currency: Decimal | None = None
    expense_cost_project_currency: Decimal | None = None
    profit_ratio: Decimal | None = None
    comment: str | None = None
    payment_method_id: int | None = None
    expense_type_id: int | None = None
    is_billable: bool | None = None
    is_approved: bool | None = None
    invoice_line_id: int | None = None
    unit_type: int | None = None
    product_no: str | None = None
    external_id: str | None = None
    project_sub_contract_id: int | None = None
    legal_entity_id: int | None = None


class CustomerCreate(TimeLogModel):
    """REST ``CustomerApiCreateModel`` (``POST /v1/customer/create``). Write names differ from read names:
    ``CustomerNo`` (read ``No``), ``VatNo`` (read ``VATNo``)."""

    name: str
    currency_id: int | None = None
    customer_status_id: int | None = None
    customer_no: str | None = None
    nick_name: str | None = None
    primary_kam_id: int | None = None
    secondary_kam_id: int | None = None
    customer_since: datetime | None = None
    industry_id: int | None = None
    phone: str | None = None
    fax: str | None = None
    email: str | None = None
    website: str | None = None
    address: str | None = None
    address2: str | None = None
    address3: str | None = None
    zip_code: str | None = None
    city: str | None = None
    state: str | None = None
    country_id: int | None = None
    use_invoicing_address: bool | None = None
    invoicing_address: str | None = None
    invoicing_address2: str | None = None
    invoicing_address3: str | None = None
    invoicing_address_zip_code: str | None = None
    invoicing_address_city: str | None = None
    invoicing_address_state: str | None = None
    invoicing_address_country_id: int | None = None
    vat_no: str | None = _alias("VatNo")
    organization_no: str | None = None
    default_mileage_distance: int | None = None
    expense_is_billable: bool | None = None
    mileage_is_billable: bool | None = None
    default_dist_is_max_billable: bool | None = None
    contact_id: int | None = None
    invoice_address_to_use: int | None = None
    internal_reference_id: int | None = None
    customer_reference_id: int | None = None
    payment_term_id: int | None = None
    discount_percentage: Decimal | None = None
    calculate_vat: bool | None = _alias("CalculateVat")
    vat_percentage: Decimal | None = _alias("VatPercentage")
    use_ean_no: bool | None = None
    ean_no: str | None = None
    language_id: int | None = None


class CustomerUpdate(TimeLogModel):
    """REST ``CustomerApiUpdateModel`` (``PUT /v1/customer/update``) — a **full replace**: every field left out
    is blanked (timelog-mcp ADR 0005), so it is always sent complete (read-modify-write)."""

    customer_id: int
    name: str | None = None
    customer_no: str | None = None
    currency_id: int | None = None
    customer_status_id: int | None = None
    nick_name: str | None = None
    country_id: int | None = None
    customer_since: datetime | None = None
    organization_no: str | None = None
    primary_kam_id: int | None = None
    secondary_kam_id: int | None = None
    industry_id: int | None = None
    phone: str | None = None
    fax: str | None = None
    email: str | None = None
    website: str | None = None
    address: str | None = None
    address2: str | None = None
    address3: str | None = None
    zip_code: str | None = None
    city: str | None = None
    state: str | None = None
    vat_no: str | None = _alias("VatNo")
    use_invoicing_address: bool | None = None
    invoicing_name: str | None = None
    invoicing_address: str | None = None
    invoicing_address2: str | None = None
    invoicing_address3: str | None = None
    invoicing_address_zip_code: str | None = None
    invoicing_address_city: str | None = None
    invoicing_address_state: str | None = None
    invoicing_address_country_id: int | None = None
    creditor_id: str | None = None

    @classmethod
    def from_reporting(cls, customer: Customer) -> CustomerUpdate:
        """The full prior state of a customer from the Reporting API's ``GetCustomersRaw`` record.

        REST's read model has 8 of the 33 update fields; the Reporting record has nearly all the rest, so it is
        the natural "read" half of a read-modify-write.
        """
        return cls(
            customer_id=customer.id, name=customer.name, customer_no=customer.no,
            customer_status_id=customer.customer_status_id, nick_name=customer.nick_name,
            country_id=customer.country_id,
            customer_since=datetime.combine(customer.customer_since, datetime.min.time())
            if customer.customer_since else None,
            primary_kam_id=customer.account_manager_id, secondary_kam_id=customer.secondary_account_manager_id,
            industry_id=customer.industry_id, phone=customer.phone, fax=customer.fax, email=customer.email,
            website=customer.web_page, address=customer.address1, address2=customer.address2,
            address3=customer.address3, zip_code=customer.zip_code, city=customer.city, state=customer.state,
            vat_no=customer.vat_no,
        )


class ProductCreate(TimeLogModel):
    """A new product number (rule U2: Uniconta items the administrator activates in TimeLog).

    The public swagger has no product create; the field names follow ``ProductApiReadModel``.
    """

    product_number: str
    product_name: str | None = None
    description: str | None = None
    use_vat: bool | None = None
    vat_percentage: Decimal | None = None
    is_active: bool | None = None
    legal_entity_id: int | None = None


class ProjectExpenseCreate(TimeLogModel):
    """REST ``ProjectExpenseApiCreateModel`` (``POST /v1/project-expense``) — rule U4's write."""

    project_id: int
    expense_type_id: int | None = None
    purchase_date: datetime | None = None
    payment_method_id: int | None = None
    amount_including_vat_expense_currency: Decimal | None = _alias("AmountIncludingVatExpenseCurrency")
    sales_price_amount_project_currency: Decimal | None = None
    is_billable: bool | None = None
    expense_no: str | None = None
    vat_amount_expense_currency: Decimal | None = _alias("VatAmountExpenseCurrency")
    expense_currency_iso: str | None = None
    external_id: str | None = None
    project_sub_contract_id: int | None = None
    project_expense_exchange_rate: Decimal | None = None
    supplier_id: int | None = None
    supplier_invoice_no: str | None = None
    profit_ratio: Decimal | None = None
    comment: str | None = None
