"""``make bench-all`` (issue 18): run the benchmarks one after the other, then one verdict line per target.

    .venv/bin/python bench/all.py                        # staging load (1M rows) + nightly M
    .venv/bin/python bench/all.py --rows 200000 --size S  # a quick pass
    .venv/bin/python bench/all.py --backfill L            # also the invoice backfill (L takes its own hour)

Each benchmark runs in its own process (its output is shown as it comes) and ends with ``VERDICT <target>: met |
NOT MET — <figure> (target <target>)`` lines; the invoice backfill prints figures only, so its verdicts are
read here from its output against issue 18's L targets (≤ 600 s, peak ≤ 1 GiB, ≤ 0.021 Uniconta calls per
invoice — figures of a smaller size are shown, not judged). The exit status is 1 when a target is not met.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(args: list[str]) -> list[str]:
    print(f"\n$ {' '.join(args)}", flush=True)
    proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stdout:
        print(line, end="", flush=True)
        lines.append(line.rstrip("\n"))
    if proc.wait():
        lines.append(f"VERDICT {args[0]}: NOT MET — exited with status {proc.returncode} (target: runs)")
    return lines


def backfill_verdicts(lines: list[str], size: str) -> list[str]:
    text = "\n".join(lines)
    seconds = re.search(r"^\s+([\d.]+) s\s+→", text, re.M)
    peak = re.search(r"peak RSS of the transfer process: (\d+) MB", text)
    calls = re.search(r"→\s+([\d.]+) per transferred invoice", text)
    judged = size == "L"
    out = []
    for name, match, limit, unit in (("backfill time", seconds, 600, "s"), ("backfill peak", peak, 1024, "MB"),
                                     ("backfill Uniconta calls per invoice", calls, 0.021, "")):
        if match is None:
            out.append(f"VERDICT {name} ({size}): NOT MET — no figure in the output (target <= {limit} {unit})")
            continue
        figure = float(match.group(1))
        state = ("met" if figure <= limit else "NOT MET") if judged else "shown"
        out.append(f"VERDICT {name} ({size}): {state} — {figure:g} {unit} (target at L <= {limit} {unit})")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="staging load rows")
    parser.add_argument("--size", default="M", choices=["S", "M"], help="nightly size")
    parser.add_argument("--workdir", default=None, help="nightly: keep and reuse the fixture here")
    parser.add_argument("--backfill", choices=["S", "M", "L"], help="also run bench/invoice_backfill.py --pg")
    args = parser.parse_args()
    verdicts = []
    lines = run(["bench/staging_load.py", "--rows", str(args.rows)])
    verdicts += [x for x in lines if x.startswith("VERDICT ")]
    nightly = ["bench/nightly.py", "--size", args.size, *(["--workdir", args.workdir] if args.workdir else [])]
    verdicts += [x for x in run(nightly) if x.startswith("VERDICT ")]
    if args.backfill:
        verdicts += backfill_verdicts(run(["bench/invoice_backfill.py", "--size", args.backfill, "--pg"]),
                                      args.backfill)
    print("\n== verdicts ==")
    for line in verdicts:
        print(line.removeprefix("VERDICT "))
    return 1 if any("NOT MET" in v for v in verdicts) else 0


if __name__ == "__main__":
    raise SystemExit(main())
