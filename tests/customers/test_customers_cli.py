"""``python -m tlsync.customers sync`` on a settings file, staged data and the simulators (both databases)."""

from __future__ import annotations

import json

from conftest import counters, reset_counters, settings, stage
from test_nightly import link, pair

from tlsync.customers.cli import main
from tlsync.settings.models import IntegrationSettings
from tlsync.settings.store import save


def test_cli_sync_dry_run_then_for_real(engine, db_url, sims, tmp_path, monkeypatch, capsys):
    path = save(IntegrationSettings(legal_entities={1: settings("manual")}), tmp_path / "integration.yaml")
    for name in ("timelog", "uniconta"):
        monkeypatch.setenv(f"AIRFLOW_CONN_{name.upper()}_DEFAULT", json.dumps(
            {k: v for k, v in sims[name].items() if k != "conn_id"}))
    cid, account, _ = pair(sims)
    stage(engine, sims)
    link(engine, cid, account)
    args = ["--file", str(path), "--staging-url", db_url, "sync", "--legal-entity", "1"]
    reset_counters(sims["timelog_url"], sims["uniconta_url"])

    assert main([*args, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dry run, nothing written" in out
    assert counters(sims["uniconta_url"]).get("total", 0) == 0

    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Customer sync, legal entity 1 (company 10001)" in out
    line = next(x for x in out.splitlines() if x.startswith("Uniconta debtors updated from TimeLog (T1)"))
    assert line.split()[-1] == "1"
    assert "uniconta-pw" not in out and "sim-pat-token" not in out


def test_cli_names_a_missing_connection(tmp_path, monkeypatch, capsys, db_url):
    path = save(IntegrationSettings(legal_entities={1: settings("manual")}), tmp_path / "integration.yaml")
    monkeypatch.delenv("AIRFLOW_CONN_TIMELOG_DEFAULT", raising=False)
    assert main(["--file", str(path), "--staging-url", db_url, "sync", "--legal-entity", "1"]) == 2
    assert "AIRFLOW_CONN_TIMELOG_DEFAULT" in capsys.readouterr().out
    assert main(["--file", str(path), "sync", "--legal-entity", "7"]) == 2
    assert "legal entity 7 is not in the settings" in capsys.readouterr().out
