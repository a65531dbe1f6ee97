"""The registry of staged entities: one :class:`EntitySpec` per entity of either system.

Everything that stages, validates or reports an entity reads this table instead of hard-coding names: the
staging tables (``tables.py``), the extraction plan (``include/tlsync/extract``), the quality suites
(``include/tlsync/quality``) and the run summary. A spec says

- which system and which API entity it is (TimeLog Reporting method / REST resource, Uniconta class),
- its **natural key** (the API's own key fields; several fields are joined with ``|``),
- how it is extracted: ``full`` for reference data, ``incremental`` for changing data (rule set of issue 4),
- the typed columns the staging table carries beside the raw payload (for SQL joins and reports).

Money columns are ``Numeric(18, 4)`` (TimeLog serves 4 decimals) and are read back as ``Decimal``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

System = Literal["timelog", "uniconta"]
Mode = Literal["full", "incremental"]
ColumnType = Literal["str", "int", "decimal", "date", "datetime", "bool"]

ROW_ID = "RowId"   # Uniconta's identity of every stored row (see docs/staging-cursors.md)

TIMELOG: System = "timelog"
UNICONTA: System = "uniconta"


@dataclass(frozen=True)
class EntitySpec:
    system: System
    name: str                      # e.g. "customers"
    source: str                    # Reporting method / REST resource / Uniconta class
    key: tuple[str, ...]           # natural key fields (API field names)
    mode: Mode = "full"
    columns: dict[str, ColumnType] = field(default_factory=dict)   # typed columns (API field name → type)
    enums: dict[str, frozenset[Any]] = field(default_factory=dict)  # field → allowed values (quality gate)
    dates: tuple[str, ...] = ()    # date/datetime fields checked to be parsable and in range
    cursor: str | None = None      # field an incremental read filters on: a date (``field ge window start``) or
    #                                ``RowId`` (``RowId gt highest staged RowId``, see docs/staging-cursors.md)
    currency_field: str | None = None
    cvr_field: str | None = None   # CVR number field: checksum checked as a *warning*

    @property
    def row_cursor(self) -> bool:
        """Whether the incremental read follows Uniconta's ``RowId`` (assigned on insert, so a record *posted*
        later is found whatever its date) instead of a date window."""
        return self.cursor == ROW_ID

    @property
    def qualified(self) -> str:
        """``"timelog.customers"`` — the name used in the ledger, the summary and Asset URIs."""
        return f"{self.system}.{self.name}"

    @property
    def table(self) -> str:
        return f"stg_{self.system}_{self.name}"


def _spec(system: System, name: str, source: str, key: str | tuple[str, ...], **kw: Any) -> EntitySpec:
    return EntitySpec(system, name, source, (key,) if isinstance(key, str) else key, **kw)


INVOICE_STATUS = frozenset({"0", "1", "2", "3"})
INVOICE_TYPE = frozenset({"1", "2", "3", "4"})

ENTITIES: tuple[EntitySpec, ...] = (
    # ---- TimeLog: reference data (full) ---------------------------------------------------------------------
    _spec(TIMELOG, "legal_entities", "GetLegalEntitiesRaw", "ID", columns={"Name": "str", "CurrencyISO": "str"}),
    _spec(TIMELOG, "employees", "GetEmployeesRaw", "ID", columns={"Initials": "str", "Email": "str"}),
    _spec(TIMELOG, "contacts", "GetContactsRaw", "ID", columns={"CustomerID": "int"}),
    _spec(TIMELOG, "project_types", "GetProjectTypesShortList", "ID", columns={"Name": "str"}),
    _spec(TIMELOG, "project_categories", "GetProjectCategoriesShortList", "ID", columns={"Name": "str"}),
    _spec(TIMELOG, "tasks", "GetTasksRaw", "ID", columns={"ProjectID": "int"}),
    _spec(TIMELOG, "task_types", "GetTaskTypesShortList", "ID", columns={"Name": "str"}),
    _spec(TIMELOG, "hourly_rates", "GetHourlyRatesRaw", "ID", columns={"Name": "str"}),
    _spec(TIMELOG, "products", "product", "ProductNumberID",
          columns={"ProductNumber": "str", "ProductName": "str", "IsActive": "bool"}),
    _spec(TIMELOG, "expense_types", "expense-type", "ExpenseTypeID",
          columns={"ExpenseTypeName": "str", "AccountNo": "str", "ProductNo": "str"}),
    # ---- TimeLog: changing data (incremental) ---------------------------------------------------------------
    _spec(TIMELOG, "customers", "GetCustomersRaw", "ID", mode="incremental",
          columns={"No": "str", "Name": "str", "VATNo": "str", "LastModifiedAt": "datetime"},
          dates=("CreatedAt", "LastModifiedAt"), cvr_field="VATNo"),
    _spec(TIMELOG, "projects", "GetProjectsRaw", "ID", mode="incremental",
          columns={"No": "str", "Name": "str", "CustomerID": "int"}),
    _spec(TIMELOG, "invoices", "GetInvoicesRaw", "ID", mode="incremental",
          columns={"InvoiceNumber": "str", "InvoiceDate": "datetime", "Status": "int", "Type": "int",
                   "CustomerID": "int", "LegalEntityID": "int", "CurrencyAbb": "str", "NetAmount": "decimal",
                   "VATIncluded": "decimal", "Amount": "decimal", "ExternalInvoiceNo": "str"},
          enums={"Status": INVOICE_STATUS, "Type": INVOICE_TYPE}, dates=("InvoiceDate",),
          currency_field="CurrencyAbb"),
    _spec(TIMELOG, "invoice_lines", "GetInvoiceLinesRaw", "ID", mode="incremental",
          columns={"InvoiceID": "int", "Quantity": "decimal", "Rate": "decimal", "Amount": "decimal",
                   "ProductNo": "str"}),
    _spec(TIMELOG, "invoice_line_details", "GetInvoiceLineDetailsRaw", "ID", mode="incremental",
          columns={"InvoiceID": "int", "InvoiceLineID": "int", "RegistrationType": "int"}),
    _spec(TIMELOG, "expenses", "GetExpensesRaw", "ID", mode="incremental", columns={"ProjectID": "int"}),
    _spec(TIMELOG, "mileage", "GetMileageRaw", "ID", mode="incremental", columns={"ProjectID": "int"}),
    # ---- Uniconta: reference data (full), per company --------------------------------------------------------
    _spec(UNICONTA, "companies", "CompanyClient", "CompanyId", columns={"Name": "str"}),
    _spec(UNICONTA, "debtors", "DebtorClient", "Account",
          columns={"Name": "str", "CompanyRegNo": "str", "Phone": "str"}, cvr_field="CompanyRegNo"),
    _spec(UNICONTA, "debtor_groups", "DebtorGroupClient", "Group", columns={"Name": "str"}),
    _spec(UNICONTA, "payment_terms", "PaymentTermClient", "Payment", columns={"Name": "str"}),
    _spec(UNICONTA, "layout_groups", "DebtorLayoutGroupClient", "Name"),
    _spec(UNICONTA, "vat_zones", "GLVatClient", "Vat", columns={"Name": "str"}),
    _spec(UNICONTA, "employees", "EmployeeClient", "Number", columns={"Name": "str"}),
    _spec(UNICONTA, "items", "InvItemClient", "Item", columns={"Name": "str", "SalesPrice1": "decimal"}),
    _spec(UNICONTA, "project_groups", "ProjectGroupClient", "Group", columns={"Name": "str"}),
    _spec(UNICONTA, "projects", "ProjectClient", "Number", columns={"Name": "str", "Account": "str"}),
    _spec(UNICONTA, "project_categories", "PrCategoryClient", "Number", columns={"Name": "str"}),
    _spec(UNICONTA, "gl_accounts", "GLAccountClient", "Account", columns={"Name": "str"}),
    # ---- Uniconta: posted data (incremental by RowId), per company ------------------------------------------
    # Posted invoices, their lines and GL postings are read from the highest RowId staged for the company, not by
    # their Date: an invoice posted today may be dated months ago (docs/staging-cursors.md; rules U3, U4/S6).
    _spec(UNICONTA, "orders", "DebtorOrderClient", "OrderNumber", columns={"Account": "str"}),
    _spec(UNICONTA, "order_lines", "DebtorOrderLineClient", ("OrderNumber", "LineNumber"),
          columns={"Item": "str", "Qty": "decimal", "Price": "decimal"}),
    _spec(UNICONTA, "invoices", "DebtorInvoiceClient", "InvoiceNumber", mode="incremental",
          columns={"Account": "str", "Date": "date", "NetAmount": "decimal", "TotalAmount": "decimal",
                   "Currency": "str", ROW_ID: "int"}, dates=("Date",), cursor=ROW_ID,
          currency_field="Currency"),   # blank = the company's currency; else one TimeLog knows (issue 17)
    _spec(UNICONTA, "invoice_lines", "DebtorInvoiceLines", ("InvoiceNumber", "LineNumber"), mode="incremental",
          columns={"Item": "str", "InvoiceQty": "decimal", "SalesPrice": "decimal", ROW_ID: "int"}, cursor=ROW_ID),
    _spec(UNICONTA, "gl_transactions", "GLTransClient", ROW_ID,
          mode="incremental", columns={"Account": "str", "Date": "date", "Amount": "decimal", ROW_ID: "int"},
          dates=("Date",), cursor=ROW_ID),
)

# TimeLog data that belongs to the site as a whole (read once per run), as opposed to one legal entity's
# invoices (read per legal entity ↔ Uniconta company pair, rule S2).
TIMELOG_SITE_FULL = ("legal_entities", "employees", "customers", "contacts", "projects", "project_types",
                     "project_categories", "tasks", "task_types", "hourly_rates", "products", "expense_types")
TIMELOG_SITE_DATED = ("expenses", "mileage")

BY_NAME: dict[str, EntitySpec] = {spec.qualified: spec for spec in ENTITIES}


def get(qualified: str) -> EntitySpec:
    """Look up ``"timelog.customers"``; a clear error lists the known names."""
    try:
        return BY_NAME[qualified]
    except KeyError:
        raise KeyError(f"unknown staged entity {qualified!r}; known: {', '.join(sorted(BY_NAME))}") from None


def natural_key(spec: EntitySpec, payload: dict[str, Any]) -> str | None:
    """The record's natural key as one string (``None`` if any key field is missing or blank)."""
    parts = []
    for f in spec.key:
        value = payload.get(f)
        if value is None or str(value).strip() == "":
            return None
        parts.append(str(value).strip())
    return "|".join(parts)
