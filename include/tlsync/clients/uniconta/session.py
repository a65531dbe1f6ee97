"""Connection to Uniconta: one user's session — auth with company selection, error mapping, call accounting.

Rule S1 — "connect, then choose the company": the session signs in as ``00<CompanyId>/<user>`` when a company is
chosen and as the bare user to list companies (:class:`~.settings.UnicontaSettings`, :meth:`UnicontaSession.auth`);
the OData feed takes the company in the path ``/odata/<CompanyId>/<Class>`` (:mod:`.odata`); both come from the
same ``company_id``.

Secrets: the password is a :class:`~pydantic.SecretStr` and is only ever unwrapped inside
:class:`httpx.BasicAuth`, which puts it in the ``Authorization`` header — never in a URL, a log line or an error.
Error messages name the *setting* to fix (the Airflow Connection's user/password or company id), never its value,
and server text quoted in an error is scrubbed of the password in case a server echoes it. Why so strict: these
messages end up in Airflow task logs, e-mails and the sync ledger, which many people read.

Call accounting: every HTTP attempt is counted under system ``"Uniconta"`` in the shared
:class:`~tlsync.clients._http.CallCounter`; a budget there (``CallCounter(budgets={"Uniconta": n})``) stops a run
*before* it spends a call (:class:`~tlsync.clients.errors.CallBudgetExceededError`), while the server's own
daily-quota refusal becomes :class:`~tlsync.clients.errors.QuotaExceededError` and is never retried — retrying
cannot succeed before tomorrow and would only burn what little is left (:mod:`.transport` reads the refusal and
books each attempt in the shared :class:`~.transport.CallAllowance`).

Settings, the error-answer reader and the quota-guarding transport were split off into :mod:`.settings` and
:mod:`.transport` (issue 12); this module keeps the session and its mapping of answers to typed errors.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from .._http import CallCounter, ResilientClient, RetryPolicy
from ..errors import (
    AuthenticationError,
    CallBudgetExceededError,
    NotFoundError,
    ProjectModuleMissingError,
    QuotaExceededError,
    RecordRejectedError,
    SyncAPIError,
    UnknownCompanyError,
    UnknownMethodError,
)
from .fields import Detected, row_id_name
from .models import PROJECT_CLASSES
from .settings import COMPANY_SETTING, CREDENTIALS_SETTING, PROJECT_MODULE_HINT, SYSTEM, UnicontaSettings
from .transport import CallAllowance, QuotaGuardTransport, default_transport, parse_error, speaks_of_daily_quota

log = logging.getLogger(__name__)
T = TypeVar("T")


# ------------------------------------------------------------------------------------------- error mapping

_ODATA_PATH = re.compile(r"/odata/(?:(?P<cid>\d+)/)?(?P<cls>[A-Za-z0-9_]+)")
_CRUD_PATH = re.compile(r"/api/Entities/(?:(?P<op>Read|Insert|InsertList|Update|Delete)/)?(?P<cls>[A-Za-z0-9_]+)")
PROJECT_WORDS = ("project module", "projectmodule", "project-module", "projects module")

_batch_records: ContextVar[Sequence[str] | None] = ContextVar("uniconta_batch_records", default=None)
"""The records of the InsertList call in flight, so that an error's ``index`` can name the failing record."""


class UnicontaSession:
    """One user's connection to Uniconta, optionally bound to a company.

    Everything that talks HTTP (the OData reader, the CRUD writer, the company list) goes through :meth:`call`,
    so that auth, counting, retries and error mapping are the same everywhere.
    """

    def __init__(
        self,
        settings: UnicontaSettings,
        *,
        counter: CallCounter | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: httpx.Timeout | float = httpx.Timeout(60.0, connect=10.0),
        seed: int | None = None,
        detected: Detected | None = None,
        allowance: CallAllowance | None = None,
    ) -> None:
        self.settings = settings
        self.detected = detected or Detected()
        self.counter = counter or CallCounter()
        self.allowance = allowance
        guarded = QuotaGuardTransport(transport or default_transport(settings.base_url), self._quota_error,
                                      owns_inner=transport is None, allowance=allowance,
                                      on_allowance=self._allowance_error)
        self.http = ResilientClient(
            SYSTEM,
            settings.base_url,
            auth=None,  # set per request: the company decides the user name (see auth())
            headers={"Accept": "application/json"},  # otherwise Uniconta's OData answers XML
            timeout=timeout,
            retry=retry,
            counter=self.counter,
            classify=self._classify,
            transport=guarded,
            sleep=sleep,
            seed=seed,
        )
        self.base_path = urlsplit(settings.base_url).path.rstrip("/")

    # -- lifecycle -------------------------------------------------------------------------------------------
    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> UnicontaSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:  # never the password
        return f"UnicontaSession(user={self.settings.username!r}, company_id={self.settings.company_id})"

    # -- company & auth ---------------------------------------------------------------------------------------
    @property
    def company_id(self) -> int | None:
        return self.settings.company_id

    def require_company(self, company_id: int | None = None) -> int:
        cid = company_id or self.settings.company_id
        if not cid:
            raise UnknownCompanyError(
                SYSTEM,
                "no Uniconta company chosen: connect, list the companies the user can see and choose one (rule S1)",
                setting=COMPANY_SETTING,
            )
        return cid

    def auth(self, company: bool = True) -> httpx.BasicAuth:
        """Basic auth as ``00<CompanyId>/<user>`` (company chosen) or the bare user (``company=False``)."""
        name = self.settings.login_name() if company else self.settings.username
        return httpx.BasicAuth(name, self.settings.password.get_secret_value())

    # -- field names (see .fields) ----------------------------------------------------------------------------
    @property
    def row_id_field(self) -> str | None:
        """The server's row-id name: configured, else detected in this process, else ``None`` (not seen yet)."""
        return self.settings.row_id_field or self.detected.row_id

    def learn_row_id(self, rows: Sequence[dict[str, Any]]) -> None:
        """Note the row-id name from rows just read (free detection; the configured name always wins)."""
        if self.settings.row_id_field or not rows or self.detected.row_id:
            return
        name = row_id_name(rows[0])
        if name:
            self.detected.remember_row_id(name)

    # -- quota ------------------------------------------------------------------------------------------------
    @property
    def calls_used(self) -> int:
        """Calls spent so far through this session's counter (shared counters count all sessions)."""
        return self.counter.get(SYSTEM)

    @property
    def calls_remaining(self) -> int | None:
        """Calls left in the client-side budget, or ``None`` when no budget is set."""
        limit = self.counter.budgets.get(SYSTEM)
        return None if limit is None else max(0, limit - self.calls_used)

    def can_afford(self, calls: int) -> bool:
        """Whether ``calls`` more calls fit in the budget — for planning a step before starting it (e.g. a read of
        ``n`` records costs ``ceil(n / page size)`` calls, an InsertList of ``n`` ``ceil(n / batch size)``)."""
        remaining = self.calls_remaining
        return remaining is None or calls <= remaining

    # -- calls ------------------------------------------------------------------------------------------------
    def call(
        self,
        method: str,
        url: str,
        *,
        parse: Callable[[httpx.Response], T] | None = None,
        record: str | None = None,
        company: bool = True,
        batch: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> Any:
        """One logical call (retried as needed); ``parse(response)`` gives the value. ``record`` names what is
        written (for errors); ``batch`` names each record of an InsertList so a rejection can name the one."""
        token = _batch_records.set(batch)
        try:
            return self.http.request(method, url, parse=parse, record=record, auth=self.auth(company), **kwargs)
        finally:
            _batch_records.reset(token)

    # -- error mapping ----------------------------------------------------------------------------------------
    def _secret(self) -> str:
        return self.settings.password.get_secret_value()

    def _quota_error(self, resp: httpx.Response) -> QuotaExceededError:
        code, text, extra = parse_error(resp, self._secret())
        used, limit = extra.get("used"), extra.get("limit")
        return QuotaExceededError(
            SYSTEM,
            f"the daily call quota of user {self.settings.username!r} is spent ({text}); "
            "stop now and resume tomorrow — nothing is lost",
            used=used if isinstance(used, int) else self.calls_used,
            limit=limit if isinstance(limit, int) else None,
        )

    def _allowance_error(self) -> CallBudgetExceededError:
        return CallBudgetExceededError(
            SYSTEM, f"the daily call allowance of user {self.settings.username!r} is spent (the tally shared by every "
            "task); stop now and resume the next night — nothing is lost", used=self.calls_used)

    def _classify(self, resp: httpx.Response, record: str | None) -> SyncAPIError | None:
        """Map a non-retryable answer to a typed error (``None`` = success).

        The ``code`` of the error envelope decides where there is one (the simulator documents: 401
        ``Unauthorized``; 403 ``NoRights`` "Unknown company …"; 403 ``NoSubscription`` for the project module;
        403 ``DailyCallLimitExceeded``; 404 ``NotFound`` for an unknown class or path, ``CouldNotFind`` for a
        missing record; 400/409 for rejected records), the status and the message words otherwise.
        """
        if resp.is_success:
            return None
        status = resp.status_code
        code, text, extra = parse_error(resp, self._secret())
        msg = f"{code}: {text}" if code and code.lower() not in text.lower() else text
        low = text.lower()
        path = resp.request.url.path
        m = _ODATA_PATH.search(path) or _CRUD_PATH.search(path)
        cls = m.group("cls") if m else None
        cid = extra.get("company") or (m.groupdict().get("cid") if m else None) or self.settings.company_id

        if status in (403, 429) and speaks_of_daily_quota(code, text):
            return self._quota_error(resp)
        if code == "NoSubscription" or any(w in low for w in PROJECT_WORDS) or (
            status == 403 and cls in PROJECT_CLASSES and "project" in low
        ):
            if code == "NoSubscription" and "project" not in low:
                return AuthenticationError(SYSTEM, f"the company lacks a subscription for this: {msg} (HTTP {status})",
                                           setting=COMPANY_SETTING)
            return ProjectModuleMissingError(SYSTEM, f"{PROJECT_MODULE_HINT} (company {cid}; server said: {msg})")
        if status in (401, 403) and ("unknown company" in low or "no company" in low or "access to no company" in low
                                     or (code == "NoRights" and "company" in low and "write" not in low)):
            return UnknownCompanyError(
                SYSTEM,
                f"user {self.settings.username!r} has no access to company {cid} (HTTP {status}); "
                "choose one of the companies the user can see (rule S1)",
                setting=COMPANY_SETTING,
            )
        if status == 401:
            return AuthenticationError(
                SYSTEM, f"user {self.settings.username!r} was refused: wrong user name or password (HTTP 401)",
                setting=CREDENTIALS_SETTING,
            )
        if status == 403:
            return AuthenticationError(
                SYSTEM, f"user {self.settings.username!r} lacks rights for this call: {msg} (HTTP 403)",
                setting=CREDENTIALS_SETTING,
            )
        unknown_words = ("entity set", "unknown class", "unknown entity", "no resource", "no class")
        if status in (404, 405, 501) and code != "CouldNotFind" and (
            record is None or status != 404 or code == "NotFound" or any(w in low for w in unknown_words)
        ):
            what = f"class {cls!r}" if cls else f"path {path!r}"
            return UnknownMethodError(SYSTEM, f"unknown {what} (HTTP {status}): {msg}")
        record = self._failing_record(extra) or record or (f"{cls} read" if cls else None)
        if status == 404:
            return NotFoundError(SYSTEM, msg, record=record, status=status)
        return RecordRejectedError(SYSTEM, msg, record=record, status=status)

    @staticmethod
    def _failing_record(extra: dict[str, Any]) -> str | None:
        records = _batch_records.get()
        index = extra.get("index")
        if records and isinstance(index, int) and 0 <= index < len(records):
            return records[index]
        return None
