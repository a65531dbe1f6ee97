"""Small pieces the three TimeLog clients share: raw records for staging, HTTP 500 handling, secret scrubbing.

**Why HTTP 500 is special.** :class:`~tlsync.clients._http.ResilientClient` retries every 5xx. But TimeLog also
uses 500 for *answers*: ASMX says "Request format is unrecognized for URL unexpectedly ending in '/Foo'" for an
unknown Reporting method, WCF returns a SOAP Fault (``ActionNotSupported``) with 500, and REST v1 documents
``ResponseError`` bodies on 500 ("Request to GetAll has failed", timelog-rest-v1-swagger.md). Retrying those six
times only delays a clear error. So each client removes 500 from the retried statuses, lets its ``classify``
turn a 500 that carries the API's own error shape into a typed error at once, and raises
:class:`ServerErrorAnswer` from ``parse`` for any other 500 — a :class:`MalformedResponseError`, which
ResilientClient retries with the same backoff. If it persists, :func:`call` re-raises it as the
:class:`RetriesExhaustedError` a 503 would have produced.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Generic, Self, TypeVar
from uuid import UUID

import httpx
from pydantic import BaseModel, ValidationError

from .._http import CallCounter, ResilientClient, RetryPolicy, redact_url
from ..errors import MalformedResponseError, RetriesExhaustedError, TransientError

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


@dataclass(frozen=True)
class RawRecord(Generic[M]):
    """One record as staging wants it: the validated ``model`` (``None`` if invalid), the ``raw`` payload exactly
    as sent (strings, API field names) and, for an invalid record, the validation ``error`` in words.

    Unpacks as a pair — ``for model, raw in client.customers_raw(): ...`` — so quarantine code can keep the
    raw payload of a bad row and still load the good ones (ARCHITECTURE.md, "Validate at the boundary").
    """

    model: M | None
    raw: dict[str, Any]
    error: str | None = None
    where: str | None = None
    """Method, record and position, e.g. ``GetCustomersRaw Customer ID=12 (line 40)``."""

    def __iter__(self) -> Iterator[Any]:
        return iter((self.model, self.raw))

    @property
    def ok(self) -> bool:
        return self.model is not None


def validate_record(model: type[M], raw: dict[str, Any], where: str | None = None) -> RawRecord[M]:
    try:
        return RawRecord(model.model_validate(raw), raw, None, where)
    except ValidationError as exc:
        return RawRecord(None, raw, describe_validation_error(exc), where)


def models_only(records: Iterator[RawRecord[M]], system: str) -> Iterator[M]:
    """The typed view of a raw stream: an invalid record stops it with :class:`MalformedResponseError` naming it.

    Use the ``*_raw`` variant instead where bad rows should be quarantined rather than stop the run.
    """
    for record in records:
        if record.model is None:
            raise MalformedResponseError(system, record.error or "invalid record", where=record.where or "?")
        yield record.model


def describe_validation_error(exc: ValidationError) -> str:
    """Field names and reasons, never input values (a value could be personal data)."""
    parts = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = ".".join(str(p) for p in err.get("loc", ())) or "record"
        parts.append(f"{loc}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


class ServerErrorAnswer(MalformedResponseError):
    """An HTTP 500 without the API's own error shape: retried like any transient failure (see module doc)."""


def retry_without_500(policy: RetryPolicy | None) -> RetryPolicy:
    policy = policy or RetryPolicy()
    return dataclasses.replace(policy, retry_statuses=frozenset(policy.retry_statuses - {500}))


def raise_for_server_error(resp: httpx.Response, system: str, where: str) -> None:
    """Call first in a ``parse`` callback: a 5xx that ``classify`` let through is retried."""
    if resp.status_code >= 500:
        raise ServerErrorAnswer(system, f"HTTP {resp.status_code} from {redact_url(resp.request.url)}", where=where)


def call(client: ResilientClient, method: str, url: str, *, parse: Callable[[httpx.Response], T],
         record: str | None = None, **kwargs: Any) -> T:
    """``client.request`` that turns a persistent :class:`ServerErrorAnswer` into :class:`RetriesExhaustedError`."""
    try:
        return client.request(method, url, parse=parse, record=record, **kwargs)  # type: ignore[return-value]
    except ServerErrorAnswer as exc:
        raise RetriesExhaustedError(client.system, client.retry.max_attempts,
                                    TransientError(client.system, exc.message)) from None


def scrub(text: str, *secrets: str | None) -> str:
    """Replace every occurrence of a secret value in ``text`` (servers sometimes echo what they were sent)."""
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, "***")
    return text


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent              # "F" for infinity: a float
        return int(value) if isinstance(exponent, int) and exponent >= 0 and value == value.to_integral_value() \
            else float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00"
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def json_body(payload: Any) -> bytes:
    """JSON for a TimeLog write: Decimals as JSON numbers (TimeLog's swagger types money as ``number``)."""
    return json.dumps(payload, default=_json_default, ensure_ascii=False).encode("utf-8")


class ClientLifecycle:
    """What every TimeLog client shares around its :class:`ResilientClient` (``self._http``): the call counter,
    closing, and use as a context manager."""

    _http: ResilientClient

    @property
    def counter(self) -> CallCounter:
        return self._http.counter

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
