"""The ASGI app: OData feed (``/odata/...``), JSON CRUD API (``/api/Entities/...``) and admin (``/_sim/...``).

See the package docstring (:mod:`simulators.uniconta`) for the documented behaviour and choices.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import random
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from .errors import UnicontaError, bad_request
from .odata import ODataError, parse_filter, parse_nonneg_int, parse_orderby, parse_select, sort_rows
from .posting import post_drafts
from .schema import SCHEMAS
from .store import Company, Quota, Store, Table, User

SYSTEM_OPTIONS = {"$filter", "$orderby", "$top", "$skip", "$select", "$format", "$count", "$inlinecount"}
ODATA_HEADERS = {"OData-Version": "4.0"}


def _wire(row: dict, select: list[str] | None = None) -> dict:
    """A stored row as served: no simulator metadata (``_…``), only the ``$select``-ed fields."""
    if select:
        return {k: row[k] for k in select if k in row}
    return {k: v for k, v in row.items() if not k.startswith("_")}


COMPANY_WIRE = {"CompanyId": "PrimaryKeyId", "Name": "CompanyName", "ProjectModule": "Project"}
"""Stored company attribute → the field name public clients read from ``GET /api/Entities/CompanyClient``
(``PrimaryKeyId`` is the company id, ``CompanyName`` its name; the project module is the .NET ``Company.Project``
property). The fixture format keeps ``CompanyId``/``Name``/``ProjectModule`` (a simulator convention)."""


def company_row(attrs: dict) -> dict:
    """A company as listed to the user, with the public field names (:data:`COMPANY_WIRE`)."""
    return {COMPANY_WIRE.get(k, k): v for k, v in attrs.items() if not k.startswith("_")}


ROW_ID_FIELDS = ("RowId", "PrimaryKeyId")


class UnicontaSim:
    def __init__(self, store: Store, quota: Quota, counters: Any, page_size: int,
                 row_id_field: str = "RowId") -> None:
        if row_id_field not in ROW_ID_FIELDS:
            raise ValueError(f"row_id_field must be one of {', '.join(ROW_ID_FIELDS)}, not {row_id_field!r}")
        self.store = store
        self.quota = quota
        self.counters = counters
        self.page_size = page_size
        self.row_id_field = row_id_field
        #: served name → stored name (empty when the row id is served as ``RowId``)
        self.aliases = {} if row_id_field == "RowId" else {row_id_field: "RowId"}

    # ------------------------------------------------------------------------------------------ row id names
    def wire(self, row: dict, select: list[str] | None = None) -> dict:
        """A stored row as served, the row id under :attr:`row_id_field`."""
        out = _wire(row, select)
        if self.aliases and "RowId" in out:
            out = {(self.row_id_field if k == "RowId" else k): v for k, v in out.items()}
        return out

    def inbound(self, body: Any) -> Any:
        """A written record with the served row-id name mapped back to the stored ``RowId``."""
        if not self.aliases or not isinstance(body, dict):
            return body
        return {("RowId" if k == self.row_id_field else k): v for k, v in body.items() if k != "RowId"}

    def known_wire(self, known: Any) -> Any:
        """``known`` judged on served names: the row id answers to :attr:`row_id_field` only."""
        if not self.aliases:
            return known
        return lambda n: n == self.row_id_field or (n != "RowId" and known(n))

    # --------------------------------------------------------------------------------------------- callers
    async def caller(self, request: Request, surface: str) -> tuple[User, int | None]:
        """Authenticate (HTTP Basic), count the call, apply the daily quota (throttle, or refuse in that mode)."""
        header = request.headers.get("authorization", "")
        challenge = {"WWW-Authenticate": 'Basic realm="Uniconta"'}
        if not header.lower().startswith("basic "):
            self.counters.hit(surface)
            raise UnicontaError(401, "Unauthorized", "Login required: send HTTP Basic credentials of a Uniconta "
                                "user ('<user>' or '00<CompanyId>/<user>' and the password)", headers=challenge)
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
            username, password = decoded.split(":", 1)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            self.counters.hit(surface)
            raise UnicontaError(401, "Unauthorized", "Login failed: malformed HTTP Basic credentials",
                                headers=challenge) from None
        try:
            user, cid = self.store.authenticate(username, password)
        except UnicontaError:
            self.counters.hit(surface)
            raise
        self.counters.hit(surface, user.UserName)
        ok, used, delay = self.quota.spend_with_delay(user.UserName)
        if delay:
            await asyncio.sleep(delay)
        if not ok:
            limit = self.quota.daily_quota
            raise UnicontaError(403, "DailyCallLimitExceeded",
                                f"Daily API call limit reached: user '{user.UserName}' has used {used} of {limit} "
                                f"calls allowed per day; calls are refused until the quota resets tomorrow",
                                limit=limit, used=used)
        return user, cid

    def company(self, user: User, name_cid: int | None, path_cid: str | None) -> Company:
        if name_cid is not None:
            company = self.store.resolve_company(user, name_cid)
        else:
            company = None
        if path_cid is not None:
            if not path_cid.isdigit():
                raise UnicontaError(404, "NotFound", f"Unknown company '{path_cid}': the company id in the path "
                                    "must be a number")
            return self.store.resolve_company(user, int(path_cid))
        return company or self.store.resolve_company(user, None)

    # ---------------------------------------------------------------------------------------------- OData
    def service_document(self, request: Request, company: Company) -> JSONResponse:
        base = str(request.base_url)
        names = self.store.class_names(company)
        body = {"@odata.context": f"{base}odata/{company.id}/$metadata",
                "value": [{"name": n, "kind": "EntitySet", "url": n} for n in names]}
        return JSONResponse(body, headers=ODATA_HEADERS)

    def entity_set(self, request: Request, company: Company, user: User, cls: str) -> JSONResponse:
        params = request.query_params
        for k in params:
            if k.startswith("$") and k not in SYSTEM_OPTIONS:
                raise bad_request(f"The query parameter '{k}' is not supported by this service")
        aliases: dict[str, str] = {}
        if cls == "CompanyClient":
            rows = [company_row(c.attrs) for c in self.store.visible_companies(user)]
            fields = {COMPANY_WIRE.get(f, f) for f in SCHEMAS["CompanyClient"].fields}.union(*(r.keys() for r in rows))

            def known(n: str) -> bool:
                return n in fields
            table = None
        else:
            table = self.store.table(company, cls)
            known = self.known_wire(table.known)
            aliases = self.aliases
        try:
            filt = parse_filter(params["$filter"], known, cls, aliases) if "$filter" in params else None
            orderby = parse_orderby(params["$orderby"], known, cls, aliases) if params.get("$orderby") else None
            select = parse_select(params["$select"], known, cls, aliases) if "$select" in params else None
            top = parse_nonneg_int("$top", params["$top"]) if "$top" in params else None
            skip = parse_nonneg_int("$skip", params["$skip"]) if "$skip" in params else 0
        except ODataError as exc:
            raise bad_request(str(exc), **{"class": cls}) from None
        if table is None:
            result = [r for r in rows if filt is None or filt.predicate(r)]
            if orderby:
                result = sort_rows(result, orderby)
        else:
            result = self.store.query(company, table, filt, orderby)
        total = len(result)
        end = total if top is None else min(total, skip + top)
        page_end = min(end, skip + self.page_size)
        page = [self.wire(r, select) if table is not None else _wire(r, select) for r in result[skip:page_end]]
        body: dict[str, Any] = {"@odata.context": f"{request.base_url}odata/{company.id}/$metadata#{cls}"}
        if params.get("$count", "").lower() == "true" or params.get("$inlinecount") == "allpages":
            body["@odata.count"] = total
        body["value"] = page
        if page_end < end:
            pairs = [(k, v) for k, v in params.multi_items() if k not in ("$skip", "$top")]
            pairs.append(("$skip", str(page_end)))
            if top is not None:
                pairs.append(("$top", str(top - (page_end - skip))))
            query = "&".join(f"{quote(k, safe='$')}={quote(v, safe=chr(39) + '(),:$')}" for k, v in pairs)
            body["@odata.nextLink"] = str(request.url.replace(query=query))
        return JSONResponse(body, headers=ODATA_HEADERS)

    # ----------------------------------------------------------------------------------------------- CRUD
    def crud_table(self, company: Company, cls: str, write: bool) -> Table:
        if cls == "CompanyClient":
            if write:
                raise UnicontaError(403, "NoRights", "CompanyClient cannot be written through this API")
            raise UnicontaError(404, "NotFound", "CompanyClient is listed at GET /api/Entities/CompanyClient")
        return self.store.table(company, cls)


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise bad_request("Request body is empty: send the JSON of the record")
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise bad_request(f"Request body is not valid JSON: {exc}") from None


async def _optional_json(request: Request) -> dict:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        doc = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise bad_request(f"Request body is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise bad_request("Request body must be a JSON object")
    return doc


def build_app(sim: UnicontaSim) -> FastAPI:
    app = FastAPI(title="Uniconta simulator", docs_url=None, redoc_url=None, openapi_url=None)
    store = sim.store

    @app.exception_handler(UnicontaError)
    async def _uniconta_error(request: Request, exc: UnicontaError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "Error")
        msg = {404: f"No resource at {request.url.path}",
               405: f"Method {request.method} is not allowed on {request.url.path}"}.get(exc.status_code,
                                                                                        str(exc.detail))
        return JSONResponse({"error": {"code": code, "message": msg}}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    # ------------------------------------------------------------------------------------------- OData
    @app.get("/odata")
    @app.get("/odata/")
    async def odata_root(request: Request) -> JSONResponse:
        user, ncid = await sim.caller(request, "odata")
        return sim.service_document(request, sim.company(user, ncid, None))

    @app.get("/odata/{seg}")
    @app.get("/odata/{seg}/")
    async def odata_one(request: Request, seg: str) -> JSONResponse:
        user, ncid = await sim.caller(request, "odata")
        if seg.isdigit():
            return sim.service_document(request, sim.company(user, ncid, seg))
        if seg.startswith("$"):
            raise UnicontaError(404, "NotFound", f"{seg} is not served by the simulator")
        company = sim.company(user, ncid, None)
        return await run_in_threadpool(sim.entity_set, request, company, user, seg)

    @app.get("/odata/{cid}/{cls}")
    async def odata_set(request: Request, cid: str, cls: str) -> JSONResponse:
        user, ncid = await sim.caller(request, "odata")
        company = sim.company(user, ncid, cid)
        if cls.startswith("$"):
            raise UnicontaError(404, "NotFound", f"{cls} is not served by the simulator")
        return await run_in_threadpool(sim.entity_set, request, company, user, cls)

    # -------------------------------------------------------------------------------------------- CRUD
    @app.post("/api/Entities/Insert/{cls}")
    async def insert(request: Request, cls: str) -> JSONResponse:
        user, ncid = await sim.caller(request, "crud")
        company = sim.company(user, ncid, None)
        table = sim.crud_table(company, cls, True)
        body = await _json_body(request)
        if isinstance(body, list):
            raise bad_request(f"Insert takes one JSON object; use /api/Entities/InsertList/{cls} for a list")
        rows = await run_in_threadpool(store.insert, company, table, [sim.inbound(body)])
        return JSONResponse(sim.wire(rows[0]))

    @app.post("/api/Entities/InsertList/{cls}")
    async def insert_list(request: Request, cls: str) -> JSONResponse:
        user, ncid = await sim.caller(request, "crud")
        company = sim.company(user, ncid, None)
        table = sim.crud_table(company, cls, True)
        body = await _json_body(request)
        if not isinstance(body, list):
            raise bad_request("InsertList takes a JSON array of records")
        rows = await run_in_threadpool(store.insert, company, table, [sim.inbound(b) for b in body])
        return JSONResponse([sim.wire(r) for r in rows])

    @app.api_route("/api/Entities/Update/{cls}", methods=["PUT", "POST"])
    async def update(request: Request, cls: str) -> JSONResponse:
        user, ncid = await sim.caller(request, "crud")
        company = sim.company(user, ncid, None)
        table = sim.crud_table(company, cls, True)
        body = await _json_body(request)
        row = await run_in_threadpool(store.update, company, table, sim.inbound(body))
        return JSONResponse(sim.wire(row))

    @app.api_route("/api/Entities/UpdateList/{cls}", methods=["PUT", "POST"])
    async def update_list(request: Request, cls: str) -> JSONResponse:
        user, ncid = await sim.caller(request, "crud")
        company = sim.company(user, ncid, None)
        table = sim.crud_table(company, cls, True)
        body = await _json_body(request)
        if not isinstance(body, list):
            raise bad_request("UpdateList takes a JSON array of records")
        rows = await run_in_threadpool(store.update_list, company, table, [sim.inbound(b) for b in body])
        return JSONResponse([sim.wire(r) for r in rows])

    @app.api_route("/api/Entities/Delete/{cls}", methods=["DELETE", "POST"])
    async def delete(request: Request, cls: str) -> JSONResponse:
        user, ncid = await sim.caller(request, "crud")
        company = sim.company(user, ncid, None)
        table = sim.crud_table(company, cls, True)
        body = await _json_body(request)
        row = await run_in_threadpool(store.delete, company, table, sim.inbound(body))
        return JSONResponse(sim.wire(row))

    async def _read(request: Request, cls: str) -> JSONResponse:
        user, ncid = await sim.caller(request, "crud")
        company = sim.company(user, ncid, None)
        if cls == "CompanyClient":
            return JSONResponse([company_row(c.attrs) for c in store.visible_companies(user)])
        table = sim.crud_table(company, cls, False)
        name, value = request.query_params.get("Name"), request.query_params.get("Value")
        if name is None and value is None:
            rows = await run_in_threadpool(store.query, company, table, None, None)
        elif name is None or value is None:
            raise bad_request("Lookup needs both Name (a field) and Value")
        else:
            rows = await run_in_threadpool(store.lookup, table, sim.aliases.get(name, name), value)
        return JSONResponse([sim.wire(r) for r in rows])

    @app.get("/api/Entities/Read/{cls}")
    async def read(request: Request, cls: str) -> JSONResponse:
        return await _read(request, cls)

    @app.get("/api/Entities/{cls}")
    async def read_short(request: Request, cls: str) -> JSONResponse:
        return await _read(request, cls)

    # ------------------------------------------------------------------------------------------- admin
    @app.post("/_sim/fixture")
    async def load_fixture(request: Request) -> JSONResponse:
        doc = await _json_body(request)
        if not isinstance(doc, dict):
            raise bad_request("fixture must be a JSON object")
        summary = await run_in_threadpool(store.load, doc)
        store._initial, store._reread = doc, None
        return JSONResponse({"loaded": summary})

    @app.get("/_sim/state")
    async def state(request: Request) -> JSONResponse:
        secrets = request.query_params.get("include_secrets", "").lower() in ("1", "true", "yes")
        return JSONResponse(await run_in_threadpool(store.dump, secrets))

    @app.post("/_sim/reset")
    async def reset() -> JSONResponse:
        summary = await run_in_threadpool(store.reset)
        sim.quota.new_day()
        return JSONResponse({"reset": summary, "quota": sim.quota.as_dict()})

    @app.get("/_sim/quota")
    async def quota() -> JSONResponse:
        return JSONResponse(sim.quota.as_dict())

    @app.post("/_sim/quota/reset")
    async def quota_reset(request: Request) -> JSONResponse:
        body = await _optional_json(request)
        limit = body.get("daily_quota")
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
            raise bad_request("daily_quota must be a non-negative integer")
        mode = body.get("mode")
        if mode is not None and mode not in Quota.MODES:
            raise bad_request(f"mode must be one of {', '.join(Quota.MODES)}")
        return JSONResponse(sim.quota.new_day(limit, mode))

    @app.put("/_sim/companies/{cid}/project-module")
    async def project_module(request: Request, cid: int) -> JSONResponse:
        body = await _optional_json(request)
        with store.lock:
            company = store.companies.get(cid)
            if company is None:
                raise UnicontaError(404, "NotFound", f"Unknown company {cid}")
            company.attrs["ProjectModule"] = bool(body.get("enabled", True))
            store._cache.clear()
            return JSONResponse(dict(company.attrs))

    @app.post("/_sim/companies/{cid}/post-drafts")
    async def post(request: Request, cid: int) -> JSONResponse:
        body = await _optional_json(request)
        company = store.companies.get(cid)
        if company is None:
            raise UnicontaError(404, "NotFound", f"Unknown company {cid}")
        result = await run_in_threadpool(post_drafts, store, company, body)
        for p in result["posted"]:
            p["invoice"] = _wire(p["invoice"])
            p["lines"] = [_wire(r) for r in p["lines"]]
        return JSONResponse(result)

    @app.post("/_sim/touch")
    async def touch(request: Request) -> JSONResponse:
        body = await _optional_json(request)
        try:
            cid = int(body["company"])
            cls = str(body["class"])
        except (KeyError, TypeError, ValueError):
            raise bad_request("touch needs {'company': CompanyId, 'class': ClassName, "
                              "and optionally 'filter', 'keys', 'count', 'seed', 'changes'}") from None
        company = store.companies.get(cid)
        if company is None:
            raise UnicontaError(404, "NotFound", f"Unknown company {cid}")
        table = store.table(company, cls)
        filt = None
        if body.get("filter"):
            try:
                filt = parse_filter(str(body["filter"]), table.known, cls)
            except ODataError as exc:
                raise bad_request(str(exc)) from None
        changes = body.get("changes")
        if changes is not None and not isinstance(changes, dict):
            raise bad_request("touch: 'changes' must be an object of field → value")
        count = body.get("count")
        rng = random.Random(body.get("seed", 0))
        touched = await run_in_threadpool(lambda: store.touch(company, table, filt=filt, keys=body.get("keys"),
                                                              count=count, changes=changes, rng=rng))
        return JSONResponse({"touched": [_wire(r) for r in touched]})

    return app
