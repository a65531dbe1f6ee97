"""Reporting API (``service.asmx``): HTTP GET / form POST ``/{site}/service.asmx/{Method}`` and SOAP 1.1
``POST /{site}/service.asmx`` with ``SOAPAction: "http://www.timelog.com/ws/tlp/v4_4/{Method}"``.

Wire format (facts from ``reference/timelog-api.md``; choices marked *choice*):

- Answer: the method's XML document, ``Content-Type: text/xml; charset=utf-8``, namespace
  ``http://www.timelog.com/XML/Schema/tlp/v4_4`` with prefix ``tlp``; plural root, singular items with an ``ID``
  attribute (plus ``GUID`` where the schema has one), element children with the XSD names in XSD order. Decimals
  have 4 decimals (``39037.5000``), dateTimes ``YYYY-MM-DDTHH:MM:SS``, ``date`` fields ``YYYY-MM-DD``, booleans
  ``1``/``0`` as in the official samples. Optional (``minOccurs=0``) fields without a value are left out;
  required fields without a value are rendered empty (strings) or ``0`` / ``0.0000`` (numbers) — *choice*;
  a required dateTime without a value is left out — *choice*.
- ``GetWorkUnitsRawPaged``: root attributes ``Page PageSize TotalPages TotalRecords`` (official sample);
  ``page`` is 1-based; a page past the end is an empty root with the same attributes.
- ``ValidateCredentials`` answers the ASMX serialisation of a bool:
  ``<boolean xmlns="http://www.timelog.com/ws/tlp/v4_4">true|false</boolean>`` (false, not ``Errors``, for
  wrong credentials — *choice*, it is what the method is for).
- Wrong ``siteCode``/``apiID``/``apiPassword``: HTTP **401** with
  ``<tlp:Errors><tlp:Error>Access denied. Check siteCode, apiID, apiPassword and SSL settings</tlp:Error></tlp:Errors>``
  (root local-name ``Errors`` as observed by a public client; child ``Error`` and the message text as in that
  client's test fixture). The status: TimeLog's own SDK documentation (``TimeLog/TimeLogApiSdk``) says the
  Reporting API answers 401 for bad credentials and 500 for bad input since 2021 (before: 200 with ``Errors``).
- Bad filter *values* (an unparseable string date, an unknown status value, ``page``/``pageSize`` not a
  positive number, ``startDate`` after ``endDate``): HTTP **500** with the same ``Errors`` root and one ``Error``
  naming the parameter (status: the SDK docs above; body — *choice*). The SOAP binding keeps answering these
  inside a 200 envelope — *choice*, the SDK docs speak of the HTTP API.
- An empty result is the plural root without items and with ``resultEmpty="true"`` (SDK docs; placed on the
  root — *choice*).
- ASMX protocol errors (not the method's own errors), as ASP.NET answers them, HTTP 500 ``text/plain``:
  unknown method ``System.InvalidOperationException: {Method} Web Service method name is not valid.``;
  a missing parameter ``System.InvalidOperationException: Missing parameter: {name}.``; a value that does not
  convert to the parameter's .NET type (``int``, ``DateTime``) ``System.ArgumentException: Cannot convert {v} to
  System.Int32.``. Parameter names are matched case-insensitively, extra parameters are ignored.
- SOAP: missing parameters take the .NET default (0 / empty), an unknown ``SOAPAction`` is a SOAP fault
  ``Server did not recognize the value of HTTP Header SOAPAction: ...`` (HTTP 500).

Filters (*choices* where the reference is silent):

- ID filters (``customerID``, ``projectID`` ...): ``0`` and negative values (``-1``) mean all.
- Status filters: negative values (``-1``, ``-2``; ``ProjectStatus.All`` is -2, ``CustomerStatus.All`` and
  ``TaskStatus.All`` are -1) mean all; ``GetProjectsRaw``/``GetTasksRaw``/``GetLegalEntitiesRaw``/
  ``GetHourlyRatesRaw``/``GetEmployeesRaw`` accept 0 (inactive) and 1 (active); ``GetInvoicesRaw`` accepts the
  invoice status 0..3 (Draft, Booked, Overdue, Paid). ``customerStatusID`` is a status ID (0 also means all).
  ``GetMileageRaw.selfPayment``: -1 all, 0 no, 1 yes.
- Date ranges are inclusive; a date without a time as ``endDate`` covers that whole day; an empty string means
  unbounded. Invoices filter on ``InvoiceDate``; invoice lines and line details on their invoice's
  ``InvoiceDate`` (so lines fetched with the invoices' range are complete); expenses on ``Date``; mileage on
  ``TravelStartDate``; work units on ``Date``.
- Rows come in ID order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lxml import etree
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from .schemas import INT_TYPES, NS_TLP, NS_WS, SCHEMAS, Schema
from .store import Q4, D, TimelogStore, norm_dt, truthy

NS_SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
XML_CT = "text/xml; charset=utf-8"
ACCESS_DENIED = "Access denied. Check siteCode, apiID, apiPassword and SSL settings"


class FilterError(Exception):
    """A bad filter value: answered as an ``Errors`` root."""


class AsmxError(Exception):
    """An ASMX protocol error: answered as HTTP 500 text/plain (or a SOAP fault)."""


# ------------------------------------------------------------------------------------------------ formatting
def esc(s: str) -> str:
    if "&" in s:
        s = s.replace("&", "&amp;")
    if "<" in s:
        s = s.replace("<", "&lt;")
    if ">" in s:
        s = s.replace(">", "&gt;")
    return s


def esc_attr(s: str) -> str:
    s = esc(s)
    return s.replace('"', "&quot;") if '"' in s else s


def dec4(v: Any) -> str:
    if isinstance(v, Decimal):
        d = v
    else:
        d = D(v)
    return format(d.quantize(Q4), "f")


def fmt(typ: str, v: Any) -> str:
    if typ == "decimal":
        return dec4(v)
    if typ == "boolean":
        return "1" if truthy(v) else "0"
    if typ == "dateTime":
        return norm_dt(v) or ""
    if typ == "date":
        return str(v)[:10]
    if typ in INT_TYPES:
        if isinstance(v, bool):
            return "1" if v else "0"
        if v == "":
            return ""
        try:
            return str(int(v))
        except (TypeError, ValueError):
            return esc(str(v))
    if typ == "float":
        return str(v)
    if isinstance(v, bool):
        return "1" if v else "0"
    return esc(str(v))


_MISSING_DEFAULT = {"decimal": "0.0000", "boolean": "0", "string": "", "float": "0"}


_DEC_CACHE: dict[Any, str] = {}


def _f_dec(v: Any) -> str:
    """4-decimal text; memoised (amounts repeat a lot; equal Decimals such as 2.5 and 2.50 format alike)."""
    try:
        return _DEC_CACHE[v]
    except (KeyError, TypeError):
        pass
    out = format((v if type(v) is Decimal else D(v)).quantize(Q4), "f")
    if len(_DEC_CACHE) < 200_000 and type(v) is not bool:
        try:
            _DEC_CACHE[v] = out
        except TypeError:
            pass
    return out


def _f_bool(v: Any) -> str:
    return "1" if truthy(v) else "0"


def _f_dt(v: Any) -> str:
    if type(v) is str and len(v) == 19:
        return v
    return norm_dt(v) or ""


def _f_str(v: Any) -> str:
    if type(v) is str:
        return esc(v) if ("&" in v or "<" in v or ">" in v) else v
    return fmt("string", v)


def _formatter(typ: str) -> Callable[[Any], str]:
    if typ == "decimal":
        return _f_dec
    if typ == "boolean":
        return _f_bool
    if typ == "dateTime":
        return _f_dt
    if typ == "string":
        return _f_str
    return lambda v: fmt(typ, v)


_COMPILED: dict[str, tuple[list, list, str, str]] = {}


def _compiled(schema: Schema) -> tuple[list, list, str, str]:
    """Per schema: attribute specs, element specs (name, formatter, optional, default, open, close), tags."""
    c = _COMPILED.get(schema.method)
    if c is None:
        attrs = [(f.name, _formatter(f.type)) for f in schema.attrs]
        elems = []
        for f in schema.elements:
            default = "0" if f.type in INT_TYPES else _MISSING_DEFAULT.get(f.type)
            elems.append((f.name, _formatter(f.type), f.optional, default,
                          f"\n    <tlp:{f.name}>", f"</tlp:{f.name}>"))
        c = (attrs, elems, f"\n  <tlp:{schema.item}", f"\n  </tlp:{schema.item}>")
        _COMPILED[schema.method] = c
    return c


def render_item(schema: Schema, rec: dict) -> str:
    attrs, elems, open_tag, close_tag = _compiled(schema)
    parts = [open_tag]
    get = rec.get
    for name, f in attrs:
        v = get(name)
        if v is None or v == "":
            continue
        parts.append(f' {name}="{esc_attr(f(v))}"')
    parts.append(">")
    for name, f, optional, default, o, cl in elems:
        v = get(name)
        if v is None:
            if optional or default is None:
                continue
            parts.append(o + default + cl)
        else:
            parts.append(o + f(v) + cl)
    parts.append(close_tag)
    return "".join(parts)


FRAG_CACHE_CHARS = 100_000_000
"""At most this many characters of rendered items are kept (issue 18, item 3): a first night renders every record
once, and caching all of them held the whole site again as XML text (at L gigabytes). The site-wide lists a
night reads first and re-reads each night fit; past the budget items are rendered on demand, to the same text."""
STREAM_ROWS = 20_000
"""An HTTP answer with at least this many items is sent as it is rendered (chunked), not built whole first: a
five-year list of invoice lines is one document of hundreds of megabytes, and building it whole held it three
times over (items, the joined text, its encoding). The bytes are the same; only ``Content-Length`` gives way to
chunked transfer."""
CHUNK_ITEMS = 1_000


def render_parts(schema: Schema, rows: list[dict], store: TimelogStore | None = None,
                 root_attrs: dict[str, Any] | None = None, declaration: bool = True) -> Iterator[str]:
    """The document of ``rows`` in pieces (``CHUNK_ITEMS`` items a piece); joined they are :func:`render_doc`."""
    xsd = schema.method[3:] if schema.method.startswith("Get") else schema.method
    root_attrs = dict(root_attrs or {})
    if not rows:
        root_attrs.setdefault("resultEmpty", "true")  # TimeLogApiSdk docs: an empty result says so on its root
    attrs = "".join(f' {k}="{v}"' for k, v in root_attrs.items())
    decl = '<?xml version="1.0" encoding="utf-8"?>\n' if declaration else ""
    yield (f'{decl}<tlp:{schema.root} xmlns:tlp="{NS_TLP}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
           f'xsi:schemaLocation="{NS_TLP} http://www.timelog.com/api/xsd/{xsd}.xsd"{attrs}>')
    # Fragment cache: records are replaced (never mutated) on change, so an entry is valid while it belongs to the
    # very record object being rendered; a render of an older snapshot can never serve a stale fragment later.
    cache: dict | None = None
    if store is not None:
        cache = store.frag.setdefault(schema.method, {})
    for start in range(0, len(rows), CHUNK_ITEMS):
        body: list[str] = []
        for r in rows[start:start + CHUNK_ITEMS]:
            rid = r.get("ID")
            hit = cache.get(rid) if cache is not None else None
            if hit is not None and hit[0] is r:
                frag = hit[1]
            else:
                frag = render_item(schema, r)
                if cache is not None and rid is not None and store is not None \
                        and store.frag_chars < FRAG_CACHE_CHARS:
                    cache[rid] = (r, frag)
                    store.frag_chars += len(frag) - (len(hit[1]) if hit is not None else 0)
            body.append(frag)
        yield "".join(body)
    yield f"\n</tlp:{schema.root}>"


def render_doc(schema: Schema, rows: list[dict], store: TimelogStore | None = None,
               root_attrs: dict[str, Any] | None = None, declaration: bool = True) -> str:
    return "".join(render_parts(schema, rows, store, root_attrs, declaration))


def errors_doc(messages: list[str], declaration: bool = True) -> str:
    decl = '<?xml version="1.0" encoding="utf-8"?>\n' if declaration else ""
    items = "".join(f"\n  <tlp:Error>{esc(m)}</tlp:Error>" for m in messages)
    return f'{decl}<tlp:Errors xmlns:tlp="{NS_TLP}">{items}\n</tlp:Errors>'


# ------------------------------------------------------------------------------------------------ filters
def _int(v: Any, default: int = 0) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return default


def id_ok(rec_val: Any, want: int) -> bool:
    return want <= 0 or _int(rec_val, -10**9) == want


def status_filter(name: str, value: int, allowed: set[int]) -> int | None:
    if value < 0:
        return None
    if value not in allowed:
        raise FilterError(f"Invalid value '{value}' for parameter {name}")
    return value


def date_bounds(start: str, end: str, sname: str = "startDate", ename: str = "endDate") -> tuple[str | None, str | None]:
    lo = hi = None
    if start and start.strip():
        try:
            lo = norm_dt(start.strip())
        except ValueError:
            raise FilterError(f"Invalid date '{start}' for parameter {sname} (use yyyy-MM-dd)") from None
    if end and end.strip():
        e = end.strip()
        try:
            hi = norm_dt(e)
        except ValueError:
            raise FilterError(f"Invalid date '{end}' for parameter {ename} (use yyyy-MM-dd)") from None
        if len(e) == 10 and hi:
            hi = hi[:10] + "T23:59:59"
    if lo and hi and lo > hi:
        raise FilterError(f"{sname} must not be after {ename}")
    return lo, hi


def in_range(v: str | None, lo: str | None, hi: str | None) -> bool:
    if lo is None and hi is None:
        return True
    if not v:
        return False
    return (lo is None or v >= lo) and (hi is None or v <= hi)


# ------------------------------------------------------------------------------------------------ methods
@dataclass(frozen=True)
class Method:
    name: str
    params: tuple[tuple[str, str], ...]  # (name, "int" | "str" | "datetime")
    run: Callable[[TimelogStore, dict[str, Any]], tuple[list[dict], dict[str, Any] | None]] | None
    schema: Schema | None


def _sorted(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: _int(r.get("ID")))


def m_legal_entities(s: TimelogStore, p: dict) -> tuple[list[dict], None]:
    st = status_filter("status", p["status"], {0, 1})
    rows = [r for r in s.snapshot("LegalEntities") if st is None or int(truthy(r.get("IsActive"))) == st]
    return _sorted(rows), None


def m_customers(s: TimelogStore, p: dict) -> tuple[list[dict], None]:
    cid, st, am = p["customerID"], p["customerStatusID"], p["accountManagerID"]
    rows = [r for r in s.snapshot("Customers")
            if id_ok(r.get("ID"), cid) and id_ok(r.get("CustomerStatusID"), st) and id_ok(r.get("AccountManagerID"), am)]
    return _sorted(rows), None


def m_customers_short(s: TimelogStore, p: dict) -> tuple[list[dict], None]:
    return m_customers(s, {"customerID": 0, **p})


def m_customer_statuses(s: TimelogStore, p: dict) -> tuple[list[dict], None]:
    return _sorted(s.snapshot("CustomerStatuses")), None


def m_contacts(s: TimelogStore, p: dict) -> tuple[list[dict], None]:
    rows = [r for r in s.snapshot("Contacts") if id_ok(r.get("CustomerID"), p["customerID"]) and id_ok(r.get("ID"), p["contactID"])]
    return _sorted(rows), None


def m_employees(s: TimelogStore, p: dict) -> tuple[list[dict], None]:
    st = status_filter("status", p["status"], {0, 1})
    ini = (p.get("initials") or "").strip().upper()
    rows = [r for r in s.snapshot("Employees")
            if id_ok(r.get("ID"), p["employeeID"]) and id_ok(r.get("DepartmentNameID"), p["departmentID"])
            and (not ini or str(r.get("Initials", "")).upper() == ini)
            and (st is None or _int(r.get("Status"), 1) == st)]
    return _sorted(rows), None


def m_projects(s: TimelogStore, p: dict) -> tuple[list[dict], None]:
    st = status_filter("status", p["status"], {0, 1})
    rows = [r for r in s.snapshot("Projects")
            if id_ok(r.get("ID"), p.get("projectID", 0)) and id_ok(r.get("CustomerID"), p["customerID"])
            and id_ok(r.get("PMID"), p["projectManagerID"]) and (st is None or _int(r.get("Status"), 1) == st)]
    return _sorted(rows), None


def _simple(coll: str) -> Callable[[TimelogStore, dict], tuple[list[dict], None]]:
    def run(s: TimelogStore, p: dict) -> tuple[list[dict], None]:
        return _sorted(s.snapshot(coll)), None
    return run


def m_tasks(s: TimelogStore, p: dict) -> tuple[list[dict], None]:
    st = status_filter("status", p["status"], {0, 1})
    rows = [r for r in s.snapshot("Tasks")
            if id_ok(r.get("ID"), p["taskID"]) and id_ok(r.get("ProjectID"), p["projectID"])
            and id_ok(r.get("TaskTypeID"), p["taskTypeID"]) and (st is None or _int(r.get("Status"), 1) == st)]
    return _sorted(rows), None


def m_hourly_rates(s: TimelogStore, p: dict) -> tuple[list[dict], None]:
    st = status_filter("Status", p["Status"], {0, 1})
    rows = [r for r in s.snapshot("HourlyRates")
            if id_ok(r.get("CustomerID"), p["CustomerID"]) and (st is None or int(truthy(r.get("IsActive"))) == st)]
    return _sorted(rows), None


def m_invoices(s: TimelogStore, p: dict) -> tuple[list[dict], None]:
    st = status_filter("status", p["status"], {0, 1, 2, 3})
    lo, hi = date_bounds(p["startDate"], p["endDate"])
    rows = [r for r in s.snapshot("Invoices")
            if id_ok(r.get("ID"), p["invoiceID"]) and id_ok(r.get("CustomerID"), p["customerID"])
            and (st is None or _int(r.get("Status"), -1) == st) and in_range(r.get("InvoiceDate"), lo, hi)]
    return _sorted(rows), None


def _lines(coll: str, id_param: str) -> Callable[[TimelogStore, dict], tuple[list[dict], None]]:
    def run(s: TimelogStore, p: dict) -> tuple[list[dict], None]:
        lo, hi = date_bounds(p["startDate"], p["endDate"])
        invoices = s.by_id["Invoices"]
        want_cust, want_proj, want_inv, want_id = p["customerID"], p["projectID"], p["invoiceID"], p[id_param]
        out = []
        for r in s.snapshot(coll):
            if not id_ok(r.get("ID"), want_id) or not id_ok(r.get("InvoiceID"), want_inv):
                continue
            if not id_ok(r.get("ProjectID"), want_proj):
                continue
            inv = invoices.get(_int(r.get("InvoiceID")))
            if want_cust > 0 and (inv is None or _int(inv.get("CustomerID")) != want_cust):
                continue
            if (lo or hi) and not in_range((inv or {}).get("InvoiceDate") or norm_dt(r.get("Date") or r.get("RegistrationDate")), lo, hi):
                continue
            out.append(r)
        return _sorted(out), None
    return run


def m_expenses(s: TimelogStore, p: dict) -> tuple[list[dict], None]:
    lo, hi = p["startDate"], p["endDate"]
    if lo and hi and lo > hi:
        raise FilterError("startDate must not be after endDate")
    rows = [r for r in s.snapshot("Expenses")
            if id_ok(r.get("CustomerID"), p["customerID"]) and id_ok(r.get("ProjectID"), p["projectID"])
            and id_ok(r.get("SupplierCustomerID"), p["supplierCustomerID"]) and id_ok(r.get("EmployeeID"), p["employeeID"])
            and id_ok(r.get("EmployeeDepartmentID"), p["employeeDepartmentID"])
            and id_ok(r.get("ExpenseTypeID"), p["expenseTypeID"]) and id_ok(r.get("PaymentMethodID"), p["paymentMethodID"])
            and in_range(r.get("Date"), lo, hi)]
    return _sorted(rows), None


def m_mileage(s: TimelogStore, p: dict) -> tuple[list[dict], None]:
    lo, hi = date_bounds(p["startDate"], p["endDate"])
    sp = status_filter("selfPayment", p["selfPayment"], {0, 1})
    rows = [r for r in s.snapshot("Mileages")
            if id_ok(r.get("CustomerID"), p["customerID"]) and id_ok(r.get("ProjectID"), p["projectID"])
            and id_ok(r.get("EmployeeID"), p["employeeID"]) and id_ok(r.get("DepartmentID"), p["departmentID"])
            and id_ok(r.get("TravelCarID"), p["travelCarID"]) and id_ok(r.get("TransportRateID"), p["transportRateID"])
            and (sp is None or int(truthy(r.get("TravelSelfPayment"))) == sp)
            and in_range(r.get("TravelStartDate"), lo, hi)]
    return _sorted(rows), None


def _work_units(s: TimelogStore, p: dict) -> list[dict]:
    lo, hi = date_bounds(p["startDate"], p["endDate"])
    return _sorted([r for r in s.snapshot("WorkUnits")
                    if id_ok(r.get("ID"), p["workUnitID"]) and id_ok(r.get("EmployeeID"), p["employeeID"])
                    and id_ok(r.get("AllocationID"), p["allocationID"]) and id_ok(r.get("TaskID"), p["taskID"])
                    and id_ok(r.get("ProjectID"), p["projectID"]) and id_ok(r.get("DepartmentID"), p["departmentID"])
                    and in_range(r.get("Date"), lo, hi)])


def m_work_units(s: TimelogStore, p: dict) -> tuple[list[dict], None]:
    return _work_units(s, p), None


def m_work_units_paged(s: TimelogStore, p: dict) -> tuple[list[dict], dict[str, Any]]:
    try:
        page, size = int(str(p["page"]).strip()), int(str(p["pageSize"]).strip())
    except ValueError:
        raise FilterError("page and pageSize must be whole numbers") from None
    if page < 1 or size < 1:
        raise FilterError("page and pageSize must be 1 or more")
    rows = _work_units(s, p)
    total = len(rows)
    pages = (total + size - 1) // size
    return rows[(page - 1) * size: page * size], {"Page": page, "PageSize": size, "TotalPages": pages, "TotalRecords": total}


_WU_PARAMS = (("workUnitID", "int"), ("employeeID", "int"), ("allocationID", "int"), ("taskID", "int"),
              ("projectID", "int"), ("departmentID", "int"), ("startDate", "str"), ("endDate", "str"))


def _m(name: str, params: tuple[tuple[str, str], ...], run: Any, schema: str | None = None) -> Method:
    return Method(name, params, run, SCHEMAS[schema or name] if (schema or name) in SCHEMAS else None)


METHODS: dict[str, Method] = {m.name: m for m in (
    Method("ValidateCredentials", (), None, None),
    _m("GetLegalEntitiesRaw", (("status", "int"),), m_legal_entities),
    _m("GetCustomersRaw", (("customerID", "int"), ("customerStatusID", "int"), ("accountManagerID", "int")), m_customers),
    _m("GetCustomersShortList", (("customerStatusID", "int"), ("accountManagerID", "int")), m_customers_short),
    _m("GetCustomerStatusShortList", (), m_customer_statuses),
    _m("GetContactsRaw", (("customerID", "int"), ("contactID", "int")), m_contacts),
    _m("GetEmployeesRaw", (("employeeID", "int"), ("initials", "str"), ("departmentID", "int"), ("status", "int")), m_employees),
    _m("GetProjectsRaw", (("projectID", "int"), ("status", "int"), ("customerID", "int"), ("projectManagerID", "int")), m_projects),
    _m("GetProjectsShortList", (("status", "int"), ("customerID", "int"), ("projectManagerID", "int")), m_projects),
    _m("GetProjectTypesShortList", (), _simple("ProjectTypes")),
    _m("GetProjectCategoriesShortList", (), _simple("ProjectCategories")),
    _m("GetTasksRaw", (("taskID", "int"), ("projectID", "int"), ("status", "int"), ("taskTypeID", "int")), m_tasks),
    _m("GetTaskTypesShortList", (), _simple("TaskTypes")),
    _m("GetHourlyRatesRaw", (("CustomerID", "int"), ("Status", "int")), m_hourly_rates),
    _m("GetInvoicesRaw", (("invoiceID", "int"), ("customerID", "int"), ("status", "int"), ("startDate", "str"),
                          ("endDate", "str")), m_invoices),
    _m("GetInvoiceLinesRaw", (("invoiceLineID", "int"), ("customerID", "int"), ("projectID", "int"), ("invoiceID", "int"),
                              ("startDate", "str"), ("endDate", "str")), _lines("InvoiceLines", "invoiceLineID")),
    _m("GetInvoiceLineDetailsRaw", (("invoiceLineDetailID", "int"), ("customerID", "int"), ("projectID", "int"),
                                    ("invoiceID", "int"), ("startDate", "str"), ("endDate", "str")),
       _lines("InvoiceLineDetails", "invoiceLineDetailID")),
    _m("GetExpensesRaw", (("customerID", "int"), ("projectID", "int"), ("supplierCustomerID", "int"), ("employeeID", "int"),
                          ("employeeDepartmentID", "int"), ("expenseTypeID", "int"), ("paymentMethodID", "int"),
                          ("startDate", "datetime"), ("endDate", "datetime")), m_expenses),
    _m("GetMileageRaw", (("customerID", "int"), ("projectID", "int"), ("employeeID", "int"), ("departmentID", "int"),
                         ("startDate", "str"), ("endDate", "str"), ("selfPayment", "int"), ("travelCarID", "int"),
                         ("transportRateID", "int")), m_mileage),
    _m("GetWorkUnitsRaw", _WU_PARAMS, m_work_units),
    _m("GetWorkUnitsRawPaged", _WU_PARAMS + (("page", "str"), ("pageSize", "str")), m_work_units_paged),
)}

CRED_PARAMS = ("siteCode", "apiID", "apiPassword")


def convert(name: str, kind: str, raw: str | None, soap: bool) -> Any:
    if raw is None:
        if not soap:
            raise AsmxError(f"System.InvalidOperationException: Missing parameter: {name}.\r\n"
                            "   at System.Web.Services.Protocols.ValueCollectionParameterReader.Read(NameValueCollection collection)")
        return {"int": 0, "str": "", "datetime": None}[kind]
    if kind == "int":
        try:
            return int(raw.strip())
        except ValueError:
            raise AsmxError(f"System.ArgumentException: Cannot convert {raw} to System.Int32.\r\n"
                            "Parameter name: type ---> System.FormatException: Input string was not in a correct format.") from None
    if kind == "datetime":
        try:
            return norm_dt(raw.strip())
        except ValueError:
            raise AsmxError(f"System.ArgumentException: Cannot convert {raw} to System.DateTime.\r\n"
                            "Parameter name: type ---> System.FormatException: String was not recognized as a valid DateTime.") from None
    return raw


class ReportingAPI:
    def __init__(self, store: TimelogStore, counters: Any) -> None:
        self.store = store
        self.counters = counters

    # -------------------------------------------------------------------------------- core
    def execute(self, method: Method, params: dict[str, str], soap: bool) -> tuple[str, bool]:
        """Run ``method``; returns (xml without declaration, is_bool_result). Raises AsmxError."""
        body, is_bool, _ = self.execute_status(method, params, soap)
        return body, is_bool

    def execute_status(self, method: Method, params: dict[str, str], soap: bool,
                       stream: bool = False) -> tuple[Any, bool, int]:
        """Like :meth:`execute`, with the HTTP status of the answer (401 bad credentials, 500 bad input); with
        ``stream`` a document of ``STREAM_ROWS`` items or more comes as an iterator of its pieces."""
        values = {n: convert(n, "str", params.get(n.lower()), soap) for n in CRED_PARAMS}
        args = {n: convert(n, k, params.get(n.lower()), soap) for n, k in method.params}
        ok = self.store.reporting_ok(values["siteCode"], values["apiID"], values["apiPassword"])
        if method.name == "ValidateCredentials":
            return ("true" if ok else "false"), True, 200
        if not ok:
            return errors_doc([ACCESS_DENIED], declaration=False), False, 401
        try:
            rows, root_attrs = method.run(self.store, args)  # type: ignore[misc]
        except FilterError as e:
            return errors_doc([str(e)], declaration=False), False, 500
        assert method.schema is not None
        if stream and len(rows) >= STREAM_ROWS:
            return render_parts(method.schema, rows, self.store, root_attrs, declaration=True), False, 200
        return render_doc(method.schema, rows, self.store, root_attrs, declaration=False), False, 200

    def _count(self, params: dict[str, str]) -> None:
        user = params.get("apiid")
        self.counters.hit("reporting", f"reporting:{user}" if user else None)

    # -------------------------------------------------------------------------------- HTTP GET / POST
    async def http(self, request: Request, method_name: str) -> Response:
        params: dict[str, str] = {k.lower(): v for k, v in request.query_params.items()}
        if request.method == "POST":
            ctype = request.headers.get("content-type", "")
            if "x-www-form-urlencoded" in ctype or "multipart/form-data" in ctype:
                form = await request.form()
                params.update({k.lower(): str(v) for k, v in form.items()})
        self._count(params)
        method = METHODS.get(method_name)
        if method is None:
            return Response(f"System.InvalidOperationException: {method_name} Web Service method name is not valid.\r\n"
                            "   at System.Web.Services.Protocols.HttpServerProtocol.Initialize()\r\n"
                            "   at System.Web.Services.Protocols.ServerProtocolFactory.Create(Type type, HttpContext context, "
                            "HttpRequest request, HttpResponse response, Boolean& abortProcessing)",
                            status_code=500, media_type="text/plain; charset=utf-8")
        try:
            body, is_bool, status = await run_in_threadpool(self.execute_status, method, params, False, True)
        except AsmxError as e:
            return Response(str(e), status_code=500, media_type="text/plain; charset=utf-8")
        if not isinstance(body, str):
            return StreamingResponse((part.encode() for part in body), status_code=status, media_type=XML_CT)
        if is_bool:
            body = f'<boolean xmlns="{NS_WS}">{body}</boolean>'
        return Response('<?xml version="1.0" encoding="utf-8"?>\n' + body, status_code=status, media_type=XML_CT)

    # -------------------------------------------------------------------------------- SOAP 1.1
    async def soap(self, request: Request) -> Response:
        raw = await request.body()
        action = request.headers.get("soapaction", "").strip().strip('"')
        try:
            root = etree.fromstring(raw, parser=etree.XMLParser(resolve_entities=False, no_network=True))
            body = root.find(f"{{{NS_SOAP}}}Body")
            op = body[0] if body is not None and len(body) else None
        except (etree.XMLSyntaxError, TypeError, ValueError):
            op = None
        if op is None:
            self.counters.hit("reporting", None)
            return soap_fault("soap:Client", "Server was unable to read request. ---> There is an error in XML document (1, 1).")
        params = {etree.QName(c).localname.lower(): (c.text or "") for c in op}
        self._count(params)
        name = etree.QName(op).localname
        if action and action.rsplit("/", 1)[-1] != name:
            return soap_fault("soap:Client", f"Server did not recognize the value of HTTP Header SOAPAction: {action}.")
        method = METHODS.get(name)
        if method is None:
            return soap_fault("soap:Client", f"Server did not recognize the value of HTTP Header SOAPAction: {action or name}.")
        try:
            result, is_bool = await run_in_threadpool(self.execute, method, params, True)
        except AsmxError as e:
            return soap_fault("soap:Server", f"Server was unable to process request. ---> {e}")
        env = (f'<?xml version="1.0" encoding="utf-8"?>\n<soap:Envelope xmlns:soap="{NS_SOAP}" '
               f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
               f'<soap:Body><{name}Response xmlns="{NS_WS}"><{name}Result>{result}</{name}Result>'
               f'</{name}Response></soap:Body></soap:Envelope>')
        return Response(env, media_type=XML_CT)

    def help_page(self) -> Response:
        items = "".join(f"<li><a href=\"service.asmx?op={m}\">{m}</a></li>" for m in METHODS)
        return Response(f"<html><body><h1>Service</h1><ul>{items}</ul></body></html>", media_type="text/html; charset=utf-8")


def soap_fault(code: str, message: str, status: int = 500) -> Response:
    env = (f'<?xml version="1.0" encoding="utf-8"?>\n<soap:Envelope xmlns:soap="{NS_SOAP}" '
           f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
           f'<soap:Body><soap:Fault><faultcode>{code}</faultcode><faultstring>{esc(message)}</faultstring>'
           f'<detail /></soap:Fault></soap:Body></soap:Envelope>')
    return Response(env, status_code=status, media_type=XML_CT)

