"""From an Airflow Connection's fields to typed clients, and the connection checks behind *Test* (rule S1).

Kept out of ``plugins/`` so that it is plain, unit-tested Python: the hooks only read the Connection and call
these functions. Missing settings are reported by the name the administrator sees in the Airflow UI, and no
message ever contains a secret.

:func:`clients` builds a :class:`Clients` value — TimeLog's Reporting, Transactional and REST clients of one site
and one company's Uniconta client, the pieces asked for — which is what the hooks' ``get_conn()`` return (as
``HttpHook.get_conn()`` returns a session). Decision (issue 12): this module is the floor above the clients and
imports nothing from the flows (not :mod:`tlsync.nightly`): the nightly's extraction sources
(:mod:`tlsync.nightly.sources`) wrap a :class:`Clients`, and the write-back steps (:mod:`tlsync.writeback.steps`) use
the clients directly.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tlsync import config
from tlsync.clients._http import CallCounter
from tlsync.clients.errors import SyncAPIError
from tlsync.errors import UserSettingError

if TYPE_CHECKING:
    from tlsync.clients.timelog import ReportingClient, RestClient, TransactionalClient
    from tlsync.clients.uniconta import UnicontaClient

DEFAULT_UNICONTA_URL = "https://odata.uniconta.com"
UNICONTA_DAILY_QUOTA = 5000


#: the fields of a Connection, as :func:`connection_fields` and :func:`airflow_fields` give them
CONNECTION_FIELDS = ("conn_id", "host", "login", "password", "extra")


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


def timelog_rest_client(fields: Mapping[str, Any], **client_kw: Any) -> RestClient:
    """TimeLog's :class:`~tlsync.clients.timelog.RestClient` from a ``timelog`` Connection's fields: *Site URL*
    (host) and the personal access token (extra ``rest_token``)."""
    from tlsync.clients.timelog import RestClient, RestSettings

    conn_id = fields.get("conn_id") or "timelog_default"
    return RestClient(RestSettings(
        base_url=_require(conn_id, fields.get("host"), "Site URL (host)"),
        token=_require(conn_id, (fields.get("extra") or {}).get("rest_token"), "REST API personal access token")),
        **client_kw)


class Clients:
    """The typed clients of one task: TimeLog's three APIs for one site (Reporting, Transactional, REST — one
    :class:`CallCounter` between them) and one company's Uniconta client, as far as they were asked for.

    A context manager that closes every client it holds. Asking for a piece that was not built (a step that has only
    the TimeLog Connection asking for Uniconta) is a programming error and says which piece is missing."""

    def __init__(self, *, reporting: ReportingClient | None = None, transactional: TransactionalClient | None = None,
                 rest: RestClient | None = None, uniconta: UnicontaClient | None = None, site: str = "",
                 counter: CallCounter | None = None, uniconta_conn_id: str = "") -> None:
        self._reporting, self._transactional, self._rest, self._uniconta = reporting, transactional, rest, uniconta
        self.site = site                          # TimeLog's Reporting site code ('' without TimeLog)
        self.counter = counter or CallCounter()   # TimeLog's calls (Uniconta's are on its client's counter)
        self.uniconta_conn_id = uniconta_conn_id

    @staticmethod
    def _need(client: Any, what: str) -> Any:
        if client is None:
            raise ConnectionSettingError(f"no {what} client was built for this task (its Connection was not given)")
        return client

    @property
    def reporting(self) -> ReportingClient:
        client: ReportingClient = self._need(self._reporting, "TimeLog Reporting API")
        return client

    @property
    def transactional(self) -> TransactionalClient:
        client: TransactionalClient = self._need(self._transactional, "TimeLog Transactional API")
        return client

    @property
    def rest(self) -> RestClient:
        client: RestClient = self._need(self._rest, "TimeLog REST API")
        return client

    @property
    def uniconta(self) -> UnicontaClient:
        client: UnicontaClient = self._need(self._uniconta, "Uniconta")
        return client

    def has_timelog(self) -> bool:
        return self._reporting is not None

    def has_uniconta(self) -> bool:
        return self._uniconta is not None

    def uniconta_company(self) -> int:
        """The company the Uniconta client works in; :class:`ConnectionSettingError` when none was chosen."""
        company = self.uniconta.company_id
        if company is None:
            raise ConnectionSettingError(f"Airflow Connection '{self.uniconta_conn_id}': no Uniconta company chosen; "
                                         "set the extra 'company_id' or map legal entities to companies (rule S1/S2)")
        return int(company)

    def close(self) -> None:
        for client in (self._reporting, self._rest, self._transactional, self._uniconta):
            if client is not None:
                client.close()

    def __enter__(self) -> Clients:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def clients(*, timelog: Mapping[str, Any] | None = None, uniconta: Mapping[str, Any] | None = None,
            company_id: int | None = None, reserve: int = 0, tally: bool = True,
            timelog_counter: CallCounter | None = None, uniconta_counter: CallCounter | None = None,
            **client_kw: Any) -> Clients:
    """The :class:`Clients` of a ``timelog`` Connection's fields and/or a ``uniconta`` Connection's fields (``None``:
    that system's clients are not built). ``company_id`` (default: the Connection's extra), ``reserve`` and
    ``tally``: see :func:`uniconta_client`."""
    out = Clients()
    try:
        if timelog is not None:
            out = _timelog_clients(timelog, timelog_counter, **client_kw)
        if uniconta is not None:
            out._uniconta = uniconta_client(company_id=company_id, counter=uniconta_counter, tally=tally,
                                            reserve=reserve, **{**uniconta, **client_kw})
            out.uniconta_conn_id = str(uniconta.get("conn_id") or "uniconta_default")
    except BaseException:
        out.close()
        raise
    return out


def _timelog_clients(fields: Mapping[str, Any], counter: CallCounter | None = None, **client_kw: Any) -> Clients:
    from tlsync.clients.timelog import (
        ReportingClient,
        ReportingSettings,
        TransactionalClient,
        TransactionalSettings,
    )

    conn_id = fields.get("conn_id") or "timelog_default"
    extra = fields.get("extra") or {}
    site_url = _require(conn_id, fields.get("host"), "Site URL (host)")
    counter = counter or CallCounter()
    site_code = _require(conn_id, extra.get("reporting_site_code"), "Reporting API site code")
    reporting = ReportingClient(ReportingSettings(
        base_url=site_url, site_code=site_code,
        api_id=_require(conn_id, extra.get("reporting_api_id"), "Reporting API id"),
        api_password=_require(conn_id, extra.get("reporting_api_password"), "Reporting API password")),
        counter=counter, **client_kw)
    rest = timelog_rest_client({"conn_id": conn_id, "host": site_url, "extra": extra}, counter=counter, **client_kw)
    transactional = TransactionalClient(TransactionalSettings(
        base_url=site_url, username=_require(conn_id, fields.get("login"), "Transactional API user (login)"),
        password=_require(conn_id, fields.get("password"), "Transactional API password")), counter=counter,
        **client_kw)
    return Clients(reporting=reporting, rest=rest, transactional=transactional, site=str(site_code), counter=counter)


def timelog_source(*, counter: CallCounter | None = None, **fields: Any) -> Clients:
    """TimeLog's clients of a ``timelog`` Connection (``conn_id``, ``host``, ``login``, ``password``, ``extra``):
    ``.reporting``, ``.transactional``, ``.rest``. Kept for the callers that only need the clients; the nightly's
    extraction source is :func:`tlsync.nightly.sources.timelog_source`."""
    conn = {k: v for k, v in fields.items() if k in CONNECTION_FIELDS}
    client_kw = {k: v for k, v in fields.items() if k not in CONNECTION_FIELDS}
    return clients(timelog=conn, timelog_counter=counter, **client_kw)


def uniconta_client(*, conn_id: str, host: str | None, login: str | None, password: str | None,
                    extra: dict[str, Any], company_id: int | None = None, counter: CallCounter | None = None,
                    tally: bool = True, reserve: int = 0, **client_kw: Any) -> UnicontaClient:
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
        row_id_field=extra.get("row_id_field") or None, list_settings=config.UNICONTA_LIST_SETTINGS)
    if tally and "allowance" not in client_kw:
        from tlsync.quota import DailyTally, daily_allowance
        from tlsync.staging.engine import staging_engine

        client_kw["allowance"] = DailyTally(staging_engine(), settings.username,
                                            allowance=max(0, daily_allowance() - max(0, reserve)))
    return UnicontaClient(settings, counter=counter, **client_kw)


def check_timelog(**fields: Any) -> tuple[bool, str]:
    """Reporting ``ValidateCredentials``, a Transactional token, and one REST read — each named if it fails."""
    try:
        tl = clients(timelog=fields)
    except (ConnectionSettingError, ValueError) as exc:
        return False, str(exc)
    with tl:
        checks = []
        try:
            if not tl.reporting.validate_credentials():
                return False, "TimeLog Reporting API refused the site code / API id / API password"
            checks.append("Reporting API ok")
            entities = [e.name for e in tl.reporting.legal_entities() if e.name]
            checks.append(f"legal entities: {', '.join(entities) or 'none'}")
            tl.transactional.token()
            checks.append("Transactional API ok")
            currencies = {c.abbreviation for c in tl.rest.currencies()}
            checks.append(f"REST API ok ({len(currencies)} currencies)")
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
