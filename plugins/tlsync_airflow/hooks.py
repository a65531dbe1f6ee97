"""Airflow hooks for TimeLog PSA and Uniconta ERP, built on Airflow Connections (the only place secrets live).

Thin by design: a hook reads its Connection and hands the fields to ``tlsync.connections``, which builds the typed
clients and runs the connection checks. ``test_connection`` is the seed's "connect, then choose the company"
step (rule S1): it proves the credentials and lists what the user can choose.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseHook


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
    API (personal access token), all on one Connection of type ``timelog``. ``get_conn()`` returns a
    :class:`tlsync.sync.sources.TimeLogSource` (a context manager that closes its clients)."""

    conn_type = "timelog"
    hook_name = "TimeLog PSA"
    default_conn_name = "timelog_default"

    def get_conn(self):
        from tlsync import connections

        return connections.timelog_source(**self.connection_fields())

    def test_connection(self) -> tuple[bool, str]:
        from tlsync import connections

        return connections.check_timelog(**self.connection_fields())


class UnicontaHook(_TlsyncHook):
    """Uniconta ERP on a Connection of type ``uniconta`` (user, password, company id). ``get_conn(company_id)``
    returns a :class:`tlsync.sync.sources.UnicontaSource` for that company (default: the Connection's)."""

    conn_type = "uniconta"
    hook_name = "Uniconta ERP"
    default_conn_name = "uniconta_default"

    def get_conn(self, company_id: int | None = None):
        from tlsync import connections

        return connections.uniconta_source(company_id=company_id, **self.connection_fields())

    def test_connection(self) -> tuple[bool, str]:
        from tlsync import connections

        return connections.check_uniconta(**self.connection_fields())
