"""Airflow hooks for TimeLog PSA and Uniconta ERP, built on Airflow Connections (the only place secrets live).

Thin by design: a hook reads its Connection and hands the fields to ``tlsync.connections``, which builds the typed
clients and runs the connection checks. ``get_conn()`` returns a :class:`tlsync.connections.Clients` (as
``HttpHook.get_conn()`` returns a session); the nightly wraps it in its extraction source
(:mod:`tlsync.nightly.sources`). ``test_connection`` is the seed's "connect, then choose the company"
step (rule S1): it proves the credentials and lists what the user can choose.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

if TYPE_CHECKING:
    from tlsync.connections import Clients


class _TlsyncHook(BaseHook):
    conn_name_attr = "conn_id"
    default_conn_name = ""

    def __init__(self, conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.conn_id = conn_id or self.default_conn_name

    def connection_fields(self) -> dict[str, Any]:
        """The Connection as the fields ``tlsync.connections`` takes (secrets stay in memory, never logged)."""
        from airflow.exceptions import AirflowNotFoundException

        from tlsync import connections

        try:
            conn = self.get_connection(self.conn_id)
        except AirflowNotFoundException:      # one line naming what to add, not Airflow's "conn_id isn't defined"
            raise connections.ConnectionSettingError(
                f"Airflow Connection '{self.conn_id}' ({self.conn_type}) is not defined: add it in Airflow (Admin → "
                f"Connections) or set {connections.env_names(self.conn_id)[0]}") from None
        return connections.airflow_fields(self.conn_id, conn)


class TimeLogHook(_TlsyncHook):
    """TimeLog PSA: Reporting API (site code, API id, API password), Transactional API (user, password) and REST
    API (personal access token), all on one Connection of type ``timelog``. ``get_conn()`` returns their
    :class:`tlsync.connections.Clients` (``.reporting``, ``.transactional``, ``.rest``; a context manager that
    closes them)."""

    conn_type = "timelog"
    hook_name = "TimeLog PSA"
    default_conn_name = "timelog_default"

    def get_conn(self) -> Clients:
        from tlsync import connections

        return connections.clients(timelog=self.connection_fields())

    def test_connection(self) -> tuple[bool, str]:
        from tlsync import connections

        return connections.check_timelog(**self.connection_fields())


class UnicontaHook(_TlsyncHook):
    """Uniconta ERP on a Connection of type ``uniconta`` (user, password, company id). ``get_conn(company_id)``
    returns :class:`tlsync.connections.Clients` whose ``.uniconta`` works in that company (default: the
    Connection's); ``reserve`` calls of the day's allowance are left for the invoices (:mod:`tlsync.quota`)."""

    conn_type = "uniconta"
    hook_name = "Uniconta ERP"
    default_conn_name = "uniconta_default"

    def get_conn(self, company_id: int | None = None, *, reserve: int = 0) -> Clients:
        from tlsync import connections

        return connections.clients(uniconta=self.connection_fields(), company_id=company_id, reserve=reserve)

    def test_connection(self) -> tuple[bool, str]:
        from tlsync import connections

        return connections.check_uniconta(**self.connection_fields())
