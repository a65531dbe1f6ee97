"""``bench/items.py`` keeps working (measured by hand with a million lines; here a smoke run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_items_benchmark_runs_and_prints_lines_per_second():
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "items.py"), "--lines", "3000"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "no defaults (I5)" in proc.stdout and "lines/s" in proc.stdout and "peak RSS" in proc.stdout
    rows = [ln for ln in proc.stdout.splitlines() if ln.startswith(("no defaults", "task type", "hourly rate"))]
    assert len(rows) == 3 and all(r.split()[-4] == "3,000" for r in rows), proc.stdout
