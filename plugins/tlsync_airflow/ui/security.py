"""Who may see and who may change the pages (the api-server does not protect a plugin's FastAPI app by itself).

- **Every** route depends on :func:`page_user`: Airflow's own ``get_user`` (a ``Bearer`` JWT, else the UI's
  ``_token`` cookie), validated by the api-server's auth manager — anonymous → 401, a bad token → 403.
- **Writes** need :func:`writer`: the auth manager must allow ``PUT`` on the Airflow *Variable*
  ``tlsync_integration_settings`` (default) or on *Connections* (``TLSYNC_UI_WRITE_RESOURCE=connection``) — the
  roles that may edit the integration's settings anyway. SimpleAuthManager's ``viewer``/``user`` roles may not.
- **CSRF**: the cookie is ``SameSite=Lax`` (a cross-site POST carries no cookie), and on top every form carries
  a token derived from the session (HMAC-SHA256 of the cookie JWT with the api-server's JWT secret), checked on
  every POST made with the cookie; a request with an ``Authorization: Bearer`` header cannot be forged by
  another site and needs none. A POST whose ``Origin`` is another host is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated
from urllib.parse import urlsplit

from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
from airflow.api_fastapi.auth.managers.models.resource_details import (
    ConnectionDetails,
    VariableDetails,
)
from airflow.api_fastapi.core_api.security import get_user
from fastapi import Depends, HTTPException, Request, status

from tlsync import config

SETTINGS_VARIABLE = "tlsync_integration_settings"
_FALLBACK_SECRET = secrets.token_bytes(32)


def _secret() -> bytes:
    from airflow.configuration import conf

    value = conf.get("api_auth", "jwt_secret", fallback="") or ""
    return value.encode() if value else _FALLBACK_SECRET


PageUser = Annotated[BaseUser, Depends(get_user)]


def page_user(user: PageUser) -> BaseUser:
    return user


def may_write(user: BaseUser) -> bool:
    """Whether ``user`` may change settings and apply actions (see the module docstring)."""
    from airflow.api_fastapi.app import get_auth_manager

    manager = get_auth_manager()
    if str(config.value("TLSYNC_UI_WRITE_RESOURCE")).lower() == "connection":
        return bool(manager.is_authorized_connection(method="PUT", details=ConnectionDetails(conn_id=None),
                                                     user=user))
    return bool(manager.is_authorized_variable(method="PUT", details=VariableDetails(key=SETTINGS_VARIABLE),
                                               user=user))


def csrf_token(request: Request) -> str:
    """The form token of this session ('' for bearer-token clients, which need none)."""
    cookie = request.cookies.get(COOKIE_NAME_JWT_TOKEN) or ""
    return hmac.new(_secret(), cookie.encode(), hashlib.sha256).hexdigest()[:40] if cookie else ""


def _bearer(request: Request) -> bool:
    return request.headers.get("authorization", "").lower().startswith("bearer ")


async def writer(request: Request, user: PageUser) -> BaseUser:
    """A write: an authenticated user the auth manager lets change the settings, and a valid CSRF token."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "cross-site request refused")
    if not _bearer(request):
        form = await request.form()
        given = str(form.get("csrf") or "")
        if not given or not hmac.compare_digest(given, csrf_token(request)):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "the form is stale or not from this site (CSRF); "
                                                           "reload the page and try again")
    if not may_write(user):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"user {user.get_name()!r} may not change the TimeLog ⇄ "
                                                       f"Uniconta integration (needs edit rights on Variables)")
    return user


Writer = Annotated[BaseUser, Depends(writer)]
