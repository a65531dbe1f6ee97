"""Error answers of the simulated Uniconta API.

Uniconta does not publish the body of its OData/JSON API errors. The simulator answers every error, on both the
OData feed and the JSON CRUD API, with the OData error envelope ``{"error": {"code": ..., "message": ...}}``;
``code`` is a member name of Uniconta's ``ErrorCodes`` enum where one fits (``KeyExists``, ``CouldNotFind``,
``FieldCannotBeBlank``, ``NoRights``, ``NoSubscription``, ``AccountIsMissing`` …) and a plain OData code
otherwise (``Unauthorized``, ``BadRequest``, ``NotFound``, ``MethodNotAllowed``, ``DailyCallLimitExceeded``).
Extra members (``key``, ``index``, ``limit``, ``used``, ``company``, ``class``) help a client name the record;
a client must not depend on anything but ``code`` and ``message``.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse


class UnicontaError(Exception):
    def __init__(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        err.update({k: v for k, v in self.extra.items() if v is not None})
        return {"error": err}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def bad_request(message: str, code: str = "BadRequest", **extra: Any) -> UnicontaError:
    return UnicontaError(400, code, message, **extra)
