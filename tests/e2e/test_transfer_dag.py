"""The real transfer DAG (``tlsync_transfer``) through ``airflow dags test`` against both simulators, with the
run command's own helpers (``scripts/run_demo.py``): a throw-away Airflow home, connections from
``AIRFLOW_CONN_*``, the settings file from ``TLSYNC_SETTINGS``. Legal entity 1 is set up (linking done, checklist
confirmed), legal entity 2 is not. The first run writes and its ``summary`` task says what; the second run
writes nothing; without the Uniconta connection the run fails and the summary names the steps that did not
finish and why the first one failed."""

from __future__ import annotations

import importlib.util
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from conftest import PAIRS  # tests/e2e/conftest.py

from tlsync import settings as settings_mod
from tlsync.invoicing import MARKER_FIELD
from tlsync.ledger import Ledger
from tlsync.linking import Decision, Linker, Targets, view_rows
from tlsync.matching.refresh import refresh_suggestions
from tlsync.nightly.local import run_once

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("tlsync_run_demo", ROOT / "scripts" / "run_demo.py")
demo = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(demo)

WRITES = re.compile(r"\b(transferred|created|updated|imported)\b")


@pytest.fixture
def sqlite_staging(tmp_path, use_staging):
    """Staging on SQLite only: the Airflow path is what is tested here; the write-back itself runs on both
    databases in tests/writeback/test_writeback_e2e.py."""
    return use_staging(f"sqlite:///{tmp_path / 'staging.db'}")


def _state(sims) -> dict:
    return {**httpx.get(f"{sims['timelog_url']}/_sim/state").json(),
            **httpx.get(f"{sims['uniconta_url']}/_sim/state").json()}


def _lines(summary: str, le: int, step: str) -> list[str]:
    block = summary.split(f"legal entity {le} → ", 1)[1].split("\nlegal entity ", 1)[0].splitlines()
    start = next(i for i, line in enumerate(block) if line.startswith(f"  {step} "))
    end = next((i for i in range(start + 1, len(block)) if block[i][2:3].strip()), len(block))
    return [line.strip() for line in block[start:end]]


@pytest.mark.slow
def test_transfer_dag_in_airflow_writes_once_and_reports_failures(sims, sqlite_staging, tmp_path):
    engine = sqlite_staging
    run_once(sims["timelog"], sims["uniconta"], PAIRS, "night-1")
    refresh_suggestions(engine, [10001])
    linker = Linker(engine, 1, 10001, targets=Targets(sims["timelog"], sims["uniconta"], 10001), actor="admin")
    try:
        linker.apply_all([Decision("link-timelog", r.debtor_account, r.best.customer_id)
                          for r in view_rows(engine, 10001, "one")])
        linker.apply_all([Decision("ignore", r.debtor_account)
                          for view in ("several", "none") for r in view_rows(engine, 10001, view)])
    finally:
        linker.targets.close()
    document = settings_mod.load(ROOT / "config" / "integration.example.yaml")
    document.entity(1).activation = settings_mod.ActivationChecklist(
        configuration_complete=True, customers_linked=True, item_numbers_imported=True, confirmed_by="admin",
        confirmed_at=datetime(2026, 11, 27, 12, 0))
    settings_file = tmp_path / "integration.yaml"
    settings_mod.save(document, settings_file)

    home, log = tmp_path / "airflow", tmp_path / "airflow.log"
    env = demo.airflow_env(sims["timelog_url"], sims["uniconta_url"], tmp_path / "out")
    env.update({"AIRFLOW_HOME": str(home), "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
                "TLSYNC_STAGING_URL": engine.url.render_as_string(hide_password=False),
                "TLSYNC_SETTINGS": str(settings_file), "AIRFLOW_VAR_TLSYNC_ENTITY_PAIRS": json.dumps(PAIRS)})
    env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)
    demo.airflow(env, "db", "migrate", log=log)
    demo.airflow(env, "pools", "import", str(demo.pools_file(home)), log=log)
    logical = datetime.now(timezone.utc).replace(microsecond=0)

    demo.airflow(env, "dags", "test", "tlsync_transfer", logical.isoformat(), log=log)
    first = demo.transfer_summary(env)
    assert first.startswith("Write-back summary (manual__"), first
    invoices = _lines(first, 1, "invoices")
    transferred = int(re.search(r"transferred (\d+)", invoices[0]).group(1))
    done = Ledger(engine).entries("invoice", 1, states=["done"])
    company = next(c for c in _state(sims)["uniconta"]["companies"] if c["CompanyId"] == 10001)
    assert transferred == len(done) == sum(1 for o in company["DebtorOrderClient"] if o.get(MARKER_FIELD)) > 0
    assert "imported" in _lines(first, 1, "expenses")[0] and "created" in _lines(first, 1, "projects")[0]
    assert any(line.startswith("refused:") and "rule S8" in line for line in _lines(first, 2, "invoices"))

    after_first = _state(sims)
    demo.airflow(env, "dags", "test", "tlsync_transfer", (logical + timedelta(minutes=1)).isoformat(), log=log)
    second = demo.transfer_summary(env)
    assert second != first and second.startswith("Write-back summary (manual__")
    for le in (1, 2):
        for step in ("customers", "items", "projects", "invoices", "expenses"):
            assert not WRITES.search(_lines(second, le, step)[0]), (le, step, second)
    assert _state(sims) == after_first, "the second run changed nothing in either system"

    # The Uniconta connection is gone: every legal entity's first step fails and holds back the rest; the summary
    # says which steps did not finish and fails the run (the exit code of `airflow dags test`).
    broken = {k: v for k, v in env.items() if k != "AIRFLOW_CONN_UNICONTA_DEFAULT"}
    with pytest.raises(SystemExit, match="failed"):
        demo.airflow(broken, "dags", "test", "tlsync_transfer", (logical + timedelta(minutes=2)).isoformat(), log=log)
    text = log.read_text(errors="replace").rsplit("$ airflow dags test tlsync_transfer", 1)[1]
    gone = ("Airflow Connection 'uniconta_default' (uniconta) is not defined: add it in "
            "Airflow (Admin → Connections) or set AIRFLOW_CONN_UNICONTA_DEFAULT")
    for le in (1, 2):     # the step that failed says why (its on_failure_callback); the ones it held back say so
        assert re.search(rf"  customers  failed: [^\n]*{re.escape(gone)}[^\n]*\(the next run catches up\)", text)
        for step in ("items", "projects", "invoices", "expenses"):
            assert f"  {step:<10} did not finish: it failed, or a failed earlier step held it back" in text
    assert "write-back steps did not finish: legal entity 1 customers, legal entity 1 items" in text
    assert re.search(rf"write-back steps did not finish: [^\n]* — [^\n]*{re.escape(gone)}", text)
    assert demo.transfer_summary(env) == second, "a failed run leaves no summary result"
    assert _state(sims) == after_first
