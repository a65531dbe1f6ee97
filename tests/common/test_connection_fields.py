"""``tlsync.connections.connection_fields``: the one reader of Airflow Connections for the command line and local
runs (rule S1: secrets only in Airflow Connections or the environment, never in a message)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from tlsync.clients.errors import AuthenticationError
from tlsync.connections import (
    ConnectionSettingError,
    airflow_fields,
    connection_fields,
    env_names,
    timelog_rest_client,
)

SECRET = "s3cr3t-pw-123"


def test_reads_airflow_json_form_with_extra_as_object_or_text(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_UC_TEST", json.dumps({"conn_type": "uniconta", "host": "http://u",
                                                           "login": "me", "password": SECRET,
                                                           "extra": json.dumps({"company_id": 10001})}))
    assert connection_fields("uc_test") == {"conn_id": "uc_test", "host": "http://u", "login": "me",
                                            "password": SECRET, "extra": {"company_id": 10001}}
    monkeypatch.setenv("AIRFLOW_CONN_UC_TEST", json.dumps({"host": "http://u", "extra": {"company_id": 7}}))
    fields = connection_fields("uc_test")
    assert fields["extra"] == {"company_id": 7} and fields["login"] is None and fields["password"] is None


def test_a_shell_friendly_name_is_read_for_ids_with_dashes_and_dots(monkeypatch):
    assert env_names("tl-prod.dk") == ["AIRFLOW_CONN_TL-PROD.DK", "AIRFLOW_CONN_TL_PROD_DK"]
    assert env_names("timelog_default") == ["AIRFLOW_CONN_TIMELOG_DEFAULT"]
    monkeypatch.setenv("AIRFLOW_CONN_TL_PROD_DK", json.dumps({"host": "https://app5.timelog.com/x"}))
    assert connection_fields("tl-prod.dk")["host"] == "https://app5.timelog.com/x"


def test_missing_connection_names_the_variable(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_NOWHERE_TEST", raising=False)
    with pytest.raises(ConnectionSettingError, match="'nowhere_test' is not available: set AIRFLOW_CONN_NOWHERE_TEST"):
        connection_fields("nowhere_test")


def test_malformed_variable_is_refused_without_echoing_its_secret(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_BROKEN_TEST", '{"password": "' + SECRET + '", ')
    with pytest.raises(ConnectionSettingError) as exc:
        connection_fields("broken_test")
    assert "AIRFLOW_CONN_BROKEN_TEST is not JSON" in str(exc.value) and SECRET not in str(exc.value)


def test_airflow_connection_object_gives_the_same_fields():
    conn = SimpleNamespace(host="h", login="l", password=SECRET, extra_dejson={"rest_token": "t"})
    assert airflow_fields("timelog_default", conn) == {"conn_id": "timelog_default", "host": "h", "login": "l",
                                                       "password": SECRET, "extra": {"rest_token": "t"}}


def test_rest_client_needs_site_and_token_and_names_the_missing_field():
    with pytest.raises(ConnectionSettingError, match="'tl': the field 'REST API personal access token' is empty"):
        timelog_rest_client({"conn_id": "tl", "host": "http://x", "extra": {}})
    with pytest.raises(ConnectionSettingError, match="'tl': the field 'Site URL \\(host\\)' is empty"):
        timelog_rest_client({"conn_id": "tl", "host": "", "extra": {"rest_token": SECRET}})
    with timelog_rest_client({"conn_id": "tl", "host": "http://x", "extra": {"rest_token": SECRET}}) as client:
        assert client.settings.base_url == "http://x"
        assert client.settings.token.get_secret_value() == SECRET


def test_rest_client_from_the_connection_reads_the_site_with_its_token(sims):
    """The client is wired to the Connection's site and token: it reads the served site's customers, and the same
    fields with another token are refused as an authentication error (never the token in the message)."""
    fields = sims["timelog"]
    with timelog_rest_client(fields) as client:
        customers = list(client.customers())
    assert customers and all(c.customer_id for c in customers)
    wrong = {**fields, "extra": {**fields["extra"], "rest_token": SECRET}}
    with timelog_rest_client(wrong) as client, pytest.raises(AuthenticationError) as refused:
        list(client.customers())
    assert SECRET not in str(refused.value)


def test_clients_build_only_the_pieces_asked_for_and_name_the_missing_field():
    """``connections.clients``: TimeLog's three clients from a ``timelog`` Connection, nothing for a system whose
    fields are not given (asking for it names the piece), and a missing field named as the UI shows it."""
    from tlsync.connections import clients

    fields = {"conn_id": "tl", "host": "http://x", "login": "u", "password": SECRET,
              "extra": {"reporting_site_code": "SITE", "reporting_api_id": "id", "reporting_api_password": SECRET,
                        "rest_token": SECRET}}
    with clients(timelog=fields) as built:
        assert built.site == "SITE" and built.has_timelog() and not built.has_uniconta()
        assert built.rest.settings.base_url == built.transactional.settings.base_url == "http://x"
        with pytest.raises(ConnectionSettingError, match="no Uniconta client was built"):
            assert built.uniconta
    with pytest.raises(ConnectionSettingError, match="'tl': the field 'Transactional API password' is empty"):
        clients(timelog={**fields, "password": ""})
    uniconta = {"conn_id": "uc", "host": "http://u", "login": "me", "password": SECRET, "extra": {}}
    with clients(uniconta=uniconta, tally=False) as built, pytest.raises(ConnectionSettingError) as none_chosen:
        built.uniconta_company()
    assert "'uc': no Uniconta company chosen" in str(none_chosen.value) and SECRET not in str(none_chosen.value)
    with clients(uniconta=uniconta, company_id=10002, tally=False) as built:
        assert built.uniconta_company() == 10002 and not built.has_timelog()


def test_connections_sit_below_the_flows_they_serve():
    """Issue 12: ``tlsync.connections`` builds clients; the nightly's sources and the write-back wrap them, never the
    other way round (an import of ``tlsync.nightly`` here, even inside a function, fails this test)."""
    import ast
    from pathlib import Path

    import tlsync.connections as module

    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    flows = [m for m in imported if m.split(".")[:2] in (["tlsync", "nightly"], ["tlsync", "writeback"])]
    assert imported and not flows, imported
