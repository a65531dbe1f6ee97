"""Integration tests: UnicontaClient against the Uniconta simulator over real HTTP (uvicorn on loopback)."""

from __future__ import annotations

import contextlib
import copy
import functools
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from pydantic import SecretStr

from simulators._common import serve_in_thread
from simulators.generator import FIXED_TODAY
from simulators.uniconta import create_app
from tlsync.clients._http import CallCounter, RetryPolicy
from tlsync.clients.errors import (
    AuthenticationError,
    CallBudgetExceededError,
    MalformedResponseError,
    NotFoundError,
    ProjectModuleMissingError,
    QuotaExceededError,
    RecordRejectedError,
    UnknownCompanyError,
    UnknownMethodError,
)
from tlsync.clients.uniconta import (
    MODELS,
    DebtorClient,
    DebtorOrderClient,
    DebtorOrderLineClient,
    Field,
    ProjectClient,
    UnicontaClient,
    UnicontaSettings,
)

PASSWORD = "uniconta-pw"  # the simulator's documented default for user "integration"
FAST = RetryPolicy(max_attempts=8, base_delay=0.001, max_delay=0.005)


@functools.lru_cache(maxsize=1)
def _s_fixture() -> dict:
    from simulators.generator import generate

    return generate(size="S", seed=42, today=FIXED_TODAY)


LIMITED = {"UserName": "limited", "Password": "limited-pw", "Companies": [10001]}


def s_fixture() -> dict:
    """The generated S fixture (seed 42), made once per test session; each simulator gets its own copy, plus a
    user of our own who sees only company 10001."""
    doc = copy.deepcopy(_s_fixture())
    doc["uniconta"].setdefault("users", []).append(dict(LIMITED))
    return doc


@contextlib.contextmanager
def simulator(**kw) -> Iterator[str]:
    """Serve a fresh simulator seeded with the S fixture."""
    with serve_in_thread(create_app(s_fixture(), **kw)) as url:
        yield url


def client(url: str, company_id: int | None = 10001, *, password: str = PASSWORD, user: str = "integration",
           **kw) -> UnicontaClient:
    kw.setdefault("retry", FAST)
    kw.setdefault("sleep", lambda s: None)
    settings = UnicontaSettings(base_url=url, username=user, password=SecretStr(password), company_id=company_id)
    return UnicontaClient(settings, seed=3, **kw)


def state(url: str) -> dict[int, dict]:
    doc = httpx.get(f"{url}/_sim/state").json()["uniconta"]
    return {c["CompanyId"]: c for c in doc["companies"]}


def counters(url: str) -> dict:
    return httpx.get(f"{url}/_sim/counters").json()


def assert_clear(exc: BaseException, *fragments: str) -> None:
    text = str(exc)
    assert text.startswith("Uniconta: "), text
    assert PASSWORD not in text and PASSWORD not in repr(exc)
    for f in fragments:
        assert f in text, (f, text)


# ----------------------------------------------------------------------------------------------------- reads


def test_reads_every_debtor_across_server_pages():
    with simulator(page_size=4) as url, client(url) as uc:
        expected = [d["Account"] for d in state(url)[10001]["DebtorClient"]]
        got = list(uc.debtors())
        assert [d.Account for d in got] == expected and len(expected) > 8
        # one call per server page of 4
        assert uc.calls_used == -(-len(expected) // 4)
        # client-driven pages of 5 on top of server pages of 4, with a filter and order
        group = Counter(d.get("Group") for d in state(url)[10001]["DebtorClient"]).most_common(1)[0][0]
        names = sorted(d["Name"] for d in state(url)[10001]["DebtorClient"] if d.get("Group") == group)
        got2 = [d.Name for d in uc.debtors(filter=Field("Group") == group, orderby="Name", page_size=5)]
        assert got2 == names and len(names) > 5


def test_filter_with_quote_and_datetime_literal_against_the_server():
    with simulator() as url, client(url) as uc:
        rows = state(url)[10001]["GLTransClient"]
        cutoff = sorted(r["Date"] for r in rows)[len(rows) // 2][:10]
        from datetime import date

        want = sorted(r["RowId"] for r in rows if r["Date"][:10] >= cutoff)
        got = sorted(t.RowId for t in uc.gl_transactions(filter=Field("Date") >= date.fromisoformat(cutoff)))
        assert got == want and 0 < len(got) < len(rows)
        assert list(uc.debtors(filter=Field("Name") == "O'Brien ApS ' or Name ne '")) == []


def test_with_faults_on_every_record_is_read_exactly_once():
    faults = {"rate_429": 0.04, "rate_5xx": 0.03, "rate_truncated": 0.03, "retry_after": 0, "seed": 11}
    with simulator(page_size=3) as url, client(url, counter=CallCounter()) as uc:
        truth = state(url)[10001]
        assert httpx.put(f"{url}/_sim/faults", json=faults).status_code == 200
        classes = [n for n in MODELS if n != "CompanyClient" and truth.get(n)]
        for name in classes:
            got = Counter(r.RowId for r in uc.read(name))
            want = Counter(r["RowId"] for r in truth[name])
            assert got == want, name  # none missed, none twice
        raw = list(uc.read_raw("DebtorClient", page_size=4))
        assert [r["RowId"] for r in raw] == [r["RowId"] for r in truth["DebtorClient"]]
        c = counters(url)
        assert sum(c["faults"].values()) >= 5, c["faults"]  # the faults really happened
        # every HTTP attempt is counted client-side: what reached the API + what the injector short-circuited
        assert uc.calls_used == c["by_surface"]["total"] + c["faults"].get("429", 0) + c["faults"].get("5xx", 0)


def test_fault_429_retry_after_is_honoured():
    sleeps: list[float] = []
    faults = {"rate_429": 0.3, "retry_after": 2, "seed": 5}
    retry = RetryPolicy(max_attempts=10, base_delay=0.001, max_delay=1.0)
    with simulator(page_size=2) as url, client(url, sleep=sleeps.append, retry=retry) as uc:
        httpx.put(f"{url}/_sim/faults", json=faults)
        assert len(list(uc.debtors())) == len(state(url)[10001]["DebtorClient"])
        n429 = counters(url)["faults"].get("429", 0)
        assert n429 > 0 and len(sleeps) == n429 and all(s >= 2 for s in sleeps)


def test_truncated_bodies_everywhere_give_one_clear_malformed_error():
    with simulator() as url, client(url) as uc:
        httpx.put(f"{url}/_sim/faults", json={"rate_truncated": 1.0, "seed": 1})
        with pytest.raises(MalformedResponseError) as ei:
            list(uc.debtors())
        assert ei.value.where == "GET /odata/10001/DebtorClient page 1"
        assert_clear(ei.value, "malformed", "not JSON")
        assert uc.calls_used == FAST.max_attempts


# ------------------------------------------------------------------------------------------------- companies


def test_company_listing_and_selection():
    with simulator() as url, client(url, company_id=None) as uc:
        companies = uc.companies()
        truth = state(url)
        assert [(c.CompanyId, c.Name, c.ProjectModule) for c in companies] == [
            (cid, truth[cid]["Name"], truth[cid].get("ProjectModule")) for cid in (10001, 10002)]
        with pytest.raises(UnknownCompanyError):
            list(uc.debtors())  # S1: choose a company first
        with uc.choose_company(10002) as c2:
            want = [d["Account"] for d in state(url)[10002]["DebtorClient"]]
            assert [d.Account for d in c2.debtors()] == want
            assert c2.counter is uc.counter
        with pytest.raises(UnknownCompanyError) as ei:
            uc.choose_company(10009)
        assert_clear(ei.value, "10009", "10001, 10002", "company id")


def test_unknown_company_refused_by_the_server():
    with simulator() as url, client(url, company_id=10002, user="limited", password="limited-pw") as uc:
        with pytest.raises(UnknownCompanyError) as ei:
            list(uc.debtors())
        assert_clear(ei.value, "10002", "limited", "company id")
        assert "limited-pw" not in str(ei.value)
        with pytest.raises(UnknownCompanyError):
            uc.insert(DebtorClient(Account="X1", Name="X"))


def test_wrong_password():
    with simulator() as url, client(url, password="not-the-password") as uc:
        with pytest.raises(AuthenticationError) as ei:
            list(uc.debtors())
        assert not isinstance(ei.value, UnknownCompanyError)
        assert ei.value.setting == "Uniconta user/password in the Airflow Connection"
        assert "not-the-password" not in str(ei.value)
        assert_clear(ei.value, "wrong user name or password")
        assert uc.calls_used == 1  # not retried


def test_unknown_class():
    with simulator() as url, client(url) as uc:
        with pytest.raises(UnknownMethodError) as ei:
            list(uc.read("NoSuchClient"))
        assert_clear(ei.value, "NoSuchClient")
        assert uc.calls_used == 1


# ------------------------------------------------------------------------------------------ quota & modules


def test_server_quota_refusal_is_not_retried():
    with simulator(daily_quota=3, quota_mode="refuse") as url, client(url) as uc:
        for _ in range(3):
            list(uc.debtors(top=1))
        with pytest.raises(QuotaExceededError) as ei:
            list(uc.debtors(top=1))
        assert not isinstance(ei.value, CallBudgetExceededError)
        assert_clear(ei.value, "quota", "tomorrow")
        assert ei.value.limit == 3
        assert uc.calls_used == 4  # the refused call is counted once, never retried
        assert counters(url)["quota"]["refused"] == {"integration": 1}


def test_client_budget_stops_before_spending_a_call():
    with simulator() as url, client(url, counter=CallCounter(budgets={"Uniconta": 2})) as uc:
        list(uc.debtors(top=1))
        list(uc.items(top=1))
        with pytest.raises(CallBudgetExceededError):
            list(uc.employees())
        assert counters(url)["by_surface"]["total"] == 2


def test_project_module_missing():
    with simulator() as url, client(url, company_id=10002) as uc:
        httpx.put(f"{url}/_sim/companies/10002/project-module", json={"enabled": False}).raise_for_status()
        with pytest.raises(ProjectModuleMissingError) as ei:
            list(uc.projects())
        assert_clear(ei.value, "rule T3", "10002")
        with pytest.raises(ProjectModuleMissingError):
            uc.insert(ProjectClient(Number="P-1", Name="X", Group="Intern"))
        httpx.put(f"{url}/_sim/companies/10002/project-module", json={"enabled": True}).raise_for_status()
        list(uc.projects())  # readable again (no error) once the module is on
    with simulator() as url, client(url, company_id=10001) as uc:
        httpx.put(f"{url}/_sim/companies/10001/project-module", json={"enabled": True}).raise_for_status()
        assert len(list(uc.projects())) == len(state(url)[10001].get("ProjectClient", []))


# ----------------------------------------------------------------------------------------------------- writes


def test_insert_list_update_delete_round_trip():
    with simulator() as url, client(url) as uc:
        before = len(state(url)[10001]["DebtorClient"])
        new = [DebtorClient(Account=f"T{i:03}", Name=f"Test {i} A/S", Group="DK", CreditMax=Decimal("1234.56"),
                            Dimension1="keep") for i in range(7)]
        stored = uc.insert_list(new, batch_size=3)
        assert uc.calls_used == 3  # 3 + 3 + 1
        assert [d.Account for d in stored] == [d.Account for d in new] and all(d.RowId for d in stored)
        rows = {d["Account"]: d for d in state(url)[10001]["DebtorClient"]}
        assert len(rows) == before + 7 and rows["T000"]["CreditMax"] == 1234.56

        [t3] = uc.get_by(DebtorClient, "Account", "T003")
        assert t3.CreditMax == Decimal("1234.56")
        t3.Name = "Test 3 ApS"
        t3.CreditMax = Decimal("0.10")
        updated = uc.update(t3)
        assert updated.Name == "Test 3 ApS" and updated.CreditMax == Decimal("0.10")
        row = {d["Account"]: d for d in state(url)[10001]["DebtorClient"]}["T003"]
        assert row["Name"] == "Test 3 ApS" and row["Group"] == "DK"

        uc.delete(updated)
        assert "T003" not in {d["Account"] for d in state(url)[10001]["DebtorClient"]}
        assert uc.get_by(DebtorClient, "Account", "T003") == []


def test_order_draft_with_lines():
    with simulator() as url, client(url) as uc:
        account = state(url)[10001]["DebtorClient"][0]["Account"]
        item = state(url)[10001]["InvItemClient"][0]["Item"]
        order = uc.insert(DebtorOrderClient(Account=account, YourRef="TL-1"))
        assert order.OrderNumber and order.RowId
        lines = uc.insert_list([DebtorOrderLineClient(OrderNumber=order.OrderNumber, Item=item, Qty=Decimal("7.5"),
                                                      Price=Decimal("850.00"), Text=f"line {i}") for i in range(3)])
        assert [ln.Qty for ln in lines] == [Decimal("7.5")] * 3
        got = list(uc.order_lines(filter=Field("OrderNumber") == order.OrderNumber))
        assert len(got) == 3 and sum(ln.Total or 0 for ln in got) == Decimal("19125")


def test_rejected_writes_name_the_record():
    with simulator() as url, client(url) as uc:
        existing = state(url)[10001]["DebtorClient"][0]["Account"]
        with pytest.raises(RecordRejectedError) as ei:
            uc.insert(DebtorClient(Account=existing, Name="Duplicate"))
        assert ei.value.status == 409 and ei.value.record == f"DebtorClient Account={existing}"
        assert_clear(ei.value, "KeyExists")
        batch = [DebtorClient(Account="N1", Name="ok"), DebtorClient(Account="N2", Group="NO-SUCH-GROUP"),
                 DebtorClient(Account="N3", Name="ok")]
        with pytest.raises(RecordRejectedError) as ei:
            uc.insert_list(batch)
        assert ei.value.record == "DebtorClient Account=N2" and ei.value.status == 400
        assert "N1" not in {d["Account"] for d in state(url)[10001]["DebtorClient"]}  # all or nothing
        assert uc.calls_used == 2


def test_writes_under_faults_are_neither_lost_nor_doubled():
    faults = {"rate_429": 0.1, "rate_5xx": 0.1, "rate_truncated": 0.15, "retry_after": 0, "seed": 3}
    with simulator() as url, client(url) as uc:
        httpx.put(f"{url}/_sim/faults", json=faults)
        new = [DebtorClient(Account=f"F{i:03}", Name=f"Fault {i}") for i in range(40)]
        stored = uc.insert_list(new, batch_size=4)
        for d in new[:10]:
            d.Name += " (ret)"
            uc.update(d)
        c = counters(url)["faults"]
        assert c.get("truncated", 0) > 0 and c.get("5xx", 0) > 0 and c.get("429", 0) > 0, c
        rows = Counter(d["Account"] for d in state(url)[10001]["DebtorClient"] if d["Account"].startswith("F"))
        assert rows == Counter(d.Account for d in new)  # every record once: a truncated 2xx was not repeated
        assert [d.Account for d in stored] == [d.Account for d in new]
        names = {d["Account"]: d["Name"] for d in state(url)[10001]["DebtorClient"]}
        assert names["F000"] == "Fault 0 (ret)" and names["F039"] == "Fault 39"


def test_update_of_a_missing_record_is_not_found():
    with simulator() as url, client(url) as uc:
        with pytest.raises(NotFoundError) as ei:
            uc.update(DebtorClient(Account="NOPE", Name="x"))
        assert ei.value.record == "DebtorClient Account=NOPE" and ei.value.status == 404
        assert_clear(ei.value, "CouldNotFind")


# ------------------------------------------------------------------- field names found, not assumed (issue 13)


def test_companies_listed_as_public_clients_read_them():
    """``GET /api/Entities/CompanyClient`` with ``PrimaryKeyId``/``CompanyName``/``Project``, read as
    ``CompanyId``/``Name``/``ProjectModule`` (tlsync.clients.uniconta.fields)."""
    with simulator() as url, client(url, company_id=None) as uc:
        companies = uc.companies()
        assert [(c.CompanyId, c.ProjectModule) for c in companies] == [(10001, True), (10002, False)]
        assert all(c.Name for c in companies)
        with uc.choose_company(10002) as c2:
            assert c2.company_id == 10002
        assert counters(url)["by_surface"]["crud"] >= 2


def test_primary_key_id_server_detected_once_and_used_for_cursor_reads_and_writes():
    with simulator(row_id_field="PrimaryKeyId") as url, client(url) as uc:
        lines = list(uc.read_raw("DebtorInvoiceLines", top=5))
        assert lines and all(r["RowId"] == r["PrimaryKeyId"] for r in lines)   # canonical name added
        assert all(r["DCAccount"] and r["Account"] == r["DCAccount"] for r in lines)
        assert uc.session.row_id_field == "PrimaryKeyId"                      # learnt from the rows, no call
        highest = lines[2]["RowId"]
        after = list(uc.read_raw("DebtorInvoiceLines", filter=Field("RowId") > highest, top=3))
        assert [r["RowId"] for r in after][:2] == [lines[3]["RowId"], lines[4]["RowId"]]
        assert all(r["RowId"] > highest for r in after)
    # a fresh client filtering first: sent as RowId, refused (400), one $top=1 detection, sent again
    with simulator(row_id_field="PrimaryKeyId") as url, client(url) as uc:
        before = uc.calls_used
        rows = list(uc.read_raw("GLTransClient", filter=Field("RowId") > 0, top=2))
        assert len(rows) == 2 and all(r["RowId"] for r in rows)
        assert uc.calls_used - before == 3 and uc.session.row_id_field == "PrimaryKeyId"
        debtor = next(uc.debtors(top=1))
        assert debtor.RowId is not None
        debtor.Name = "Omdøbt A/S"
        stored = uc.update(debtor)
        assert stored.RowId == debtor.RowId and stored.Name == "Omdøbt A/S"
    # configured: no detection at all
    with simulator(row_id_field="PrimaryKeyId") as url:
        settings = UnicontaSettings(base_url=url, username="integration", password=SecretStr(PASSWORD),
                                    company_id=10001, row_id_field="PrimaryKeyId")
        with UnicontaClient(settings, retry=FAST, sleep=lambda s: None) as uc:
            assert len(list(uc.read_raw("GLTransClient", filter=Field("RowId") > 0, top=2))) == 2
            assert uc.calls_used == 1


def test_rows_without_any_row_id_fail_loudly_in_a_cursor_read():
    from tlsync.clients.uniconta.fields import MissingRowIdError

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"value": [{"InvoiceNumber": 1, "LineNumber": 1}]})

    settings = UnicontaSettings(base_url="http://uniconta.test", username="integration",
                                password=SecretStr(PASSWORD), company_id=10001)
    with UnicontaClient(settings, transport=httpx.MockTransport(handler), retry=FAST) as uc:
        assert list(uc.read_raw("DebtorInvoiceLines"))  # a plain read takes them as they are
        with pytest.raises(MissingRowIdError) as err:
            list(uc.read_raw("DebtorInvoiceLines", filter=Field("RowId") > 10))
    assert "row_id_field" in str(err.value) and "DebtorInvoiceLines" in str(err.value)
