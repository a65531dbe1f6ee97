"""bench/matching.py keeps working (measured by hand at full size with splink installed; here: ours only, small)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("bytecode", [[], ["--bytecode"]], ids=["as-started", "bytecode"])
def test_matching_bench_runs_small(bytecode: list[str]) -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "matching.py"), "--skip-m", "--n", "1500",
                           "--tools", "ours", "--repeat", "1", *bytecode], capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "== 1,500 x 1,500 (linkage, default, seed 42)" in proc.stdout
    assert ("compiled bytecode (--bytecode)" in proc.stdout) == bool(bytecode)
    line = next(x for x in proc.stdout.splitlines() if x.startswith("ours"))
    precision, recall_one, recall = map(float, line.split()[1:4])
    assert precision >= 0.99 and recall_one >= 0.9 and recall >= 0.99
