"""The three TimeLog clients against the TimeLog simulator over real HTTP (uvicorn on a loopback port).

Every surface must read every record of an S fixture exactly once — also with faults switched on (429 with
``Retry-After: 0``, 5xx, truncated bodies) — compared with the simulator's own ``/_sim/state``. Small page sizes
make the paged reads walk several pages, so faults hit page boundaries too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import httpx
import pytest

from simulators._common import serve_in_thread
from simulators.generator import FIXED_TODAY
from simulators.timelog import create_app
from tlsync.clients._http import CallCounter, RetryPolicy
from tlsync.clients.errors import (
    AuthenticationError,
    MalformedResponseError,
    NotFoundError,
    UnknownMethodError,
)
from tlsync.clients.timelog import (
    ReportingClient,
    ReportingSettings,
    RestClient,
    RestSettings,
    TransactionalClient,
    TransactionalSettings,
)
from tlsync.clients.timelog.models import (
    CustomerCreate,
    CustomerUpdate,
    InvoiceStatus,
    ProductCreate,
    ProjectExpenseCreate,
)
from tlsync.clients.timelog.transactional import CRM

FAST = RetryPolicy(max_attempts=8, base_delay=0.001, max_delay=0.01)
EVER = (date(1900, 1, 1), date(2100, 12, 31))
FAULTS = {"rate_429": 0.04, "rate_5xx": 0.03, "rate_truncated": 0.03, "retry_after": 0, "seed": 20240917}
NO_FAULTS = {"rate_429": 0, "rate_5xx": 0, "rate_truncated": 0, "retry_after": 0, "seed": 0}


def _fixture() -> dict:
    from simulators.generator import generate

    return generate("S", 42, today=FIXED_TODAY)


@pytest.fixture(scope="module")
def sim() -> Iterator[str]:
    with serve_in_thread(create_app(_fixture())) as base:
        yield base


@pytest.fixture
def fresh_sim() -> Iterator[str]:
    """A simulator of its own, for tests that write."""
    with serve_in_thread(create_app(_fixture())) as base:
        yield base


def state(base: str) -> dict:
    return httpx.get(f"{base}/_sim/state", timeout=30).json()["timelog"]


def set_faults(base: str, config: dict) -> None:
    httpx.put(f"{base}/_sim/faults", json=config, timeout=10).raise_for_status()


def reporting(base: str, *, password: str = "apipass", counter: CallCounter | None = None,
              retry: RetryPolicy = FAST) -> ReportingClient:
    return ReportingClient(ReportingSettings(base_url=f"{base}/tlsim", site_code="SIMSITE", api_id="apiuser",
                                             api_password=password, work_units_page_size=10),
                           retry=retry, counter=counter)


def transactional(base: str, *, password: str = "integration-pw", retry: RetryPolicy = FAST) -> TransactionalClient:
    return TransactionalClient(TransactionalSettings(base_url=f"{base}/tlsim", username="integration",
                                                     password=password, page_size=7), retry=retry)


def rest(base: str, *, token: str = "sim-pat-token", retry: RetryPolicy = FAST) -> RestClient:
    return RestClient(RestSettings(base_url=f"{base}/tlsim", token=token, page_size=7), retry=retry)


def read_everything(base: str) -> dict[str, list]:
    out: dict[str, list] = {}
    with reporting(base) as r:
        for name in ("legal_entities", "customers", "contacts", "employees", "projects", "project_types",
                     "project_categories", "tasks", "task_types", "hourly_rates"):
            out[f"reporting.{name}"] = [m.id for m in getattr(r, name)()]
        for name in ("invoices", "invoice_lines", "invoice_line_details", "expenses", "mileage", "work_units"):
            out[f"reporting.{name}"] = [m.id for m in getattr(r, name)(*EVER)]
    with transactional(base) as t:
        out["transactional.customers"] = [c.id for c in t.customers_modified_since(
            EVER[0], include_customers=True, include_suppliers=True, include_leads=True)]
        out["transactional.projects"] = [p.project_id for p in t.projects_modified_in_period(*EVER)]
        out["transactional.invoices"] = [i.id for i in t.invoices_modified_in_period(*EVER)]
        out["transactional.credit_notes"] = [c.id for c in t.credit_notes_modified_in_period(*EVER)]
    with rest(base) as c:
        out["rest.customers"] = [x.customer_id for x in c.customers()]
        out["rest.products"] = [x.product_number_id for x in c.products()]
        out["rest.project_types"] = [x.project_type_id for x in c.project_types()]
        out["rest.project_categories"] = [x.project_category_id for x in c.project_categories()]
        out["rest.task_types"] = [x.task_type_id for x in c.task_types()]
        out["rest.hourly_rates"] = [x.hourly_rate_id for x in c.hourly_rates()]
        out["rest.expense_types"] = [x.expense_type_id for x in c.expense_types()]
        out["rest.legal_entities"] = [x.legal_entity_id for x in c.legal_entities()]
        out["rest.payment_terms"] = [x.id for x in c.payment_terms()]
        out["rest.currencies"] = [x.currency_id for x in c.currencies()]
    return out


def expected_ids(st: dict) -> dict[str, list]:
    ids = lambda coll, key="ID": sorted(int(r[key]) for r in st[coll])  # noqa: E731
    return {
        "reporting.legal_entities": ids("LegalEntities"), "reporting.customers": ids("Customers"),
        "reporting.contacts": ids("Contacts"), "reporting.employees": ids("Employees"),
        "reporting.projects": ids("Projects"), "reporting.project_types": ids("ProjectTypes"),
        "reporting.project_categories": ids("ProjectCategories"), "reporting.tasks": ids("Tasks"),
        "reporting.task_types": ids("TaskTypes"), "reporting.hourly_rates": ids("HourlyRates"),
        "reporting.invoices": ids("Invoices"), "reporting.invoice_lines": ids("InvoiceLines"),
        "reporting.invoice_line_details": ids("InvoiceLineDetails"), "reporting.expenses": ids("Expenses"),
        "reporting.mileage": ids("Mileages"), "reporting.work_units": ids("WorkUnits"),
        "transactional.customers": ids("Customers"), "transactional.projects": ids("Projects"),
        "transactional.invoices": sorted(int(i["ID"]) for i in st["Invoices"] if int(i["Type"]) == 1),
        "transactional.credit_notes": sorted(int(i["ID"]) for i in st["Invoices"] if int(i["Type"]) == 2),
        "rest.customers": ids("Customers"), "rest.products": ids("Products", "ProductNumberID"),
        "rest.project_types": ids("ProjectTypes"), "rest.project_categories": ids("ProjectCategories"),
        "rest.task_types": ids("TaskTypes"), "rest.hourly_rates": ids("HourlyRates"),
        "rest.expense_types": ids("ExpenseTypes", "ExpenseTypeID"), "rest.legal_entities": ids("LegalEntities"),
        "rest.payment_terms": ids("PaymentTerms"), "rest.currencies": ids("Currencies", "CurrencyID"),
    }


def assert_exactly_once(got: dict[str, list], want: dict[str, list]) -> None:
    assert set(got) == set(want)
    for name, ids in got.items():
        assert sorted(ids) == want[name], name  # same records, none twice, none missing
        assert want[name], f"{name}: the fixture should not be empty"


def test_every_surface_reads_every_record_exactly_once(sim):
    assert_exactly_once(read_everything(sim), expected_ids(state(sim)))


def test_with_faults_every_record_is_still_read_exactly_once(sim, caplog):
    """429 (Retry-After: 0), 503 and truncated bodies at the brief's rates, seeded. Rounds repeat (each must read
    everything exactly once) until every kind of fault has hit at least once, so the test cannot pass vacuously
    if the fixture's size changes."""
    caplog.set_level(logging.DEBUG)
    want = expected_ids(state(sim))
    httpx.post(f"{sim}/_sim/counters/reset", timeout=10)
    set_faults(sim, FAULTS)
    try:
        for _round in range(4):
            assert_exactly_once(read_everything(sim), want)
            faults = httpx.get(f"{sim}/_sim/counters", timeout=10).json()["faults"]
            if all(faults.get(kind, 0) > 0 for kind in ("429", "5xx", "truncated")):
                break
    finally:
        set_faults(sim, NO_FAULTS)
    assert all(faults.get(kind, 0) > 0 for kind in ("429", "5xx", "truncated")), faults
    # retries were logged, secrets never
    assert "retrying" in caplog.text
    for secret in ("apipass", "integration-pw", "sim-pat-token"):
        assert secret not in caplog.text


def test_reporting_values_match_the_simulator_state(sim):
    st = state(sim)
    by_id = {int(i["ID"]): i for i in st["Invoices"]}
    with reporting(sim) as r:
        invoices = list(r.invoices(*EVER))
    for inv in invoices:
        src = by_id[inv.id]
        assert isinstance(inv.amount, Decimal)
        assert inv.amount == Decimal(str(src["Amount"])).quantize(Decimal("0.0001"))
        assert inv.status == int(src["Status"]) and inv.type == int(src["Type"])
    booked = [i for i in invoices if i.status is InvoiceStatus.BOOKED]
    with reporting(sim) as r:
        only_booked = list(r.invoices(*EVER, status=InvoiceStatus.BOOKED))
    assert [i.id for i in only_booked] == [i.id for i in booked]


def test_bad_input_is_http_500_with_errors_rejected_once_and_empty_results_are_empty(sim):
    """TimeLogApiSdk docs (since 2021): bad input answers HTTP 500 with the ``Errors`` body — a rejection naming the
    method, not a server fault to retry; an empty result carries ``resultEmpty="true"`` and yields nothing."""
    from tlsync.clients.errors import RecordRejectedError

    counter = CallCounter()
    with reporting(sim, counter=counter) as r:
        with pytest.raises(RecordRejectedError) as err:
            list(r.invoices(date(2024, 3, 1), date(2024, 1, 1)))
        assert "GetInvoicesRaw" in str(err.value) and "startDate" in str(err.value)
        assert counter.get("TimeLog Reporting API") == 1
        assert list(r.customers(customer_id=987654)) == []


def test_wrong_credentials_give_one_clear_error_without_the_secret(sim):
    counter = CallCounter()
    with reporting(sim, password="wrong-apipass", counter=counter) as r, pytest.raises(AuthenticationError) as err:
        list(r.customers())
    assert "TimeLog Reporting API" in str(err.value) and "wrong-apipass" not in str(err.value)
    assert "ReportingSettings.api_password" in str(err.value)
    assert counter.get("TimeLog Reporting API") == 1
    with reporting(sim, password="wrong-apipass") as r, pytest.raises(AuthenticationError):
        r.validate_credentials()
    with reporting(sim) as r:
        assert r.validate_credentials() is True

    with transactional(sim, password="wrong-user-pw") as t, pytest.raises(AuthenticationError) as err:
        list(t.invoices_modified_in_period(*EVER))
    assert "TimeLog Transactional API" in str(err.value) and "wrong-user-pw" not in str(err.value)
    assert "Invalid username or password" in str(err.value)

    with rest(sim, token="wrong-pat") as c, pytest.raises(AuthenticationError) as err:
        list(c.customers())
    assert "TimeLog REST API" in str(err.value) and "wrong-pat" not in str(err.value)
    assert "RestSettings.token" in str(err.value)


def test_unknown_method_gives_one_clear_error(sim):
    counter = CallCounter()
    with reporting(sim, counter=counter) as r, pytest.raises(UnknownMethodError) as err:
        list(r.fetch("GetNoSuchThingRaw", root="Things", item="Thing"))
    assert "GetNoSuchThingRaw" in str(err.value) and "TimeLog Reporting API" in str(err.value)
    assert counter.get("TimeLog Reporting API") == 1

    with transactional(sim) as t, pytest.raises(UnknownMethodError) as err:
        t._invoke_authenticated(CRM, "GetNoSuchThingPaged", [])
    assert "GetNoSuchThingPaged" in str(err.value) and "TimeLog Transactional API" in str(err.value)

    with rest(sim) as c, pytest.raises(NotFoundError) as err:
        list(c._list("no-such-resource", ProductCreate))
    assert "TimeLog REST API" in str(err.value)


def test_malformed_bodies_name_the_system_and_where(sim):
    once = RetryPolicy(max_attempts=2, base_delay=0.0, max_delay=0.0)
    set_faults(sim, {**NO_FAULTS, "rate_truncated": 1.0})
    try:
        with reporting(sim, retry=once) as r, pytest.raises(MalformedResponseError) as err:
            list(r.customers())
        assert err.value.where.startswith("GetCustomersRaw line ")
        assert "TimeLog Reporting API" in str(err.value) and "apipass" not in str(err.value)
        with transactional(sim, retry=once) as t, pytest.raises(MalformedResponseError) as err:
            t.token()
        assert err.value.where.startswith("GetToken line ") and "integration-pw" not in str(err.value)
        with rest(sim, retry=once) as c, pytest.raises(MalformedResponseError) as err:
            list(c.currencies())
        assert err.value.where.startswith("GET currency/-1 page 1 line 1")
    finally:
        set_faults(sim, NO_FAULTS)


def test_revoked_token_is_renewed_transparently(sim):
    with transactional(sim) as t:
        first = t.token().hash
        httpx.post(f"{sim}/_sim/tokens/revoke", timeout=10).raise_for_status()
        invoices = list(t.invoices_modified_in_period(*EVER))
        assert invoices and t.token().hash != first


def test_writes_round_trip_through_the_other_surfaces(fresh_sim):
    base = fresh_sim
    with rest(base) as c, reporting(base) as r, transactional(base) as t:
        # REST create + read-modify-write update; the Reporting API sees the full record
        created = c.create_customer(CustomerCreate(name="Nyt Firma ApS", customer_no="99001", phone="+45 70 10 20 30",
                                                   city="Odense C", vat_no="DK11223344"))
        (full,) = r.customers(customer_id=created.customer_id)
        assert (full.name, full.no, full.phone, full.city) == ("Nyt Firma ApS", "99001", "+45 70 10 20 30", "Odense C")
        c.update_customer(created.customer_id, {"email": "bogholderi@nytfirma.dk"},
                          base=CustomerUpdate.from_reporting(full))
        (after,) = r.customers(customer_id=created.customer_id)
        assert after.email == "bogholderi@nytfirma.dk"
        assert (after.phone, after.city, after.vat_no) == ("+45 70 10 20 30", "Odense C", "DK11223344")

        # product numbers: create, deactivate, activate
        product = c.create_product(ProductCreate(product_number="UC-ITEM-1", product_name="Uniconta item",
                                                 is_active=False))
        c.activate_product(product.product_number_id)
        assert {p.product_number: p.is_active for p in c.products()}["UC-ITEM-1"] is True
        c.deactivate_product(product.product_number_id)
        assert {p.product_number: p.is_active for p in c.products()}["UC-ITEM-1"] is False

        # project expense from a Uniconta posting shows up in Reporting expenses
        before = len(list(r.expenses(*EVER)))
        project = next(iter(r.projects()))
        expense_type = next(iter(c.expense_types()))
        c.create_project_expense(ProjectExpenseCreate(
            project_id=project.id, expense_type_id=expense_type.expense_type_id, purchase_date=date(2025, 1, 15),
            amount_including_vat_expense_currency=Decimal("1250.50"), external_id="UC-GL-77", comment="Hotel"))
        assert len(list(r.expenses(*EVER))) == before + 1

        # UpdateExternalData on a booked invoice, by its Reporting GUID
        invoice = next(i for i in r.invoices(*EVER) if i.status is InvoiceStatus.BOOKED)
        t.update_external_data(invoice.guid, "UC-10001", InvoiceStatus.DRAFT)
        (reread,) = r.invoices(*EVER, invoice_id=invoice.id)
        assert (reread.external_invoice_no, reread.external_invoice_status) == ("UC-10001", "Draft")
