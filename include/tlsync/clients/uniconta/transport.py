"""What lies between a Uniconta session and the wire: reading Uniconta's error answers, and the transport that
stops at the daily quota and books every call in the shared allowance.

Call accounting (see :mod:`.session`): every HTTP attempt is booked in a :class:`CallAllowance` before it is sent
(when the session has one) — an allowance that is spent stops the call unsent — and the server's own daily-quota
refusal becomes :class:`~tlsync.clients.errors.QuotaExceededError` and is never retried: retrying cannot succeed
before tomorrow and would only burn what little is left. :func:`parse_error` reads every error body the session
maps to a typed error; it scrubs the password from the server's words (defence in depth: a server may echo it).

Split from :mod:`.session` (issue 12).
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from ..errors import CallBudgetExceededError, SyncAPIError
from .models import loads
from .settings import SYSTEM

QUOTA_CODES = frozenset({"DailyCallLimitExceeded"})


def parse_error(resp: httpx.Response, secret: str | None = None, limit: int = 300) -> tuple[str, str, dict[str, Any]]:
    """``(code, message, error object)`` of an error answer.

    Reads the OData error envelope ``{"error": {"code", "message"}}`` (where ``code`` is an ``ErrorCodes`` member
    name such as ``KeyExists`` or an OData code), a flat ``{"error"|"message"|"Message": …}`` object, or plain
    text. The message is shortened and ``secret`` is scrubbed from it (defence in depth: never echo a password).
    """
    code, text = "", ""
    extra: dict[str, Any] = {}
    try:
        body = loads(resp.content)
    except ValueError:
        body = None
    if isinstance(body, dict):
        err = body.get("error", body.get("Error"))
        if isinstance(err, dict):
            extra = err
            code = str(err.get("code") or err.get("Code") or "")
            text = str(err.get("message") or err.get("Message") or "")
        else:
            for key in ("error", "Error", "message", "Message", "detail", "ErrorDescription", "title"):
                if body.get(key):
                    text = str(body[key])
                    break
            code = str(body.get("code") or body.get("ErrorCode") or "")
        if not text:
            text = resp.text
    elif isinstance(body, str):
        text = body
    else:
        text = resp.content.decode("utf-8", "replace")
    text = " ".join(text.split())[:limit] or resp.reason_phrase
    if secret:
        text = text.replace(secret, "***")
        code = code.replace(secret, "***")
    return code, text, extra


def server_message(resp: httpx.Response, secret: str | None = None, limit: int = 300) -> str:
    """The server's own words (``"KeyExists: Account 1001 exists"``), scrubbed; see :func:`parse_error`."""
    code, text, _ = parse_error(resp, secret, limit)
    return f"{code}: {text}" if code and code.lower() not in text.lower() else text


def speaks_of_daily_quota(code: str, text: str) -> bool:
    """Whether an error's ``code`` and words are the daily-quota refusal (``DailyCallLimitExceeded``, "quota")."""
    low = text.lower()
    return code in QUOTA_CODES or "quota" in low or ("daily" in low and "limit" in low)


def is_quota_refusal(resp: httpx.Response) -> bool:
    """True when an answer is the server's daily-quota refusal rather than a transient throttle.

    The simulator documents its refusal as ``403`` with code ``DailyCallLimitExceeded`` ("Daily API call limit
    reached"); the fault injector (like a busy proxy) answers a plain-text ``429 Too Many Requests`` with
    ``Retry-After``, which is transient and must be retried. A ``429`` whose *body* speaks of the daily quota is
    treated as the refusal too, in case the real service chooses that status. Error bodies are small; reading one
    is safe.
    """
    if resp.status_code not in (403, 429):
        return False
    try:
        resp.read()
    except httpx.HTTPError:
        return False
    code, text, _ = parse_error(resp)
    return speaks_of_daily_quota(code, text)


class CallAllowance(Protocol):
    """Where every Uniconta call is booked before it is sent (``tlsync.quota.DailyTally``: one tally per Danish
    day shared by every process). ``acquire()`` False means the day's allowance is spent: the call is not sent."""

    def acquire(self) -> bool: ...

    def observe(self, seconds: float) -> None: ...

    def release(self) -> None: ...


class QuotaGuardTransport(httpx.BaseTransport):
    """Transport wrapper that turns Uniconta's daily-quota refusal into :class:`QuotaExceededError` at once.

    Why a transport: the resilient client retries every 429 before its ``classify`` hook runs. The simulator refuses
    with 403 (handled by ``classify``), but a quota refusal answered as 429 by a real server must not be retried (it
    cannot succeed before tomorrow and each retry spends quota), while a plain ``Too Many Requests`` with
    ``Retry-After`` must be. This wrapper sees each answer first and raises a typed, non-retryable error for the
    quota case only; every other answer passes through untouched.
    """

    def __init__(self, inner: httpx.BaseTransport, on_quota: Callable[[httpx.Response], SyncAPIError], *,
                 owns_inner: bool = True, allowance: CallAllowance | None = None,
                 on_allowance: Callable[[], SyncAPIError] | None = None) -> None:
        self.inner = inner
        self.on_quota = on_quota
        self.owns_inner = owns_inner  # a transport handed in by the caller is the caller's to close
        self.allowance = allowance
        self.on_allowance = on_allowance

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Every attempt (retries too) is booked in the allowance before it is sent, and timed after."""
        if self.allowance is not None and not self.allowance.acquire():
            raise (self.on_allowance() if self.on_allowance else
                   CallBudgetExceededError(SYSTEM, "the daily Uniconta call allowance is spent"))
        started = time.monotonic()
        resp = self.inner.handle_request(request)
        if self.allowance is not None:
            self.allowance.observe(time.monotonic() - started)
        if resp.status_code == 429:
            resp.read()
            resp.request = request  # httpx binds it only after the transport returns; messages need it now
            if is_quota_refusal(resp):
                resp.close()
                raise self.on_quota(resp)
        return resp

    def close(self) -> None:
        if self.owns_inner:
            self.inner.close()


def default_transport(base_url: str) -> httpx.HTTPTransport:
    """A plain HTTP transport that still honours ``HTTPS_PROXY``/``NO_PROXY`` (httpx ignores the environment's
    proxies once a transport is given, and the quota guard needs to give one)."""
    parts = urlsplit(base_url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if proxy and not urllib.request.proxy_bypass(parts.hostname or ""):
        return httpx.HTTPTransport(proxy=proxy)
    return httpx.HTTPTransport()
