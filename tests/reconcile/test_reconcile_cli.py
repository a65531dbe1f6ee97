"""``python -m tlsync.reconcile``: prints the headline and the paths (exit 0), refuses bad arguments (exit 2) and
says what to fix when the report cannot be produced (exit 1)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import recon_scenario as scenario  # tests/reconcile/recon_scenario.py

from tlsync.reconcile.cli import last_closed_month, main

ROOT = Path(__file__).resolve().parents[2]


def test_cli_writes_the_report_and_prints_the_headline(engine, tmp_path, capsys):
    scenario.build(engine)
    url = engine.url.render_as_string(hide_password=False)
    rc = main(["--legal-entity", "1", "--company", "10001", "--from", "2026-01-01", "--to", "2026-02-28",
               "--out", str(tmp_path / "r"), "--as-of", "2026-03-01", "--staging-url", url])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "difference                -400.00 DKK" in out and "Missing in Uniconta 3" in out
    assert (tmp_path / "r" / "reconciliation-le1-2026-01-01-2026-02-28.xlsx").exists()


def test_cli_month_and_tolerance(engine, tmp_path, capsys):
    scenario.build(engine)
    url = engine.url.render_as_string(hide_password=False)
    assert main(["--legal-entity", "1", "--company", "10001", "--month", "2026-01", "--tolerance", "125",
                 "--out", str(tmp_path), "--staging-url", url]) == 0
    out = capsys.readouterr().out
    [counts] = [ln for ln in out.splitlines() if ln.strip().startswith("Matched")]
    assert "2026-01-01 – 2026-01-31" in out
    assert counts.startswith("  Matched 2,") and "Amounts differ" not in counts, "125.00 is within the tolerance"


@pytest.mark.parametrize("args, message", [
    (["--legal-entity", "1", "--from", "2026-02-01", "--to", "2026-01-01"], "is before --from"),
    (["--legal-entity", "1", "--from", "2026-02-01"], "--from and --to go together"),
    (["--legal-entity", "1", "--month", "2026-13"], "is not a month"),
    (["--legal-entity", "1", "--month", "2026-01", "--from", "2026-01-01", "--to", "2026-01-02"], "either --month"),
    (["--legal-entity", "1", "--tolerance", "-1"], "cannot be negative"),
])
def test_cli_refuses_bad_arguments_with_exit_2(args, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_cli_without_a_company_for_the_legal_entity_exits_1(tmp_path, monkeypatch):
    monkeypatch.setenv("TLSYNC_SETTINGS", str(tmp_path / "absent.yaml"))
    monkeypatch.setenv("AIRFLOW_VAR_TLSYNC_ENTITY_PAIRS", '{"2": 10002}')
    proc = subprocess.run([sys.executable, "-m", "tlsync.reconcile", "--legal-entity", "1", "--month", "2026-01",
                           "--staging-url", f"sqlite:///{tmp_path / 's.db'}", "--out", str(tmp_path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**__import__("os").environ, "PYTHONPATH": str(ROOT / "include")})
    assert proc.returncode == 1, proc.stderr
    assert "legal entity 1 has no Uniconta company" in proc.stderr and "pass --company (rule S2)" in proc.stderr


def test_last_closed_month():
    from datetime import date

    assert last_closed_month(date(2026, 3, 15)) == (date(2026, 2, 1), date(2026, 2, 28))
