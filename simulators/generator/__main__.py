"""``python -m simulators.generator --size M --seed 42 --out data/``

Writes ``<out>/fixture.json`` (streamed, bounded memory) and ``<out>/truth.csv`` and prints the number of
records per collection and the elapsed time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

from . import SIZES, write_fixture, write_truth


def _read_meta(path: Path) -> dict:
    """The ``_meta`` object is the last key of the file: read it from the tail without loading the fixture."""
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - 64 * 1024))
        tail = fh.read().decode("utf-8", errors="replace")
    i = tail.rindex('"_meta":')
    return json.loads(tail[i + len('"_meta":'):].rstrip()[:-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m simulators.generator", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", choices=sorted(SIZES), default="S", type=str.upper)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", type=Path, default=Path("data"), help="output folder (created if missing)")
    ap.add_argument("--years", type=int, default=None, help="invoice history in years (default per size)")
    ap.add_argument("--today", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                    help="the generator's 'today': the data ends the day before (default: today in Denmark; give "
                         "a fixed date for output that is the same on every day)")
    args = ap.parse_args(argv)

    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    fixture = write_fixture(args.out / "fixture.json", args.size, args.seed, years=args.years, today=args.today)
    t1 = time.perf_counter()
    truth_path = write_truth(args.out / "truth.csv", args.size, args.seed, years=args.years, today=args.today)
    t2 = time.perf_counter()

    meta = _read_meta(fixture)
    width = max(len(k) for k in meta["counts"])
    print(f"size {meta['size']} seed {meta['seed']} today {meta['today']} years {meta['years']} "
          f"(integration {meta['integration_start']} .. {meta['cutover']})")
    for key, n in meta["counts"].items():
        print(f"  {key:<{width}}  {n:>10,}")
    with open(truth_path, encoding="utf-8") as fh:
        n_truth = sum(1 for _ in fh) - 1
    print(f"  {'truth.csv rows':<{width}}  {n_truth:>10,}")
    print(f"wrote {fixture} ({fixture.stat().st_size / 1e6:,.1f} MB) in {t1 - t0:.1f} s, "
          f"{truth_path} in {t2 - t1:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
