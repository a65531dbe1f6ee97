"""Unit tests of UnicontaClient against canned answers (httpx.MockTransport): paging, auth, retries, errors."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from decimal import Decimal
from urllib.parse import parse_qs

import httpx
import pytest
from pydantic import SecretStr

from tlsync.clients._http import CallCounter, RetryPolicy
from tlsync.clients.errors import (
    AuthenticationError,
    CallBudgetExceededError,
    MalformedResponseError,
    NotFoundError,
    ProjectModuleMissingError,
    QuotaExceededError,
    RecordRejectedError,
    RetriesExhaustedError,
    UnknownCompanyError,
    UnknownMethodError,
)
from tlsync.clients.uniconta import DebtorClient, Field, InvItemClient, UnicontaClient, UnicontaSettings

SECRET = "s3cr3t-Pw!"
BASE = "https://uniconta.test"


def settings(company_id: int | None = 10001) -> UnicontaSettings:
    return UnicontaSettings(base_url=BASE, username="integration", password=SecretStr(SECRET), company_id=company_id)


class Recorder:
    """Records requests and serves answers from a handler."""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response]) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    def client(self, company_id: int | None = 10001, **kw) -> UnicontaClient:
        kw.setdefault("retry", RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.02))
        return UnicontaClient(settings(company_id), transport=httpx.MockTransport(self), sleep=self.sleeps.append,
                              seed=1, **kw)


def basic_user(request: httpx.Request) -> str:
    raw = base64.b64decode(request.headers["Authorization"].split()[1]).decode()
    user, _, pw = raw.partition(":")
    assert pw == SECRET
    return user


def json_response(body, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), headers={"Content-Type": "application/json"})


def assert_no_secret(exc: BaseException) -> None:
    assert SECRET not in str(exc) and SECRET not in repr(exc)


# ------------------------------------------------------------------------------------------------ reads


def test_read_follows_next_link_and_uses_company_in_path_and_user_name():
    rows = [{"RowId": i, "Account": str(1000 + i), "CreditMax": 10.05} for i in range(5)]

    def handler(req: httpx.Request) -> httpx.Response:
        assert req.url.path == "/odata/10001/DebtorClient"
        assert req.headers["Accept"] == "application/json"
        assert basic_user(req) == "0010001/integration"
        skip = int(req.url.params.get("$skip", 0))
        page = rows[skip:skip + 2]
        body = {"value": page}
        if skip + 2 < len(rows):
            # advertised on another host: the client must keep talking to its own base URL
            body["@odata.nextLink"] = f"http://internal:9999/odata/10001/DebtorClient?$skip={skip + 2}"
        return json_response(body)

    rec = Recorder(handler)
    with rec.client() as uc:
        out = list(uc.debtors())
    assert [d.Account for d in out] == [r["Account"] for r in rows]
    assert all(d.CreditMax == Decimal("10.05") for d in out)
    assert len(rec.requests) == 3 and all(r.url.host == "uniconta.test" for r in rec.requests)
    assert uc.calls_used == 3


def test_read_sends_filter_orderby_top_and_client_page_size():
    rows = [{"RowId": i, "Item": f"I{i}"} for i in range(1, 8)]

    def handler(req: httpx.Request) -> httpx.Response:
        q = {k: v[0] for k, v in parse_qs(req.url.query.decode()).items()}
        assert q["$filter"] == "Blocked eq false and Name eq 'O''Brien'"
        assert q["$orderby"] == "RowId asc"
        skip, top = int(q.get("$skip", 0)), int(q["$top"])
        return json_response({"value": rows[skip:skip + top]})

    rec = Recorder(handler)
    with rec.client() as uc:
        out = list(uc.read(InvItemClient, filter=(Field("Blocked") == False) & (Field("Name") == "O'Brien"),  # noqa: E712
                           page_size=3, top=6))
    assert [i.Item for i in out] == ["I1", "I2", "I3", "I4", "I5", "I6"]
    tops = [(r.url.params.get("$skip"), r.url.params.get("$top")) for r in rec.requests]
    assert tops == [(None, "3"), ("3", "3")]


def test_client_paging_stops_on_a_short_page():
    rows = [{"RowId": i} for i in range(1, 6)]

    def handler(req: httpx.Request) -> httpx.Response:
        skip, top = int(req.url.params.get("$skip", 0)), int(req.url.params["$top"])
        return json_response({"value": rows[skip:skip + top]})

    rec = Recorder(handler)
    with rec.client() as uc:
        assert len(list(uc.read("DebtorClient", page_size=2))) == 5
    assert len(rec.requests) == 3  # 2 + 2 + 1 (short page ends it)


def test_read_without_a_company_is_refused_before_any_call():
    rec = Recorder(lambda r: json_response({"value": []}))
    with rec.client(company_id=None) as uc:
        with pytest.raises(UnknownCompanyError, match="rule S1"):
            list(uc.debtors())
    assert rec.requests == []


def test_companies_are_listed_as_the_bare_user():
    def handler(req: httpx.Request) -> httpx.Response:
        assert basic_user(req) == "integration"
        return json_response({"value": [{"CompanyId": 10001, "Name": "A"}, {"CompanyId": 10002, "Name": "B"}]})

    rec = Recorder(handler)
    with rec.client(company_id=None) as uc:
        assert [c.CompanyId for c in uc.companies()] == [10001, 10002]
        with uc.choose_company(10002) as c2:
            assert c2.company_id == 10002 and c2.counter is uc.counter
        with pytest.raises(UnknownCompanyError) as ei:
            uc.choose_company(4242)
    assert "4242" in str(ei.value) and "10001, 10002" in str(ei.value)
    assert_no_secret(ei.value)


# --------------------------------------------------------------------------------------- retries & budget


def test_retry_after_is_honoured_on_a_plain_429():
    answers = iter([
        httpx.Response(429, content=b"Too Many Requests", headers={"Retry-After": "7", "Content-Type": "text/plain"}),
        json_response({"value": [{"Account": "1"}]}),
    ])
    rec = Recorder(lambda r: next(answers))
    with rec.client(retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=30)) as uc:
        assert [d.Account for d in uc.debtors()] == ["1"]
    assert len(rec.sleeps) == 1 and rec.sleeps[0] >= 7  # the sleep recorder saw the server's Retry-After
    assert uc.calls_used == 2  # both attempts are counted against the quota


def test_truncated_json_is_retried_then_surfaced_as_malformed():
    rec = Recorder(lambda r: httpx.Response(200, content=b'{"value": [{"Account": "1", "Na'))
    with rec.client() as uc:
        with pytest.raises(MalformedResponseError) as ei:
            list(uc.debtors())
    assert len(rec.requests) == 4  # max_attempts
    assert ei.value.where == "GET /odata/10001/DebtorClient page 1"
    assert "Uniconta" in str(ei.value)


def test_truncated_once_then_good():
    answers = iter([httpx.Response(200, content=b'{"value": [{"Acc'), json_response({"value": [{"Account": "9"}]})])
    rec = Recorder(lambda r: next(answers))
    with rec.client() as uc:
        assert [d.Account for d in uc.debtors()] == ["9"]


def test_5xx_exhausts_retries():
    rec = Recorder(lambda r: httpx.Response(503, content=b"Service Unavailable"))
    with rec.client() as uc:
        with pytest.raises(RetriesExhaustedError):
            list(uc.debtors())
    assert len(rec.requests) == 4


def test_budget_refusal_spends_no_call():
    rec = Recorder(lambda r: json_response({"value": [{"Account": "1"}]}))
    counter = CallCounter(budgets={"Uniconta": 2})
    with rec.client(counter=counter) as uc:
        assert uc.can_afford(2) and not uc.can_afford(3)
        list(uc.debtors())
        list(uc.debtors())
        assert uc.calls_remaining == 0 and not uc.can_afford(1)
        with pytest.raises(CallBudgetExceededError):
            list(uc.debtors())
    assert len(rec.requests) == 2 and counter.get("Uniconta") == 2


# --------------------------------------------------------------------------------------------- errors


def envelope(code: str, message: str, **extra) -> dict:
    """The simulator's documented error body (OData error envelope)."""
    return {"error": {"code": code, "message": message, **extra}}


@pytest.mark.parametrize(
    ("status", "body", "headers", "error", "fragment"),
    [
        (401, envelope("Unauthorized", "Login failed: wrong user name or password"), {}, AuthenticationError,
         "Airflow Connection"),
        (401, {"error": "Invalid user name or password"}, {}, AuthenticationError, "user/password"),
        (403, envelope("NoRights", "Unknown company 10001: user 'integration' has no access", company=10001), {},
         UnknownCompanyError, "10001"),
        (403, envelope("DailyCallLimitExceeded", "Daily API call limit reached", limit=5000, used=5000), {},
         QuotaExceededError, "quota"),
        (429, {"error": "Daily quota of 5000 calls exceeded"}, {"Retry-After": "3600"}, QuotaExceededError, "quota"),
        (403, envelope("NoSubscription", "The project module is not active in company 10001"), {},
         ProjectModuleMissingError, "rule T3"),
        (404, envelope("NotFound", "Unknown entity set 'FooClient'"), {}, UnknownMethodError, "FooClient"),
        (400, envelope("BadRequest", "Syntax error at position 3 in $filter"), {}, RecordRejectedError, "$filter"),
    ],
)
def test_error_mapping_is_typed_named_and_not_retried(status, body, headers, error, fragment):
    rec = Recorder(lambda r: httpx.Response(status, content=json.dumps(body).encode(), headers=headers))
    with rec.client() as uc:
        with pytest.raises(error) as ei:
            list(uc.read("FooClient"))
    assert len(rec.requests) == 1, "fatal errors must not be retried"
    assert fragment in str(ei.value) and str(ei.value).startswith("Uniconta: ")
    assert_no_secret(ei.value)
    assert rec.sleeps == []


def test_wrong_password_names_the_setting_only():
    rec = Recorder(lambda r: httpx.Response(401, content=f"bad password {SECRET}".encode()))
    with rec.client() as uc:
        with pytest.raises(AuthenticationError) as ei:
            list(uc.debtors())
    assert not isinstance(ei.value, UnknownCompanyError)
    assert ei.value.setting == "Uniconta user/password in the Airflow Connection"
    assert ei.value.system == "Uniconta"
    assert_no_secret(ei.value)
    assert SECRET not in repr(uc) and SECRET not in repr(uc.settings)


# ---------------------------------------------------------------------------------------------- writes


def test_insert_list_batches_and_returns_server_rows():
    seen: list[list[dict]] = []

    def handler(req: httpx.Request) -> httpx.Response:
        assert req.method == "POST" and req.url.path == "/api/Entities/InsertList/DebtorClient"
        assert basic_user(req) == "0010001/integration"
        rows = json.loads(req.content)
        seen.append(rows)
        return json_response([dict(r, RowId=100 + i) for i, r in enumerate(rows)])

    rec = Recorder(handler)
    debtors = [DebtorClient(Account=str(i), Name=f"D{i}", CreditMax=Decimal("1.10")) for i in range(5)]
    with rec.client() as uc:
        out = uc.insert_list(debtors, batch_size=2)
    assert [len(b) for b in seen] == [2, 2, 1]
    assert seen[0][0] == {"Account": "0", "Name": "D0", "CreditMax": 1.1}
    assert [d.Account for d in out] == ["0", "1", "2", "3", "4"] and out[0].RowId == 100


def test_update_put_full_object_and_delete_sends_body():
    calls = []

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append((req.method, req.url.path, json.loads(req.content)))
        return httpx.Response(204) if req.method == "DELETE" else json_response(json.loads(req.content))

    rec = Recorder(handler)
    d = DebtorClient.model_validate({"RowId": 3, "Account": "7", "Name": "X", "Dimension1": "keep me"})
    with rec.client() as uc:
        d.Name = "Y"
        assert uc.update(d).Name == "Y"
        uc.delete(d)
    assert calls[0] == ("PUT", "/api/Entities/Update/DebtorClient",
                        {"RowId": 3, "Account": "7", "Name": "Y", "Dimension1": "keep me"})
    assert calls[1][0:2] == ("DELETE", "/api/Entities/Delete/DebtorClient")


def test_rejected_write_names_the_record():
    rec = Recorder(lambda r: httpx.Response(400, content=b'{"error": "KeyExists"}'))
    with rec.client() as uc:
        with pytest.raises(RecordRejectedError) as ei:
            uc.insert(DebtorClient(Account="1001", Name="Dup"))
    assert ei.value.record == "DebtorClient Account=1001" and ei.value.status == 400
    assert "KeyExists" in str(ei.value)
    assert len(rec.requests) == 1


def test_write_with_unreadable_2xx_body_is_not_repeated():
    rec = Recorder(lambda r: httpx.Response(200, content=b'{"RowId": 5, "Acc'))
    with rec.client() as uc:
        out = uc.insert(DebtorClient(Account="1"))
    assert out.Account == "1" and len(rec.requests) == 1


def test_get_by_name_value():
    def handler(req: httpx.Request) -> httpx.Response:
        assert req.url.path == "/api/Entities/InvItemClient"
        assert dict(req.url.params) == {"Name": "Item", "Value": "A 1"}
        return json_response([{"Item": "A 1", "SalesPrice1": 99.95}])

    rec = Recorder(handler)
    with rec.client() as uc:
        [item] = uc.get_by(InvItemClient, "Item", "A 1")
    assert item.SalesPrice1 == Decimal("99.95")


def test_get_by_not_found_is_empty():
    rec = Recorder(lambda r: httpx.Response(404, content=b'{"error": "record not found"}'))
    with rec.client() as uc:
        assert uc.get_by("DebtorClient", "Account", "nope") == []
        with pytest.raises(NotFoundError):
            uc.update(DebtorClient(Account="nope"))


def test_raw_reads_keep_rows_that_do_not_fit_the_model():
    rows = [{"RowId": 1, "Account": "1", "CreditMax": "lots"}, {"RowId": 2, "Account": "2", "CreditMax": 5.5}]
    rec = Recorder(lambda r: json_response({"value": rows}))
    with rec.client() as uc:
        raw = list(uc.read_raw("DebtorClient"))
        assert raw[1]["CreditMax"] == Decimal("5.5") and raw[0]["CreditMax"] == "lots"
        with pytest.raises(MalformedResponseError) as ei:
            list(uc.debtors())
    assert "RowId=1" in str(ei.value) and "CreditMax" in str(ei.value)
    assert len(rec.requests) == 2  # a row that does not fit its model is not retried


def test_companies_raw():
    rec = Recorder(lambda r: json_response({"value": [{"CompanyId": 10001, "Name": "A", "Extra": 1}]}))
    with rec.client(company_id=None) as uc:
        assert uc.companies_raw() == [{"CompanyId": 10001, "Name": "A", "Extra": 1}]


def test_insert_list_answer_that_is_not_the_stored_array_is_marked_unverified():
    """Issue 13, evidence 7: InsertList's answer is not published; a 2xx that is not the array of stored records
    (an ErrorCodes value, a status object) is not taken as proof — the caller reads back."""
    import httpx
    from pydantic import SecretStr

    from tlsync.clients.uniconta import ProjectClient, UnicontaClient, UnicontaSettings
    from tlsync.clients.uniconta.crud import Unverified

    answers = iter([httpx.Response(200, json=0), httpx.Response(200, json=[{"Number": "P1", "RowId": 5}])])

    def handler(request: httpx.Request) -> httpx.Response:
        return next(answers)

    settings = UnicontaSettings(base_url="http://uniconta.test", username="u", password=SecretStr("p"),
                                company_id=1)
    with UnicontaClient(settings, transport=httpx.MockTransport(handler)) as uc:
        first = uc.insert_list([ProjectClient(Number="P1", Group="G")])
        second = uc.insert_list([ProjectClient(Number="P1", Group="G")])
    assert isinstance(first, Unverified) and first[0].RowId is None
    assert not isinstance(second, Unverified) and second[0].RowId == 5
