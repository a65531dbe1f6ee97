"""The pages a first night reads from the two simulators, fetched and hashed (issue 18, item 3).

The requests are those ``bench/nightly.py`` records for a first night (``tlsync.nightly.local.run_once``): the
TimeLog Reporting lists in one document each (site data, then the invoices, lines and line details per legal
entity), the REST lists page by page, and for each Uniconta company every class the sync reads, following
``@odata.nextLink`` to the end. Each page is fetched streamed (an L page is hundreds of megabytes) and hashed
with SHA-256 together with its status, so two runs of the same size and seed can be compared page by page: the
simulators' memory work must leave every served byte as it was.

Used by ``test_served_pages.py`` (S, in-process) and by hand against running simulators at M and L::

    .venv/bin/python tests/simulators/sim_pages.py http://127.0.0.1:8081/tlsim http://127.0.0.1:8082 > pages.txt
    .venv/bin/python tests/simulators/sim_pages.py http://127.0.0.1:8081/tlsim - > timelog-pages.txt   # one of them
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx

REPORTING_AUTH = {"siteCode": "SIMSITE", "apiID": "apiuser", "apiPassword": "apipass"}
REST_TOKEN = "sim-pat-token"
UNICONTA_USER, UNICONTA_PASSWORD = "integration", "uniconta-pw"
START, END = "2021-01-01", "2026-12-07"
COMPANIES = (10001, 10002)

SITE_LISTS: tuple[tuple[str, dict[str, object]], ...] = (
    ("GetLegalEntitiesRaw", {"status": -1}),
    ("GetEmployeesRaw", {"employeeID": 0, "initials": "", "departmentID": 0, "status": -1}),
    ("GetCustomersRaw", {"customerID": 0, "customerStatusID": -1, "accountManagerID": 0}),
    ("GetContactsRaw", {"customerID": 0, "contactID": 0}),
    ("GetProjectsRaw", {"projectID": 0, "status": -2, "customerID": 0, "projectManagerID": 0}),
    ("GetProjectTypesShortList", {}),
    ("GetProjectCategoriesShortList", {}),
    ("GetTasksRaw", {"taskID": 0, "projectID": 0, "status": -1, "taskTypeID": 0}),
    ("GetTaskTypesShortList", {}),
    ("GetHourlyRatesRaw", {"CustomerID": 0, "Status": -1}),
    ("GetExpensesRaw", {"customerID": 0, "projectID": 0, "supplierCustomerID": 0, "employeeID": 0,
                        "employeeDepartmentID": 0, "expenseTypeID": 0, "paymentMethodID": 0,
                        "startDate": START, "endDate": END}),
    ("GetMileageRaw", {"customerID": 0, "projectID": 0, "employeeID": 0, "departmentID": 0, "startDate": START,
                       "endDate": END, "selfPayment": -1, "travelCarID": 0, "transportRateID": 0}),
)
INVOICE_LISTS: tuple[tuple[str, dict[str, object]], ...] = (
    ("GetInvoicesRaw", {"invoiceID": 0, "customerID": 0, "status": -1, "startDate": START, "endDate": END}),
    ("GetInvoiceLinesRaw", {"invoiceLineID": 0, "customerID": 0, "projectID": 0, "invoiceID": 0,
                            "startDate": START, "endDate": END}),
    ("GetInvoiceLineDetailsRaw", {"invoiceLineDetailID": 0, "customerID": 0, "projectID": 0, "invoiceID": 0,
                                  "startDate": START, "endDate": END}),
)
REST_LISTS = ("product", "expense-type/-1", "currency/-1")
UNICONTA_CLASSES = ("DebtorClient", "DebtorGroupClient", "PaymentTermClient", "DebtorLayoutGroupClient",
                    "GLVatClient", "EmployeeClient", "InvItemClient", "ProjectGroupClient", "ProjectClient",
                    "PrCategoryClient", "GLAccountClient", "DebtorOrderClient", "DebtorOrderLineClient")
UNICONTA_HISTORY = ("DebtorInvoiceClient", "DebtorInvoiceLines", "GLTransClient")


def _streamed(client: httpx.Client, method: str, url: str, **kw: object) -> tuple[int, str, int]:
    """Status, SHA-256 of status and body, body size — without holding the body (a Reporting list is one
    document, at L hundreds of megabytes)."""
    digest = hashlib.sha256()
    size = 0
    with client.stream(method, url, **kw) as resp:  # type: ignore[arg-type]
        digest.update(str(resp.status_code).encode())
        for chunk in resp.iter_bytes():
            digest.update(chunk)
            size += len(chunk)
    return resp.status_code, digest.hexdigest(), size


def _paged(client: httpx.Client, url: str, base: str, **kw: object) -> tuple[int, str, int, Any]:
    """A small page (REST 500 rows, OData 1,000): status, hash, size and the parsed JSON (for the next link).
    The server's own address (in links and ``@odata.context``; a port differs between runs) is hashed as
    ``{base}``."""
    resp = client.get(url, **kw)  # type: ignore[arg-type]
    body = resp.content.replace(base.encode(), b"{base}")
    sha = hashlib.sha256(str(resp.status_code).encode() + body).hexdigest()
    return resp.status_code, sha, len(resp.content), resp.json() if resp.status_code == 200 else None


def pages(timelog_url: str | None, uniconta_url: str | None,
          timeout: float = 600) -> Iterator[tuple[str, int, str, int]]:
    """``(request, status, sha256, bytes)`` for every page of a first night's read, in the night's order; a
    simulator whose URL is None is left out (to measure one at a time)."""
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    with httpx.Client(timeout=timeout) as tl, httpx.Client(timeout=timeout) as uc:
        def reporting(method: str, params: dict[str, object]) -> Iterator[tuple[str, int, str, int]]:
            if timelog_url is None:
                return
            body = urlencode({**REPORTING_AUTH, **params})
            status, sha, size = _streamed(tl, "POST", f"{timelog_url}/service.asmx/{method}", content=body,
                                          headers=form)
            yield f"POST {method} {urlencode(params)}", status, sha, size

        def rest(path: str) -> Iterator[tuple[str, int, str, int]]:
            if timelog_url is None:
                return
            page = 1
            while True:
                url = f"{timelog_url}/api/v1/{path}?$page={page}&$pagesize=500"
                status, sha, size, doc = _paged(tl, url, timelog_url.split("/tlsim")[0], headers={"Authorization": f"Bearer {REST_TOKEN}"})
                yield f"GET {path} page {page}", status, sha, size
                if doc is None or not any(link.get("Rel") == "next" for link in doc.get("Links", ())):
                    return
                page += 1

        for method, params in SITE_LISTS[:10]:
            yield from reporting(method, params)
        yield from rest(REST_LISTS[0])
        yield from rest(REST_LISTS[1])
        for method, params in SITE_LISTS[10:]:
            yield from reporting(method, params)
        yield from rest(REST_LISTS[2])
        for company in COMPANIES:
            for method, params in INVOICE_LISTS:
                yield from reporting(method, params)
            yield from rest(REST_LISTS[2])
            if uniconta_url is None:
                continue
            auth = httpx.BasicAuth(f"00{company}/{UNICONTA_USER}", UNICONTA_PASSWORD)
            head = {"Accept": "application/json"}
            status, sha, size, _ = _paged(uc, f"{uniconta_url}/api/Entities/CompanyClient", uniconta_url, auth=auth,
                                          headers=head)
            yield "GET CompanyClient", status, sha, size
            since = "$filter=Date ge datetime'2021-01-01T00:00:00'"
            for cls in (*UNICONTA_CLASSES, *UNICONTA_HISTORY):
                url: str | None = f"{uniconta_url}/odata/{company}/{cls}" + (
                    f"?{since}" if cls in UNICONTA_HISTORY else "")
                n = 0
                while url:
                    status, sha, size, doc = _paged(uc, url, uniconta_url, auth=auth, headers=head)
                    n += 1
                    yield f"GET {company} {cls} page {n}", status, sha, size
                    url = doc.get("@odata.nextLink") if doc is not None else None


def main(argv: list[str]) -> int:
    """``sim_pages.py TIMELOG_URL UNICONTA_URL`` (``-`` for a simulator to leave out)."""
    urls = [None if url == "-" else url for url in argv[1:3]]
    for request, status, sha, size in pages(urls[0], urls[1]):
        print(f"{status} {sha} {size:>12} {request}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
