"""From an Airflow Connection's fields to typed clients, and the connection checks behind *Test* (rule S1).

Kept out of ``plugins/`` so that it is plain, unit-tested Python: the hooks only read the Connection and call
these functions. Missing settings are reported by the name the administrator sees in the Airflow UI, and no
message ever contains a secret.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from tlsync.clients._http import CallCounter
from tlsync.clients.errors import SyncAPIError
from tlsync.errors import UserSettingError

DEFAULT_UNICONTA_URL = "https://odata.uniconta.com"
UNICONTA_DAILY_QUOTA = 5000


class ConnectionSettingError(UserSettingError):
    """A Connection field is missing or wrong; the message names the connection and the field."""


def _require(conn_id: str, value: Any, field: str) -> Any:
    if value in (None, ""):
        raise ConnectionSettingError(f"Airflow Connection '{conn_id}': the field '{field}' is empty")
    return value


def env_names(conn_id: str) -> list[str]:
    """The environment variables that may hold Connection ``conn_id``: Airflow's own ``AIRFLOW_CONN_<CONN_ID>``,
    then the same with ``-`` and ``.`` as ``_`` (what a shell can export)."""
    upper = conn_id.upper()
    return list(dict.fromkeys((f"AIRFLOW_CONN_{upper}", f"AIRFLOW_CONN_{upper.replace('-', '_').replace('.', '_')}")))


def airflow_fields(conn_id: str, conn: Any) -> dict[str, Any]:
    """An Airflow ``Connection`` object as the fields the builders here take (secrets stay in memory)."""
    return {"conn_id": conn_id, "host": conn.host, "login": conn.login, "password": conn.password,
            "extra": conn.extra_dejson}


def connection_fields(conn_id: str, *, airflow: bool = False) -> dict[str, Any]:
    """The fields of Airflow Connection ``conn_id`` (``conn_id``, ``host``, ``login``, ``password``, ``extra``)
    for the command line and local runs: from ``AIRFLOW_CONN_<CONN_ID>`` (Airflow's JSON form), else — with
    ``airflow=True`` — from Airflow's own lookup (its metadata database or secrets backend). Secrets come only
    from there, are never logged, and no error message contains one: :class:`ConnectionSettingError` names the
    Connection and the variable. (The hooks read their Connection through Airflow and use :func:`airflow_fields`.)
    """
    names = env_names(conn_id)
    raw = next((os.environ[n] for n in names if os.environ.get(n)), None)
    if raw:
        try:
            conn = json.loads(raw)
            extra = conn.get("extra") or {}
            extra = json.loads(extra) if isinstance(extra, str) else extra
        except (ValueError, AttributeError):
            raise ConnectionSettingError(f"{names[0]} is not JSON (Airflow's JSON connection form expected)") from None
        return {"conn_id": conn_id, "host": conn.get("host"), "login": conn.get("login"),
                "password": conn.get("password"), "extra": extra}
    if airflow:
        try:  # pragma: no cover - needs an Airflow metadata database with the Connection
            from airflow.sdk import BaseHook

            return airflow_fields(conn_id, BaseHook.get_connection(conn_id))
        except Exception:  # noqa: BLE001 - whatever Airflow raises, the advice is the same
            pass
    raise ConnectionSettingError(f"Airflow Connection '{conn_id}' is not available: set {names[0]} (Airflow's JSON "
                                 f"connection form)" + (" or add the Connection in Airflow" if airflow else ""))


def timelog_rest_client(fields: Mapping[str, Any], **client_kw: Any):
    """TimeLog's :class:`~tlsync.clients.timelog.RestClient` from a ``timelog`` Connection's fields: *Site URL*
    (host) and the personal access token (extra ``rest_token``)."""
    from tlsync.clients.timelog import RestClient, RestSettings

    conn_id = fields.get("conn_id") or "timelog_default"
    return RestClient(RestSettings(
        base_url=_require(conn_id, fields.get("host"), "Site URL (host)"),
        token=_require(conn_id, (fields.get("extra") or {}).get("rest_token"), "REST API personal access token")),
        **client_kw)


def timelog_source(*, conn_id: str, host: str | None, login: str | None, password: str | None,
                   extra: dict[str, Any], counter: CallCounter | None = None, **client_kw: Any):
    """Build the :class:`~tlsync.sync.sources.TimeLogSource` for a ``timelog`` Connection."""
    from tlsync.clients.timelog import (
        ReportingClient,
        ReportingSettings,
        TransactionalClient,
        TransactionalSettings,
    )
    from tlsync.sync.sources import TimeLogSource

    site_url = _require(conn_id, host, "Site URL (host)")
    counter = counter or CallCounter()
    site_code = _require(conn_id, extra.get("reporting_site_code"), "Reporting API site code")
    reporting = ReportingClient(ReportingSettings(
        base_url=site_url, site_code=site_code,
        api_id=_require(conn_id, extra.get("reporting_api_id"), "Reporting API id"),
        api_password=_require(conn_id, extra.get("reporting_api_password"), "Reporting API password")),
        counter=counter, **client_kw)
    rest = timelog_rest_client({"conn_id": conn_id, "host": site_url, "extra": extra}, counter=counter, **client_kw)
    transactional = TransactionalClient(TransactionalSettings(
        base_url=site_url, username=_require(conn_id, login, "Transactional API user (login)"),
        password=_require(conn_id, password, "Transactional API password")), counter=counter, **client_kw)
    return TimeLogSource(site=site_code, reporting=reporting, rest=rest, transactional=transactional, counter=counter)


def uniconta_client(*, conn_id: str, host: str | None, login: str | None, password: str | None,
                    extra: dict[str, Any], company_id: int | None = None, counter: CallCounter | None = None,
                    tally: bool = True, reserve: int = 0, **client_kw: Any):
    """A Uniconta client from a Connection's fields. Every call it makes is booked in the daily tally shared by
    all tasks and processes (:mod:`tlsync.quota`; ``tally=False`` only for a connection test without staging);
    ``reserve`` calls of the day's allowance are left for work of higher priority (the invoices)."""
    from tlsync.clients.uniconta import UnicontaClient, UnicontaSettings

    company = company_id if company_id is not None else extra.get("company_id")
    budget = int(extra.get("daily_call_budget") or UNICONTA_DAILY_QUOTA)
    counter = counter or CallCounter(budgets={"Uniconta": budget})
    settings = UnicontaSettings(
        base_url=(host or DEFAULT_UNICONTA_URL), username=_require(conn_id, login, "Uniconta user (login)"),
        password=_require(conn_id, password, "Uniconta password"),
        company_id=int(company) if company not in (None, "") else None,
        row_id_field=extra.get("row_id_field") or None)
    if tally and "allowance" not in client_kw:
        from tlsync.quota import DailyTally, daily_allowance
        from tlsync.sync.config import staging_engine

        client_kw["allowance"] = DailyTally(staging_engine(), settings.username,
                                            allowance=max(0, daily_allowance() - max(0, reserve)))
    return UnicontaClient(settings, counter=counter, **client_kw)


def uniconta_source(*, company_id: int | None = None, **fields: Any):
    from tlsync.sync.sources import UnicontaSource

    client = uniconta_client(company_id=company_id, **fields)
    chosen = client.company_id
    if chosen is None:
        client.close()
        raise ConnectionSettingError(f"Airflow Connection '{fields['conn_id']}': no Uniconta company chosen; set the "
                                     "extra 'company_id' or map legal entities to companies (rule S1/S2)")
    return UnicontaSource(client, chosen)


def check_timelog(**fields: Any) -> tuple[bool, str]:
    """Reporting ``ValidateCredentials``, a Transactional token, and one REST read — each named if it fails."""
    try:
        source = timelog_source(**fields)
    except (ConnectionSettingError, ValueError) as exc:
        return False, str(exc)
    with source:
        checks = []
        try:
            if not source.reporting.validate_credentials():
                return False, "TimeLog Reporting API refused the site code / API id / API password"
            checks.append("Reporting API ok")
            entities = [e.name for e in source.reporting.legal_entities()]
            checks.append(f"legal entities: {', '.join(entities) or 'none'}")
            source.transactional.token()
            checks.append("Transactional API ok")
            checks.append(f"REST API ok ({len(source.currencies())} currencies)")
        except SyncAPIError as exc:
            return False, "; ".join([*checks, str(exc)])
    return True, "; ".join(checks)


def check_uniconta(**fields: Any) -> tuple[bool, str]:
    """Log in, list the companies the user can see (the seed's "choose the company" step, rule S1), and check
    the configured company is one of them."""
    try:
        client = uniconta_client(**fields)
    except (ConnectionSettingError, ValueError) as exc:
        return False, str(exc)
    with client:
        try:
            companies = client.companies()
        except SyncAPIError as exc:
            return False, str(exc)
        listing = ", ".join(f"{c.CompanyId} {c.Name}" for c in companies) or "none"
        wanted = client.company_id
        if wanted is not None and wanted not in {c.CompanyId for c in companies}:
            return False, f"Uniconta: company {wanted} is not visible to this user; choose one of: {listing}"
        chosen = f"; using company {wanted}" if wanted is not None else "; choose one and set extra 'company_id'"
        return True, f"Connected to Uniconta. Companies: {listing}{chosen}"
