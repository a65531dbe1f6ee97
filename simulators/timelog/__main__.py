"""``python -m simulators.timelog --port 8081 [--fixture file.json | --size S --seed 42] [--fault-rate-429 0.1 ...]``"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal

import uvicorn

from simulators._common import FaultConfig

from . import SITE, create_app


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m simulators.timelog", description="TimeLog PSA API simulator")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8081)
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--fixture", help="fixture JSON file ({'timelog': {...}, ...})")
    src.add_argument("--size", choices=["S", "M", "L"], help="generate data of this size")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--fault-rate-429", type=float, default=0.0)
    ap.add_argument("--fault-rate-5xx", type=float, default=0.0)
    ap.add_argument("--fault-rate-slow", type=float, default=0.0)
    ap.add_argument("--fault-rate-truncated", type=float, default=0.0)
    ap.add_argument("--retry-after", type=int, default=1)
    ap.add_argument("--slow-seconds", type=float, default=2.0)
    ap.add_argument("--fault-seed", type=int, default=0)
    ap.add_argument("--log-level", default="warning")
    a = ap.parse_args(argv)

    fixture = None
    if a.fixture:
        with open(a.fixture, encoding="utf-8") as fh:
            fixture = json.load(fh, parse_float=Decimal)
    faults = FaultConfig(rate_429=a.fault_rate_429, rate_5xx=a.fault_rate_5xx, rate_slow=a.fault_rate_slow,
                         rate_truncated=a.fault_rate_truncated, retry_after=a.retry_after,
                         slow_seconds=a.slow_seconds, seed=a.fault_seed)
    app = create_app(fixture, size=a.size, seed=a.seed, faults=faults)
    print(f"TimeLog simulator on http://{a.host}:{a.port}/{SITE}  (admin: /_sim/info)", file=sys.stderr)
    uvicorn.run(app, host=a.host, port=a.port, log_level=a.log_level, lifespan="off")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
