"""``python -m simulators.uniconta --port 8082 [--fixture f.json | --size S --seed 42] [--daily-quota 5000]
[--page-size 1000] [--fault-rate-429 0.05 ...]``"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal

import uvicorn

from .._common import FaultConfig
from . import create_app


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m simulators.uniconta", description="Uniconta OData/JSON API simulator")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8082)
    src = p.add_mutually_exclusive_group()
    src.add_argument("--fixture", help="fixture JSON file (whole document or its 'uniconta' section)")
    src.add_argument("--size", choices=["S", "M", "L"], help="generate data of this size")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--daily-quota", type=int, default=5000)
    p.add_argument("--page-size", type=int, default=1000)
    p.add_argument("--fault-rate-429", type=float, default=0.0)
    p.add_argument("--fault-rate-5xx", type=float, default=0.0)
    p.add_argument("--fault-rate-slow", type=float, default=0.0)
    p.add_argument("--fault-rate-truncated", type=float, default=0.0)
    p.add_argument("--retry-after", type=int, default=1)
    p.add_argument("--slow-seconds", type=float, default=2.0)
    p.add_argument("--fault-seed", type=int, default=0)
    args = p.parse_args(argv)

    fixture = None
    if args.fixture:
        with open(args.fixture, encoding="utf-8") as fh:
            fixture = json.load(fh, parse_float=Decimal)
    faults = FaultConfig(rate_429=args.fault_rate_429, rate_5xx=args.fault_rate_5xx, rate_slow=args.fault_rate_slow,
                         rate_truncated=args.fault_rate_truncated, retry_after=args.retry_after,
                         slow_seconds=args.slow_seconds, seed=args.fault_seed)
    app = create_app(fixture, size=args.size, seed=args.seed, faults=faults, daily_quota=args.daily_quota,
                     page_size=args.page_size)
    print(f"Uniconta simulator on http://{args.host}:{args.port}  (user integration / uniconta-pw unless the "
          f"fixture says otherwise)", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
