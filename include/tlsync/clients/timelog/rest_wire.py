"""How one REST v1 call travels: the settings, the bearer token, walking a TAF list page by page, reading a single
record, JSON with exact Decimals, and mapping ``ResponseError`` answers to typed errors — the base of
:class:`~.rest.RestClient`, which holds the resources.

Wire facts are in :mod:`.rest`. In short: every list asks for ``$pagesize`` (without it TimeLog returns 10 rows)
and walks ``$page`` to ``TotalPage``; a 500 carrying the documented ``ResponseError`` shape is the API's answer
and is not retried, any other 5xx is (:mod:`._common`); the token is scrubbed from any quoted server text. An
answer that says it comes from the simulator (``X-TimeLog-Simulator``) is remembered for
:meth:`~.rest.RestClient.product_writes_available`.

Split from :mod:`.rest` (issue 12), which re-exports :class:`RestSettings` and :data:`SYSTEM`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from .._http import CallCounter, ResilientClient, RetryPolicy
from ..errors import (
    AuthenticationError,
    MalformedResponseError,
    NotFoundError,
    RecordRejectedError,
    SyncAPIError,
)
from ._common import (
    ClientLifecycle,
    RawRecord,
    call,
    json_body,
    raise_for_server_error,
    retry_without_500,
    scrub,
    validate_record,
)

M = TypeVar("M", bound=BaseModel)

SYSTEM = "TimeLog REST API"
SETTING_TOKEN = "REST API personal access token (RestSettings.token)"
SETTING_URL = "TimeLog site URL (RestSettings.base_url)"


class RestSettings(BaseModel):
    """The site URL and a personal access token (https://login.timelog.com/personaltoken, ≤ 2 years).

    The token acts as its user, so that user needs the privileges for what the sync writes (customers,
    product numbers, project expenses).
    """

    model_config = ConfigDict(frozen=True)

    base_url: str
    token: SecretStr
    page_size: int = Field(500, ge=1, le=1000)
    timeout: float = Field(60.0, gt=0)
    product_writes: bool = False
    """Send product-number writes (create/activate/rename) although TimeLog's public API has none — only for a
    server known to accept them. The simulator says so itself (``X-TimeLog-Simulator``); leave this off."""

    @field_validator("base_url")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        for suffix in ("/api/v1", "/api"):
            if value.lower().endswith(suffix):
                value = value[: -len(suffix)]
        if not value.startswith(("http://", "https://")):
            raise ValueError("base_url must be the TimeLog site URL, starting with http:// or https://")
        return value


class RestWire(ClientLifecycle):
    """Sends REST v1 requests and reads their answers (see the module doc); subclassed by
    :class:`~.rest.RestClient`."""

    system = SYSTEM

    def __init__(
        self,
        settings: RestSettings,
        *,
        counter: CallCounter | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self._http = ResilientClient(
            SYSTEM,
            f"{settings.base_url}/api/v1/",
            headers={"Authorization": f"Bearer {settings.token.get_secret_value()}",
                     "Accept": "application/json"},
            timeout=httpx.Timeout(settings.timeout, connect=10.0),
            retry=retry_without_500(retry),
            counter=counter,
            classify=self._classify,
            transport=transport,
            sleep=sleep,
        )

    # -- machinery -------------------------------------------------------------------------------------------

    def _list(self, path: str, model: type[M], query: dict[str, Any] | None = None) -> Iterator[RawRecord[M]]:
        """Walk a TAFList from ``$page=1`` to ``TotalPage`` with a large ``$pagesize`` (``query``: more
        query parameters, e.g. ``projectID``)."""
        size = self.settings.page_size
        page = 1
        while True:
            where = f"GET {path} page {page}"
            doc = call(self._http, "GET", path, params={**(query or {}), "$page": page, "$pagesize": size},
                       record=path,
                       parse=partial(self._json, where=where))
            if not isinstance(doc, dict) or not isinstance(doc.get("Entities", []), list):
                raise MalformedResponseError(SYSTEM, "expected a TAF list {Properties, Entities, Links}", where=where)
            entities = doc.get("Entities") or []
            props = doc.get("Properties")
            if not isinstance(props, dict):
                props = {}
            total_pages = _as_int(props.get("TotalPage"))
            for index, entity in enumerate(entities):
                raw = entity.get("Properties") if isinstance(entity, dict) else None
                if not isinstance(raw, dict):
                    raise MalformedResponseError(SYSTEM, "an entity without Properties",
                                                 where=f"{where} entity {index + 1}")
                yield validate_record(model, raw, f"{where} entity {index + 1}")
            if not entities:
                return
            if total_pages is not None:
                if page >= total_pages:
                    return
            elif len(entities) < size:
                return
            page += 1

    def _single(self, method: str, path: str, model: type[M], *, record: str,
                body: Any = None) -> M:
        result = self._single_or_none(method, path, model, record=record, body=body)
        if result is None:
            raise MalformedResponseError(SYSTEM, "expected a record in the answer", where=f"{method} {path}")
        return result

    def _single_or_none(self, method: str, path: str, model: type[M], *, record: str,
                        body: Any = None) -> M | None:
        where = f"{method} {path}"
        kwargs: dict[str, Any] = {}
        if body is not None:
            kwargs = {"content": json_body(body), "headers": {"Content-Type": "application/json"}}
        doc = call(self._http, method, path, record=record, parse=lambda resp: self._json(resp, where), **kwargs)
        if doc is None or doc == "" or doc == {}:
            return None
        if isinstance(doc, dict) and isinstance(doc.get("Properties"), dict):
            raw = doc["Properties"]
        elif isinstance(doc, dict):
            raw = doc  # a bare model (the swagger's response types are unwrapped)
        else:
            return None
        result = validate_record(model, raw, where)
        if result.model is None:
            raise MalformedResponseError(SYSTEM, result.error or "invalid record", where=where)
        return result.model

    def _json(self, resp: httpx.Response, where: str) -> Any:
        if resp.headers.get("x-timelog-simulator"):
            self._simulator = True
        raise_for_server_error(resp, SYSTEM, f"{where} (HTTP {resp.status_code})")
        if not resp.content.strip():
            return None
        try:
            return json.loads(resp.content, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise MalformedResponseError(SYSTEM, f"the JSON does not parse ({exc.msg})",
                                         where=f"{where} line {exc.lineno} column {exc.colno}") from None

    def _classify(self, resp: httpx.Response, record: str | None) -> SyncAPIError | None:
        if resp.is_success:
            return None
        what = record or resp.request.url.path
        error = _response_error(resp)
        message = self._scrub(error.get("Message") or "") if error else ""
        details = error.get("Details") if error else None
        if details:
            message = f"{message} ({self._scrub(json.dumps(details, default=str)[:300])})"
        if resp.status_code == 401:
            return AuthenticationError(SYSTEM, f"the token was refused ({message or 'Invalid authentication token'})",
                                       setting=SETTING_TOKEN)
        if resp.status_code == 403:
            return AuthenticationError(SYSTEM, f"the token's user may not do this ({message or 'forbidden'})",
                                       setting=SETTING_TOKEN)
        if resp.status_code == 404:
            return NotFoundError(SYSTEM, message or f"not found: {resp.request.method} {resp.request.url.path}",
                                 record=what, status=404)
        if resp.status_code == 500 and error is None:
            return None  # no ResponseError: a server hiccup, retried (see _common)
        if 400 <= resp.status_code <= 500:
            text = message or self._scrub(resp.text[:300]) or resp.reason_phrase
            return RecordRejectedError(SYSTEM, text, record=what, status=resp.status_code)
        return None

    def _scrub(self, text: str) -> str:
        return scrub(text, self.settings.token.get_secret_value())


def _as_int(value: Any) -> int | None:
    try:
        return int(str(value).strip()) if value is not None and str(value).strip() else None
    except ValueError:
        return None


def _response_error(resp: httpx.Response) -> dict[str, Any] | None:
    """The ``ResponseError`` body, if the answer has that documented shape."""
    try:
        doc = json.loads(resp.content) if resp.content else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if isinstance(doc, dict) and ("Message" in doc or "Code" in doc):
        return doc
    return None
