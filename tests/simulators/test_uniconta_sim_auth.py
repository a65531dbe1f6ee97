"""Uniconta simulator: Basic auth and company selection, company listing, daily quota, project module, faults."""

from __future__ import annotations

import httpx
import pytest

from simulators._common import FaultConfig, serve_in_thread
from simulators.uniconta import create_app


def _fixture() -> dict:
    return {"uniconta": {
        "users": [
            {"UserName": "integration", "Password": "uniconta-pw", "Companies": [10001, 10002]},
            {"UserName": "other", "Password": "other-pw", "Companies": [10003]},
        ],
        "companies": [
            {"CompanyId": 10001, "Name": "Alpha A/S", "ProjectModule": True,
             "DebtorClient": [{"Account": "1", "Name": "Alpha debtor"}],
             "ProjectGroupClient": [{"Group": "STD", "Name": "Standard"}]},
            {"CompanyId": 10002, "Name": "Beta ApS", "ProjectModule": False,
             "DebtorClient": [{"Account": "1", "Name": "Beta debtor"}]},
            {"CompanyId": 10003, "Name": "Gamma I/S", "DebtorClient": [{"Account": "9", "Name": "Gamma"}]},
        ],
    }}


@pytest.fixture
def base():
    with serve_in_thread(create_app(_fixture(), daily_quota=6, quota_mode="refuse")) as url:
        yield url


def test_company_by_user_name_prefix_and_by_path(base):
    r = httpx.get(f"{base}/odata/DebtorClient", auth=("0010002/integration", "uniconta-pw"))
    assert r.status_code == 200 and r.json()["value"][0]["Name"] == "Beta debtor"
    r = httpx.get(f"{base}/odata/10001/DebtorClient", auth=("integration", "uniconta-pw"))
    assert r.json()["value"][0]["Name"] == "Alpha debtor"
    r = httpx.get(f"{base}/odata/10002/DebtorClient", auth=("INTEGRATION", "uniconta-pw"))  # user names ignore case
    assert r.json()["value"][0]["Name"] == "Beta debtor"
    # CRUD: the company comes from the user name only
    r = httpx.get(f"{base}/api/Entities/DebtorClient", params={"Name": "Account", "Value": "1"},
                  auth=("0010002/integration", "uniconta-pw"))
    assert r.status_code == 200 and [d["Name"] for d in r.json()] == ["Beta debtor"]
    # without prefix: the user's first company
    r = httpx.get(f"{base}/api/Entities/DebtorClient", auth=("integration", "uniconta-pw"))
    assert [d["Name"] for d in r.json()] == ["Alpha debtor"]


def test_user_lists_the_companies_it_sees(base):
    """The public clients' listing: ``PrimaryKeyId``, ``CompanyName``, ``Project`` (package docstring's sources)."""
    r = httpx.get(f"{base}/api/Entities/CompanyClient", auth=("integration", "uniconta-pw"))
    assert r.status_code == 200
    companies = r.json()
    assert [(c["PrimaryKeyId"], c["CompanyName"], c["Project"]) for c in companies] == [
        (10001, "Alpha A/S", True), (10002, "Beta ApS", False)]
    assert not {"CompanyId", "Name", "ProjectModule"} & set(companies[0])
    r = httpx.get(f"{base}/odata/CompanyClient", params={"$filter": "Project eq true"},
                  auth=("integration", "uniconta-pw"))
    assert [c["PrimaryKeyId"] for c in r.json()["value"]] == [10001]
    r = httpx.get(f"{base}/api/Entities/CompanyClient", auth=("other", "other-pw"))
    assert [c["PrimaryKeyId"] for c in r.json()] == [10003]


def test_wrong_password_and_missing_credentials_are_401(base):
    r = httpx.get(f"{base}/odata/10001/DebtorClient", auth=("integration", "s3cret-guess"))
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Basic")
    err = r.json()["error"]
    assert err["code"] == "Unauthorized" and "password" in err["message"]
    assert "s3cret-guess" not in r.text
    assert httpx.get(f"{base}/odata/10001/DebtorClient").status_code == 401
    assert httpx.post(f"{base}/api/Entities/Insert/DebtorClient", json={"Account": "2"},
                      auth=("nobody", "x")).status_code == 401


def test_unknown_company_is_403_no_rights(base):
    for auth, url in ((("integration", "uniconta-pw"), "/odata/10003/DebtorClient"),
                      (("integration", "uniconta-pw"), "/odata/99999/DebtorClient"),
                      (("0010003/integration", "uniconta-pw"), "/api/Entities/DebtorClient")):
        r = httpx.get(base + url, auth=auth)
        assert r.status_code == 403, url
        err = r.json()["error"]
        assert err["code"] == "NoRights" and "Unknown company" in err["message"]


def test_daily_quota_refuses_after_n_calls_and_resets_next_day(base):
    auth = ("integration", "uniconta-pw")
    for i in range(6):  # across both companies and both surfaces
        url = ("/odata/10001/DebtorClient", "/odata/10002/DebtorClient", "/api/Entities/DebtorClient")[i % 3]
        assert httpx.get(base + url, auth=auth).status_code == 200
    r = httpx.get(f"{base}/odata/10001/DebtorClient", auth=auth)
    assert r.status_code == 403
    err = r.json()["error"]
    assert err["code"] == "DailyCallLimitExceeded" and "Daily API call limit reached" in err["message"]
    assert err["limit"] == 6 and err["used"] == 6
    assert httpx.post(f"{base}/api/Entities/Insert/DebtorClient", json={"Account": "5"}, auth=auth).status_code == 403
    # another user has its own quota
    assert httpx.get(f"{base}/odata/10003/DebtorClient", auth=("other", "other-pw")).status_code == 200
    counters = httpx.get(f"{base}/_sim/counters").json()
    assert counters["quota"]["used"]["integration"] == 6 and counters["quota"]["refused"]["integration"] == 2
    assert counters["by_user"]["integration"] == 8
    day = httpx.post(f"{base}/_sim/quota/reset").json()
    assert day["day"] == 2 and day["used"] == {}
    assert httpx.get(f"{base}/odata/10001/DebtorClient", auth=auth).status_code == 200


def test_default_quota_mode_slows_calls_down_instead_of_refusing():
    """support.uniconta.com: past the quota the service answers later, it does not refuse."""
    import time

    auth = ("integration", "uniconta-pw")
    with serve_in_thread(create_app(_fixture(), daily_quota=3, throttle_seconds=0.3)) as url:
        started = time.perf_counter()
        for _ in range(3):
            assert httpx.get(f"{url}/odata/10001/DebtorClient", auth=auth).status_code == 200
        fast = time.perf_counter() - started
        started = time.perf_counter()
        r = httpx.get(f"{url}/odata/10001/DebtorClient", auth=auth)
        slow = time.perf_counter() - started
        assert r.status_code == 200 and slow >= 0.3 > fast / 3
        quota = httpx.get(f"{url}/_sim/quota").json()
        assert quota["mode"] == "throttle" and quota["used"]["integration"] == 4
        assert quota["throttled"]["integration"] == 1 and not quota["refused"]


def test_project_module_refusal(base):
    auth = ("integration", "uniconta-pw")
    assert httpx.get(f"{base}/odata/10001/ProjectGroupClient", auth=auth).status_code == 200
    for r in (httpx.get(f"{base}/odata/10002/ProjectClient", auth=auth),
              httpx.post(f"{base}/api/Entities/Insert/ProjectClient", json={"Number": "P1", "Group": "STD"},
                         auth=("0010002/integration", "uniconta-pw")),
              httpx.get(f"{base}/api/Entities/PrCategoryClient", auth=("0010002/integration", "uniconta-pw"))):
        assert r.status_code == 403
        err = r.json()["error"]
        assert err["code"] == "NoSubscription" and "project module" in err["message"]
    httpx.put(f"{base}/_sim/companies/10002/project-module", json={"enabled": True})
    assert httpx.get(f"{base}/odata/10002/ProjectClient", auth=auth).status_code == 200


def test_fault_injection_429_with_retry_after():
    app = create_app(_fixture(), faults=FaultConfig(rate_429=1.0, retry_after=7, seed=1))
    with serve_in_thread(app) as url:
        r = httpx.get(f"{url}/odata/10001/DebtorClient", auth=("integration", "uniconta-pw"))
        assert r.status_code == 429 and r.headers["retry-after"] == "7"
        assert httpx.get(f"{url}/_sim/state").status_code == 200  # admin is never faulted
        httpx.put(f"{url}/_sim/faults", json={"rate_429": 0.0})
        assert httpx.get(f"{url}/odata/10001/DebtorClient", auth=("integration", "uniconta-pw")).status_code == 200
        counters = httpx.get(f"{url}/_sim/counters").json()
        assert counters["faults"] == {"429": 1} and counters["quota"]["used"]["integration"] == 1
