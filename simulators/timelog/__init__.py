"""TimeLog PSA simulator: the Reporting, Transactional and REST v1 APIs of one TimeLog site, in memory.

The real site lives at ``https://app[X].timelog.com/{account}/``; the simulator's account name is ``tlsim``, so a
client configured with base URL ``http://127.0.0.1:8081/tlsim`` talks to it exactly as to
``https://app5.timelog.com/youraccount``:

- Reporting API — ``GET|POST /tlsim/service.asmx/{Method}`` (HTTP GET / form POST) and SOAP 1.1
  ``POST /tlsim/service.asmx``; see :mod:`simulators.timelog.reporting`.
- Transactional API — SOAP 1.1 ``POST /tlsim/WebServices/{Area}/{Version}/{Name}ServiceSecure.svc``; see
  :mod:`simulators.timelog.transactional`.
- REST API v1 — ``/tlsim/api/v1/...`` with ``Authorization: Bearer <PAT>``; see :mod:`simulators.timelog.rest`.
- Admin — ``/_sim/...``; see :mod:`simulators.timelog.admin` (plus faults and counters from
  :mod:`simulators._common`).

Default credentials (override with the fixture's ``timelog.auth``): Reporting ``siteCode=SIMSITE``,
``apiID=apiuser``, ``apiPassword=apipass``; Transactional user ``integration`` / ``integration-pw`` (initials
``INT``); REST PAT ``sim-pat-token``.

State is seeded from a fixture document (``{"timelog": {...}}``, see ``docs/CONVENTIONS.md``) or from the
generator (``size``/``seed``). Fixture collections use the Reporting API's plural roots and field names
(``Customers``, ``Invoices``, ``InvoiceLines`` ...), REST-only data (``Products``, ``ExpenseTypes``,
``PaymentTerms``, ``Currencies``) REST v1 field names; ``_``-prefixed keys are metadata (``_LastModifiedAt`` drives
the Transactional "modified" operations). Missing fields get defaults (see :mod:`simulators.timelog.store`).
Absent ``LegalEntities``/``Currencies``/``PaymentTerms``/``CustomerStatuses`` get a small default set.

Every API call is counted in the shared :class:`~simulators._common.CallCounters` by surface (``reporting``,
``transactional``, ``rest``) and by user (``reporting:<apiID>``, ``transactional:<initials or user>``,
``rest:pat<n>``); fault injection wraps the whole app (:func:`~simulators._common.wrap_with_faults`).

Start it with ``python -m simulators.timelog --port 8081 [--fixture file.json | --size S --seed 42]``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from simulators._common import CallCounters, FaultConfig, wrap_with_faults

from .admin import add_admin
from .reporting import ReportingAPI
from .rest import RestAPI
from .store import SITE, TimelogStore
from .transactional import TransactionalAPI

__all__ = ["SITE", "TimelogStore", "create_app"]


def _generated(size: str, seed: int, today: date | None = None) -> dict:
    try:
        from simulators.generator import generate  # type: ignore[import-not-found]
    except ImportError as e:  # pragma: no cover - depends on the generator package being present
        raise RuntimeError("simulators.generator is not available; pass a fixture instead of size=") from e
    return generate(size=size, seed=seed, today=today)


def create_app(fixture: dict | None = None, *, size: str | None = None, seed: int = 42,
               today: date | None = None, faults: FaultConfig | None = None, product_writes: bool = True,
               reread: Callable[[], dict | None] | None = None) -> Any:
    """The ASGI app to serve: the simulator behind the shared fault injector.

    ``product_writes=False`` serves TimeLog's public REST API as published (issue 13, evidence 1: REST v1 has only
    ``GET /product``): the product-number write extension is gone (its paths are unknown routes) and the REST
    answers do not say ``X-TimeLog-Simulator``, so the product treats the server as the real TimeLog and lists the
    item-number changes to make by hand (``tlsync items todo``, rule U2).

    ``fixture`` (a whole fixture document or its ``"timelog"`` section) seeds the state; without it ``size``
    (S/M/L) asks the generator for one, dated up to ``today`` (default: today in Denmark). The returned object carries ``.store`` (the :class:`TimelogStore`),
    ``.counters`` and ``.fastapi`` for in-process use. ``reread`` gives the fixture again for a reset, so that the
    store need not keep it (see :class:`TimelogStore`; the command passes a re-read of its ``--fixture`` file).
    """
    if fixture is None and size:
        fixture = _generated(size, seed, today)
    store = TimelogStore(fixture, reread=reread)
    del fixture
    counters = CallCounters()
    app = FastAPI(title="TimeLog PSA simulator", docs_url=None, redoc_url=None, openapi_url=None)
    reporting = ReportingAPI(store, counters)
    transactional = TransactionalAPI(store, counters, SITE)
    rest = RestAPI(store, counters, SITE)
    if not product_writes:
        extension = (rest.product_create, rest.product_activate, rest.product_update)
        rest.routes = [r for r in rest.routes if r[2] not in extension]

    async def asmx_method(request: Request, method: str) -> Response:
        return await reporting.http(request, method)

    async def asmx_soap(request: Request) -> Response:
        return await reporting.soap(request)

    async def asmx_help(request: Request) -> Response:
        return reporting.help_page()

    async def svc(request: Request, path: str) -> Response:
        full = f"/{SITE}/WebServices/{path}"
        if full not in transactional.paths:
            counters.hit("transactional", None)
            return Response("<html><body><h2>404 - File or directory not found.</h2></body></html>", status_code=404,
                            media_type="text/html")
        return await transactional.handle(request, full)

    async def rest_api(request: Request, path: str) -> Response:
        resp = await rest.handle(request, path)
        # Says "this is the simulator": product-number writes (create/activate/rename) exist only here, and the
        # product's REST client refuses them against any server that does not say so (issue 13, rule U2).
        if product_writes:
            resp.headers["X-TimeLog-Simulator"] = "tlsync"
        return resp

    app.add_api_route(f"/{SITE}/service.asmx/{{method}}", asmx_method, methods=["GET", "POST"], include_in_schema=False)
    app.add_api_route(f"/{SITE}/service.asmx", asmx_soap, methods=["POST"], include_in_schema=False)
    app.add_api_route(f"/{SITE}/service.asmx", asmx_help, methods=["GET"], include_in_schema=False)
    app.add_api_route(f"/{SITE}/WebServices/{{path:path}}", svc, methods=["GET", "POST"], include_in_schema=False)
    app.add_api_route(f"/{SITE}/api/{{path:path}}", rest_api, methods=["GET", "POST", "PUT", "DELETE", "PATCH"],
                      include_in_schema=False)
    add_admin(app, store, SITE)
    app.state.store = store
    injector = wrap_with_faults(app, counters, faults)
    injector.store = store  # type: ignore[attr-defined]
    injector.fastapi = app  # type: ignore[attr-defined]
    return injector
