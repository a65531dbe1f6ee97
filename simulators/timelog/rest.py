"""REST API v1 under ``/{site}/api/v1/...`` (``Authorization: Bearer <PAT>``, JSON, TAF envelopes).

Paths and models are the swagger's (``reference/timelog-rest-v1-swagger.md``); paths match case-insensitively
(ASP.NET routing), so ``/ProjectType`` and ``/projecttype`` are the same.

================================================  ===============================================================
``GET  /v1/customer``                              TAFList of ``CustomerApiReadModel``
``GET  /v1/customer/{customerID}``                 TAFSingle
``GET  /v1/customer/by-number/{customerNumber}``   TAFList (customer numbers are not unique)
``POST /v1/customer/create``                       ``CustomerApiCreateModel`` -> TAFSingle(read model)
``POST /v1/customer/validate-new-customer``        dry run of create -> TAFSingle(the posted model)
``PUT  /v1/customer/update``                       ``CustomerApiUpdateModel``, full replace -> TAFSingle(read model)
``GET  /v1/product``                               TAFList of ``ProductApiReadModel``
``POST /v1/product/create``                        *simulator extension* (see below)
``PUT  /v1/product/{productNumberID}/activate``    *simulator extension*
``PUT  /v1/product/{productNumberID}/deactivate``  *simulator extension*
``PUT  /v1/product/{productNumberID}/update``      *simulator extension* (``{ProductName, Description?}``)
``GET  /v1/ProjectType`` ``/v1/ProjectCategory`` ``/v1/TaskType``   TAFList (``<X>ID, Name, IsActive, ProductNo, ID``)
``GET  /v1/hourly-rate`` ``/v1/hourly-rate/default``                TAFList of ``HourlyRateApiReadModel``
``GET  /v1/expense-type/{status}``, ``/v1/expense-type/all/list?legalEntityId&status``
``POST /v1/project-expense`` (+ ``/validate-project-expense``), ``GET /v1/project-expense/{expenseID}``,
``GET  /v1/project-expense?projectID=``
``GET  /v1/legal-entity``, ``/v1/legal-entity/{legalEntityId}``, ``/v1/legal-entity/system``
``GET  /v1/payment-term``, ``GET /v1/currency/{status}``, ``GET /v1/customerstatus``, ``GET /v1/user/me``
================================================  ===============================================================

Envelopes: TAFSingle ``{"Properties": {...}, "Links": [{"Href", "Rel"}], "Actions": []}``; TAFList
``{"Properties": {"TotalRecord": "41", "TotalPage": "5", "PageNumber": "1"}, "Entities": [{"Properties": {...}}],
"Links": [...]}`` — paging numbers are strings, as in the official example. ``$page`` (1-based) and ``$pagesize``
(default **10**) apply to every list; a page past the end has no entities. Errors are ``ResponseError``
``{"Code", "Details", "Message", "Parameters", "Url", "DeveloperNote"}`` with HTTP 400 (validation), 401
(``Invalid authentication token``: no/unknown Bearer token), 404 (unknown record or path), 500. ``Code`` repeats
the HTTP status and ``Details`` lists ``{"Property", "Message"}`` per invalid field (*choices*).

Choices where the public material is silent:

- Creates answer HTTP 200 with a TAFSingle of the read model (the swagger declares no body for some; the ID of the
  new record is what a client needs).
- ``PUT /customer/update`` is a full replace of the fields of ``CustomerApiUpdateModel`` (omitted -> cleared);
  ``CustomerID``, ``Name`` and ``CustomerStatusID`` are required (400 otherwise), ``CustomerID`` must exist (404).
  Fields the update model does not have (EAN, payment term ...) are kept. ``POST /customer/create`` requires
  ``Name``; ``CustomerStatusID`` defaults to the default status. Customers written here are the customers the
  Reporting/CRM surfaces serve (``CustomerNo``->``No``, ``VatNo``->``VATNo``, ``Address``->``Address1``,
  ``Website``->``WebPage``, ``PrimaryKAMID``->``AccountManagerID``), and their modified time advances.
- REST v1 has only ``GET /product`` publicly; product creation and (de)activation — needed for item-number sync
  — are served at the three extension paths above: ``POST /v1/product/create`` with ``{ProductNumber (required),
  ProductName, Description, UseVAT, VATPercentage, IsActive (default true), LegalEntityID (default: first legal
  entity)}``; a ``ProductNumber`` that exists in the same legal entity is a 400.
- ``POST /v1/project-expense`` requires ``ProjectID`` and ``ExpenseTypeID`` (both must exist), ``PurchaseDate`` and
  ``AmountIncludingVatExpenseCurrency``; duplicates (same ``ExternalID``) are accepted like any other expense —
  de-duplication is the client's job. The expense is visible in Reporting ``GetExpensesRaw``.
- ``{status}`` path parameters accept 1 (active), 0 (inactive), -1 (all); anything else is a 400 ``Status specified
  is invalid``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .store import D, TimelogStore, guid_for, norm_dt, truthy

DEFAULT_PAGE_SIZE = 10


def jsonable(v: Any) -> Any:
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() and abs(v) < 2**53 and "." not in str(v) else float(v)
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, datetime):
        return v.isoformat()
    return v


def json_response(obj: Any, status: int = 200) -> Response:
    return Response(json.dumps(jsonable(obj), ensure_ascii=False), status_code=status,
                    media_type="application/json; charset=utf-8")


class RestError(Exception):
    def __init__(self, status: int, message: str, details: list | None = None, parameters: str = "") -> None:
        super().__init__(message)
        self.status, self.message, self.details, self.parameters = status, message, details or [], parameters


def f_float(v: Any) -> float:
    return float(D(v))


def f_bool(v: Any) -> bool:
    return truthy(v)


def f_dt(v: Any) -> str | None:
    try:
        return norm_dt(v)
    except ValueError:
        return None


# ------------------------------------------------------------------------------------------------ read models
def customer_read(c: dict) -> dict:
    return {"CustomerID": c["ID"], "ID": c.get("GUID"), "Name": c.get("Name", ""), "No": c.get("No", ""),
            "DefaultMileageDistance": int(c.get("DefaultMileageDistance") or 0),
            "CustomerStatusID": int(c.get("CustomerStatusID") or 0), "VATNo": c.get("VATNo", ""),
            "OrganizationNo": c.get("OrganizationNo", "")}


def product_read(p: dict) -> dict:
    return {"ProductNumberID": p["ProductNumberID"], "ProductNumber": p.get("ProductNumber", ""),
            "ProductName": p.get("ProductName", ""), "Description": p.get("Description", ""),
            "UseVAT": f_bool(p.get("UseVAT")), "VATPercentage": f_float(p.get("VATPercentage")),
            "IsActive": f_bool(p.get("IsActive")), "ProductNumberGuid": p.get("ProductNumberGuid"),
            "LegalEntityID": int(p.get("LegalEntityID") or 0)}


def typed_read(id_name: str) -> Callable[[dict], dict]:
    def read(r: dict) -> dict:
        return {id_name: r["ID"], "Name": r.get("Name", ""), "IsActive": f_bool(r.get("IsActive", True)),
                "ProductNo": r.get("ProductNo", ""), "ID": r.get("GUID") or guid_for(id_name, r["ID"])}
    return read


def hourly_rate_read(store: TimelogStore, r: dict) -> dict:
    return {"HourlyRateID": r["ID"], "HourlyRateName": r.get("Name", ""), "Amount": f_float(r.get("Amount")),
            "Description": r.get("Description", ""), "IsActive": f_bool(r.get("IsActive")),
            "CustomerID": int(r.get("CustomerID") or 0), "ProductNo": r.get("ProductNo", ""), "ID": r.get("GUID"),
            "ServiceID": int(r.get("ServiceID") or 0),
            "HourlyRateCurrencyID": int(r.get("HourlyRateCurrencyID") or store.currency_id(r.get("CurrencyISO"))),
            "IsDefault": f_bool(r.get("IsDefault", False)), "CurrencyISO": r.get("CurrencyISO", ""),
            "LegalEntityID": int(r.get("LegalEntityID") or store.default_legal_entity_id())}


def legal_entity_read(r: dict) -> dict:
    return {"LegalEntityID": r["ID"], "Name": r.get("Name", ""), "IsActive": f_bool(r.get("IsActive")),
            "ID": r.get("GUID"), "CurrencyID": int(r.get("CurrencyID") or 0), "CurrencyISO": r.get("CurrencyISO", ""),
            "CountryISO": r.get("CountryISO", ""), "IsSystemLegalEntity": f_bool(r.get("IsSystemLegalEntity"))}


def expense_type_read(r: dict) -> dict:
    return {"ExpenseTypeID": r["ExpenseTypeID"], "ExpenseTypeName": r.get("ExpenseTypeName", ""),
            "ShowInTravel": f_bool(r.get("ShowInTravel")), "AccountNo": r.get("AccountNo", ""),
            "VAT": f_float(r.get("VAT")), "ProductNo": r.get("ProductNo", ""), "SalaryCode": r.get("SalaryCode", ""),
            "IsActive": f_bool(r.get("IsActive")), "IsEquipment": f_bool(r.get("IsEquipment")),
            "CostPrice": f_float(r.get("CostPrice")), "SalesPrice": f_float(r.get("SalesPrice")),
            "EquipmentText": r.get("EquipmentText", "")}


def payment_term_read(r: dict) -> dict:
    return {"ID": r["ID"], "Name": r.get("Name", ""), "TermMessage": r.get("TermMessage", ""),
            "CreditTerm": r.get("CreditTerm", ""), "DaysOfCredit": int(r.get("DaysOfCredit") or 0),
            "InterestRate": f_float(r.get("InterestRate")), "InterestPeriod": r.get("InterestPeriod", ""),
            "ReminderFee": f_float(r.get("ReminderFee")), "IsDefaultTerm": f_bool(r.get("IsDefaultTerm")),
            "IsActive": f_bool(r.get("IsActive")), "CurrencyID": int(r.get("CurrencyID") or 0),
            "PaymentTermGuid": r.get("PaymentTermGuid")}


def currency_read(r: dict) -> dict:
    return {"CurrencyID": r["CurrencyID"], "CurrencyABB": r.get("CurrencyABB", ""),
            "DescriptiveName": r.get("DescriptiveName", ""), "CurrentRate": f_float(r.get("CurrentRate")),
            "IsActive": f_bool(r.get("IsActive"))}


def project_expense_read(store: TimelogStore, e: dict) -> dict:
    p = store._get("Projects", e.get("ProjectID")) or {}
    et = store._get("ExpenseTypes", e.get("ExpenseTypeID")) or {}
    amount_sys = D(e.get("AmountSystemCurrency", e.get("Amount")))
    return {
        "ProjectExpenseID": e["ID"], "ExpenseNo": e.get("ExpenseNo", ""), "ProjectID": int(e.get("ProjectID") or 0),
        "EmployeeID": int(e.get("EmployeeID") or 0), "PurchaseDate": e.get("Date"), "InvoiceNo": e.get("InvoiceNo", ""),
        "CustomerID": int(e.get("CustomerID") or 0), "ExpenseCurrencyISO": e.get("CurrencyABB", ""),
        "ExpenseDirectProjectExchangeRate": f_float(e.get("CurrencyRate", 100)),
        "AmountExpenseCurrency": f_float(e.get("Amount")), "VatExpenseCurrency": f_float(e.get("VAT")),
        "ProjectCurrencyISO": p.get("CurrencyISOCode", "DKK"),
        "SalesPriceProjectCurrency": f_float(e.get("SalesPriceAmountProjectCurrency", e.get("Amount"))),
        "SalesPriceSystemCurrency": f_float(e.get("SalesPriceAmountProjectCurrency", amount_sys)),
        "SalesPriceProjectExchangeRate": f_float(p.get("CurrencyRate", 100)),
        "ExpenseCostProjectCurrency": f_float(amount_sys), "ExpenseCostSystemCurrency": f_float(amount_sys),
        "ProfitRatio": f_float(e.get("ProfitRatio")), "InvoicedAmountSystemCurrency": f_float(e.get("InvAmount")),
        "InvoicedAmountProjectCurrency": f_float(e.get("InvAmountCurrency")), "Comment": e.get("Comment", ""),
        "PaymentMethodID": int(e.get("PaymentMethodID") or 0), "ExpenseTypeID": int(e.get("ExpenseTypeID") or 0),
        "IsBillable": f_bool(e.get("Billable")), "IsApproved": int(e.get("ApprovedStatus") or 0) > 0,
        "ApprovedBy": int(e.get("ApprovedBy") or 0), "InvoiceLineID": int(e.get("InvoiceLineId") or 0),
        "UnitType": int(e.get("UnitType") or 0), "ProductNo": e.get("ProductNo") or et.get("ProductNo", ""),
        "DisbursementGuid": guid_for("Disbursement", e["ID"]), "ExternalID": e.get("ExternalID", ""),
        "ProjectSubContractID": int(e.get("ProjectSubContractID") or 0), "InstallmentID": 0,
        "LegalEntityID": int(p.get("LegalEntityID") or store.default_legal_entity_id()),
    }


# ------------------------------------------------------------------------------------------------ write models
_CUSTOMER_MAP = {  # REST write field -> stored (Reporting) field
    "Name": "Name", "CustomerNo": "No", "NickName": "NickName", "CustomerStatusID": "CustomerStatusID",
    "CurrencyID": "CurrencyID", "CountryID": "CountryID", "CustomerSince": "CustomerSince",
    "OrganizationNo": "OrganizationNo", "PrimaryKAMID": "AccountManagerID", "SecondaryKAMID": "SecondaryAccountManagerID",
    "IndustryID": "IndustryID", "Phone": "Phone", "Fax": "Fax", "Email": "Email", "Website": "WebPage",
    "Address": "Address1", "Address2": "Address2", "Address3": "Address3", "ZipCode": "ZipCode", "City": "City",
    "State": "State", "VatNo": "VATNo", "UseInvoicingAddress": "UseInvoicingAddress", "InvoicingName": "InvoicingName",
    "InvoicingAddress": "InvoicingAddress", "InvoicingAddress2": "InvoicingAddress2",
    "InvoicingAddress3": "InvoicingAddress3", "InvoicingAddressZipCode": "InvoicingAddressZipCode",
    "InvoicingAddressCity": "InvoicingAddressCity", "InvoicingAddressState": "InvoicingAddressState",
    "InvoicingAddressCountryID": "InvoicingAddressCountryID", "CreditorID": "CreditorID",
    # create-only
    "DefaultMileageDistance": "DefaultMileageDistance", "ExpenseIsBillable": "ExpenseIsBillable",
    "MileageIsBillable": "MileageIsBillable", "DefaultDistIsMaxBillable": "DefaultDistIsMaxBillable",
    "ContactID": "ContactID", "InvoiceAddressToUse": "InvoiceAddressToUse", "InternalReferenceID": "InternalReferenceID",
    "CustomerReferenceID": "CustomerReferenceID", "PaymentTermID": "PaymentTermID",
    "DiscountPercentage": "DiscountPercentage", "CalculateVat": "CalculateVat", "VatPercentage": "VatPercentage",
    "UseEanNo": "UseEanNo", "EanNo": "EanNo", "LanguageID": "LanguageID",
}
UPDATE_FIELDS = ("Name", "CustomerNo", "CurrencyID", "CustomerStatusID", "NickName", "CountryID", "CustomerSince",
                 "OrganizationNo", "PrimaryKAMID", "SecondaryKAMID", "IndustryID", "Phone", "Fax", "Email", "Website",
                 "Address", "Address2", "Address3", "ZipCode", "City", "State", "VatNo", "UseInvoicingAddress",
                 "InvoicingName", "InvoicingAddress", "InvoicingAddress2", "InvoicingAddress3", "InvoicingAddressZipCode",
                 "InvoicingAddressCity", "InvoicingAddressState", "InvoicingAddressCountryID", "CreditorID")
CREATE_FIELDS = tuple(k for k in _CUSTOMER_MAP if k not in ("InvoicingName", "CreditorID"))


def _required(body: dict, names: tuple[str, ...]) -> None:
    missing = [n for n in names if body.get(n) in (None, "")]
    if missing:
        raise RestError(400, "The request is invalid.",
                        [{"Property": n, "Message": f"The {n} field is required."} for n in missing])


class RestAPI:
    def __init__(self, store: TimelogStore, counters: Any, site: str) -> None:
        self.store = store
        self.counters = counters
        self.site = site
        R = self._route
        self.routes: list[tuple[str, re.Pattern, Callable]] = []
        R("GET", r"customer", self.customer_list)
        R("GET", r"customer/by-number/(?P<no>[^/]+)", self.customer_by_number)
        R("GET", r"customer/(?P<id>-?\d+)", self.customer_get)
        R("POST", r"customer/create", self.customer_create)
        R("POST", r"customer/validate-new-customer", self.customer_validate)
        R("PUT", r"customer/update", self.customer_update)
        R("GET", r"customerstatus", self.customer_statuses)
        R("GET", r"product", self.product_list)
        R("POST", r"product/create", self.product_create)
        R("PUT", r"product/(?P<id>-?\d+)/(?P<what>activate|deactivate)", self.product_activate)
        R("PUT", r"product/(?P<id>-?\d+)/update", self.product_update)
        R("GET", r"projecttype", self._typed("ProjectTypes", "ProjectTypeID"))
        R("GET", r"projectcategory", self._typed("ProjectCategories", "ProjectCategoryID"))
        R("GET", r"tasktype", self._typed("TaskTypes", "TaskTypeID"))
        R("GET", r"hourly-rate", self.hourly_rates)
        R("GET", r"hourly-rate/default", self.hourly_rates_default)
        R("GET", r"expense-type/all/list", self.expense_types_all)
        R("GET", r"expense-type/(?P<status>-?\d+)", self.expense_types)
        R("GET", r"project-expense", self.project_expenses)
        R("GET", r"project-expense/(?P<id>-?\d+)", self.project_expense_get)
        R("POST", r"project-expense", self.project_expense_create)
        R("POST", r"project-expense/validate-project-expense", self.project_expense_validate)
        R("GET", r"legal-entity", self.legal_entities)
        R("GET", r"legal-entity/system", self.legal_entity_system)
        R("GET", r"legal-entity/(?P<id>-?\d+)", self.legal_entity_get)
        R("GET", r"payment-term", self.payment_terms)
        R("GET", r"currency/(?P<status>-?\d+)", self.currencies)
        R("GET", r"user/me", self.user_me)

    def _route(self, method: str, pattern: str, fn: Callable) -> None:
        self.routes.append((method, re.compile(rf"^/v1/{pattern}/?$", re.IGNORECASE), fn))

    # -------------------------------------------------------------------------------- plumbing
    async def handle(self, request: Request, rest_path: str) -> Response:
        url = str(request.url)
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        idx = self.store.rest_token_index(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
        self.counters.hit("rest", f"rest:pat{idx}" if idx else None)
        try:
            if idx is None:
                raise RestError(401, "Invalid authentication token")
            path = "/" + rest_path.strip("/")
            allowed = False
            for method, rx, fn in self.routes:
                m = rx.match(path)
                if not m:
                    continue
                allowed = True
                if method != request.method:
                    continue
                body: Any = None
                if request.method in ("POST", "PUT"):
                    raw = await request.body()
                    try:
                        body = json.loads(raw, parse_float=Decimal) if raw.strip() else {}
                    except ValueError:
                        raise RestError(400, "The request body is not valid JSON.") from None
                    if not isinstance(body, dict):
                        raise RestError(400, "The request body must be a JSON object.")
                return fn(request, body=body, **m.groupdict())
            if allowed:
                raise RestError(405, "The requested resource does not support this http method.")
            raise RestError(404, f"No HTTP resource was found that matches the request URI '{url}'.")
        except RestError as e:
            return json_response({"Code": e.status, "Details": e.details, "Message": e.message,
                                  "Parameters": e.parameters, "Url": url, "DeveloperNote": None}, e.status)

    def _base(self, request: Request) -> str:
        return str(request.url).split("?")[0]

    def single(self, request: Request, props: dict, status: int = 200) -> Response:
        return json_response({"Properties": props, "Links": [{"Href": self._base(request), "Rel": "self"}],
                              "Actions": []}, status)

    def listing(self, request: Request, rows: list[dict]) -> Response:
        q = {k.lower(): v for k, v in request.query_params.items()}
        try:
            page = int(q.get("$page", "1"))
            size = int(q.get("$pagesize", str(DEFAULT_PAGE_SIZE)))
        except ValueError:
            raise RestError(400, "$page and $pagesize must be whole numbers.", parameters="$page,$pagesize") from None
        if page < 1 or size < 1:
            raise RestError(400, "$page and $pagesize must be 1 or more.", parameters="$page,$pagesize")
        total = len(rows)
        pages = math.ceil(total / size) if total else 0
        chunk = rows[(page - 1) * size: page * size]
        base = self._base(request)
        links = [{"Href": f"{base}?$page={page}&$pagesize={size}", "Rel": "self"}]
        if page < pages:
            links.append({"Href": f"{base}?$page={page + 1}&$pagesize={size}", "Rel": "next"})
        if page > 1:
            links.append({"Href": f"{base}?$page={page - 1}&$pagesize={size}", "Rel": "previous"})
        return json_response({"Properties": {"TotalRecord": str(total), "TotalPage": str(pages), "PageNumber": str(page)},
                              "Entities": [{"Properties": r} for r in chunk], "Links": links})

    @staticmethod
    def _status(status: str) -> int | None:
        v = int(status)
        if v not in (-1, 0, 1):
            raise RestError(400, "Status specified is invalid", parameters="status")
        return None if v == -1 else v

    # -------------------------------------------------------------------------------- customers
    def customer_list(self, request: Request, body: Any = None) -> Response:
        rows = sorted(self.store.snapshot("Customers"), key=lambda r: r["ID"])
        return self.listing(request, [customer_read(c) for c in rows])

    def customer_get(self, request: Request, id: str, body: Any = None) -> Response:
        c = self.store.get("Customers", int(id))
        if c is None:
            raise RestError(404, f"Customer with ID {id} was not found.", parameters="customerID")
        return self.single(request, customer_read(c))

    def customer_by_number(self, request: Request, no: str, body: Any = None) -> Response:
        rows = [customer_read(c) for c in sorted(self.store.snapshot("Customers"), key=lambda r: r["ID"])
                if str(c.get("No", "")) == no]
        return self.listing(request, rows)

    def customer_statuses(self, request: Request, body: Any = None) -> Response:
        rows = [{"CustomerStatusID": r["ID"], "ID": guid_for("CustomerStatuses", r["ID"]), "Name": r.get("Name", ""),
                 "IsDefault": f_bool(r.get("IsDefault")), "IsActive": f_bool(r.get("IsActive")),
                 "CustomerStatusType": int(r.get("CustomerStatusType") or 0)}
                for r in self.store.snapshot("CustomerStatuses")]
        return self.listing(request, rows)

    def _customer_fields(self, body: dict, fields: tuple[str, ...], full: bool) -> dict:
        """Stored-field changes for the REST fields in ``fields`` (omitted ones cleared when ``full``)."""
        out: dict[str, Any] = {}
        errors = []
        for k in fields:
            stored = _CUSTOMER_MAP[k]
            if k in body:
                out[stored] = body[k]
            elif full:
                out[stored] = None
        st = self.store
        if out.get("CustomerStatusID") not in (None, ""):
            status = st.get("CustomerStatuses", out["CustomerStatusID"])
            if status is None:
                errors.append({"Property": "CustomerStatusID", "Message": "Status specified is invalid"})
            else:
                out["CustomerStatusID"] = int(status["ID"])
                out["CustomerStatus"] = status.get("Name", "")
        if out.get("CurrencyID") not in (None, "", 0) and st.get("Currencies", out["CurrencyID"]) is None:
            errors.append({"Property": "CurrencyID", "Message": "Currency specified is invalid"})
        if out.get("CustomerSince"):
            d = f_dt(out["CustomerSince"])
            if d is None:
                errors.append({"Property": "CustomerSince", "Message": "Not a valid date"})
            else:
                out["CustomerSince"] = d[:10]
        for kam, (fn, ini) in (("AccountManagerID", ("AccountManagerFullName", "AccountManagerInitials")),
                               ("SecondaryAccountManagerID", ("SecondaryAccountManagerFullName", "SecondaryAccountManagerInitials"))):
            if kam in out:
                e = st.get("Employees", out[kam]) if out[kam] else None
                out[fn] = e.get("FullName") if e else None
                out[ini] = e.get("Initials") if e else None
        if errors:
            raise RestError(400, "The request is invalid.", errors)
        return out

    def customer_create(self, request: Request, body: Any = None) -> Response:
        body = body or {}
        _required(body, ("Name",))
        rec = self._customer_fields(body, CREATE_FIELDS, full=False)
        rec = {k: v for k, v in rec.items() if v is not None}
        rec.setdefault("NickName", rec["Name"])
        new = self.store.insert("Customers", rec)
        return self.single(request, customer_read(new))

    def customer_validate(self, request: Request, body: Any = None) -> Response:
        body = body or {}
        _required(body, ("Name",))
        self._customer_fields(body, CREATE_FIELDS, full=False)
        return self.single(request, {k: body.get(k) for k in CREATE_FIELDS})

    def customer_update(self, request: Request, body: Any = None) -> Response:
        body = body or {}
        _required(body, ("CustomerID", "Name", "CustomerStatusID"))
        try:
            cid = int(body["CustomerID"])
        except (TypeError, ValueError):
            raise RestError(400, "The request is invalid.", [{"Property": "CustomerID", "Message": "Not a whole number"}]) from None
        with self.store.lock:
            old = self.store.get("Customers", cid)
            if old is None:
                raise RestError(404, f"Customer with ID {cid} was not found.", parameters="CustomerID")
            changes = self._customer_fields(body, UPDATE_FIELDS, full=True)
            new = dict(old)
            new.update(changes)
            new = self.store.replace("Customers", new)
        return self.single(request, customer_read(new))

    # -------------------------------------------------------------------------------- products
    def product_list(self, request: Request, body: Any = None) -> Response:
        rows = sorted(self.store.snapshot("Products"), key=lambda r: r["ProductNumberID"])
        return self.listing(request, [product_read(p) for p in rows])

    def product_create(self, request: Request, body: Any = None) -> Response:
        body = body or {}
        _required(body, ("ProductNumber",))
        st = self.store
        le = int(body.get("LegalEntityID") or st.default_legal_entity_id())
        if st.get("LegalEntities", le) is None:
            raise RestError(400, "The request is invalid.", [{"Property": "LegalEntityID", "Message": "Legal entity specified is invalid"}])
        number = str(body["ProductNumber"]).strip()
        with st.lock:
            for p in st.data["Products"]:
                if str(p.get("ProductNumber")) == number and int(p.get("LegalEntityID") or 0) == le:
                    raise RestError(400, f"Product number '{number}' already exists.",
                                    [{"Property": "ProductNumber", "Message": "Product number already exists"}])
            rec = {"ProductNumber": number, "ProductName": body.get("ProductName") or number,
                   "Description": body.get("Description") or "", "UseVAT": truthy(body.get("UseVAT", True)),
                   "VATPercentage": D(body.get("VATPercentage"), "25"), "IsActive": truthy(body.get("IsActive", True)),
                   "LegalEntityID": le}
            new = st.insert("Products", rec)
        return self.single(request, product_read(new))

    def product_activate(self, request: Request, id: str, what: str, body: Any = None) -> Response:
        if self.store.get("Products", int(id)) is None:
            raise RestError(404, f"Product with ID {id} was not found.", parameters="productNumberID")
        new = self.store.update("Products", int(id), {"IsActive": what.lower() == "activate"})
        return self.single(request, product_read(new))

    def product_update(self, request: Request, id: str, body: Any = None) -> Response:
        """Rename a product number (its name follows the Uniconta item's, rule U2); the number itself and what
        posted invoices carry never change."""
        body = body or {}
        _required(body, ("ProductName",))
        if self.store.get("Products", int(id)) is None:
            raise RestError(404, f"Product with ID {id} was not found.", parameters="productNumberID")
        changes = {"ProductName": str(body["ProductName"])}
        if "Description" in body:
            changes["Description"] = str(body.get("Description") or "")
        new = self.store.update("Products", int(id), changes)
        return self.single(request, product_read(new))

    # -------------------------------------------------------------------------------- lookups
    def _typed(self, coll: str, id_name: str) -> Callable:
        read = typed_read(id_name)

        def handler(request: Request, body: Any = None) -> Response:
            rows = sorted(self.store.snapshot(coll), key=lambda r: r["ID"])
            return self.listing(request, [read(r) for r in rows])
        return handler

    def hourly_rates(self, request: Request, body: Any = None) -> Response:
        rows = sorted(self.store.snapshot("HourlyRates"), key=lambda r: r["ID"])
        return self.listing(request, [hourly_rate_read(self.store, r) for r in rows])

    def hourly_rates_default(self, request: Request, body: Any = None) -> Response:
        rows = sorted((r for r in self.store.snapshot("HourlyRates") if truthy(r.get("IsDefault"))), key=lambda r: r["ID"])
        return self.listing(request, [hourly_rate_read(self.store, r) for r in rows])

    def expense_types(self, request: Request, status: str, body: Any = None) -> Response:
        st = self._status(status)
        rows = [expense_type_read(r) for r in sorted(self.store.snapshot("ExpenseTypes"), key=lambda r: r["ExpenseTypeID"])
                if st is None or int(truthy(r.get("IsActive"))) == st]
        return self.listing(request, rows)

    def expense_types_all(self, request: Request, body: Any = None) -> Response:
        q = {k.lower(): v for k, v in request.query_params.items()}
        st = self._status(q.get("status", "-1"))
        le = int(q.get("legalentityid") or 0)
        rows = []
        for r in sorted(self.store.snapshot("ExpenseTypes"), key=lambda r: r["ExpenseTypeID"]):
            if (st is None or int(truthy(r.get("IsActive"))) == st) and (le <= 0 or int(r.get("LegalEntityID") or 0) == le):
                rows.append({**expense_type_read(r), "LegalEntityID": int(r.get("LegalEntityID") or 0)})
        return self.listing(request, rows)

    def legal_entities(self, request: Request, body: Any = None) -> Response:
        rows = sorted(self.store.snapshot("LegalEntities"), key=lambda r: r["ID"])
        return self.listing(request, [legal_entity_read(r) for r in rows])

    def legal_entity_get(self, request: Request, id: str, body: Any = None) -> Response:
        r = self.store.get("LegalEntities", int(id))
        if r is None:
            raise RestError(404, f"Legal entity with ID {id} was not found.", parameters="legalEntityId")
        return self.single(request, legal_entity_read(r))

    def legal_entity_system(self, request: Request, body: Any = None) -> Response:
        rows = self.store.snapshot("LegalEntities")
        r = next((x for x in rows if truthy(x.get("IsSystemLegalEntity"))), rows[0] if rows else None)
        if r is None:
            raise RestError(404, "No legal entity.")
        return self.single(request, legal_entity_read(r))

    def payment_terms(self, request: Request, body: Any = None) -> Response:
        rows = sorted(self.store.snapshot("PaymentTerms"), key=lambda r: r["ID"])
        return self.listing(request, [payment_term_read(r) for r in rows])

    def currencies(self, request: Request, status: str, body: Any = None) -> Response:
        st = self._status(status)
        rows = [currency_read(r) for r in sorted(self.store.snapshot("Currencies"), key=lambda r: r["CurrencyID"])
                if st is None or int(truthy(r.get("IsActive"))) == st]
        return self.listing(request, rows)

    def user_me(self, request: Request, body: Any = None) -> Response:
        u = (self.store.auth.get("Users") or [{}])[0]
        return self.single(request, {"UserID": int(u.get("ID", 1)), "ID": guid_for("Users", u.get("ID", 1)),
                                     "FirstName": u.get("FirstName", ""), "LastName": u.get("LastName", ""),
                                     "Initials": u.get("Initials", ""), "IsActive": True, "UserType": "Employee",
                                     "LegalEntityID": self.store.default_legal_entity_id(), "Email": u.get("Email", "")})

    # -------------------------------------------------------------------------------- project expenses
    def project_expenses(self, request: Request, body: Any = None) -> Response:
        q = {k.lower(): v for k, v in request.query_params.items()}
        try:
            pid = int(q.get("projectid", "0"))
        except ValueError:
            raise RestError(400, "projectID must be a whole number.", parameters="projectID") from None
        rows = [project_expense_read(self.store, e) for e in sorted(self.store.snapshot("Expenses"), key=lambda r: r["ID"])
                if pid <= 0 or int(e.get("ProjectID") or 0) == pid]
        return self.listing(request, rows)

    def project_expense_get(self, request: Request, id: str, body: Any = None) -> Response:
        e = self.store.get("Expenses", int(id))
        if e is None:
            raise RestError(404, f"Project expense with ID {id} was not found.", parameters="expenseID")
        return self.single(request, project_expense_read(self.store, e))

    def _expense_record(self, body: dict) -> dict:
        _required(body, ("ProjectID", "ExpenseTypeID", "PurchaseDate", "AmountIncludingVatExpenseCurrency"))
        st = self.store
        errors = []
        project = st.get("Projects", body["ProjectID"])
        if project is None:
            errors.append({"Property": "ProjectID", "Message": "Project specified is invalid"})
        et = st.get("ExpenseTypes", body["ExpenseTypeID"])
        if et is None:
            errors.append({"Property": "ExpenseTypeID", "Message": "Expense type specified is invalid"})
        date = f_dt(body["PurchaseDate"])
        if date is None:
            errors.append({"Property": "PurchaseDate", "Message": "Not a valid date"})
        iso = str(body.get("ExpenseCurrencyISO") or (project or {}).get("CurrencyISOCode") or "DKK").upper()
        cur = next((c for c in st.data["Currencies"] if str(c.get("CurrencyABB")).upper() == iso), None)
        if cur is None:
            errors.append({"Property": "ExpenseCurrencyISO", "Message": "Currency specified is invalid"})
        if errors:
            raise RestError(400, "The request is invalid.", errors)
        assert project is not None and et is not None and cur is not None
        rate = D(body.get("ProjectExpenseExchangeRate") or cur.get("CurrentRate"), "100")
        amount = D(body["AmountIncludingVatExpenseCurrency"])
        return {
            "CustomerID": project.get("CustomerID"), "ProjectID": project["ID"], "ExpenseTypeID": et["ExpenseTypeID"],
            "ExpenseType": et.get("ExpenseTypeName", ""), "SupplierCustomerID": body.get("SupplierID") or None,
            "Date": date, "Amount": amount, "AmountSystemCurrency": (amount * rate / 100).quantize(Decimal("0.0001")),
            "VAT": D(body.get("VatAmountExpenseCurrency")), "CurrencyABB": iso, "CurrencyRate": rate,
            "PaymentMethodID": body.get("PaymentMethodID") or None, "Comment": body.get("Comment") or "",
            "ApprovedStatus": 0, "Billable": 1 if truthy(body.get("IsBillable", False)) else 0,
            "SupplierInvoiceNo": body.get("SupplierInvoiceNo") or None, "ProfitRatio": D(body.get("ProfitRatio")),
            "ExpenseNo": body.get("ExpenseNo") or "", "ExternalID": body.get("ExternalID") or "",
            "SalesPriceAmountProjectCurrency": D(body.get("SalesPriceAmountProjectCurrency"), str(amount)),
            "ProjectSubContractID": body.get("ProjectSubContractID") or 0, "ProductNo": et.get("ProductNo", ""),
        }

    def project_expense_create(self, request: Request, body: Any = None) -> Response:
        rec = self._expense_record(body or {})
        rec["Created"] = self.store.now_str()
        new = self.store.insert("Expenses", rec)
        return self.single(request, project_expense_read(self.store, new))

    def project_expense_validate(self, request: Request, body: Any = None) -> Response:
        self._expense_record(body or {})
        return self.single(request, dict(body or {}))
