"""Transactional API (SOAP 1.1 over WCF ``basicHttpBinding``), relative to ``/{site}/``:

=====================================================================  =====================================================
``WebServices/Security/V1_2/SecurityServiceSecure.svc``                ``GetToken``, ``GetUser``, ``IsAlive``
``WebServices/CRM/V1_4/CRMServiceSecure.svc``                          ``GetCustomersModifiedSincePaged``, ``GetCustomerByID``,
                                                                       ``GetCustomerByGUID``
``WebServices/ProjectManagement/V1_8/ProjectManagementServiceSecure.svc``  ``GetProjectsModifiedInPeriodPaged``, ``GetProjectByID``
``WebServices/Invoicing/V1_1/InvoicingServiceSecure.svc``              ``GetInvoicesModifiedInPeriodPaged``,
                                                                       ``GetCreditNotesModifiedInPeriodPaged``,
                                                                       ``UpdateExternalData``, ``GetInvoiceByID``,
                                                                       ``GetInvoiceByGUID``, ``GetCreditNoteByID``
=====================================================================  =====================================================

(the plain-HTTP names ``...Service.svc`` are served too).

Facts (``reference/timelog-transactional-contracts.md`` and the SDK's generated proxies): request body is the
operation element in the service namespace with one child per parameter (matched here by local name); the token
is ``<token><Initials/><Expires/><Hash/></token>``. ``SOAPAction`` must be the operation's action: ``GetTokenRequest``
(Security), ``http://api.timelog.com/services/crm/1_4/ICRMService/{Op}`` (CRM),
``http://www.timelog.com/api/tlp/v1_8/ProjectManagementService/{Op}`` (ProjectManagement),
``http://www.timelog.com/api/tlp/v1/InvoicingService/{Op}`` (Invoicing modified-in-period, UpdateExternalData) or
``{Op}Request`` (Invoicing ``GetInvoiceByID`` / ``GetInvoiceByGUID`` / ``GetCreditNoteByID``). Any other action
is WCF's ``a:ActionNotSupported`` SOAP fault (HTTP 500) — also for an unknown operation. An empty SOAPAction is
dispatched on the body element (*choice*, lenient). A body that is not XML is a SOAP ``s:Client`` fault (HTTP 400);
a SOAP 1.2 content type (``application/soap+xml``) is HTTP 415, as ``basicHttpBinding`` answers; ``GET`` on a
``.svc`` is the WCF service page.

Answer: ``<{Op}Response xmlns="{service ns}"><{Op}Result>`` holding ``ResponseOfX`` in ``http://api.timelog.com``
(``http://www.timelog.com/api/tlp/v1_1`` for ``ResponseOfSecurityToken``): ``Return`` (array, the items in
their data-contract namespace: Customer ``http://api.timelog.com/services/crm/1_4``, ProjectApiReadModel
``http://www.timelog.com/api/tlp/v1_8``, Invoice/CreditNote ``http://www.timelog.com/api/tlp/v1``,
SecurityToken ``http://www.timelog.com/api/tlp/v1_2``; headers/Address/Currency ``.../tlp/v1_1``),
``ReturnTypeDescription``, ``Request``, ``ResponseState`` (``Success``/``Invalid``/``Error``), ``Messages``
(``APIMessage{Message, Severity, ErrorCode}``), ``ErrorCode``, ``IsReturnPaged``, ``TotalPageCount``. Enums by
name, booleans ``true``/``false``, DateTime ``YYYY-MM-DDTHH:MM:SS``, doubles as plain decimals, null as
``i:nil="true"``. Members of nested helper types whose namespace the reference does not give are written in
the namespaces above (*choice*; parse by local name).

Choices where the reference is silent:

- Business errors never fault (as the reference says): a missing/forged token answers ``ResponseState=Error``
  with the message ``Invalid security token. Request a new token with SecurityService.GetToken.``; an expired
  token (``Expires`` ≤ now; tokens live 12 h) ``Security token has expired. Request a new token with
  SecurityService.GetToken.``; wrong user/password at ``GetToken`` ``Error`` with ``Invalid username or
  password.``; a bad ``page``/``pageSize`` (< 1) ``Invalid``. ``Return`` is then empty, ``ErrorCode`` 0.
- Paging is 1-based; ``TotalPageCount`` = ceil(matches / pageSize); a page past the end has an empty ``Return``
  (clients may loop until ``Return`` is empty, as the SDK sample does, or up to ``TotalPageCount``).
- "Modified" is the record's ``_LastModifiedAt`` metadata, else ``LastModifiedAt``, ``CreatedAt``,
  ``InvoiceDate``. ``GetCustomersModifiedSincePaged`` takes records modified at or after ``date``; the
  ``InPeriod`` operations take ``startDate <= modified <= endDate``. Rows are ordered by (modified, ID).
  Customer kind for the include flags comes from the customer status type (1 customer, 2 supplier, 8 lead).
- ``GetInvoicesModifiedInPeriodPaged`` returns Reporting ``Type`` 1 (invoices), ``GetCreditNotesModifiedInPeriodPaged``
  ``Type`` 2, every status (``Status`` says Draft/Booked/Overdue/Paid; only booked ones should be transferred).
- ``UpdateExternalData(guid, externalInvoiceNumber, externalInvoiceStatus{ID, Name})`` works on invoices and
  credit notes: it stores ``ExternalInvoiceNo`` and ``ExternalInvoiceStatus`` (the ``Name``, else the name of the
  ``ID`` 0..3 Draft/Booked/Overdue/Paid) — both visible in Reporting ``GetInvoicesRaw`` — and bumps the record's
  modified time, so it shows up again in the next ``...ModifiedInPeriodPaged`` window. Unknown GUID: ``Error``
  ``Invoice with GUID '{guid}' was not found.``
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from .reporting import esc
from .store import INVOICE_STATUS_NAMES, INVOICE_TYPE_NAMES, D, TimelogStore, norm_dt, truthy

NS_S = "http://schemas.xmlsoap.org/soap/envelope/"
NS_I = "http://www.w3.org/2001/XMLSchema-instance"
NS_API = "http://api.timelog.com"
NS_V1 = "http://www.timelog.com/api/tlp/v1"
NS_V1_1 = "http://www.timelog.com/api/tlp/v1_1"
NS_V1_2 = "http://www.timelog.com/api/tlp/v1_2"
NS_V1_8 = "http://www.timelog.com/api/tlp/v1_8"
NS_CRM = "http://api.timelog.com/services/crm/1_4"
XML_CT = "text/xml; charset=utf-8"
MIN_DT = "0001-01-01T00:00:00"

MSG_TOKEN_INVALID = "Invalid security token. Request a new token with SecurityService.GetToken."
MSG_TOKEN_EXPIRED = "Security token has expired. Request a new token with SecurityService.GetToken."
MSG_LOGIN = "Invalid username or password."

# service key -> (url parts, service ns, {op: accepted SOAPActions})
_CRM_A = f"{NS_CRM}/ICRMService/"
_PM_A = f"{NS_V1_8}/ProjectManagementService/"
_INV_A = f"{NS_V1}/InvoicingService/"
SERVICES: dict[str, dict[str, Any]] = {
    "security": {"area": "Security/V1_2", "name": "SecurityService", "ns": NS_V1_2,
                 "ops": {"GetToken": ["GetTokenRequest"], "GetUser": ["GetUserRequest"],
                         "IsAlive": ["IsAliveRequest"]}},
    "crm": {"area": "CRM/V1_4", "name": "CRMService", "ns": NS_CRM,
            "ops": {op: [_CRM_A + op] for op in ("GetCustomersModifiedSincePaged", "GetCustomerByID", "GetCustomerByGUID")}},
    "pm": {"area": "ProjectManagement/V1_8", "name": "ProjectManagementService", "ns": NS_V1_8,
           "ops": {op: [_PM_A + op] for op in ("GetProjectsModifiedInPeriodPaged", "GetProjectByID")}},
    "invoicing": {"area": "Invoicing/V1_1", "name": "InvoicingService", "ns": NS_V1,
                  "ops": {"GetInvoicesModifiedInPeriodPaged": [_INV_A + "GetInvoicesModifiedInPeriodPaged"],
                          "GetCreditNotesModifiedInPeriodPaged": [_INV_A + "GetCreditNotesModifiedInPeriodPaged"],
                          "UpdateExternalData": [_INV_A + "UpdateExternalData"],
                          "GetInvoiceByID": ["GetInvoiceByIDRequest"], "GetInvoiceByGUID": ["GetInvoiceByGUIDRequest"],
                          "GetCreditNoteByID": ["GetCreditNoteByIDRequest"]}},
}


def service_paths(site: str) -> dict[str, str]:
    """URL path -> service key (Secure and plain variants)."""
    out = {}
    for key, s in SERVICES.items():
        for suffix in ("Secure.svc", ".svc"):
            out[f"/{site}/WebServices/{s['area']}/{s['name']}{suffix}"] = key
    return out


# ------------------------------------------------------------------------------------------------ values
def xb(v: Any) -> str:
    return "true" if truthy(v) else "false"


def xn(v: Any) -> str:
    d = D(v)
    s = format(d, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s or "0"


def xi(v: Any) -> str:
    try:
        return str(int(v))
    except (TypeError, ValueError):
        return "0"


def xdt(v: Any) -> str:
    try:
        return norm_dt(v) or MIN_DT
    except ValueError:
        return MIN_DT


class Arr:
    """An array member: ``<p:name><ip:item>...</ip:item>...</p:name>``."""

    def __init__(self, item_prefix: str, item_name: str, items: list[list]) -> None:
        self.item_prefix, self.item_name, self.items = item_prefix, item_name, items


def render(members: list) -> str:
    """members: [(prefix, name, value)] with value None (nil), str (pre-formatted), list (nested) or Arr."""
    out = []
    for prefix, name, value in members:
        tag = f"{prefix}:{name}"
        if value is None:
            out.append(f'<{tag} i:nil="true"/>')
        elif isinstance(value, Arr):
            inner = "".join(f"<{value.item_prefix}:{value.item_name}>{render(it)}</{value.item_prefix}:{value.item_name}>"
                            for it in value.items)
            out.append(f"<{tag}>{inner}</{tag}>" if inner else f"<{tag}/>")
        elif isinstance(value, list):
            out.append(f"<{tag}>{render(value)}</{tag}>")
        else:
            out.append(f"<{tag}>{esc(value)}</{tag}>" if value != "" else f"<{tag}/>")
    return "".join(out)


def s(v: Any) -> str | None:
    return None if v is None else str(v)


BASE_EXT = [("a", "Action", "Original"), ("a", "IsCustomFieldsLoaded", "false"), ("a", "CustomFields", None),
            ("a", "IsExternalKeysLoaded", "false"), ("a", "ExternalKeys", None)]


# ------------------------------------------------------------------------------------------------ entities
def customer_members(store: TimelogStore, c: dict) -> list:
    st = store._get("CustomerStatuses", c.get("CustomerStatusID")) or {}
    addr = [("c", k, s(c.get(k)) or "") for k in ("Address1", "Address2", "Address3", "ZipCode", "City", "State", "Country")]
    currency = c.get("Currency") or c.get("_CurrencyISO") or next(
        (x.get("CurrencyABB") for x in store.data.get("Currencies", []) if x.get("CurrencyID") == c.get("CurrencyID")),
        None) or "DKK"
    details = [("b", "Status", [("b", "ID", xi(st.get("ID", c.get("CustomerStatusID")))), ("b", "Name", s(st.get("Name", c.get("CustomerStatus"))) or ""),
                                ("b", "Type", _status_type_name(int(st.get("CustomerStatusType", 1))))]),
               ("b", "Industry", None), ("b", "Currency", None), ("b", "KAM", None), ("b", "KAM2", None)]
    return BASE_EXT + [
        ("b", "ID", xi(c["ID"])), ("b", "GUID", s(c.get("GUID"))), ("b", "Name", s(c.get("Name")) or ""),
        ("b", "No", s(c.get("No"))), ("b", "TimeStamp", None), ("b", "VAT", xn(c.get("VATPercentage", 25))),
        ("b", "CalculateVAT", xb(c.get("CalculateVat", True))), ("b", "DefaultDiscountPercent", xn(c.get("DiscountPercentage", 0))),
        ("b", "Address", addr), ("b", "Fax", s(c.get("Fax"))), ("b", "WebSite", s(c.get("WebPage"))),
        ("b", "Phone", s(c.get("Phone"))), ("b", "Email", s(c.get("Email"))), ("b", "KAM", s(c.get("AccountManagerInitials"))),
        ("b", "EAN", s(c.get("EanNo"))), ("b", "IsOIOCustomer", xb(c.get("EanNo"))), ("b", "CreditorID", s(c.get("CreditorID"))),
        ("b", "AccountNo", s(c.get("AccountNo"))), ("b", "Contacts", None), ("b", "Industry", s(c.get("IndustryName"))),
        ("b", "Status", s(c.get("CustomerStatus"))), ("b", "VATNo", s(c.get("VATNo"))), ("b", "Currency", currency),
        ("b", "PaymentTermId", xi(c.get("PaymentTermID") or c.get("_PaymentTermID") or 0)), ("b", "InvoicingAddress", None),
        ("b", "InvoicingName", s(c.get("InvoicingName"))), ("b", "UseInvoicingAddress", xb(c.get("UseInvoicingAddress", False))),
        ("b", "CustomerSinceDate", xdt(c["CustomerSince"]) if c.get("CustomerSince") else None),
        ("b", "NickName", s(c.get("NickName"))), ("b", "OrganizationNumber", s(c.get("OrganizationNo"))),
        ("b", "KAM2", s(c.get("SecondaryAccountManagerInitials"))), ("b", "Details", details),
    ]


def _status_type_name(t: int) -> str:
    names = {0: "None", 1: "IsShownInCustomers", 2: "IsShownInSuppliers", 4: "IsShownInSupport", 8: "IsShownInLeads",
             15: "All", 16: "IsMultiCustomerProjects"}
    if t in names:
        return names[t]
    return " ".join(n for v, n in names.items() if v in (1, 2, 4, 8, 16) and t & v) or "None"


def project_members(store: TimelogStore, p: dict) -> list:
    g = p.get
    return BASE_EXT + [
        ("b", "ID", s(g("GUID"))), ("b", "ProjectID", xi(g("ID"))), ("b", "CustomerID", xi(g("CustomerID"))),
        ("b", "Name", s(g("Name")) or ""), ("b", "No", s(g("No"))), ("b", "Description", s(g("Description"))),
        ("b", "Link", s(g("Link"))), ("b", "StartDate", xdt(g("ProjectStartDate"))), ("b", "EndDate", xdt(g("ProjectEndDate"))),
        ("b", "IsInternalProject", xb(g("InternalProject"))), ("b", "ProjectManagerID", xi(g("PMID"))),
        ("b", "AccountManagerID", xi(g("AccountManagerID"))), ("b", "DepartmentHandledByID", xi(g("Department"))),
        ("b", "DepartmentOrderedByID", xi(g("OrderedByDepartment"))), ("b", "TypeID", xi(g("ProjectTypeID"))),
        ("b", "CategoryID", xi(g("ProjectCategoryID"))), ("b", "StageID", xi(g("StageID"))),
        ("b", "LegalEntityID", xi(g("LegalEntityID"))), ("b", "PriceGroupID", xi(g("PriceGroupID"))),
        ("b", "ExchangeRate", xn(g("CurrencyRate", 100))), ("b", "CurrencyID", xi(store.currency_id(g("CurrencyISOCode")))),
        ("b", "MainContractID", xi(g("MainContractID"))),
        ("b", "BudgetWorkHoursFixedPriceProject", xn(g("BudgetHoursFixedPriceProject"))),
        ("b", "BudgetWorkHoursFixedPriceTasks", xn(g("BudgetHoursFixedPriceTasks"))),
        ("b", "BudgetWorkHoursTimeAndMaterial", xn(g("BudgetHoursTimeAndMaterial"))),
        ("b", "BudgetWorkAmountFixedPriceProject", xn(g("BudgetAmountFixedPriceProject"))),
        ("b", "BudgetWorkAmountFixedPriceTasks", xn(g("BudgetAmountFixedPriceTasks"))),
        ("b", "BudgetWorkAmountTimeAndMaterial", xn(g("BudgetAmountTimeAndMaterial"))),
        ("b", "BudgetAmountExpenses", xn(g("BudgetAmountExpenses"))),
        ("b", "BudgetAmountTravelExpenses", xn(g("BudgetAmountTravel"))),
        ("b", "ProjectContactID", xi(g("ContactID"))), ("b", "PurchaseOrderNumber", s(g("PONumber"))),
    ]


def _project_header(store: TimelogStore, project_id: Any) -> list | None:
    p = store._get("Projects", project_id)
    if not p:
        return None
    return [("c", "ID", xi(p["ID"])), ("c", "Name", s(p.get("Name")) or ""), ("c", "No", s(p.get("No"))),
            ("c", "IsActive", xb(int(p.get("Status", 1)) == 1)), ("c", "IsGeneralProject", "false"),
            ("c", "StartDate", xdt(p.get("ProjectStartDate"))), ("c", "EndDate", xdt(p.get("ProjectEndDate")))]


def _line_members(store: TimelogStore, ln: dict) -> list:
    g = ln.get
    return BASE_EXT + [
        ("b", "ID", xi(g("ID"))), ("b", "InvoiceID", xi(g("InvoiceID"))), ("b", "Date", xdt(g("Date"))),
        ("b", "ProductNo", s(g("ProductNo"))), ("b", "Text", s(g("Text"))), ("b", "Quantity", xn(g("Quantity"))),
        ("b", "Rate", xn(g("Rate"))), ("b", "Amount", xn(g("Amount"))), ("b", "Discount", xn(g("Discount"))),
        ("b", "InvoiceLineType", xi(g("InvoiceLineType", 0))), ("b", "VAT", xn(g("VAT"))),
        ("b", "Details", [("b", "ProjectHeader", _project_header(store, g("ProjectID"))), ("b", "Comment", s(g("Comment")))]),
    ]


def _invoice_common(store: TimelogStore, inv: dict, lines: list[dict]) -> dict[str, Any]:
    g = inv.get
    cust = store._get("Customers", g("CustomerID")) or {}
    status = int(g("Status", 0))
    typ = int(g("Type", 1))
    addr = [("c", "Address1", s(g("CustomerAddress1")) or ""), ("c", "Address2", s(g("CustomerAddress2")) or ""),
            ("c", "Address3", s(g("CustomerAddress3")) or ""), ("c", "ZipCode", s(g("CustomerZipCode")) or ""),
            ("c", "City", s(g("CustomerCity")) or ""), ("c", "State", s(g("CustomerState")) or ""),
            ("c", "Country", s(g("CustomerCountry")) or "")]
    cur = next((c for c in store.data.get("Currencies", []) if c.get("CurrencyABB") == g("CurrencyAbb")), {})
    details = [
        ("b", "Status", [("b", "ID", str(status)), ("b", "Name", INVOICE_STATUS_NAMES.get(status, str(status)))]),
        ("b", "Type", [("b", "ID", str(typ)), ("b", "Name", INVOICE_TYPE_NAMES.get(typ, str(typ)))]),
        ("b", "InternalReference", None),
        ("b", "Currency", [("c", "ID", xi(cur.get("CurrencyID"))), ("c", "Abbreviation", s(g("CurrencyAbb")) or ""),
                           ("c", "Rate", xn(g("CurrencyRate", 100))), ("c", "RateDate", xdt(g("InvoiceDate"))),
                           ("c", "DescriptiveName", s(cur.get("DescriptiveName")) or "")]),
        ("b", "CustomerHeader", [("c", "ID", xi(g("CustomerID"))), ("c", "Name", s(g("CustomerName")) or ""),
                                 ("c", "No", s(g("CustomerNo"))), ("c", "GUID", s(cust.get("GUID")))]),
        ("b", "ContactHeader", None),
        ("b", "ProjectHeader", _project_header(store, g("ProjectID"))),
    ]
    return {
        "status": INVOICE_STATUS_NAMES.get(status, str(status)), "type": INVOICE_TYPE_NAMES.get(typ, str(typ)),
        "addr": addr, "details": details, "ean": s(cust.get("EanNo")),
        "lines": Arr("b", "InvoiceLine", [_line_members(store, ln) for ln in lines]),
    }


def invoice_members(store: TimelogStore, inv: dict, lines: list[dict]) -> list:
    g = inv.get
    k = _invoice_common(store, inv, lines)
    return BASE_EXT + [
        ("b", "ID", xi(g("ID"))), ("b", "InvoiceNo", s(g("InvoiceNumber"))), ("b", "Header", s(g("Header"))),
        ("b", "Message", s(g("Text"))), ("b", "InvoiceDate", xdt(g("InvoiceDate"))), ("b", "DueDate", xdt(g("DueDate"))),
        ("b", "Status", k["status"]), ("b", "Type", k["type"]), ("b", "RequisitionNo", s(g("PurchaseNo"))),
        ("b", "InvoicingAddress", k["addr"]), ("b", "CustomerID", xi(g("CustomerID"))), ("b", "ContactID", xi(g("ContactID"))),
        ("b", "CustomerReference", s(g("CustomerReference"))), ("b", "InternalReference", s(g("InternalReference"))),
        ("b", "CalculateVAT", xb(g("AddVAT"))), ("b", "NetAmount", xn(g("NetAmount"))),
        ("b", "VATIncluded", xn(g("VATIncluded"))), ("b", "Rounding", xn(g("Rounding", 0))),
        ("b", "AmountDue", xn(g("Amount"))), ("b", "InvoiceLines", k["lines"]), ("b", "Currency", s(g("CurrencyAbb"))),
        ("b", "EAN", k["ean"]), ("b", "InvoiceCurrencyRate", xn(g("CurrencyRate", 100))), ("b", "GUID", s(g("GUID"))),
        ("b", "InvoicingAttention", s(g("ContactFullName"))), ("b", "InvoicingCustomerName", s(g("CustomerName"))),
        ("b", "CustomerReferenceID", xi(g("CustomerReferenceID"))), ("b", "InvoiceNoExternal", s(g("ExternalInvoiceNo"))),
        ("b", "Details", k["details"]),
    ]


def credit_note_members(store: TimelogStore, inv: dict, lines: list[dict]) -> list:
    g = inv.get
    k = _invoice_common(store, inv, lines)
    related = store._get("Invoices", g("RelatesToInvoiceID")) or {}
    return BASE_EXT + [
        ("b", "ID", xi(g("ID"))), ("b", "CreditNoteNO", s(g("InvoiceNumber"))), ("b", "Header", s(g("Header"))),
        ("b", "Message", s(g("Text"))), ("b", "CreditNoteDate", xdt(g("InvoiceDate"))), ("b", "Status", k["status"]),
        ("b", "Type", k["type"]), ("b", "RequisitionNo", s(g("PurchaseNo"))), ("b", "InvoicingAddress", k["addr"]),
        ("b", "CustomerID", xi(g("CustomerID"))), ("b", "ContactID", xi(g("ContactID"))),
        ("b", "CustomerReference", s(g("CustomerReference"))), ("b", "InternalReference", s(g("InternalReference"))),
        ("b", "CalculateVAT", xb(g("AddVAT"))), ("b", "NetAmount", xn(g("NetAmount"))),
        ("b", "VATIncluded", xn(g("VATIncluded"))), ("b", "Rounding", xn(g("Rounding", 0))),
        ("b", "AmountDue", xn(g("Amount"))), ("b", "InvoiceLines", k["lines"]), ("b", "Currency", s(g("CurrencyAbb"))),
        ("b", "CurrencyRate", xn(g("CurrencyRate", 100))), ("b", "GUID", s(g("GUID"))), ("b", "EAN", k["ean"]),
        ("b", "InvoicingCustomerName", s(g("CustomerName"))), ("b", "CustomerReferenceID", xi(g("CustomerReferenceID"))),
        ("b", "CreditedInvoiceID", xi(g("RelatesToInvoiceID"))), ("b", "RelatesToInvoiceNo", s(related.get("InvoiceNumber"))),
        ("b", "Details", k["details"]),
    ]


# ------------------------------------------------------------------------------------------------ envelopes
class Reply:
    def __init__(self, items: list[list] | None = None, *, item_name: str = "", state: str = "Success",
                 messages: list[tuple[str, str]] | None = None, paged: int | None = None) -> None:
        self.items = items or []
        self.item_name = item_name
        self.state = state
        self.messages = messages or []
        self.paged = paged  # TotalPageCount when the operation is paged


def envelope(body: str) -> str:
    return f'<s:Envelope xmlns:s="{NS_S}"><s:Body>{body}</s:Body></s:Envelope>'


def response_xml(service: dict, op: str, reply: Reply, params: list[tuple[str, str]], *, resp_ns: str = NS_API,
                 item_ns: str = NS_V1, security: bool = False) -> str:
    ret = "".join(f"<b:{reply.item_name}>{render(m)}</b:{reply.item_name}>" for m in reply.items)
    msgs = "".join(f"<a:APIMessage><a:Message>{esc(m)}</a:Message><a:Severity>{sev}</a:Severity>"
                   f"<a:ErrorCode>0</a:ErrorCode></a:APIMessage>" for m, sev in reply.messages)
    req = "".join(f"<a:RequestParameter><a:Name>{esc(n)}</a:Name><a:Value>{esc(v)}</a:Value></a:RequestParameter>"
                  for n, v in params)
    tail = "" if security else (f"<a:IsReturnPaged>{'true' if reply.paged is not None else 'false'}</a:IsReturnPaged>"
                                f"<a:TotalPageCount>{reply.paged or 0}</a:TotalPageCount>")
    result = (f'<{op}Result xmlns:a="{resp_ns}" xmlns:b="{item_ns}" xmlns:c="{NS_V1_1}" xmlns:i="{NS_I}">'
              f"<a:Return>{ret}</a:Return>"
              f"<a:ReturnTypeDescription>{esc(reply.item_name)}[]</a:ReturnTypeDescription>"
              f"<a:Request><a:Parameters>{req}</a:Parameters><a:ServiceClass>{service['name']}</a:ServiceClass>"
              f"<a:MethodName>{op}</a:MethodName></a:Request>"
              f"<a:ResponseState>{reply.state}</a:ResponseState>"
              f"<a:Messages>{msgs}</a:Messages><a:ErrorCode>0</a:ErrorCode>{tail}</{op}Result>")
    return envelope(f'<{op}Response xmlns="{service["ns"]}">{result}</{op}Response>')


def fault(code: str, text: str, status: int = 500) -> Response:
    body = envelope(f'<s:Fault><faultcode xmlns:a="http://schemas.microsoft.com/ws/2005/05/addressing/none">{code}</faultcode>'
                    f'<faultstring xml:lang="en-US">{esc(text)}</faultstring></s:Fault>')
    return Response(body, status_code=status, media_type=XML_CT)


def action_fault(action: str) -> Response:
    return fault("a:ActionNotSupported",
                 f"The message with Action '{action}' cannot be processed at the receiver, due to a ContractFilter mismatch "
                 "at the EndpointDispatcher. This may be because of either a contract mismatch (mismatched Actions between "
                 "sender and receiver) or a binding/security mismatch between the sender and the receiver.  Check that "
                 "sender and receiver have the same contract and the same binding (including security requirements, e.g. "
                 "Message, Transport, None).")


class BadArgument(Exception):
    pass


# ------------------------------------------------------------------------------------------------ service
class TransactionalAPI:
    def __init__(self, store: TimelogStore, counters: Any, site: str) -> None:
        self.store = store
        self.counters = counters
        self.paths = service_paths(site)

    async def handle(self, request: Request, path: str) -> Response:
        key = self.paths[path]
        service = SERVICES[key]
        if request.method == "GET":
            return Response(f"<html><body><h1>{service['name']} Service</h1><p>You have created a service.</p>"
                            "</body></html>", media_type="text/html; charset=utf-8")
        ctype = request.headers.get("content-type", "text/xml")
        if not ctype.lower().startswith("text/xml"):
            self.counters.hit("transactional", None)
            return Response(f"Cannot process the message because the content type '{ctype}' was not the expected type "
                            "'text/xml; charset=utf-8'.", status_code=415, media_type="text/plain; charset=utf-8")
        raw = await request.body()
        action = request.headers.get("soapaction", "").strip().strip('"')
        try:
            root = etree.fromstring(raw, parser=etree.XMLParser(resolve_entities=False, no_network=True))
            body = root.find(f"{{{NS_S}}}Body")
            op_el = body[0] if body is not None and len(body) else None
        except (etree.XMLSyntaxError, TypeError, ValueError):
            op_el = None
        if op_el is None:
            self.counters.hit("transactional", None)
            return fault("s:Client", "The message could not be read: the body is not a SOAP 1.1 envelope.", 400)
        body_op = etree.QName(op_el).localname
        args = {etree.QName(c).localname: c for c in op_el}
        user = self._user_label(key, args)
        self.counters.hit("transactional", user)
        op = None
        if action:
            op = next((o for o, acts in service["ops"].items() if action in acts), None)
            if op is None or op != body_op:
                return action_fault(action)
        else:
            op = body_op if body_op in service["ops"] else None
            if op is None:
                return action_fault(action)
        try:
            xml = await run_in_threadpool(self._dispatch, key, service, op, args)
        except BadArgument as e:
            return fault("a:DeserializationFailed", f"The formatter threw an exception while trying to deserialize the message: {e}")
        return Response(xml, media_type=XML_CT)

    def _user_label(self, key: str, args: dict[str, Any]) -> str | None:
        if key == "security" and "user" in args:
            return f"transactional:{(args['user'].text or '').strip()}"
        tok = args.get("token")
        if tok is not None:
            ini = next((c.text for c in tok if etree.QName(c).localname == "Initials"), None)
            if ini:
                return f"transactional:{ini}"
        return None

    # ---- argument helpers
    @staticmethod
    def _text(args: dict, name: str, default: str = "") -> str:
        el = args.get(name)
        if el is None or el.get(f"{{{NS_I}}}nil") == "true":
            return default
        return (el.text or "").strip()

    def _int(self, args: dict, name: str) -> int:
        v = self._text(args, name, "0")
        try:
            return int(v)
        except ValueError:
            raise BadArgument(f"'{v}' is not a valid value for parameter {name} (Int32)") from None

    def _bool(self, args: dict, name: str) -> bool:
        v = self._text(args, name, "false").lower()
        if v not in ("true", "false", "1", "0"):
            raise BadArgument(f"'{v}' is not a valid value for parameter {name} (Boolean)")
        return v in ("true", "1")

    def _dt(self, args: dict, name: str) -> str:
        v = self._text(args, name, MIN_DT)
        try:
            return norm_dt(v) or MIN_DT
        except ValueError:
            raise BadArgument(f"'{v}' is not a valid value for parameter {name} (DateTime)") from None

    @staticmethod
    def _token(args: dict) -> dict | None:
        tok = args.get("token")
        if tok is None:
            return None
        return {etree.QName(c).localname: (c.text or "").strip() for c in tok}

    def _params(self, args: dict) -> list[tuple[str, str]]:
        out = []
        for n, el in args.items():
            if n in ("token", "password"):
                continue
            out.append((n, (el.text or "").strip() if len(el) == 0 else ""))
        return out

    # ---- dispatch
    def _dispatch(self, key: str, service: dict, op: str, args: dict) -> str:
        params = self._params(args)
        if key == "security":
            return self._security(service, op, args, params)
        item_ns = {"crm": NS_CRM, "pm": NS_V1_8, "invoicing": NS_V1}[key]
        item_name = {"crm": "Customer", "pm": "ProjectApiReadModel"}.get(key, "CreditNote" if "CreditNote" in op else "Invoice")
        problem = self.store.check_token(self._token(args))
        if problem:
            msg = MSG_TOKEN_EXPIRED if problem == "expired" else MSG_TOKEN_INVALID
            reply = Reply(item_name=item_name, state="Error", messages=[(msg, "Error")],
                          paged=0 if "Paged" in op else None)
        else:
            reply = getattr(self, f"op_{op}")(args)
            reply.item_name = reply.item_name or item_name
        return response_xml(service, op, reply, params, item_ns=item_ns)

    def _security(self, service: dict, op: str, args: dict, params: list) -> str:
        if op == "IsAlive":
            return envelope(f'<IsAliveResponse xmlns="{service["ns"]}"><IsAliveResult>true</IsAliveResult></IsAliveResponse>')
        if op == "GetToken":
            user = self.store.login(self._text(args, "user"), self._text(args, "password"))
            if user is None:
                reply = Reply(item_name="SecurityToken", state="Error", messages=[(MSG_LOGIN, "Error")])
            else:
                t = self.store.issue_token(user)
                reply = Reply([[("b", "Initials", t["Initials"]), ("b", "Expires", t["Expires"]), ("b", "Hash", t["Hash"])]],
                              item_name="SecurityToken")
            return response_xml(service, op, reply, params, resp_ns=NS_V1_1, item_ns=NS_V1_2, security=True)
        # GetUser
        tok = self._token(args)
        problem = self.store.check_token(tok)
        if problem:
            msg = MSG_TOKEN_EXPIRED if problem == "expired" else MSG_TOKEN_INVALID
            reply = Reply(item_name="User", state="Error", messages=[(msg, "Error")])
        else:
            u = self.store.user_by_initials((tok or {}).get("Initials", "")) or {}
            reply = Reply([[("b", "ID", xi(u.get("ID", 1))), ("b", "Initials", s(u.get("Initials")) or ""),
                            ("b", "FirstName", s(u.get("FirstName")) or ""), ("b", "LastName", s(u.get("LastName")) or ""),
                            ("b", "LanguageID", "1"), ("b", "Roles", None)]], item_name="User")
        return response_xml(service, op, reply, params, resp_ns=NS_V1_1, item_ns=NS_V1_2, security=True)

    def _page(self, rows: list[dict], args: dict, build: Any) -> Reply:
        page, size = self._int(args, "page"), self._int(args, "pageSize")
        if page < 1 or size < 1:
            return Reply(state="Invalid", messages=[("page and pageSize must be 1 or more", "Invalid")], paged=0)
        rows = sorted(rows, key=lambda r: (self.store.modified_at(r), int(r["ID"])))
        total_pages = (len(rows) + size - 1) // size
        chunk = rows[(page - 1) * size: page * size]
        return Reply([build(r) for r in chunk], paged=total_pages)

    # ---- CRM
    def op_GetCustomersModifiedSincePaged(self, args: dict) -> Reply:
        since = self._dt(args, "date")
        kinds = 0
        if self._bool(args, "includeCustomers"):
            kinds |= 1
        if self._bool(args, "includeSuppliers"):
            kinds |= 2
        if self._bool(args, "includeLeads"):
            kinds |= 8
        st = self.store
        with st.lock:
            statuses = {int(x["ID"]): int(x.get("CustomerStatusType", 1)) for x in st.data["CustomerStatuses"]}
            rows = [c for c in st.data["Customers"] if st.modified_at(c) >= since
                    and statuses.get(int(c.get("CustomerStatusID") or 0), 1) & kinds]
        return self._page(rows, args, lambda c: customer_members(st, c))

    def op_GetCustomerByID(self, args: dict) -> Reply:
        c = self.store.get("Customers", self._int(args, "id"))
        return self._single(c, lambda r: customer_members(self.store, r), "Customer")

    def op_GetCustomerByGUID(self, args: dict) -> Reply:
        c = self.store.find("Customers", "GUID", self._text(args, "guid"))
        return self._single(c, lambda r: customer_members(self.store, r), "Customer")

    def _single(self, rec: dict | None, build: Any, what: str) -> Reply:
        if rec is None:
            return Reply(state="Error", messages=[(f"{what} was not found.", "Error")])
        return Reply([build(rec)])

    # ---- ProjectManagement
    def op_GetProjectsModifiedInPeriodPaged(self, args: dict) -> Reply:
        lo, hi = self._dt(args, "startDate"), self._dt(args, "endDate")
        st = self.store
        rows = [p for p in st.snapshot("Projects") if lo <= st.modified_at(p) <= hi]
        return self._page(rows, args, lambda p: project_members(st, p))

    def op_GetProjectByID(self, args: dict) -> Reply:
        p = self.store.get("Projects", self._int(args, "projectID"))
        return self._single(p, lambda r: project_members(self.store, r), "Project")

    # ---- Invoicing
    def _lines_by_invoice(self, ids: set[int]) -> dict[int, list[dict]]:
        """Invoice ID -> its lines by line ID (from the store's parent index: no scan of all lines per call)."""
        out: dict[int, list[dict]] = {}
        for i in ids:
            out[i] = sorted(self.store.children("InvoiceLines", "InvoiceID", i), key=lambda r: int(r["ID"]))
        return out

    def _invoices_in_period(self, args: dict, typ: int, credit: bool) -> Reply:
        lo, hi = self._dt(args, "startDate"), self._dt(args, "endDate")
        st = self.store
        rows = [r for r in st.snapshot("Invoices") if int(r.get("Type", 1)) == typ and lo <= st.modified_at(r) <= hi]
        reply = self._page(rows, args, lambda r: r)
        if reply.state != "Success":
            return reply
        lines = self._lines_by_invoice({int(r["ID"]) for r in reply.items})  # type: ignore[index]
        build = credit_note_members if credit else invoice_members
        reply.items = [build(st, r, lines[int(r["ID"])]) for r in reply.items]  # type: ignore[index]
        return reply

    def op_GetInvoicesModifiedInPeriodPaged(self, args: dict) -> Reply:
        return self._invoices_in_period(args, 1, credit=False)

    def op_GetCreditNotesModifiedInPeriodPaged(self, args: dict) -> Reply:
        return self._invoices_in_period(args, 2, credit=True)

    def _invoice_reply(self, inv: dict | None, credit: bool, missing: str) -> Reply:
        if inv is None:
            return Reply(state="Error", messages=[(missing, "Error")])
        lines = self._lines_by_invoice({int(inv["ID"])})[int(inv["ID"])]
        build = credit_note_members if credit else invoice_members
        return Reply([build(self.store, inv, lines)])

    def op_GetInvoiceByID(self, args: dict) -> Reply:
        i = self._int(args, "id")
        inv = self.store.get("Invoices", i)
        return self._invoice_reply(inv, False, f"Invoice with ID '{i}' was not found.")

    def op_GetInvoiceByGUID(self, args: dict) -> Reply:
        g = self._text(args, "guid")
        return self._invoice_reply(self.store.find("Invoices", "GUID", g), False, f"Invoice with GUID '{g}' was not found.")

    def op_GetCreditNoteByID(self, args: dict) -> Reply:
        i = self._int(args, "id")
        inv = self.store.get("Invoices", i)
        if inv is not None and int(inv.get("Type", 1)) != 2:
            inv = None
        return self._invoice_reply(inv, True, f"Credit note with ID '{i}' was not found.")

    def op_UpdateExternalData(self, args: dict) -> Reply:
        g = self._text(args, "guid")
        number = self._text(args, "externalInvoiceNumber")
        state_el = args.get("externalInvoiceStatus")
        state_name = ""
        if state_el is not None:
            parts = {etree.QName(c).localname: (c.text or "").strip() for c in state_el}
            state_name = parts.get("Name") or ""
            if not state_name and parts.get("ID", "").lstrip("-").isdigit():
                state_name = INVOICE_STATUS_NAMES.get(int(parts["ID"]), parts["ID"])
        st = self.store
        with st.lock:
            inv = st.find("Invoices", "GUID", g)
            if inv is None:
                return Reply(state="Error", messages=[(f"Invoice with GUID '{g}' was not found.", "Error")])
            inv = st.update("Invoices", inv["ID"], {"ExternalInvoiceNo": number, "ExternalInvoiceStatus": state_name})
        lines = self._lines_by_invoice({int(inv["ID"])})[int(inv["ID"])]
        return Reply([invoice_members(st, inv, lines)], item_name="Invoice")

