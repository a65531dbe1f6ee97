"""No surprise writes (issue 11 item 7): the backfill DAG ``tlsync_invoice_backfill`` through ``airflow dags test``
(SQLite metadata DB) against both simulators writes only when its run's conf names the legal entities and says
``dry_run: false``. A run without conf — what the scheduler makes after unpausing, or Airflow 3.3's backfill form,
which drops its conf — is a dry run that says so in one log line and writes nothing; the request is read from the
conf only (unit part: ``backfill_request``)."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.invoicing.conftest import sim_state

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("tlsync_run_demo", ROOT / "scripts" / "run_demo.py")
demo = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(demo)

DRY_LINE = ("dry run: this run has no conf (a scheduled run, or started from a form that drops it), so nothing is "
            "written")


def test_backfill_request_reads_only_the_conf():
    from tlsync.invoicing.runner import backfill_request

    for conf in (None, {}):
        req = backfill_request(conf)
        assert (req.dry_run, req.legal_entity_ids) == (True, None) and req.reason.startswith(DRY_LINE)
    assert backfill_request({"legal_entities": [2, 1], "dry_run": False}).dry_run is False
    assert backfill_request({"legal_entities": [2, 1], "dry_run": False}).legal_entity_ids == (1, 2)
    assert backfill_request({"legal_entities": [1]}).dry_run is True, "dry_run must be said false explicitly"
    assert backfill_request({"legal_entities": [1], "dry_run": True}).dry_run is True
    no_entities = backfill_request({"dry_run": False, "legal_entities": []})
    assert no_entities.dry_run is True and "names no legal entities" in no_entities.reason
    for bad, key in (({"legal_entities": "1"}, "legal_entities"), ({"legal_entities": [1], "dry_run": "false"},
                                                                    "dry_run")):
        with pytest.raises(ValueError, match=f"conf '{key}'"):
            backfill_request(bad)


def _busiest_month(engine, tenant: str) -> date:
    from tlsync.staging.tables import STAGING

    table = STAGING["timelog.invoices"]
    with engine.connect() as conn:
        days = conn.execute(select(table.c.invoice_date).where(table.c.tenant == tenant)).scalars().all()
    (year, month), _ = Counter((d.year, d.month) for d in days if d).most_common(1)[0]
    return date(year, month, 1)


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_backfill_dag_writes_only_when_the_conf_asks(world, tmp_path):
    from tlsync.invoicing import DOMAIN
    from tlsync.settings import store
    from tlsync.settings.models import IntegrationSettings

    sims, engine, ledger = world["sims"], world["engine"], world["ledger"]
    settings_file = tmp_path / "integration.yaml"
    store.save(IntegrationSettings(legal_entities={1: world["le"](1)}), settings_file)
    home, log = tmp_path / "airflow", tmp_path / "airflow.log"
    env = demo.airflow_env(sims["timelog_url"], sims["uniconta_url"], tmp_path / "out")
    env.update({"AIRFLOW_HOME": str(home), "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
                "TLSYNC_STAGING_URL": engine.url.render_as_string(hide_password=False),
                "TLSYNC_SETTINGS": str(settings_file)})
    env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)
    demo.airflow(env, "db", "migrate", log=log)
    demo.airflow(env, "pools", "import", str(demo.pools_file(home)), log=log)
    month = _busiest_month(engine, "SIMSITE:1")
    # A run due on the 2nd of the next month covers the month before (the DAG's @monthly data interval).
    due = date(month.year + (month.month == 12), month.month % 12 + 1, 2).isoformat()
    before = len(sim_state(sims, 10001)["DebtorOrderClient"])

    demo.airflow(env, "dags", "test", "tlsync_invoice_backfill", due, log=log)       # no conf
    assert DRY_LINE in log.read_text(errors="replace")
    assert len(sim_state(sims, 10001)["DebtorOrderClient"]) == before, "a run without conf writes nothing"
    assert ledger.entries(DOMAIN, 1, states=["done"]) == []

    demo.airflow(env, "dags", "test", "tlsync_invoice_backfill", due, "--conf",
                 json.dumps({"legal_entities": [1], "dry_run": False}), log=log)
    assert "writing: the conf asks for legal entities 1" in log.read_text(errors="replace")
    done = ledger.entries(DOMAIN, 1, states=["done"])
    assert done and len(sim_state(sims, 10001)["DebtorOrderClient"]) > before
