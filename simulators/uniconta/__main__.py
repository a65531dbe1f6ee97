"""``python -m simulators.uniconta --port 8082 [--fixture f.json | --size S --seed 42] [--daily-quota 5000]
[--page-size 1000] [--fault-rate-429 0.05 ...]``"""

from __future__ import annotations

import sys

import uvicorn

from .._common import fixture_and_faults, simulator_arguments
from . import create_app


def main(argv: list[str] | None = None) -> int:
    parser = simulator_arguments("python -m simulators.uniconta", "Uniconta OData/JSON API simulator", 8082)
    parser.add_argument("--daily-quota", type=int, default=5000)
    parser.add_argument("--page-size", type=int, default=1000)
    args = parser.parse_args(argv)
    fixture, faults = fixture_and_faults(args)
    app = create_app(fixture, size=args.size, seed=args.seed, faults=faults, daily_quota=args.daily_quota,
                     page_size=args.page_size)
    print(f"Uniconta simulator on http://{args.host}:{args.port}  (user integration / uniconta-pw unless the "
          f"fixture says otherwise)", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
