"""tlsync customer linking — recompute the linking suggestions whenever either side's customers changed
(rules L1/L2; issue 5). Asset-triggered by the nightly sync, never by the clock: one run per night that staged or
removed debtors or customers, none otherwise.

    staging.uniconta.debtors | staging.timelog.customers ──► refresh_suggestions (per Uniconta company)

Only the companies that changed are recomputed: all of them when TimeLog's (site-wide) customers changed or for a
manual run, otherwise the companies named in the debtors events' extra (``tlsync.nightly.changes``).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from tlsync_airflow.assets import staged


@dag(
    dag_id="tlsync_customer_linking",
    schedule=staged("uniconta.debtors") | staged("timelog.customers"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/Copenhagen"),
    catchup=False,
    max_active_runs=1,
    tags=["tlsync", "linking"],
    doc_md=__doc__,
)
def tlsync_customer_linking():
    @task
    def refresh_suggestions() -> dict:
        from airflow.sdk import Variable, get_current_context

        from tlsync.matching.refresh import refresh_suggestions as refresh
        from tlsync.nightly import changes, pipeline
        from tlsync.staging.engine import staging_engine
        from tlsync_airflow.assets import triggering_changes

        pairs = pipeline.entity_pairs(Variable.get("tlsync_entity_pairs", default=None))
        companies = changes.companies_to_refresh(triggering_changes(get_current_context()),
                                                 [p["company_id"] for p in pairs])
        return {str(k): v for k, v in refresh(staging_engine(), companies).items()}

    refresh_suggestions()


tlsync_customer_linking()
