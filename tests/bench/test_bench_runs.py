"""The benchmarks keep working (they are measured by hand at full size; here they run small, as a smoke test)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_staging_load_benchmark_runs_and_prints_its_figures_and_verdicts():
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "staging_load.py"), "--rows", "3000"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "rows: 3,000 into PostgreSQL" in proc.stdout
    for line in ("tlsync loader (COPY + upsert, chunked):", "server COPY of a prebuilt buffer:",
                 "pandas to_sql (default settings):", "VERDICT staging load vs server COPY:",
                 "VERDICT staging load vs to_sql:", "VERDICT staging load peak memory:"):
        assert line in proc.stdout, (line, proc.stdout)
