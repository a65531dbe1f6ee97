"""The README's run command, as a user runs it: the simulators, a SQLite Airflow home and the nightly sync DAG
through ``airflow dags test``, twice — the second time nothing is restaged."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(env: dict) -> str:
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "run_demo.py"), "--size", "S"], env=env,
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def _total(output: str) -> list[int]:
    """extracted, unchanged, staged, quarantined, warnings from the summary's total line."""
    line = next(l for l in output.splitlines() if l.startswith("total "))
    return [int(n.replace(",", "")) for n in re.findall(r"[\d,]+", line)]


def test_run_command_twice(tmp_path):
    env = {**os.environ, "TLSYNC_OUT_DIR": str(tmp_path / "out"), "TLSYNC_AIRFLOW_HOME": str(tmp_path / "airflow")}
    for key in ("AIRFLOW_HOME", "AIRFLOW__CORE__DAGS_FOLDER", "AIRFLOW__CORE__PLUGINS_FOLDER", "TLSYNC_STAGING_URL"):
        env.pop(key, None)
    first = _run(env)
    assert "Run summary (manual__" in first and ": success;" in first
    extracted, unchanged, staged, quarantined, _ = _total(first)
    assert staged > 1000 and extracted == unchanged + staged + quarantined
    assert "timelog.invoices" in first and "uniconta.debtors" in first
    assert f"sqlite:///{tmp_path / 'out' / 'staging.db'}" in first

    second = _run(env)
    extracted2, unchanged2, staged2, quarantined2, _ = _total(second)
    assert staged2 == 0, second
    assert extracted2 == unchanged2 + quarantined2
