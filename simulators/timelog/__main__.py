"""``python -m simulators.timelog --port 8081 [--fixture file.json | --size S --seed 42 [--today 2026-11-01]] [--fault-rate-429 0.1 ...] [--no-product-writes]``"""

from __future__ import annotations

import sys

import uvicorn

from simulators._common import fixture_and_faults, read_fixture, simulator_arguments

from . import SITE, create_app


def main(argv: list[str] | None = None) -> int:
    parser = simulator_arguments("python -m simulators.timelog", "TimeLog PSA API simulator", 8081)
    parser.add_argument("--no-product-writes", action="store_true",
                        help="serve the public REST API only: no product-number write extension (rule U2)")
    args = parser.parse_args(argv)
    fixture, faults = fixture_and_faults(args, "timelog")
    path = args.fixture
    app = create_app(fixture, size=args.size, seed=args.seed, today=args.today, faults=faults,
                     product_writes=not args.no_product_writes,
                     reread=(lambda: read_fixture(path, "timelog")) if path else None)
    del fixture  # the store holds what it made of it; a reset reads the file again
    print(f"TimeLog simulator on http://{args.host}:{args.port}/{SITE}  (admin: /_sim/info)", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, lifespan="off")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
