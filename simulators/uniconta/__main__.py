"""``python -m simulators.uniconta --port 8082 [--fixture f.json | --size S --seed 42 [--today 2026-11-01]]
[--daily-quota 5000]
[--page-size 1000] [--quota-mode throttle|refuse] [--throttle-seconds 1] [--row-id-field RowId|PrimaryKeyId]
[--fault-rate-429 0.05 ...]``"""

from __future__ import annotations

import sys

import uvicorn

from .._common import fixture_and_faults, read_fixture, simulator_arguments
from . import create_app


def main(argv: list[str] | None = None) -> int:
    parser = simulator_arguments("python -m simulators.uniconta", "Uniconta OData/JSON API simulator", 8082)
    parser.add_argument("--daily-quota", type=int, default=5000)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--quota-mode", choices=("throttle", "refuse"), default="throttle",
                        help="past the daily quota: slow each call down (as Uniconta does) or refuse with 403")
    parser.add_argument("--throttle-seconds", type=float, default=1.0,
                        help="extra seconds per call for each daily quota's worth of calls used (throttle mode)")
    parser.add_argument("--row-id-field", choices=("RowId", "PrimaryKeyId"), default="RowId",
                        help="the name under which rows carry their id (PrimaryKeyId: as public OData clients see)")
    args = parser.parse_args(argv)
    fixture, faults = fixture_and_faults(args, "uniconta")
    path = args.fixture
    app = create_app(fixture, size=args.size, seed=args.seed, today=args.today, faults=faults,
                     daily_quota=args.daily_quota, page_size=args.page_size, quota_mode=args.quota_mode,
                     throttle_seconds=args.throttle_seconds, row_id_field=args.row_id_field,
                     reread=(lambda: read_fixture(path, "uniconta")) if path else None)
    del fixture  # the store holds what it made of it; a reset reads the file again
    print(f"Uniconta simulator on http://{args.host}:{args.port}  (user integration / uniconta-pw unless the "
          f"fixture says otherwise)", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
