"""TimeLogHook and UnicontaHook on Airflow Connections (rule S1: connect, then choose the company)."""

from __future__ import annotations

import json

import pytest

from tlsync_airflow.hooks import TimeLogHook, UnicontaHook
from tlsync_airflow.provider import get_provider_info


def _conn_env(monkeypatch, conn_id: str, conn: dict) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


@pytest.fixture
def timelog_conn(sims, monkeypatch):
    conn = {"conn_type": "timelog", "host": sims["timelog"]["host"], "login": "integration",
            "password": "integration-pw", "extra": dict(sims["timelog"]["extra"])}
    _conn_env(monkeypatch, "timelog_default", conn)
    return conn


@pytest.fixture
def uniconta_conn(sims, monkeypatch):
    conn = {"conn_type": "uniconta", "host": sims["uniconta_url"], "login": "integration",
            "password": "uniconta-pw", "extra": {"company_id": 10001}}
    _conn_env(monkeypatch, "uniconta_default", conn)
    return conn


def test_timelog_hook_tests_all_three_apis(timelog_conn):
    ok, message = TimeLogHook().test_connection()
    assert ok, message
    assert "Reporting API ok" in message and "Transactional API ok" in message and "REST API ok" in message
    assert "Nordlys Consulting A/S" in message


def test_timelog_hook_names_the_wrong_setting_never_the_secret(timelog_conn, monkeypatch):
    bad = dict(timelog_conn, extra={**timelog_conn["extra"], "reporting_api_password": "hunter2-wrong"})
    _conn_env(monkeypatch, "timelog_default", bad)
    ok, message = TimeLogHook().test_connection()
    assert not ok
    assert "TimeLog Reporting API" in message and "hunter2" not in message


def test_timelog_hook_missing_field_is_named(monkeypatch):
    _conn_env(monkeypatch, "timelog_default", {"conn_type": "timelog", "host": "https://app5.timelog.com/acme",
                                               "login": "u", "password": "p", "extra": {}})
    ok, message = TimeLogHook().test_connection()
    assert not ok and message == "Airflow Connection 'timelog_default': the field 'Reporting API site code' is empty"


def test_uniconta_hook_lists_companies_and_checks_the_chosen_one(uniconta_conn, monkeypatch):
    ok, message = UnicontaHook().test_connection()
    assert ok, message
    assert "10001 Nordlys Consulting A/S" in message and "10002" in message and "using company 10001" in message
    _conn_env(monkeypatch, "uniconta_default", dict(uniconta_conn, extra={"company_id": 99999}))
    ok, message = UnicontaHook().test_connection()
    assert not ok and "company 99999 is not visible" in message and "10001" in message


def test_uniconta_wrong_password_is_clear_and_secret_free(uniconta_conn, monkeypatch):
    _conn_env(monkeypatch, "uniconta_default", dict(uniconta_conn, password="s3cr3t-wrong"))
    ok, message = UnicontaHook().test_connection()
    assert not ok and "Uniconta" in message and "s3cr3t" not in message


def test_get_conn_gives_the_clients_per_company_and_the_nightly_wraps_them(uniconta_conn, timelog_conn):
    from tlsync.nightly.sources import TimeLogSource, UnicontaSource
    from tlsync.staging.entities import get

    with UnicontaHook().get_conn(company_id=10002) as clients:
        assert clients.uniconta.company_id == clients.uniconta_company() == 10002 and not clients.has_timelog()
        source = UnicontaSource.of(clients)
        debtors = list(source.records(get("uniconta.debtors")))
        assert debtors and all("Account" in d.raw for d in debtors)
    with UnicontaHook().get_conn() as clients:        # the Connection's own company
        assert clients.uniconta_company() == 10001
    with TimeLogHook().get_conn() as clients:
        assert clients.site == "SIMSITE" and not clients.has_uniconta()
        assert clients.rest.currencies()
        assert TimeLogSource(clients).currencies()


def test_a_uniconta_connection_without_a_company_is_named(uniconta_conn, monkeypatch):
    from tlsync.connections import ConnectionSettingError
    from tlsync.nightly.sources import UnicontaSource

    _conn_env(monkeypatch, "uniconta_default", dict(uniconta_conn, extra={}))
    clients = UnicontaHook().get_conn()
    with pytest.raises(ConnectionSettingError, match="'uniconta_default': no Uniconta company chosen"):
        UnicontaSource.of(clients)
    with pytest.raises(ConnectionSettingError, match="no TimeLog REST API client was built"):
        assert clients.rest   # raises: the hook built no TimeLog client


def test_provider_registers_both_connection_types():
    info = get_provider_info()
    types = {c["connection-type"]: c for c in info["connection-types"]}
    assert types["timelog"]["hook-class-name"] == "tlsync_airflow.hooks.TimeLogHook"
    assert types["uniconta"]["hook-class-name"] == "tlsync_airflow.hooks.UnicontaHook"
    assert types["timelog"]["conn-fields"]["reporting_api_password"]["schema"]["format"] == "password"
    assert types["timelog"]["conn-fields"]["rest_token"]["schema"]["format"] == "password"
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    manager.initialize_providers_list()
    assert "tlsync" in manager.providers, "the apache_airflow_provider entry point is installed with the package"
