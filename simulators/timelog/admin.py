"""Admin surface ``/_sim/...`` (outside the API paths; never faulted, never counted).

- ``POST /_sim/fixture`` — body: a fixture document (``{"timelog": {...}}`` or the section itself); replaces the
  whole state. Secrets missing from it (a dump redacts them) keep their current values.
- ``GET  /_sim/state`` — the whole state as a fixture document (``{"timelog": {...}}``); loading it back gives the
  same state. Passwords and PATs are left out.
- ``POST /_sim/reset`` — back to the state the simulator was started with.
- ``POST /_sim/touch`` — ``{"collection": "Customers", "ids": [1, 2], "changes": {"Phone": "..."}, "at": null}``:
  applies ``changes`` (optional) and bumps ``LastModifiedAt`` (where the record has one) and ``_LastModifiedAt``
  to ``at`` (optional, default now), so incremental reads see the records as modified. 404 for an unknown
  collection or ID.
- ``GET|PUT /_sim/clock`` — ``{"now": "2025-01-31T12:00:00" | null, "offset_seconds": 0}``: freeze or shift the
  simulator's clock (token expiry, modification stamps).
- ``PUT /_sim/config`` — ``{"token_ttl_seconds": 43200}``.
- ``POST /_sim/tokens/revoke`` — every Transactional token issued so far becomes invalid.
- ``GET /_sim/info`` — paths served and record counts.
- From ``simulators._common``: ``GET|PUT /_sim/faults``, ``GET /_sim/counters``, ``POST /_sim/counters/reset``.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from .rest import json_response
from .store import TimelogStore, section_of


def add_admin(app: FastAPI, store: TimelogStore, site: str) -> None:
    async def _json(request: Request) -> Any:
        raw = await request.body()
        try:
            return json.loads(raw, parse_float=Decimal) if raw.strip() else {}
        except ValueError:
            return None

    def _bad(msg: str, status: int = 400) -> Response:
        return json_response({"error": msg}, status)

    def _counts() -> dict[str, int]:
        with store.lock:
            return {k: len(v) for k, v in store.data.items()}

    async def load_fixture(request: Request) -> Response:
        doc = await _json(request)
        if not isinstance(doc, dict):
            return _bad("body must be a fixture JSON object")
        try:
            store.load(section_of(doc))
        except (TypeError, ValueError, KeyError, AttributeError) as e:
            return _bad(f"fixture rejected: {e}")
        return json_response({"loaded": _counts()})

    async def state(request: Request) -> Response:
        return json_response(store.dump())

    async def reset(request: Request) -> Response:
        store.reset()
        return json_response({"reset": _counts()})

    async def touch(request: Request) -> Response:
        body = await _json(request)
        if not isinstance(body, dict) or "collection" not in body:
            return _bad('body must be {"collection": ..., "ids": [...], "changes": {...}}')
        ids = body.get("ids") or []
        if not isinstance(ids, list):
            return _bad("ids must be a list")
        try:
            recs = store.touch(body["collection"], ids, body.get("changes") or {}, body.get("at"))
        except KeyError as e:
            return _bad(str(e).strip("'\""), 404)
        except ValueError as e:
            return _bad(str(e))
        return json_response({"touched": len(recs), "at": recs[0].get("_LastModifiedAt") if recs else None})

    async def get_clock(request: Request) -> Response:
        return json_response({"now": store.now_str(), "fixed": store.clock_fixed is not None,
                              "offset_seconds": store.clock_offset.total_seconds()})

    async def put_clock(request: Request) -> Response:
        body = await _json(request)
        if not isinstance(body, dict):
            return _bad("body must be a JSON object")
        try:
            store.set_clock(body.get("now"), float(body.get("offset_seconds") or 0))
        except ValueError as e:
            return _bad(str(e))
        return await get_clock(request)

    async def put_config(request: Request) -> Response:
        body = await _json(request)
        if not isinstance(body, dict):
            return _bad("body must be a JSON object")
        if "token_ttl_seconds" in body:
            store.token_ttl = timedelta(seconds=float(body["token_ttl_seconds"]))
        return json_response({"token_ttl_seconds": store.token_ttl.total_seconds()})

    async def revoke(request: Request) -> Response:
        store.revoke_tokens()
        return json_response({"revoked": True})

    async def info(request: Request) -> Response:
        return json_response({
            "site": site,
            "reporting": f"/{site}/service.asmx/{{Method}}",
            "transactional": f"/{site}/WebServices/...",
            "rest": f"/{site}/api/v1/...",
            "counts": _counts(),
            "now": store.now_str(),
        })

    for path, fn, methods in (
        ("/_sim/fixture", load_fixture, ["POST"]),
        ("/_sim/state", state, ["GET"]),
        ("/_sim/reset", reset, ["POST"]),
        ("/_sim/touch", touch, ["POST"]),
        ("/_sim/clock", get_clock, ["GET"]),
        ("/_sim/clock", put_clock, ["PUT"]),
        ("/_sim/config", put_config, ["PUT"]),
        ("/_sim/tokens/revoke", revoke, ["POST"]),
        ("/_sim/info", info, ["GET"]),
    ):
        app.add_api_route(path, fn, methods=methods, include_in_schema=False)
