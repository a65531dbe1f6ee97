"""The README's run command, as a user runs it: the simulators, a SQLite Airflow home and the nightly sync DAG
through ``airflow dags test``; then the scripted administrator set-up of legal entity 1 and the transfer DAG
(``tlsync_transfer``) through ``airflow dags test``, the drafts posted, the next night's sync and the finance
report — twice: the second time nothing is restaged and nothing new is written (docs/transfer.md)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from simulators.generator import FIXED_TODAY

ROOT = Path(__file__).resolve().parents[2]


def _run(env: dict) -> str:
    # a fixed 'today' for the generated data: the same figures on every day (the demo's default is the real date)
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "run_demo.py"), "--size", "S", "--today",
                           FIXED_TODAY.isoformat()], env=env,
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def _total(output: str) -> list[int]:
    """extracted, unchanged, staged, quarantined, warnings from the summary's total line."""
    line = next(l for l in output.splitlines() if l.startswith("total "))
    return [int(n.replace(",", "")) for n in re.findall(r"[\d,]+", line)]


WRITES = re.compile(r"\b(transferred|created|updated|imported)\b")


def _write_back(output: str) -> dict[int, dict[str, list[str]]]:
    """The transfer DAG's summary: legal entity → step → its lines (counts first, then refusals and reasons)."""
    block = output.split("Write-back summary (manual__", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    out: dict[int, dict[str, list[str]]] = {}
    step = None
    for line in block:
        if line.startswith("legal entity "):
            le = out.setdefault(int(line.split()[2]), {})
        elif line[2:3].strip():
            step = line.split()[0]
            le[step] = [line.split(None, 1)[1]]
        else:
            le[step].append(line.strip())
    return out


def _count(text: str, label: str) -> int:
    found = re.search(rf"\b{label} ([\d,]+)", text)
    return int(found.group(1).replace(",", "")) if found else 0


def _reconciliation(output: str, le: int) -> str:
    return next(l for l in output.split(f"legal entity {le} ↔ Uniconta company", 1)[1].splitlines()
                if "Matched" in l or "open" in l)


@pytest.mark.slow
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

    # the administrator's set-up, scripted and labelled, in the demo's own settings file (never config/)
    assert "• demo: accepting the matcher's one-suggestions, ignoring the rest, confirming the checklist" in first
    assert "python -m tlsync.linking" in first and str(tmp_path / "out" / "demo" / "integration.yaml") in first
    closed, opened = first.index("invoice transfer: CLOSED (rule S8)"), first.index("invoice transfer: OPEN (rule S8)")
    assert closed < opened < first.index("Write-back summary")
    assert "customer linking not finished: One suggestion: " in first[closed:opened]
    # the transfer DAG wrote for legal entity 1; legal entity 2 is not set up, so the S8 gate refused its invoices
    wb = _write_back(first)
    invoices = wb[1]["invoices"]
    transferred = _count(invoices[0], "transferred")
    assert transferred > 0 and _count(wb[1]["customers"][0], "linked") > 0
    assert _count(wb[1]["projects"][0], "created") > 0 and _count(wb[1]["expenses"][0], "imported") > 0
    assert "transferred" not in wb[2]["invoices"][0]
    assert any(l.startswith("refused:") and "rule S8" in l for l in wb[2]["invoices"])
    assert f"{transferred} posted in company 10001" in first
    staged_next = first.split("• the next night's sync", 1)[1].split("\n", 1)[0]
    assert _count(staged_next, "timelog.invoices") == transferred == _count(staged_next, "uniconta.invoices")
    # the finance report pairs them: what TimeLog has and Uniconta lacks is what the transfer could not send
    recon1 = _reconciliation(first, 1)
    assert _count(recon1, "Matched") > 0
    assert _count(recon1, "Missing in Uniconta") <= _count(invoices[0], "failed") + _count(invoices[0], "ignored")

    second = _run(env)
    extracted2, unchanged2, staged2, quarantined2, _ = _total(second)
    assert staged2 == 0, second
    assert extracted2 == unchanged2 + quarantined2
    assert "starting the TimeLog and Uniconta simulators from the state the last run left" in second
    assert "the activation checklist of legal entity 1 is already confirmed" in second
    wb2 = _write_back(second)
    for le, steps in wb2.items():
        for step, lines in steps.items():
            assert not WRITES.search(lines[0]), f"the second run wrote: legal entity {le} {step}: {lines[0]}"
    assert "no new drafts in Uniconta company 10001" in second
    assert "staged what the write-back changed: nothing (nothing changed)" in second
    assert _reconciliation(second, 1) == recon1 and _reconciliation(second, 2) == _reconciliation(first, 2)
