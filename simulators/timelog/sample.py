"""A small, hand-written TimeLog fixture section for tests (``sample_fixture()`` returns a fresh fixture document).

Contents, chosen so that every filter and envelope has something to bite on:

- 2 legal entities (DKK, SEK); the default customer statuses (1 customer, 2 supplier, 3 lead).
- 12 customers (IDs 1..12; 7 is a supplier, 8 a lead), modified at different times (``LastModifiedAt``).
- projects 10, 11 (active) and 12 (inactive); 2 project types and a category carrying product numbers; tasks.
- invoices (all with lines): 100 booked DKK 2024-01-15; 101 draft 2024-02-10; 102 booked EUR 2024-03-05;
  103 credit note for 100 on 2024-03-20; 104 paid 2024-04-02. ``_LastModifiedAt`` drives the Transactional reads.
- invoice line details, expenses, one mileage row, 25 work units (for paging), products, expense types with GL
  account numbers, hourly rates with product numbers.
"""

from __future__ import annotations

import copy
from decimal import Decimal as Dec
from typing import Any

_CUSTOMERS = [
    (1, "Acme A/S", "1001", "DK12345678", "+45 70 20 06 45", "Lindevangs Allé 12", "2000", "Frederiksberg"),
    (2, "Beta ApS", "1002", "DK87654321", "33 12 34 56", "Vesterbrogade 1", "1620", "København V"),
    (3, "Gamma Rådgivning I/S", "1003", "", "+4540404040", "Søndergade 4", "8000", "Aarhus C"),
    (4, "Delta Byg A/S", "1004", "DK11223344", "86 12 34 00", "Havnegade 2", "5000", "Odense C"),
    (5, "Epsilon IT ApS", "1005", "DK55667788", "", "Algade 9", "4000", "Roskilde"),
    (6, "Zeta Logistik A/S", "1006", "DK99887766", "+45 98 76 54 32", "Banegårdspladsen 1", "9000", "Aalborg"),
    (7, "Eta Leverandør ApS", "2001", "DK10203040", "70 10 20 30", "Industrivej 7", "7100", "Vejle"),
    (8, "Theta Lead", "", "", "", "", "", ""),
    (9, "Iota Holding A/S", "1009", "DK13572468", "44 55 66 77", "Strandvejen 100", "2900", "Hellerup"),
    (10, "Kappa Design", "1010", "", "+45 20 30 40 50", "Nørregade 3", "6000", "Kolding"),
    (11, "Lambda Svenska AB", "1011", "SE556677889901", "+46 8 123 456", "Drottninggatan 1", "111 51", "Stockholm"),
    (12, "My Energi A/S", "1012", "DK24681357", "75 75 75 75", "Energivej 5", "6700", "Esbjerg"),
]


def _section() -> dict[str, Any]:
    customers = []
    for i, (cid, name, no, vat, phone, addr, zipc, city) in enumerate(_CUSTOMERS):
        c: dict[str, Any] = {"ID": cid, "Name": name, "No": no or None, "VATNo": vat, "Phone": phone, "Address1": addr,
                             "ZipCode": zipc, "City": city, "Country": "Sweden" if cid == 11 else "Denmark",
                             "CreatedAt": "2023-06-01T08:00:00",
                             "LastModifiedAt": f"2024-0{1 + i % 6}-{10 + i:02d}T09:00:00"}
        if cid == 7:
            c["CustomerStatusID"] = 2
        if cid == 8:
            c["CustomerStatusID"] = 3
        if cid == 1:
            c["EanNo"] = 5790000123456
            c["Email"] = "faktura@acme.dk"
        customers.append(c)

    invoices = [
        {"ID": 100, "InvoiceNumber": "2024-0001", "Header": "Rådgivning januar", "CustomerID": 1, "ProjectID": 10,
         "InvoiceDate": "2024-01-15", "DueDate": "2024-02-14", "Status": 1, "Type": 1, "CurrencyAbb": "DKK",
         "CurrencyRate": Dec("100"), "PaymentTermID": 2, "PaymentTermText": "Netto 30 dage", "PurchaseNo": "PO-77",
         "LegalEntityID": 1, "_LastModifiedAt": "2024-01-15T10:00:00"},
        {"ID": 101, "InvoiceNumber": "", "Header": "Udkast", "CustomerID": 2, "ProjectID": 11, "InvoiceDate": "2024-02-10",
         "Status": 0, "Type": 1, "CurrencyAbb": "DKK", "CurrencyRate": Dec("100"), "LegalEntityID": 1,
         "_LastModifiedAt": "2024-02-10T10:00:00"},
        {"ID": 102, "InvoiceNumber": "2024-0002", "Header": "Licens", "CustomerID": 2, "ProjectID": 11,
         "InvoiceDate": "2024-03-05", "DueDate": "2024-03-13", "Status": 1, "Type": 1, "CurrencyAbb": "EUR",
         "CurrencyRate": Dec("745.94"), "LegalEntityID": 1, "_LastModifiedAt": "2024-03-05T10:00:00"},
        {"ID": 103, "InvoiceNumber": "2024-0003", "Header": "Kreditnota til 2024-0001", "CustomerID": 1, "ProjectID": 10,
         "InvoiceDate": "2024-03-20", "Status": 1, "Type": 2, "RelatesToInvoiceID": 100, "CurrencyAbb": "DKK",
         "CurrencyRate": Dec("100"), "LegalEntityID": 1, "_LastModifiedAt": "2024-03-20T10:00:00"},
        {"ID": 104, "InvoiceNumber": "2024-0004", "Header": "Support april", "CustomerID": 4, "ProjectID": 10,
         "InvoiceDate": "2024-04-02", "Status": 3, "Type": 1, "CurrencyAbb": "DKK", "CurrencyRate": Dec("100"),
         "LegalEntityID": 1, "ExternalInvoiceNo": "UC-5001", "ExternalInvoiceStatus": "Booked",
         "_LastModifiedAt": "2024-04-03T10:00:00"},
    ]
    lines = [
        {"ID": 1000, "InvoiceID": 100, "Text": "Konsulenttimer", "Quantity": Dec("3.5"), "Rate": Dec("350"), "VAT": Dec("25"),
         "UnitType": 1, "ProductNo": "T100"},
        {"ID": 1001, "InvoiceID": 100, "Text": "Kørsel", "Quantity": Dec("42"), "Rate": Dec("3.73"), "VAT": Dec("25"),
         "UnitType": 4, "ProductNo": ""},
        {"ID": 1002, "InvoiceID": 101, "Text": "Udkast-linje", "Quantity": Dec("1"), "Rate": Dec("1000"), "ProductNo": "T100"},
        {"ID": 1003, "InvoiceID": 102, "Text": "Licens", "Quantity": Dec("2"), "Rate": Dec("1250.5"), "Discount": Dec("10"),
         "UnitType": 6, "ProductNo": "LIC"},
        {"ID": 1004, "InvoiceID": 103, "Text": "Kreditering konsulenttimer", "Quantity": Dec("-1"), "Rate": Dec("350"),
         "UnitType": 1, "ProductNo": "T100"},
        {"ID": 1005, "InvoiceID": 104, "Text": "Support", "Quantity": Dec("5"), "Rate": Dec("800"), "ProductNo": "SUP"},
    ]
    details = [
        {"ID": 5000, "InvoiceLineID": 1000, "InvoiceID": 100, "RegistrationDate": "2024-01-10", "Text": "Møde",
         "Quantity": Dec("3.5"), "Rate": Dec("350"), "Amount": Dec("1225"), "RegistrationType": 2, "EmployeeInitials": "JD",
         "TaskID": 201, "ProjectID": 10, "UnitType": 1},
        {"ID": 5001, "InvoiceLineID": 1001, "InvoiceID": 100, "RegistrationDate": "2024-01-11", "Text": "Kørsel",
         "Quantity": Dec("42"), "Rate": Dec("3.73"), "Amount": Dec("156.66"), "RegistrationType": 16, "ProjectID": 10,
         "UnitType": 4},
    ]
    work_units = [
        {"ID": 9000 + i, "EmployeeID": 1 + i % 2, "TaskID": 201 + i % 2, "ProjectID": 10, "CustomerId": 1,
         "Date": f"2024-01-{1 + i:02d}", "RegHours": Dec("7.5"), "RegHourlyRate": Dec("950"), "RegAmount": Dec("7125"),
         "InvoiceStatus": 2 if i < 10 else 0, "ApprovedStatus": 20, "IsBillable": True, "BillableStatus": 1,
         "Note": f"Arbejde dag {i + 1}", "UserID": 1 + i % 2, "CreatedAt": f"2024-01-{1 + i:02d}T17:00:00"}
        for i in range(25)
    ]
    return {
        "LegalEntities": [
            {"ID": 1, "Name": "Nordlys Consulting A/S", "IsActive": 1, "CurrencyISO": "DKK", "Country": "Denmark"},
            {"ID": 2, "Name": "Nordlys Sverige AB", "IsActive": 1, "CurrencyISO": "SEK", "Country": "Sweden", "CountryISO": "SE"},
        ],
        "Customers": customers,
        "Contacts": [
            {"ID": 301, "FirstName": "Mette", "LastName": "Hansen", "CustomerID": 1, "Email": "mh@acme.dk", "Phone": "20202020"},
            {"ID": 302, "FirstName": "Lars", "LastName": "Jensen", "CustomerID": 2, "Email": "lj@beta.dk"},
        ],
        "Employees": [
            {"ID": 1, "FirstName": "Jens", "LastName": "Dahl", "Initials": "JD", "Email": "jd@nordlys.dk", "Status": 1,
             "HiredDate": "2020-01-01", "DefaultHourlyRateID": 1, "DefaultHourlyRate": Dec("950"),
             "DefaultHourlyRateCurrency": "DKK", "LegalEntityID": 1, "CostPrice": Dec("450")},
            {"ID": 2, "FirstName": "Anne", "LastName": "Krogh", "Initials": "AK", "Status": 0, "HiredDate": "2019-03-01",
             "TerminatedDate": "2023-12-31", "DefaultHourlyRateID": 1, "DefaultHourlyRate": Dec("950"),
             "DefaultHourlyRateCurrency": "DKK"},
        ],
        "ProjectTypes": [{"ID": 1, "Name": "Fastpris", "ProductNo": "FP100"}, {"ID": 2, "Name": "Timer", "ProductNo": "T100"}],
        "ProjectCategories": [{"ID": 1, "Name": "Rådgivning", "ProductNo": "R100"}],
        "TaskTypes": [{"ID": 1, "Name": "Udvikling", "ProductNo": "U100"}, {"ID": 2, "Name": "Møder", "ProductNo": ""}],
        "Projects": [
            {"ID": 10, "Name": "Acme ERP", "No": "P-0010", "CustomerID": 1, "ProjectTypeID": 2, "ProjectCategoryID": 1,
             "PMID": 1, "Status": 1, "LegalEntityID": 1, "ProjectStartDate": "2024-01-01", "ProjectEndDate": "2024-12-31",
             "CreatedAt": "2023-12-01T08:00:00", "LastModifiedAt": "2024-01-05T08:00:00"},
            {"ID": 11, "Name": "Beta Licens", "No": "P-0011", "CustomerID": 2, "ProjectTypeID": 1, "PMID": 1, "Status": 1,
             "LegalEntityID": 1, "CreatedAt": "2024-02-01T08:00:00", "LastModifiedAt": "2024-02-20T08:00:00"},
            {"ID": 12, "Name": "Acme Gammel", "No": "P-0012", "CustomerID": 1, "ProjectTypeID": 2, "PMID": 2, "Status": 0,
             "LegalEntityID": 1, "CreatedAt": "2022-01-01T08:00:00", "LastModifiedAt": "2023-01-01T08:00:00"},
        ],
        "Tasks": [
            {"ID": 201, "Name": "Analyse", "WBS": "1", "ProjectID": 10, "TaskTypeID": 1, "Status": 1, "IsBillable": True},
            {"ID": 202, "Name": "Møder", "WBS": "2", "ProjectID": 10, "TaskTypeID": 2, "Status": 0, "IsBillable": False},
        ],
        "HourlyRates": [
            {"ID": 1, "Name": "Standard", "Amount": Dec("950"), "CurrencyISO": "DKK", "IsActive": 1, "ProductNo": "T100",
             "IsDefault": True},
            {"ID": 2, "Name": "Acme aftale", "Amount": Dec("875.5"), "CurrencyISO": "DKK", "IsActive": 1, "CustomerID": 1,
             "ProductNo": "T110"},
            {"ID": 3, "Name": "Gammel sats", "Amount": Dec("700"), "CurrencyISO": "DKK", "IsActive": 0, "ProductNo": ""},
        ],
        "Invoices": invoices,
        "InvoiceLines": lines,
        "InvoiceLineDetails": details,
        "Expenses": [
            {"ID": 7000, "CustomerID": 1, "ProjectID": 10, "ExpenseTypeID": 1, "Date": "2024-01-08", "Amount": Dec("1250"),
             "VAT": Dec("250"), "CurrencyABB": "DKK", "CurrencyRate": Dec("100"), "EmployeeID": 1, "Billable": 1,
             "Created": "2024-01-08T12:00:00"},
            {"ID": 7001, "CustomerID": 2, "ProjectID": 11, "ExpenseTypeID": 2, "Date": "2024-02-15", "Amount": Dec("99.95"),
             "CurrencyABB": "DKK", "CurrencyRate": Dec("100"), "Billable": 0, "Created": "2024-02-15T12:00:00"},
        ],
        "Mileages": [
            {"ID": 8000, "CustomerID": 1, "ProjectID": 10, "EmployeeID": 1, "EmployeeUserID": 1,
             "TravelStartDate": "2024-01-11T08:00:00", "TravelEndDate": "2024-01-11T10:00:00", "TravelPurpose": "Kundemøde",
             "TravelDeparture": "Frederiksberg", "TravelDestination": "Roskilde", "TravelKM": Dec("42"),
             "TravelRegAmount": Dec("156.66"), "TravelSelfPayment": False, "IsBillable": True, "TransportRate": "Statens takst",
             "TransportRateAmount": Dec("3.73")},
        ],
        "WorkUnits": work_units,
        "Products": [
            {"ProductNumberID": 1, "ProductNumber": "T100", "ProductName": "Konsulenttimer", "LegalEntityID": 1},
            {"ProductNumberID": 2, "ProductNumber": "LIC", "ProductName": "Licens", "LegalEntityID": 1},
            {"ProductNumberID": 3, "ProductNumber": "OLD", "ProductName": "Udgået vare", "IsActive": False, "LegalEntityID": 1},
        ],
        "ExpenseTypes": [
            {"ExpenseTypeID": 1, "ExpenseTypeName": "Rejser", "AccountNo": "2750", "ProductNo": "UDL-REJSE", "VAT": Dec("25")},
            {"ExpenseTypeID": 2, "ExpenseTypeName": "Forplejning", "AccountNo": "2800", "ProductNo": "UDL-MAD", "VAT": Dec("25")},
            {"ExpenseTypeID": 3, "ExpenseTypeName": "Gammel type", "AccountNo": "2900", "ProductNo": "", "IsActive": False},
        ],
    }


_SECTION = _section()

_LINES_ALL = {"invoiceLineID": 0, "customerID": 0, "projectID": 0, "invoiceID": 0, "startDate": "", "endDate": ""}
_WU_ALL = {"workUnitID": 0, "employeeID": 0, "allocationID": 0, "taskID": 0, "projectID": 0, "departmentID": 0,
           "startDate": "", "endDate": ""}

#: Reporting method -> (its filter parameters set to "everything", plural root, item element). Expenses take
#: DateTime dates (no empty value), so their range is wide instead.
REPORTING_ALL: dict[str, tuple[dict[str, Any], str, str]] = {
    "GetLegalEntitiesRaw": ({"status": -1}, "LegalEntities", "LegalEntity"),
    "GetCustomersRaw": ({"customerID": 0, "customerStatusID": -1, "accountManagerID": 0}, "Customers", "Customer"),
    "GetContactsRaw": ({"customerID": 0, "contactID": 0}, "Contacts", "Contact"),
    "GetEmployeesRaw": ({"employeeID": 0, "initials": "", "departmentID": 0, "status": -1}, "Employees", "Employee"),
    "GetProjectsRaw": ({"projectID": 0, "status": -2, "customerID": 0, "projectManagerID": 0}, "Projects", "Project"),
    "GetProjectTypesShortList": ({}, "ProjectTypes", "ProjectType"),
    "GetProjectCategoriesShortList": ({}, "ProjectCategories", "ProjectCategory"),
    "GetTasksRaw": ({"taskID": 0, "projectID": 0, "status": -1, "taskTypeID": 0}, "Tasks", "Task"),
    "GetTaskTypesShortList": ({}, "TaskTypes", "TaskType"),
    "GetHourlyRatesRaw": ({"CustomerID": 0, "Status": -1}, "HourlyRates", "HourlyRate"),
    "GetInvoicesRaw": ({"invoiceID": 0, "customerID": 0, "status": -1, "startDate": "", "endDate": ""}, "Invoices", "Invoice"),
    "GetInvoiceLinesRaw": (_LINES_ALL, "InvoiceLines", "InvoiceLine"),
    "GetInvoiceLineDetailsRaw": ({**_LINES_ALL, "invoiceLineDetailID": 0}, "InvoiceLineDetails", "InvoiceLineDetail"),
    "GetExpensesRaw": ({"customerID": 0, "projectID": 0, "supplierCustomerID": 0, "employeeID": 0,
                        "employeeDepartmentID": 0, "expenseTypeID": 0, "paymentMethodID": 0,
                        "startDate": "1900-01-01", "endDate": "2999-12-31"}, "Expenses", "Expense"),
    "GetMileageRaw": ({"customerID": 0, "projectID": 0, "employeeID": 0, "departmentID": 0, "startDate": "",
                       "endDate": "", "selfPayment": -1, "travelCarID": 0, "transportRateID": 0}, "Mileages", "Mileage"),
    "GetWorkUnitsRaw": (_WU_ALL, "WorkUnits", "WorkUnit"),
    "GetWorkUnitsRawPaged": ({**_WU_ALL, "page": 1, "pageSize": 100}, "WorkUnits", "WorkUnit"),
}


def sample_fixture() -> dict[str, Any]:
    """A fresh copy of the sample fixture document (``{"timelog": {...}}``)."""
    return {"timelog": copy.deepcopy(_SECTION)}
