"""Reporting API response schemas, copied field-for-field (XSD order) from
TimeLog's API docs (api.timelog.com, TimeLogApiSdk) ("Reporting API response schemas"), in that file's notation:
``@Attr`` is an XML attribute, ``Name?`` is ``minOccurs=0``, after the colon the XSD type.

One deviation, taken from the official XML samples rather than the XSD listing:

- ``Expense`` items carry an ``ID`` attribute (``GetExpensesRaw.xml`` shows ``<tlp:Expense ID="51789">``; the XSD
  listing in the reference omits it);
- ``Invoice`` items carry a ``GUID`` attribute (``GetInvoicesRaw.xml`` shows
  ``<tlp:Invoice ID="277" GUID="795A4082-...">``). The Transactional ``Invoicing.UpdateExternalData`` takes that
  GUID, so a client can go from a Reporting invoice to the write-back without another lookup.
- ``WorkUnit/@OldID`` is written only when the record has one.

Attributes are written only when the record has a value (``ID`` always has one; ``GUID`` is generated when a
fixture leaves it out).
"""

from __future__ import annotations

from dataclasses import dataclass

NS_TLP = "http://www.timelog.com/XML/Schema/tlp/v4_4"
NS_WS = "http://www.timelog.com/ws/tlp/v4_4"


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    optional: bool
    attr: bool


@dataclass(frozen=True)
class Schema:
    method: str
    root: str
    item: str
    collection: str
    fields: tuple[Field, ...]

    @property
    def attrs(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.attr)

    @property
    def elements(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if not f.attr)

    def type_of(self, name: str) -> str | None:
        for f in self.fields:
            if f.name == name:
                return f.type
        return None


def parse_spec(spec: str) -> tuple[Field, ...]:
    out: list[Field] = []
    seen: set[str] = set()
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        name, _, typ = part.partition(":")
        attr = name.startswith("@")
        name = name.lstrip("@")
        optional = name.endswith("?")
        name = name.rstrip("?")
        key = ("@" if attr else "") + name
        if key in seen:
            continue
        seen.add(key)
        out.append(Field(name, typ.strip() or "string", optional, attr))
    return tuple(out)


_WORKUNIT = (
    "@ID:positiveInteger, @OldID?:positiveInteger, TimeRegistrationGuid:string, WorkUnitGuid:string, "
    "OvertimeFactor:decimal, EmployeeID:positiveInteger, EmployeeInitials:string, EmployeeFirstName:string, "
    "EmployeeLastName:string, AllocationID:positiveInteger, TaskID:positiveInteger, TaskName:string, "
    "ProjectID:positiveInteger, ProjectName:string, CustomerId:positiveInteger, CustomerName:string, Date:dateTime, "
    "StartTime:dateTime, EndTime:dateTime, Note?:string, DepartmentID:int, DepartmentName?:string, "
    "AdditionalTextField?:string, ActualExchangeRate:decimal, RegHours:decimal, RegHourlyRate:decimal, "
    "RegHourlyRateProjectCurrency:decimal, RegAmount:decimal, RegAmountProjectCurrency:decimal, "
    "EstimatedHours:decimal, EstimatedHourlyRate:decimal, EstimatedHourlyRateProjectCurrency:decimal, "
    "EstimatedAmount:decimal, EstimatedAmountProjectCurrency:decimal, BARHours:decimal, BARHourlyRate:decimal, "
    "BARHourlyRateProjectCurrency:decimal, BARAmount:decimal, BARAmountProjectCurrency:decimal, "
    "InvoicedHours:decimal, InvoicedHourlyRate:decimal, InvoicedHourlyRateProjectCurrency:decimal, "
    "InvoicedAmount:decimal, InvoicedAmountProjectCurrency:decimal, InvHours:decimal, InvAmount:decimal, "
    "CostAmount:decimal, CostAmountCurrency:decimal, HourlyRateId:positiveInteger, InvoiceStatus:short, "
    "BillableStatus:short, IsBillable:boolean, ApprovedStatus:short, MonthlyPeriod?:string, CreatedAt:dateTime, "
    "CreatedByEmployeeId:positiveInteger, CreatedBy:string, LastModifiedAt:dateTime, "
    "LastModifiedByEmployeeId:positiveInteger, LastModifiedBy:string, UserID:positiveInteger"
)

_INVOICE_LINE = (
    "@ID:positiveInteger, InvoiceID:positiveInteger, InvoiceNo?:string, Date:dateTime, Text?:string, "
    "Quantity:decimal, Rate:decimal, RateSystemCurrency:decimal, Amount:decimal, AmountSystemCurrency:decimal, "
    "ProjectID?:positiveInteger, ProjectName?:string, ProjectNo?:string, VAT?:decimal, Discount?:decimal, "
    "UnitType?:positiveInteger, ProductNo?:string"
)

# method -> (root, item, collection, spec)
_SPECS: dict[str, tuple[str, str, str, str]] = {
    "GetLegalEntitiesRaw": (
        "LegalEntities", "LegalEntity", "LegalEntities",
        "@ID:positiveInteger, @GUID:string, Name:string, IsActive:positiveInteger, CurrencyISO:string, Country:string",
    ),
    "GetCustomersRaw": (
        "Customers", "Customer", "Customers",
        "@ID:positiveInteger, @GUID:string, Name:string, NickName:string, No?:string, CustomerStatusID:integer, "
        "CustomerStatus:string, Address1?:string, Address2?:string, Address3?:string, ZipCode?:string, City?:string, "
        "State?:string, CountryID?:integer, Country?:string, Phone?:string, Fax?:string, Email?:string, "
        "WebPage?:string, EanNo?:integer, InvoiceTemplateID?:integer, VATNo?:string, Comment?:string, "
        "AccountManagerID?:integer, AccountManagerFullName?:string, AccountManagerInitials?:string, "
        "SecondaryAccountManagerID?:integer, SecondaryAccountManagerFullName?:string, "
        "SecondaryAccountManagerInitials?:string, IndustryID?:integer, IndustryName?:string, CustomerSince?:date, "
        "CreatedAt:dateTime, CreatedByEmployeeId:positiveInteger, CreatedBy:string, LastModifiedAt:dateTime, "
        "LastModifiedByEmployeeId:positiveInteger, LastModifiedBy:string",
    ),
    "GetCustomersShortList": (
        "Customers", "Customer", "Customers", "@ID:positiveInteger, Name:string, No?:string",
    ),
    "GetCustomerStatusShortList": (
        "CustomerStatuses", "CustomerStatus", "CustomerStatuses",
        "@ID:positiveInteger, Name:string, CustomerStatusType:integer, IsDefault:boolean, IsActive:boolean",
    ),
    "GetContactsRaw": (
        "Contacts", "Contact", "Contacts",
        "@ID:positiveInteger, Salutation?:string, FirstName:string, LastName:string, FullName:string, "
        "CustomerID:positiveInteger, CustomerName:string, CustomerNo?:string, Title?:string, Phone?:string, "
        "Mobile?:string, PrivatePhone?:string, Email?:string, Address1?:string, Address2?:string, ZipCode?:string, "
        "City?:string, State?:string, Birthday?:dateTime, Country?:string, Comment?:string, "
        "AccountManagerID?:positiveInteger, AccountManagerFullName?:string, CreatedAt:dateTime, "
        "CreatedByEmployeeId:positiveInteger, CreatedBy:string, LastModifiedAt:dateTime, "
        "LastModifiedByEmployeeId:positiveInteger, LastModifiedBy:string, IsActive:boolean, Department?:string",
    ),
    "GetEmployeesRaw": (
        "Employees", "Employee", "Employees",
        "@ID:positiveInteger, EmployeeUserId:positiveInteger, FirstName:string, LastName:string, FullName:string, "
        "Initials:string, Title?:string, Email?:string, Phone?:string, Mobile?:string, PrivatePhone?:string, "
        "Address?:string, ZipCode?:string, City?:string, Status:unsignedByte, HiredDate:dateTime, "
        "TerminatedDate?:dateTime, DepartmentNameID?:positiveInteger, DepartmentName?:string, WorkWeek?:string, "
        "EmployeeTypeID?:positiveInteger, EmployeeTypeName?:string, EmployeeNo?:string, Username?:string, "
        "CostPrice?:decimal, LegalEntityID?:positiveInteger, ApprovalManagerUserID?:positiveInteger, "
        "ApprovalManagerEmployeeID?:positiveInteger, DefaultHourlyRateID:positiveInteger, "
        "DefaultHourlyRate:decimal, DefaultHourlyRateCurrency:string",
    ),
    "GetProjectsRaw": (
        "Projects", "Project", "Projects",
        "@ID:positiveInteger, @GUID:string, Name:string, No?:string, Status:byte, Department:positiveInteger, "
        "OrderedByDepartment:positiveInteger, ProjectStartDate:dateTime, ProjectEndDate:dateTime, Link:string, "
        "Description:string, CustomerID:positiveInteger, CustomerName:string, CustomerNo?:string, "
        "PMID:positiveInteger, PMInitials:string, PMFullName:string, AccountManagerID:positiveInteger, "
        "AccountManagerInitials:string, AccountManagerFullName:string, PartnerID:positiveInteger, "
        "PartnerInitials:string, PartnerFullName:string, ProjectTypeID:positiveInteger, ProjectTypeName:string, "
        "ProjectCategoryID?:positiveInteger, ProjectCategoryName?:string, BudgetAmountFixedPriceTasks:decimal, "
        "BudgetAmountFixedPriceProject:decimal, BudgetAmountTimeAndMaterial:decimal, BudgetAmountExpenses:decimal, "
        "BudgetAmountTravel:decimal, BudgetAmountWorkCurrency:decimal, BudgetAmountExpenseCurrency:decimal, "
        "BudgetAmountTravelCurrency:decimal, BudgetHoursFixedPriceTasks:decimal, "
        "BudgetHoursFixedPriceProject:decimal, BudgetHoursTimeAndMaterial:decimal, BudgetAmount:decimal, "
        "BudgetHours:decimal, ForecastPercent:decimal, CreatedAt:dateTime, CreatedByEmployeeId:positiveInteger, "
        "CreatedBy:string, LastModifiedAt:dateTime, LastModifiedByEmployeeId:positiveInteger, "
        "LastModifiedBy:string, ProjectStatusName:string, ContactID:positiveInteger, ContactFullName:string, "
        "ContactEmail:string, InternalProject:boolean, PONumber:string, ProjectStage:string, "
        "CurrencyISOCode:string, CurrencyRate:decimal, IsMultiCustomerProject:boolean, "
        "LegalEntityID?:positiveInteger",
    ),
    "GetProjectsShortList": (
        "Projects", "Project", "Projects", "@ID:positiveInteger, Name:string, No?:string, Status:byte",
    ),
    "GetProjectTypesShortList": (
        "ProjectTypes", "ProjectType", "ProjectTypes", "@ID:positiveInteger, Name:string",
    ),
    "GetProjectCategoriesShortList": (
        "ProjectCategories", "ProjectCategory", "ProjectCategories", "@ID:positiveInteger, Name:string",
    ),
    "GetTasksRaw": (
        "Tasks", "Task", "Tasks",
        "@ID:positiveInteger, @GUID:string, Name:string, WBS:string, TaskNo?:positiveInteger, "
        "ProjectID:positiveInteger, ProjectNo:string, Status:byte, StatusDetailed:byte, "
        "ProjectSubContractID:positiveInteger, ParentID?:positiveInteger, IsParent:boolean, "
        "TaskTypeID?:positiveInteger, TaskType?:string, TaskCategoryID?:positiveInteger, TaskCategory?:string, "
        "BudgetHours:decimal, BudgetAmount:decimal, BudgetAmountCurrency:decimal, IsFixedPrice:boolean, "
        "StartDate:dateTime, EndDate:dateTime, InvoicingType:string, CreatedAt:dateTime, "
        "CreatedByEmployeeId:positiveInteger, CreatedBy:string, LastModifiedAt:dateTime, "
        "LastModifiedByEmployeeId:positiveInteger, LastModifiedBy:string, IsBillable:boolean, "
        "AllocatedRevenueAmount:decimal, AllocatedRevenueAmountCurrency:decimal",
    ),
    "GetTaskTypesShortList": (
        "TaskTypes", "TaskType", "TaskTypes", "@ID:positiveInteger, Name:string",
    ),
    "GetHourlyRatesRaw": (
        "HourlyRates", "HourlyRate", "HourlyRates",
        "@ID:positiveInteger, @GUID:string, Name:string, Amount:decimal, CurrencyISO:string, "
        "IsActive:positiveInteger, PriceGroupID:positiveInteger, PriceGroupName:string, "
        "CustomerID:positiveInteger, CustomerName:string",
    ),
    "GetInvoicesRaw": (
        "Invoices", "Invoice", "Invoices",
        "@ID:positiveInteger, @GUID:string, InvoiceNumber?:string, Header?:string, Text?:string, "
        "InvoiceDate:dateTime, DueDate?:dateTime, Amount:decimal, AmountSystemCurrency:decimal, "
        "Status:unsignedByte, Type:unsignedByte, CustomerID:positiveInteger, CustomerName:string, "
        "CustomerNo?:string, CustomerAddress1?:string, CustomerAddress2?:string, CustomerAddress3?:string, "
        "CustomerZipCode?:string, CustomerCity?:string, CustomerState?:string, CustomerCountry?:string, "
        "CustomerCountryID:positiveInteger, PaymentTermID:positiveInteger, PaymentTermText:string, "
        "CurrencyAbb:string, CurrencyRate:decimal, DefaultVAT:decimal, AddVAT:boolean, NetAmount:decimal, "
        "NetAmountSystemCurrency:decimal, VATIncluded:decimal, VATIncludedSystemCurrency:decimal, "
        "ProjectID:positiveInteger, ProjectNo:string, PurchaseNo:string, ContactFullName:string, "
        "DepartmentID?:positiveInteger, DepartmentTree?:string, ExternalInvoiceNo?:string, "
        "CustomerReference?:string, ExternalInvoiceStatus?:string, RelatesToInvoiceID?:positiveInteger, "
        "InternalNote?:string, LegalEntityID?:positiveInteger, InvoiceTemplateID?:positiveInteger, "
        "IsIgnoredWhenTransfer:boolean, IsReadyForInvoicing:boolean",
    ),
    "GetInvoiceLinesRaw": ("InvoiceLines", "InvoiceLine", "InvoiceLines", _INVOICE_LINE),
    "GetInvoiceLineDetailsRaw": (
        "InvoiceLineDetails", "InvoiceLineDetail", "InvoiceLineDetails",
        "@ID:positiveInteger, InvoiceLineID?:positiveInteger, InvoiceID?:positiveInteger, "
        "RegistrationDate?:dateTime, Text?:string, Quantity?:decimal, Rate?:decimal, RateSystemCurrency?:decimal, "
        "Amount?:decimal, AmountSystemCurrency?:decimal, RegisteredQuantity?:decimal, "
        "RegisteredRateSystemCurrency?:decimal, RegisteredAmountSystemCurrency?:decimal, "
        "RegistrationType?:unsignedByte, EmployeeInitials?:string, TaskID?:positiveInteger, TaskName?:string, "
        "RegistrationID?:positiveInteger, UnitType?:positiveInteger, ProjectID?:positiveInteger, "
        "ProjectName?:string, ContractID?:positiveInteger, ContractModelType?:positiveInteger",
    ),
    "GetExpensesRaw": (
        "Expenses", "Expense", "Expenses",
        "@ID:positiveInteger, CustomerName?:string, CustomerNo?:string, CustomerID?:positiveInteger, "
        "ProjectName?:string, ProjectNo?:string, ProjectID?:positiveInteger, ContractName?:string, "
        "ContractID?:positiveInteger, ExpenseType?:string, ExpenseTypeID?:positiveInteger, "
        "SupplierCustomerName?:string, SupplierCustomerID?:positiveInteger, Date?:dateTime, Amount?:decimal, "
        "AmountSystemCurrency?:decimal, VAT?:decimal, CurrencyABB?:string, CurrencyRate?:decimal, "
        "PaymentMethod?:string, PaymentMethodID?:positiveInteger, Comment?:string, ApprovedStatus?:integer, "
        "Billable?:unsignedInt, EmployeeFirstName?:string, EmployeeLastName?:string, EmployeeInitials?:string, "
        "EmployeeID?:positiveInteger, UserID?:positiveInteger, RegAmount?:decimal, RegAmountCurrency?:decimal, "
        "EstimatedAmount?:decimal, EstimatedAmountCurrency?:decimal, InvAmount?:decimal, "
        "InvAmountCurrency?:decimal, ProfitRatio?:decimal, InvoiceLineId?:positiveInteger, "
        "SupplierInvoiceNo?:string, Created:dateTime",
    ),
    "GetMileageRaw": (
        "Mileages", "Mileage", "Mileages",
        "@ID:positiveInteger, CustomerName:string, CustomerNo:string, CustomerID:positiveInteger, "
        "ProjectName:string, ProjectNo:string, ProjectID:positiveInteger, EmployeeFirstName:string, "
        "EmployeeLastName:string, EmployeeFullName:string, EmployeeInitials:string, EmployeeID:positiveInteger, "
        "EmployeeUserID:positiveInteger, TravelStartDate:dateTime, TravelEndDate:dateTime, TravelPurpose:string, "
        "TravelDeparture:string, TravelDestination:string, TravelCostAmount:decimal, TravelRegAmount:decimal, "
        "TravelInvoicedAmount:decimal, TravelTripStart:positiveInteger, TravelTripEnd:decimal, TravelKM:decimal, "
        "TravelCar:string, TravelSelfPayment:boolean, TransportRateAmount:decimal, TransportRate:string, "
        "IsBillable:boolean",
    ),
    "GetWorkUnitsRaw": ("WorkUnits", "WorkUnit", "WorkUnits", _WORKUNIT),
    "GetWorkUnitsRawPaged": ("WorkUnits", "WorkUnit", "WorkUnits", _WORKUNIT),
}

SCHEMAS: dict[str, Schema] = {
    m: Schema(m, root, item, coll, parse_spec(spec)) for m, (root, item, coll, spec) in _SPECS.items()
}

#: The "Raw" schema that describes each collection's field types (used to normalise a loaded fixture).
COLLECTION_SCHEMA: dict[str, Schema] = {}
for _s in SCHEMAS.values():
    if _s.method.endswith("Raw") or _s.collection not in COLLECTION_SCHEMA:
        COLLECTION_SCHEMA[_s.collection] = _s
COLLECTION_SCHEMA["CustomerStatuses"] = SCHEMAS["GetCustomerStatusShortList"]
COLLECTION_SCHEMA["ProjectTypes"] = SCHEMAS["GetProjectTypesShortList"]
COLLECTION_SCHEMA["ProjectCategories"] = SCHEMAS["GetProjectCategoriesShortList"]
COLLECTION_SCHEMA["TaskTypes"] = SCHEMAS["GetTaskTypesShortList"]

#: Collections served by the Reporting API (fixture keys = Reporting plural roots).
REPORTING_COLLECTIONS = (
    "LegalEntities", "CustomerStatuses", "Customers", "Contacts", "Employees", "Projects", "ProjectTypes",
    "ProjectCategories", "Tasks", "TaskTypes", "HourlyRates", "Invoices", "InvoiceLines", "InvoiceLineDetails",
    "Expenses", "Mileages", "WorkUnits",
)
#: REST-only collections, rows with REST v1 field names.
REST_COLLECTIONS = ("Products", "ExpenseTypes", "PaymentTerms", "Currencies")
ALL_COLLECTIONS = REPORTING_COLLECTIONS + REST_COLLECTIONS

#: Key field per collection ("ID" unless listed).
ID_KEYS = {"Products": "ProductNumberID", "ExpenseTypes": "ExpenseTypeID", "Currencies": "CurrencyID"}

DATE_TYPES = {"dateTime"}
INT_TYPES = {"positiveInteger", "integer", "int", "short", "byte", "unsignedByte", "unsignedInt"}


def id_key(collection: str) -> str:
    return ID_KEYS.get(collection, "ID")
