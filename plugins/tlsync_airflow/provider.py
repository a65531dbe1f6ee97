"""Provider metadata (entry point ``apache_airflow_provider``): registers the two connection types so the
Airflow UI shows the right fields. Pure data; importing it costs nothing."""

from __future__ import annotations

from typing import Any

TIMELOG_FIELDS: dict[str, Any] = {
    "reporting_site_code": {"label": "Reporting API site code",
                            "description": "System administration › Integrations and API › Reporting API",
                            "schema": {"type": ["string", "null"]}},
    "reporting_api_id": {"label": "Reporting API id", "schema": {"type": ["string", "null"]}},
    "reporting_api_password": {"label": "Reporting API password",
                               "schema": {"type": ["string", "null"], "format": "password"}},
    "rest_token": {"label": "REST API personal access token",
                   "schema": {"type": ["string", "null"], "format": "password"}},
    "legal_entity_id": {"label": "Legal entity id (optional)",
                        "description": "Restrict this connection to one TimeLog legal entity (rule S2)",
                        "schema": {"type": ["integer", "null"]}},
}

UNICONTA_FIELDS: dict[str, Any] = {
    "company_id": {"label": "Company id",
                   "description": "The Uniconta company to work in; Test lists the companies the user can see (S1)",
                   "schema": {"type": ["integer", "null"]}},
    "daily_call_budget": {"label": "Daily call budget",
                          "description": "Calls the sync may spend per day (Uniconta allows 5,000 per user)",
                          "schema": {"type": ["integer", "null"], "default": 5000}},
    "row_id_field": {"label": "Row id field (optional)",
                     "description": "RowId or PrimaryKeyId — the name Uniconta's rows carry their id under; empty: "
                                    "detected (tlsync contract probe shows it)",
                     "schema": {"type": ["string", "null"]}},
}


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "tlsync",
        "name": "tlsync (TimeLog PSA ⇄ Uniconta ERP)",
        "description": "Connections for TimeLog PSA and Uniconta ERP used by the tlsync DAGs.",
        "versions": ["0.1.0"],
        "connection-types": [
            {
                "hook-class-name": "tlsync_airflow.hooks.TimeLogHook",
                "connection-type": "timelog",
                "hook-name": "TimeLog PSA",
                "conn-fields": TIMELOG_FIELDS,
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {"host": "Site URL", "login": "Transactional API user",
                                   "password": "Transactional API password"},
                    "placeholders": {"host": "https://app5.timelog.com/youraccount"},
                },
            },
            {
                "hook-class-name": "tlsync_airflow.hooks.UnicontaHook",
                "connection-type": "uniconta",
                "hook-name": "Uniconta ERP",
                "conn-fields": UNICONTA_FIELDS,
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {"host": "API URL", "login": "Uniconta user (integration user)",
                                   "password": "Uniconta password"},
                    "placeholders": {"host": "https://odata.uniconta.com"},
                },
            },
        ],
    }
