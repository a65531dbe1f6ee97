"""The benchmarks keep working (they are measured by hand at full size; here they run small, as a smoke test)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_staging_load_benchmark_runs_and_prints_its_ratio():
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "staging_load.py"), "--rows", "3000"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "rows: 3,000 into PostgreSQL" in proc.stdout
    assert "ratio: tlsync is" in proc.stdout and "x faster than to_sql" in proc.stdout
