"""The two systems the L3 actions write to, opened lazily: an action that has nothing to write makes no call at
all (not even a login), which is what "applying an action twice changes nothing the second time" looks like on
the wire.

Connection fields are those of the Airflow Connections (``conn_id``, ``host``, ``login``, ``password``,
``extra``), as :mod:`tlsync.connections` takes them; a Connection id is read by
:func:`tlsync.connections.connection_fields` from Airflow's ``AIRFLOW_CONN_<ID>`` environment variables (JSON form)
for the command line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tlsync.connections import ConnectionSettingError, connection_fields, timelog_rest_client, uniconta_client


class Targets:
    """TimeLog's REST client and the Uniconta client of one company, each created on first use."""

    def __init__(self, timelog: Mapping[str, Any] | str | None, uniconta: Mapping[str, Any] | str | None,
                 company_id: int, **client_kw: Any) -> None:
        """``timelog``/``uniconta``: the Connection fields, or a Connection id read by :func:`connection_fields`
        only when the first write needs it."""
        self._timelog_fields = timelog if isinstance(timelog, str) or not timelog else dict(timelog)
        self._uniconta_fields = uniconta if isinstance(uniconta, str) or not uniconta else dict(uniconta)
        self.company_id = int(company_id)
        self._client_kw = client_kw
        self._rest = None
        self._uniconta = None

    @property
    def rest(self):
        """:class:`~tlsync.clients.timelog.RestClient` (customers are written over REST v1)."""
        if self._rest is None:
            f = self._timelog_fields
            if isinstance(f, str):
                f = self._timelog_fields = connection_fields(f)
            if not f:
                raise ConnectionSettingError("no TimeLog connection given; this action writes to TimeLog")
            self._rest = timelog_rest_client(f, **self._client_kw)
        return self._rest

    @property
    def uniconta(self):
        """:class:`~tlsync.clients.uniconta.UnicontaClient` bound to the legal entity's company (rule S2)."""
        if self._uniconta is None:
            if isinstance(self._uniconta_fields, str):
                self._uniconta_fields = connection_fields(self._uniconta_fields)
            if not self._uniconta_fields:
                raise ConnectionSettingError("no Uniconta connection given; this action writes to Uniconta")
            self._uniconta = uniconta_client(company_id=self.company_id, **self._uniconta_fields)
        return self._uniconta

    def close(self) -> None:
        for client in (self._rest, self._uniconta):
            if client is not None:
                client.close()
        self._rest = self._uniconta = None

    def __enter__(self) -> Targets:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
