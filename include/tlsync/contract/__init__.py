"""The contract probe: what the real TimeLog and Uniconta answer, recorded without their data (issue 13).

The simulators are the only TimeLog and Uniconta the project was built against; several things the pipeline
depends on are not published (the row-id field, the company listing, InsertList's failure semantics…). Before
going live an operator runs, with the real Airflow Connections::

    tlsync contract probe --out contract.json          # read-only, ≤ 50 calls per system
    tlsync contract diff contract.json                 # the same probes against the simulators: every difference

**What is probed** (:func:`probe_uniconta`, :func:`probe_timelog`): every class/method/resource the product uses —
status code, content type, field names with their JSON/XML types, the longest string per field, samples of the
enum fields (``Country``, ``VatZone``, ``DCType`` … never names, numbers or amounts), the server's page size and
the form of ``@odata.nextLink``, whether rows carry ``RowId`` or ``PrimaryKeyId`` and whether each filters and
orders, the company listing's path and fields, error shapes (wrong password, unknown class, bad filter field, a
company the user cannot see; TimeLog's bad credentials and bad input) and each call's latency (throttling shows
there). Every value is **redacted** to its type and length, messages to their shape (digits → ``9``, quoted text
→ ``'…'``); the snapshot is safe to attach to a support ticket. Call counts per system are in the snapshot.

**The diff** compares two snapshots path by path and prints one line per difference (a field renamed, another
type, another status code). Latency, lengths, samples and call counts are informational: shown by ``probe``,
never a difference. A snapshot of the simulators is committed (``tests/contract/simulators.json``); a test fails
when the simulators drift from it.

The optional ``--write-probe`` (insert two rows, one bad, into a test company and delete them, to learn
InsertList's partial-failure semantics) is :mod:`tlsync.contract.write_probe`; its result goes into the snapshot
under ``uniconta."write probe"``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any

import httpx
from lxml import etree

SNAPSHOT_VERSION = 1
INFORMATIONAL = frozenset({"latency_ms", "max_len", "samples", "calls", "probed_at", "rows"})
"""Snapshot keys shown but never reported as a difference."""

ENUM_FIELDS = frozenset({"Country", "Currency", "VatZone", "ItemType", "CatType", "AccountType", "DCType",
                         "Status", "Type", "CurrencyISO", "IsActive"})
"""Fields whose values are codes, not data: a few samples are kept."""

UNICONTA_CLASSES = ("DebtorClient", "DebtorGroupClient", "PaymentTermClient", "DebtorLayoutGroupClient",
                    "ContactClient", "EmployeeClient", "InvItemClient", "ProjectGroupClient", "ProjectClient",
                    "PrCategoryClient", "DebtorOrderClient", "DebtorOrderLineClient", "DebtorInvoiceClient",
                    "DebtorInvoiceLines", "GLAccountClient", "GLTransClient", "GLVatClient", "CreditorClient")
"""Every Uniconta class the product reads or writes (``tlsync.clients.uniconta.models``)."""

REST_RESOURCES = ("customer", "product", "ProjectType", "ProjectCategory", "TaskType", "hourly-rate",
                  "expense-type/-1", "legal-entity", "payment-term", "currency/-1")


# ------------------------------------------------------------------------------------------------ redaction
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_DIGITS = re.compile(r"\d+")


def shape(message: str, limit: int = 120) -> str:
    """A message's shape: quoted text → ``'…'``, digits → ``9`` (no names, numbers or ids survive)."""
    return _DIGITS.sub("9", _QUOTED.sub("'…'", " ".join(str(message).split())))[:limit]


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}(T[\d:.]+Z?)?", value):
            return "date-string"
        return "str"
    if isinstance(value, list):
        return "array"
    return "object"


def describe_rows(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Field → type(s) over the rows, the longest string per field, a few samples of the enum fields."""
    types: dict[str, set[str]] = {}
    lengths: dict[str, int] = {}
    samples: dict[str, set[str]] = {}
    for row in rows:
        for k, v in row.items():
            t = json_type(v)
            if t != "null":
                types.setdefault(k, set()).add(t)
            else:
                types.setdefault(k, set())
            if isinstance(v, str):
                lengths[k] = max(lengths.get(k, 0), len(v))
            if k in ENUM_FIELDS and isinstance(v, (str, int)) and not isinstance(v, bool):
                samples.setdefault(k, set()).add(str(v)[:20])
    return {"fields": {k: "|".join(sorted(v)) or "null" for k, v in sorted(types.items())},
            "max_len": dict(sorted(lengths.items())),
            "samples": {k: sorted(v)[:5] for k, v in sorted(samples.items())},
            "rows": len(rows)}


# ------------------------------------------------------------------------------------------------ recording
class Recorder:
    """Sends the probes' requests, counts them, times them, and never lets an exception stop the probe."""

    def __init__(self, client: httpx.Client, limit: int = 50) -> None:
        self.client = client
        self.limit = limit
        self.calls = 0

    def send(self, method: str, url: str, **kw: Any) -> tuple[httpx.Response | None, dict[str, Any]]:
        if self.calls >= self.limit:
            return None, {"skipped": "probe call limit reached"}
        self.calls += 1
        started = time.monotonic()
        try:
            resp = self.client.request(method, url, **kw)
        except httpx.HTTPError as exc:
            return None, {"status": None, "transport_error": type(exc).__name__,
                          "latency_ms": round((time.monotonic() - started) * 1000)}
        info: dict[str, Any] = {"status": resp.status_code,
                                "content_type": resp.headers.get("content-type", "").split(";")[0],
                                "latency_ms": round((time.monotonic() - started) * 1000)}
        return resp, info


def _json_error(resp: httpx.Response) -> dict[str, Any]:
    try:
        body = resp.json()
    except ValueError:
        return {"body": "text", "message_shape": shape(resp.text)}
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            return {"body_keys": sorted(body), "error_keys": sorted(err),
                    "code": str(err.get("code") or err.get("Code") or ""),
                    "message_shape": shape(err.get("message") or err.get("Message") or "")}
    return {"body": json_type(body)}


# ------------------------------------------------------------------------------------------------ Uniconta
def probe_uniconta(base_url: str, username: str, password: str, company_id: int | None = None, *,
                   transport: httpx.BaseTransport | None = None, limit: int = 50) -> dict[str, Any]:
    """Read-only probes of Uniconta (≤ ``limit`` calls): companies, every class, row id, paging, errors."""
    auth = (username, password)
    with httpx.Client(base_url=base_url.rstrip("/"), headers={"Accept": "application/json"}, timeout=120,
                      transport=transport) as http:
        rec = Recorder(http, limit)
        out: dict[str, Any] = {}
        resp, info = rec.send("GET", "/api/Entities/CompanyClient", auth=auth)
        rows = []
        if resp is not None and resp.status_code == 200:
            body = resp.json()
            rows = body.get("value", []) if isinstance(body, dict) else body
            info.update(describe_rows(rows if isinstance(rows, list) else []))
        out["companies /api/Entities/CompanyClient"] = info
        resp, info = rec.send("GET", "/odata/CompanyClient", auth=auth)
        if resp is not None and resp.status_code == 200:
            info.update(describe_rows(resp.json().get("value", [])))
        elif resp is not None:
            info["error"] = _json_error(resp)
        out["companies /odata/CompanyClient"] = info
        ids = [r.get("PrimaryKeyId", r.get("CompanyId")) for r in rows if isinstance(r, dict)]
        cid = company_id or next((i for i in ids if isinstance(i, int)), None)
        if cid is None:
            out["note"] = "no company visible: the class probes were skipped"
            out["calls"] = rec.calls
            return out
        cauth = (f"00{cid}/{username}", password)
        for cls in UNICONTA_CLASSES:
            resp, info = rec.send("GET", f"/odata/{cid}/{cls}", params={"$top": "3"}, auth=cauth)
            if resp is not None and resp.status_code == 200:
                info.update(describe_rows(resp.json().get("value", [])))
                info["row_id"] = sorted(n for n in ("RowId", "PrimaryKeyId") if n in info["fields"])
            elif resp is not None:
                info["error"] = _json_error(resp)
            out[f"class {cls}"] = info
        for name in ("RowId", "PrimaryKeyId"):       # does the row id filter and order?
            for option, value in (("$filter", f"{name} gt 0"), ("$orderby", f"{name} desc")):
                resp, info = rec.send("GET", f"/odata/{cid}/DebtorInvoiceLines", params={option: value, "$top": "1"},
                                      auth=cauth)
                if resp is not None and resp.status_code != 200:
                    info["error"] = _json_error(resp)
                out[f"row id {option}={name}"] = info
        resp, info = rec.send("GET", f"/odata/{cid}/GLTransClient", auth=cauth)     # the server's own paging
        if resp is not None and resp.status_code == 200:
            body = resp.json()
            link = body.get("@odata.nextLink") or body.get("odata.nextLink")
            info["page_rows"] = len(body.get("value", []))
            info["next_link"] = None if not link else {
                "absolute": link.startswith("http"), "skip": "$skip=" in link, "skiptoken": "$skiptoken" in link,
                "keeps_filter": "$filter" in link}
            info["body_keys"] = sorted(body)
        out["paging GLTransClient"] = info
        invisible = max((i for i in (*ids, cid) if isinstance(i, int)), default=0) + 987654   # no such company
        for label, method, url, kw in (
            ("error wrong password", "GET", f"/odata/{cid}/DebtorClient", {"auth": (username, password + "-x")}),
            ("error unknown class", "GET", f"/odata/{cid}/NoSuchClassClient", {"auth": cauth}),
            ("error bad filter field", "GET", f"/odata/{cid}/DebtorClient",
             {"auth": cauth, "params": {"$filter": "NoSuchField eq 1", "$top": "1"}}),
            ("error company not visible", "GET", f"/odata/{invisible}/DebtorClient",
             {"auth": auth}),
        ):
            resp, info = rec.send(method, url, **kw)
            if resp is not None:
                info["error"] = _json_error(resp)
                info["www_authenticate"] = bool(resp.headers.get("www-authenticate"))
            out[label] = info
        out["calls"] = rec.calls
        return out


# ------------------------------------------------------------------------------------------------ TimeLog
REPORTING_METHODS: dict[str, Callable[[date], dict[str, Any]]] = {
    "GetLegalEntitiesRaw": lambda d: {"status": -1},
    "GetCustomersRaw": lambda d: {"customerID": 0, "customerStatusID": -1, "accountManagerID": 0},
    "GetContactsRaw": lambda d: {"customerID": 0, "contactID": 0},
    "GetEmployeesRaw": lambda d: {"employeeID": 0, "initials": "", "departmentID": 0, "status": -1},
    "GetProjectsRaw": lambda d: {"projectID": 0, "status": -2, "customerID": 0, "projectManagerID": 0},
    "GetProjectTypesShortList": lambda d: {},
    "GetProjectCategoriesShortList": lambda d: {},
    "GetTasksRaw": lambda d: {"taskID": 0, "projectID": 0, "status": -1, "taskTypeID": 0},
    "GetTaskTypesShortList": lambda d: {},
    "GetHourlyRatesRaw": lambda d: {"CustomerID": 0, "Status": -1},
    "GetInvoicesRaw": lambda d: {"invoiceID": 0, "customerID": 0, "status": -1, **_window(d)},
    "GetInvoiceLinesRaw": lambda d: {"invoiceLineID": 0, "customerID": 0, "projectID": 0, "invoiceID": 0,
                                     **_window(d)},
    "GetInvoiceLineDetailsRaw": lambda d: {"invoiceLineDetailID": 0, "customerID": 0, "projectID": 0,
                                           "invoiceID": 0, **_window(d)},
    "GetExpensesRaw": lambda d: {"customerID": 0, "projectID": 0, "supplierCustomerID": 0, "employeeID": 0,
                                 "employeeDepartmentID": 0, "expenseTypeID": 0, "paymentMethodID": 0, **_window(d)},
    "GetMileageRaw": lambda d: {"customerID": 0, "projectID": 0, "employeeID": 0, "departmentID": 0,
                                "selfPayment": -1, "travelCarID": 0, "transportRateID": 0, **_window(d)},
    "GetWorkUnitsRawPaged": lambda d: {"workUnitID": 0, "employeeID": 0, "allocationID": 0, "taskID": 0,
                                       "projectID": 0, "departmentID": 0, **_window(d), "page": 1, "pageSize": 5},
}
"""Every Reporting method the product calls, with narrow filters (the dated ones: the last 7 days)."""


def _window(d: date) -> dict[str, str]:
    return {"startDate": (d - timedelta(days=7)).isoformat(), "endDate": d.isoformat()}


def _xml_shape(content: bytes) -> dict[str, Any]:
    try:
        root = etree.fromstring(content, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return {"xml": "unreadable"}
    items = [el for el in root if isinstance(el.tag, str)]
    out: dict[str, Any] = {"root": etree.QName(root).localname, "namespace": etree.QName(root).namespace or "",
                           "root_attributes": sorted(k for k in root.attrib if not k.startswith("{")),
                           "rows": len(items)}
    if items:
        out["item"] = sorted({etree.QName(el).localname for el in items})
        out["item_attributes"] = sorted({k for el in items for k in el.attrib})
        fields: dict[str, set[str]] = {}
        for el in items[:5]:
            for child in el:
                if isinstance(child.tag, str):
                    text = (child.text or "").strip()
                    kind = "empty" if not text else ("number" if re.fullmatch(r"-?\d+(\.\d+)?", text) else
                                                    "date-string" if re.fullmatch(r"\d{4}-\d\d-\d\d.*", text)
                                                    else "str")
                    fields.setdefault(etree.QName(child).localname, set()).add(kind)
        out["fields"] = {k: "|".join(sorted(v)) for k, v in sorted(fields.items())}
    else:
        out["text_shape"] = shape(" ".join(root.itertext()))
    return out


def probe_timelog(site_url: str, *, site_code: str, api_id: str, api_password: str, rest_token: str | None,
                  today: date | None = None, transport: httpx.BaseTransport | None = None,
                  limit: int = 50) -> dict[str, Any]:
    """Read-only probes of TimeLog's Reporting and REST APIs (≤ ``limit`` calls)."""
    day = today or date.today()
    creds = {"siteCode": site_code, "apiID": api_id, "apiPassword": api_password}
    with httpx.Client(base_url=site_url.rstrip("/"), timeout=120, transport=transport) as http:
        rec = Recorder(http, limit)
        out: dict[str, Any] = {}
        for method, params in (("ValidateCredentials", lambda d: {}), *REPORTING_METHODS.items()):
            resp, info = rec.send("POST", f"/service.asmx/{method}", data={**creds, **params(day)})
            if resp is not None:
                info.update(_xml_shape(resp.content))
            out[f"reporting {method}"] = info
        for label, data in (
            ("reporting error wrong password", {**creds, "apiPassword": api_password + "-x",
                                                **REPORTING_METHODS["GetCustomersRaw"](day)}),
            ("reporting error bad input", {**creds, **REPORTING_METHODS["GetInvoicesRaw"](day),
                                           "startDate": day.isoformat(),
                                           "endDate": (day - timedelta(days=30)).isoformat()}),
        ):
            method = "GetCustomersRaw" if "password" in label else "GetInvoicesRaw"
            resp, info = rec.send("POST", f"/service.asmx/{method}", data=data)
            if resp is not None:
                info.update(_xml_shape(resp.content))
            out[label] = info
        if rest_token:
            headers = {"Authorization": f"Bearer {rest_token}", "Accept": "application/json"}
            for resource in REST_RESOURCES:
                resp, info = rec.send("GET", f"/api/v1/{resource}", params={"$page": 1, "$pagesize": 3},
                                      headers=headers)
                if resp is not None and resp.status_code == 200:
                    body = resp.json()
                    entities = body.get("Entities", []) if isinstance(body, dict) else []
                    info["envelope"] = sorted(body) if isinstance(body, dict) else json_type(body)
                    info.update(describe_rows([e.get("Properties", e) for e in entities if isinstance(e, dict)]))
                elif resp is not None:
                    info["error"] = _json_error(resp)
                out[f"rest {resource}"] = info
            resp, info = rec.send("GET", "/api/v1/customer", headers={**headers, "Authorization": "Bearer x-wrong"})
            if resp is not None:
                info["error"] = _json_error(resp)
            out["rest error wrong token"] = info
        out["calls"] = rec.calls
        return out


# ------------------------------------------------------------------------------------------------ diff
def flatten(doc: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` → ``{"a.b": 1}``; informational keys left out."""
    out: dict[str, Any] = {}
    if isinstance(doc, Mapping):
        for k, v in doc.items():
            if k in INFORMATIONAL:
                continue
            out.update(flatten(v, f"{prefix}{k}." if isinstance(v, Mapping) else f"{prefix}{k}"))
        return out
    out[prefix.rstrip(".")] = doc
    return out


def diff(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> list[str]:
    """One line per difference between two snapshots (``expected`` first); empty when they agree. Fields of a
    probe that answered no rows on one side are not compared (an empty answer has no fields to show)."""
    a = {k: v for k, v in flatten({s: expected.get(s, {}) for s in ("uniconta", "timelog")}).items()}
    b = {k: v for k, v in flatten({s: actual.get(s, {}) for s in ("uniconta", "timelog")}).items()}

    def empty(doc: Mapping[str, Any], path: str) -> bool:
        system, probe = path.split(".", 1)[0], path.split(".", 2)[1] if path.count(".") >= 1 else ""
        return (doc.get(system, {}).get(probe, {}) or {}).get("rows") == 0

    lines = []
    for path in sorted(set(a) | set(b)):
        if a.get(path, "<absent>") == b.get(path, "<absent>"):
            continue
        if (".fields." in path or path.endswith(".item") or ".item_attributes" in path or ".row_id" in path) and (
                empty(expected, path) or empty(actual, path)):
            continue
        lines.append(f"{path}: expected {a.get(path, '<absent>')!r}, got {b.get(path, '<absent>')!r}")
    return lines
