"""Typed clients for TimeLog PSA's three APIs (see TimeLog's API docs (api.timelog.com, TimeLogApiSdk)):

* :class:`ReportingClient` — bulk, read-only XML (``service.asmx``): customers, projects, invoices, lines …
* :class:`TransactionalClient` — SOAP with a session token: "modified since / in period" reads and
  ``UpdateExternalData`` write-back on transferred invoices.
* :class:`RestClient` — JSON with a personal access token: customers (create/update), product numbers, the
  dimensions that carry default item numbers, expense types, project expenses, reference data.

Each is built from an explicit settings model (:class:`ReportingSettings`, :class:`TransactionalSettings`,
:class:`RestSettings`) plus optional ``counter``/``retry``/``transport``, and every HTTP call goes through the shared
:class:`~tlsync.clients._http.ResilientClient` (retries with ``Retry-After``, call counting, typed errors).

Each client's machinery — settings, sending one call, reading its answer, mapping refusals to typed errors — sits
beside it: :mod:`.reporting_wire` and :mod:`.rest_wire` are the base classes of the Reporting and REST clients,
:mod:`.transactional_services` holds the SOAP service catalog and ``ResponseOfX`` reader (issue 12 split them off).
"""

from __future__ import annotations

from ._common import RawRecord
from .reporting import ReportingClient, ReportingSettings
from .rest import RestClient, RestSettings
from .transactional import (
    TransactionalClient,
    TransactionalError,
    TransactionalNotFoundError,
    TransactionalSettings,
)

__all__ = [
    "RawRecord",
    "ReportingClient",
    "ReportingSettings",
    "RestClient",
    "RestSettings",
    "TransactionalClient",
    "TransactionalError",
    "TransactionalNotFoundError",
    "TransactionalSettings",
]
