"""Typed, specific errors for every API surface.

Each error names the *system* it came from (``"TimeLog Reporting API"``, ``"Uniconta"`` …) and the cause in
words an administrator can act on. Secrets never appear in a message: an authentication error names the
*setting* that is wrong (e.g. the Airflow Connection field), never its value.
"""

from __future__ import annotations


class SyncAPIError(Exception):
    """Base class: something went wrong talking to one of the two systems."""

    def __init__(self, system: str, message: str) -> None:
        self.system = system
        self.message = message
        super().__init__(f"{system}: {message}")


class AuthenticationError(SyncAPIError):
    """The system refused our credentials. ``setting`` names what to fix (never the secret itself)."""

    def __init__(self, system: str, message: str, *, setting: str) -> None:
        self.setting = setting
        super().__init__(system, f"{message} (check the setting: {setting})")


class UnknownCompanyError(AuthenticationError):
    """Uniconta: the user has no access to the requested company (rule S1: choose a company the user sees)."""


class RecordRejectedError(SyncAPIError):
    """A 4xx answer about one record (validation error, duplicate key, not found …). ``record`` names it."""

    def __init__(self, system: str, message: str, *, record: str | None = None, status: int | None = None) -> None:
        self.record = record
        self.status = status
        where = f" [record: {record}]" if record else ""
        code = f" (HTTP {status})" if status else ""
        super().__init__(system, f"{message}{code}{where}")


class NotFoundError(RecordRejectedError):
    """The record or method does not exist."""


class UnknownMethodError(SyncAPIError):
    """The server does not know the method / operation / path we called."""


class MalformedResponseError(SyncAPIError):
    """The body could not be parsed or did not have the documented shape. ``where`` says what and where."""

    def __init__(self, system: str, message: str, *, where: str) -> None:
        self.where = where
        super().__init__(system, f"malformed response at {where}: {message}")


class TransientError(SyncAPIError):
    """Retryable: 429, 5xx, timeouts, dropped connections, truncated bodies."""

    def __init__(self, system: str, message: str, *, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(system, message)


class WriteOutcomeUnknownError(SyncAPIError):
    """A write that is not idempotent was sent and its answer was lost or unreadable (a timeout after sending, a
    dropped connection, 500/502/504, a truncated body): it may or may not have landed. It is **not** sent again
    blindly; the caller settles it by looking the record up (ExternalID, marker, number) — issue 17, rule T2."""

    def __init__(self, system: str, message: str, *, record: str | None = None,
                 cause: BaseException | None = None) -> None:
        self.record = record
        self.cause = cause
        super().__init__(system, f"{record + ': ' if record else ''}the write's outcome is unknown ({message}); "
                                 f"it was not sent again — look it up before writing it again")


class RetriesExhaustedError(SyncAPIError):
    """A transient failure persisted through every retry; ``last`` is the final cause."""

    def __init__(self, system: str, attempts: int, last: BaseException) -> None:
        self.attempts = attempts
        self.last = last
        super().__init__(system, f"gave up after {attempts} attempts; last error: {last}")


class QuotaExceededError(SyncAPIError):
    """Uniconta's daily call quota (5,000 per user per day by default) is spent. Stop cleanly; resume tomorrow."""

    def __init__(self, system: str, message: str, *, used: int | None = None, limit: int | None = None) -> None:
        self.used = used
        self.limit = limit
        super().__init__(system, message)


class CallBudgetExceededError(QuotaExceededError):
    """Our own client-side budget for this run is spent (raised *before* the call is made)."""


class ProjectModuleMissingError(SyncAPIError):
    """Uniconta company without the project module (rule T3): projects cannot be transferred."""
