"""Before/after a change of the matcher in one run (issue 15): this tree's ``bench/matching.py`` workers interleaved
with those of another tree (e.g. an older commit), so a busy spell on the shared machine hits both.

    git archive abffc27 include bench simulators | tar -x -C /tmp/before
    .venv/bin/python bench/matching.py --make big --data /tmp/big --n 100000 --seed 42
    .venv/bin/python bench/matching_before_after.py --before /tmp/before --data /tmp/big --repeat 3 \\
        --tools ours,ours1,splink

Each worker is the bench's own (``run_worker`` of that tree's ``bench/matching.py``: its own process, its own
``sys.path``, so the "before" worker imports the other tree's ``tlsync.matching``); the "before" tree runs
``ours`` only, this tree the ``--tools``. Per row the fastest run by process wall and every run's process wall,
as in ``bench/matching.py``'s table.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def _bench(root: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_matching_{abs(hash(str(root)))}", root / "bench" / "matching.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", required=True, help="the other tree (with include/, bench/, simulators/)")
    ap.add_argument("--data", required=True, help="a dataset written by bench/matching.py --make")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tools", default="ours,ours1,splink")
    a = ap.parse_args()
    before, after = _bench(Path(a.before).resolve()), _bench(ROOT)
    plan = [("before ours", before, "ours")] + [(f"after {t}", after, t) for t in a.tools.split(",")]
    runs: dict[str, list[dict]] = {}
    for _ in range(a.repeat):
        for label, bench, tool in plan:
            r = bench.run_worker(tool, Path(a.data))
            if r is not None:
                runs.setdefault(label, []).append(r)
    print(f"{'run':14} {'process s':>9} {'proc cpu':>8} {'ready s':>7} {'match s':>7} {'cpu s':>6} {'RSS MB':>6} "
          f"{'One':>6} {'prec':>6} {'rec(One)':>8}  process s of each run")
    for label, rs in runs.items():
        b = min(rs, key=lambda x: x["process_s"])
        print(f"{label:14} {b['process_s']:>9.2f} {b['process_cpu_s']:>8.2f} {b['ready_s']:>7.2f} {b['wall_s']:>7.2f} "
              f"{b['cpu_s']:>6.2f} {b['rss_mb']:>6.0f} {b['one']:>6} {b['precision']:>6.4f} {b['recall_one']:>8.4f}  "
              + " ".join(f"{x['process_s']:.2f}" for x in rs))


if __name__ == "__main__":
    main()
