"""Simulator of Uniconta's OData feed and JSON CRUD API (``odata.uniconta.com``), faithful to the public material in
Uniconta's API docs (Uniconta.WindowsAPI, Uniconta-Pages): pointing a client at the real host is a matter of configuration.

Start it::

    python -m simulators.uniconta --port 8082 --fixture f.json            # or: --size S --seed 42
    python -m simulators.uniconta --port 8082 --daily-quota 5000 --page-size 1000 --fault-rate-429 0.05

or in-process: ``create_app(fixture, size=, seed=, faults=, daily_quota=, page_size=, quota_mode=, throttle_seconds=,
row_id_field=)`` → ASGI app.

Public evidence the simulator follows (Uniconta publishes no API reference for these; each choice names its source)
- Companies: ``GET /api/Entities/CompanyClient`` with ``PrimaryKeyId`` (the company id), ``CompanyName`` and
  ``Project`` (the project module, .NET ``Company.Project``) — as read by public clients (Uniconta-PowerBI
  scripts, Uniconta-Pages' company picker). The fixture keeps ``CompanyId``/``Name``/``ProjectModule``.
- ``DebtorInvoiceLines`` carry the customer as ``DCAccount`` (Uniconta-Pages ``DebtorInvoiceLinesPage.xaml``).
- Quota: by default the service *slows down* (``quota_mode="throttle"``: about 1 s extra per call for each
  ``daily_quota`` calls, support.uniconta.com); the 403 refusal is the optional ``quota_mode="refuse"``.
- Row id: served as ``RowId`` by default; ``row_id_field="PrimaryKeyId"`` serves (and filters/orders on) the name
  public OData consumers see instead, so a client must detect the field rather than assume it.

Default credentials (overridable by the fixture's ``uniconta.users``): user ``integration`` / ``uniconta-pw``,
with access to every company. Without a fixture and size there is one company, 10001, with the project module.

API served (real paths)
-----------------------
Auth: HTTP Basic on every call. The user name is ``<user>`` or ``00<CompanyId>/<user>`` (the prefix selects the
company; ``<CompanyId>/<user>`` without the zeros works too). User names are case-insensitive, passwords are not.

OData feed (read-only, always JSON — the real feed answers Atom/XML unless ``Accept: application/json``; send it):
- ``GET /odata/{CompanyId}/{ClassName}`` — ``{"@odata.context", "value": [...], "@odata.nextLink"}``.
  ``GET /odata/{ClassName}`` uses the company of the user name, else the user's ``DefaultCompany``, else the
  first company the user sees ("companyId optional (default company)").
  Options: ``$filter`` (see :mod:`.odata`: eq ne gt ge lt le, and or not, parentheses, ``'text'``, numbers,
  ``datetime'…'``, true/false/null, startswith/endswith/contains/substringof/tolower/toupper…; at most 40 ``or``),
  ``$orderby`` (several keys, asc/desc), ``$top``, ``$skip``, ``$select``, ``$count=true`` / ``$inlinecount``
  (adds ``@odata.count``); ``$format`` is ignored; any other ``$`` option is a 400.
  Paging: at most ``page_size`` rows per answer (default 1000, a documented choice: the real page size is not
  public); while more rows remain, ``@odata.nextLink`` is an absolute URL repeating the query with
  ``$skip`` advanced (and ``$top`` reduced when one was given). Default order is ``RowId`` (insertion order).
- ``GET /odata/{CompanyId}`` or ``/odata`` — the service document ``{"value": [{"name", "kind", "url"}...]}``.
- Companies the user can see: ``GET /api/Entities/CompanyClient`` — rows ``PrimaryKeyId, CompanyName, Country,
  Currency, Project…`` (see above); ``GET /odata/CompanyClient`` serves the same rows as an OData set (unconfirmed
  for the real feed: kept for OData consumers). The .NET API lists companies with ``Session.GetCompanies()``.

JSON CRUD (company: from the user name's ``00<CompanyId>/`` prefix, else the user's default company):
- ``POST /api/Entities/Insert/{Class}`` — one JSON object → 200 with the stored record (``RowId`` and server
  numbers such as ``OrderNumber``/``LineNumber`` assigned, defaults filled, nulls omitted).
- ``POST /api/Entities/InsertList/{Class}`` — a JSON array → 200 with the stored records, all or nothing (one
  failing record rejects the whole list; the error carries its ``index``). One call against the quota.
- ``PUT|POST /api/Entities/Update/{Class}`` — the full object; found by ``RowId`` if sent, else by its key
  (absent fields fall back to their defaults: Update replaces the record) → 200 with the stored record.
- ``PUT|POST /api/Entities/UpdateList/{Class}`` — a JSON array of full objects → 200 with the stored records, all
  or nothing like InsertList (the failing record's ``index`` in the error; two items for one record are a 400). One
  call against the quota. Evidence: the .NET ``CrudAPI.Update`` takes a list of entities and sends it as one
  server call (used so by the public REST wrapper ``rmja/unicontarest``, ``Controllers/CrudController.cs``:
  ``api.Update(values)`` on an array); the JSON path mirrors ``InsertList``'s and is **not confirmed** for the real
  service — a client must fall back to one ``Update`` per record when the server does not know the path (404).
- ``DELETE|POST /api/Entities/Delete/{Class}`` — the JSON of the record (``RowId`` or key) → 200 with the deleted
  record. Deleting a ``DebtorOrderClient`` deletes its ``DebtorOrderLineClient`` lines.
- ``GET /api/Entities/{Class}`` and ``GET /api/Entities/Read/{Class}`` — JSON array (not paged) of all rows, or with
  ``?Name=<field>&Value=<value>`` the rows whose field equals the value.
  Real Uniconta may answer 204 with no body on success; clients should accept both.
- Unknown JSON properties on writes are ignored (as a typed deserializer does); numbers sent as strings are
  accepted (seen in real use). Server-set fields: ``RowId``, ``Created``/``UpdatedAt`` where the class has them,
  ``DebtorOrderLineClient.Total``, ``GLTransClient.Amount``.
- Checks: key fields non-blank (``FieldCannotBeBlank``); duplicate key (``KeyExists``, names the key); an order's
  ``Account`` must be a debtor (``AccountIsMissing``); an order line's ``OrderNumber`` must be an order; a
  ``ProjectClient`` needs a ``Group``; references to masters (debtor group, payment term, layout group, VAT code,
  item, project group, project, category, employee) must exist when that master table has rows (``CouldNotFind``).

Errors (documented choices; body always ``{"error": {"code", "message", ...}}``, see :mod:`.errors`)
- 401 ``Unauthorized`` (+ ``WWW-Authenticate: Basic``): no/malformed credentials, unknown user, wrong password.
- 403 ``NoRights``: the company does not exist or the user cannot see it — message "Unknown company <id>: ...".
  (403 rather than 401: the login itself is valid.)
- 403 ``NoSubscription``: project classes (``ProjectClient``, ``ProjectGroupClient``, ``PrCategoryClient``) in a
  company without the project module (``ProjectModule: false``) — reads and writes; message names the module.
- 403 ``DailyCallLimitExceeded`` — only with ``quota_mode="refuse"``: the user's daily quota is spent
  (``daily_quota``, default 5,000 per user per day across all companies; refused calls do not count). In the
  default ``throttle`` mode no call is refused; calls past the quota are answered late. 403 and not 429 on purpose: a 429 invites a retry, but
  nothing succeeds before the next day — the body says "Daily API call limit reached" and carries
  ``limit``/``used``. (Fault-injected 429s, with ``Retry-After``, are the transient kind.)
- 404 ``NotFound``: unknown class (``Unknown entity set 'X'``) or path; 404 ``CouldNotFind``: Update/Delete of a
  record that does not exist.
- 400 ``BadRequest``: bad ``$filter``/``$orderby``/``$top``/``$skip``/``$select`` (message with position), bad JSON,
  bad field values; 400 ``FieldCannotBeBlank``/``AccountIsMissing``/``CouldNotFind`` on invalid records.
- 409 ``KeyExists``: a record with that key exists (Insert, InsertList, Update changing the key).
- 405 ``MethodNotAllowed``.
Every authenticated call counts against the quota, whatever its outcome.

Admin (``/_sim/...``, never counted, never faulted)
- ``POST /_sim/fixture`` (replace the state; becomes what reset returns to), ``GET /_sim/state`` (the fixture
  shape; passwords only with ``?include_secrets=true`` — a loaded user without ``Password`` keeps the password it
  already had, else gets the default, so ``load(dump)`` round-trips), ``POST /_sim/reset``
  (back to the last loaded fixture / start-up seed, and a new quota day).
- ``GET /_sim/quota``; ``POST /_sim/quota/reset`` (a new day; optional ``{"daily_quota": n, "mode": "throttle" |
  "refuse"}``). Usage also appears
  under ``"quota"`` in ``GET /_sim/counters`` (calls per surface and per user, faults).
- ``GET/PUT /_sim/faults`` (429 + ``Retry-After``, 5xx, slow, truncated; seeded) from ``simulators._common``.
- ``PUT /_sim/companies/{id}/project-module`` ``{"enabled": bool}``.
- ``POST /_sim/touch`` ``{"company", "class", "filter"?, "keys"?, "count"?, "seed"?, "changes"?}`` — user edits
  (default edit: `` (rettet)`` appended to ``Name``; ``UpdatedAt`` refreshed where the class has it).
- ``POST /_sim/companies/{id}/post-drafts`` ``{"orders"?, "date"?, "edit_line"?: {"order", "line", "changes"},
  "edit_random_line"?: true | {"seed", "changes"}}`` — posts the drafts as an accountant would (see
  :mod:`.posting`), returns ``{"posted": [{"invoice", "lines"}], "skipped": [...], "edited": ...}``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from .._common import CallCounters, FaultConfig, wrap_with_faults
from .app import UnicontaSim, build_app
from .store import Quota, Store

__all__ = ["create_app", "UnicontaCounters"]


class UnicontaCounters(CallCounters):
    """:class:`CallCounters` that also report the daily quota's usage under ``"quota"``."""

    def __init__(self, quota: Quota) -> None:
        super().__init__()
        self.quota = quota

    def as_dict(self) -> dict[str, Any]:
        d = super().as_dict()
        d["quota"] = self.quota.as_dict()
        return d


def create_app(
    fixture: dict | None = None,
    *,
    size: str | None = None,
    seed: int = 42,
    today: date | None = None,
    faults: FaultConfig | None = None,
    daily_quota: int = 5000,
    page_size: int = 1000,
    quota_mode: str = "throttle",
    throttle_seconds: float = 1.0,
    row_id_field: str = "RowId",
    reread: Callable[[], dict | None] | None = None,
) -> Any:
    """Build the simulator's ASGI app (behind the fault injector). ``fixture`` (whole document or its
    ``"uniconta"`` section) wins over ``size`` (generated data dated up to ``today``, default today in
    Denmark); with neither, one default company. ``reread`` gives the fixture again for a reset, so that the store
    need not keep it (the command passes a re-read of its ``--fixture`` file)."""
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    doc = fixture
    if doc is None and size is not None:
        from simulators.generator import generate  # the shared synthetic data generator

        doc = generate(size=size, seed=seed, today=today)
    store = Store(doc, reread=reread)
    del doc, fixture
    quota = Quota(daily_quota, store.clock, mode=quota_mode, throttle_seconds=throttle_seconds)
    counters = UnicontaCounters(quota)
    sim = UnicontaSim(store, quota, counters, page_size, row_id_field)
    app = build_app(sim)
    app.state.sim = sim
    injector = wrap_with_faults(app, counters, faults)
    injector.sim = sim  # handy for in-process tests
    return injector
