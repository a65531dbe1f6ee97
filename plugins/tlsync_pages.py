"""Registers tlsync's pages with Airflow (loaded from the plugins folder by the api-server): the FastAPI app under
``/tlsync`` and one navigation entry per page, shown inside Airflow's UI (``external_views`` with a ``url_route``
are rendered in Airflow's own frame, under the *tlsync* menu). Every route of the app requires an authenticated
Airflow user — see ``tlsync_airflow.ui.security``."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from tlsync_airflow.ui.app import PREFIX, app

_PAGES = (("Integration", "integration", "tlsync-integration"),
          ("Kundekobling", "linking", "tlsync-linking"),
          ("Varenumre", "items", "tlsync-items"),
          ("Fakturaer", "invoices", "tlsync-invoices"),
          ("Udgifter", "expenses", "tlsync-expenses"),
          ("Afstemning", "reports", "tlsync-reports"))


class TlsyncPagesPlugin(AirflowPlugin):
    name = "tlsync"
    fastapi_apps = [{"app": app, "url_prefix": PREFIX, "name": "tlsync pages"}]  # noqa: RUF012 - Airflow's API
    external_views = [  # noqa: RUF012 - Airflow's plugin API
        {"name": label, "href": f"{PREFIX}/{path}", "url_route": route, "destination": "nav",
         "category": "TimeLog ⇄ Uniconta"} for label, path, route in _PAGES]
