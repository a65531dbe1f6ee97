"""The one place where HTTP calls are made, retried, counted and logged.

Every typed client (TimeLog Reporting/Transactional/REST, Uniconta OData/CRUD) wraps a :class:`ResilientClient`.
Following the Singer SDK's split of *retryable* vs *fatal* errors: 429 and 5xx answers, timeouts, dropped
connections and bodies that fail to parse (truncated) are retried with exponential backoff and full jitter, and a
``Retry-After`` header is honoured as a lower bound. Everything else is fatal at once and surfaces as the typed
error the surface-specific ``classify`` function chooses.

**Writes are never blindly retried** (issue 17, rule T2). A request that is not idempotent (``POST`` by default;
callers say ``idempotent=True`` for a SOAP read or ``False`` for a non-idempotent ``PUT``) is retried only when
the server provably did not act on it: the connection was never made (``ConnectError``/``ConnectTimeout``) or the
answer was 429 or 503 (refused before processing). Any other failure after the request was sent — a read
timeout, a dropped connection, 500/502/504, a 2xx whose body is truncated — raises
:class:`~tlsync.clients.errors.WriteOutcomeUnknownError`: the record may exist now, and the caller settles that by
looking it up (by ExternalID, marker or number) before anything is sent again.

Calls are counted per system in a :class:`CallCounter`, which can also enforce a budget (Uniconta's daily quota)
*before* a call is spent. URLs are logged without query values for secret-looking keys.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from .errors import (
    CallBudgetExceededError,
    MalformedResponseError,
    RetriesExhaustedError,
    SyncAPIError,
    TransientError,
    WriteOutcomeUnknownError,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

SECRET_KEYS = ("password", "apipassword", "token", "secret", "hash", "authorization", "apikey")
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
NOT_PROCESSED_STATUSES = frozenset({429, 503})
"""Answers that say the request was refused before it was processed: a write may be sent again after them."""
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def redact_url(url: str | httpx.URL) -> str:
    """Return ``url`` with the values of secret-looking query parameters replaced by ``***``."""
    parts = urlsplit(str(url))
    if not parts.query:
        return str(url)
    query = [(k, "***" if any(s in k.lower() for s in SECRET_KEYS) else v)
             for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(query, safe="*$'(), ")))


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date); ``None`` if absent/invalid."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. Defaults suit a nightly batch: ~1 minute of patience per call at most."""

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    retry_statuses: frozenset[int] = RETRYABLE_STATUSES

    def backoff(self, attempt: int, rng: random.Random, retry_after: float | None = None) -> float:
        """Full-jitter exponential backoff for ``attempt`` (1-based), never shorter than ``Retry-After``."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        delay = rng.uniform(0, ceiling)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_delay * 4))
        return delay


@dataclass
class CallCounter:
    """Thread-safe count of calls per system, with an optional budget (e.g. Uniconta's 5,000 calls/day).

    ``budget`` is checked *before* each call: when it would be exceeded, :class:`CallBudgetExceededError` is
    raised and no call is spent, so a run can stop cleanly and leave the rest for tomorrow.
    """

    budgets: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def spend(self, system: str) -> int:
        with self._lock:
            used = self.counts.get(system, 0)
            limit = self.budgets.get(system)
            if limit is not None and used >= limit:
                raise CallBudgetExceededError(
                    system, f"call budget of {limit} calls for this run is spent", used=used, limit=limit
                )
            self.counts[system] = used + 1
            return used + 1

    def get(self, system: str) -> int:
        with self._lock:
            return self.counts.get(system, 0)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self.counts)


Classifier = Callable[[httpx.Response, str | None], SyncAPIError | None]


def default_classify(system: str) -> Classifier:
    """A classifier that maps any non-2xx answer to a generic error; surfaces supply better ones."""
    from .errors import RecordRejectedError

    def classify(resp: httpx.Response, record: str | None) -> SyncAPIError | None:
        if resp.is_success:
            return None
        return RecordRejectedError(system, resp.text[:300] or resp.reason_phrase, record=record,
                                   status=resp.status_code)

    return classify


class ResilientClient:
    """An ``httpx.Client`` with retries, timeouts, a call counter and typed errors.

    ``classify(response, record)`` turns a non-retryable answer into a typed error (or ``None`` for success);
    ``parse(response)`` turns a successful answer into a value and may raise :class:`MalformedResponseError`,
    which is retried (a truncated body usually is transient) and re-raised when retries run out.
    """

    def __init__(
        self,
        system: str,
        base_url: str,
        *,
        auth: httpx.Auth | tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout | float = httpx.Timeout(60.0, connect=10.0),
        retry: RetryPolicy | None = None,
        counter: CallCounter | None = None,
        classify: Classifier | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
    ) -> None:
        self.system = system
        self.retry = retry or RetryPolicy()
        self.counter = counter or CallCounter()
        self.classify = classify or default_classify(system)
        self._sleep = sleep
        self._rng = random.Random(seed)
        self._http = httpx.Client(
            base_url=base_url, auth=auth, headers=dict(headers or {}), timeout=timeout, transport=transport
        )

    @property
    def base_url(self) -> httpx.URL:
        return self._http.base_url

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ResilientClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        parse: Callable[[httpx.Response], T] | None = None,
        record: str | None = None,
        idempotent: bool | None = None,
        **kwargs: Any,
    ) -> T | httpx.Response:
        """Send one logical request, retrying transient failures. Returns ``parse(response)`` or the response.

        ``idempotent`` (default: by ``method``, see the module docstring): ``False`` means a failure after the
        request was sent raises :class:`WriteOutcomeUnknownError` instead of sending it again."""
        if idempotent is None:
            idempotent = method.upper() in IDEMPOTENT_METHODS
        last: BaseException | None = None
        for attempt in range(1, self.retry.max_attempts + 1):
            self.counter.spend(self.system)
            retry_after: float | None = None
            try:
                resp = self._http.request(method, url, **kwargs)
            except (httpx.TimeoutException, httpx.TransportError) as exc:  # includes RemoteProtocolError
                last = TransientError(self.system, f"{type(exc).__name__} calling {redact_url(url)}")
                if not idempotent and not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
                    raise WriteOutcomeUnknownError(self.system, f"{type(exc).__name__} after sending",
                                                   record=record, cause=last) from None
            else:
                if resp.status_code in self.retry.retry_statuses:
                    retry_after = parse_retry_after(resp.headers.get("Retry-After"))
                    last = TransientError(
                        self.system, f"HTTP {resp.status_code} from {redact_url(resp.request.url)}",
                        retry_after=retry_after,
                    )
                    if not idempotent and resp.status_code not in NOT_PROCESSED_STATUSES:
                        raise WriteOutcomeUnknownError(self.system, f"HTTP {resp.status_code}", record=record,
                                                       cause=last)
                else:
                    error = self.classify(resp, record)
                    if error is not None:
                        raise error
                    if parse is None:
                        return resp
                    try:
                        return parse(resp)
                    except MalformedResponseError as exc:
                        if not idempotent:   # answered, maybe acted on (a 2xx cut short, a bare 500): unknown
                            raise WriteOutcomeUnknownError(self.system, exc.message, record=record,
                                                           cause=exc) from None
                        last = exc
            if attempt == self.retry.max_attempts:
                break
            delay = self.retry.backoff(attempt, self._rng, retry_after)
            log.warning("%s: attempt %d/%d failed (%s); retrying in %.2fs", self.system, attempt,
                        self.retry.max_attempts, last, delay)
            self._sleep(delay)
        assert last is not None
        if isinstance(last, MalformedResponseError):
            raise last
        raise RetriesExhaustedError(self.system, self.retry.max_attempts, last)
