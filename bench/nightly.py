"""Benchmark (issue 18): the nightly sync on M — a first night and a no-change night — beside a raw fetch of the
same simulator pages.

    .venv/bin/python bench/nightly.py --size M                 # ~375k records; fixture reused from --workdir
    .venv/bin/python bench/nightly.py --size S --sqlite        # quick check
    TLSYNC_BENCH_PROFILE=/tmp/night  .venv/bin/python bench/nightly.py   # cProfile of each night → /tmp/night.<n>.prof

How it is measured, and why:

1. **Fixture** from the generator (``write_fixture``, reused when ``--workdir`` already holds it).
2. **Simulators** run as **separate processes** (``python -m simulators.timelog`` / ``simulators.uniconta``), as
   ``bench/invoice_backfill.py`` starts them, so the pipeline's process holds no simulator work and no GIL is
   shared with them.
3. **Each night** is ``tlsync.nightly.local.run_once`` in a fresh child process (the operator's command, the DAG's
   steps in order) against a throw-away PostgreSQL database (``--sqlite`` for SQLite). The child times the
   pipeline (``run_once``, imports and migrations excluded) and its phases: *extract* (every
   ``pipeline.extract_*``: HTTP, parse, client models, landing files) and *stage* (``validate_and_stage_all``:
   hash compare, quality gate, loader). It also records every HTTP request the clients send.
4. **Raw fetch baseline**: the recorded requests of the night are replayed with a bare ``httpx.Client`` (one
   connection per simulator, bodies read and discarded, nothing parsed) against the same simulators — the
   physical limit of what the simulators can serve. ``extraction ratio = raw fetch s / extract s`` (issue 18
   target ≥ 0.8: parsing, validating and landing cost at most a quarter on top of the wire).
5. **Bytecode**: the children write and read compiled bytecode in ``<workdir>/pycache`` (warmed before the first
   night), as a deployed worker would have it; ``--cold`` measures without (this machine sets
   ``PYTHONDONTWRITEBYTECODE``, and then every run compiles great_expectations from source, ~10 s).

Targets (issue 18): first night ≤ 90 s, no-change night ≤ 15 s (pipeline only), extraction ≥ 0.8 × raw fetch.
The last lines are verdicts, one per target, for ``make bench-all``.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "include"), str(ROOT)]

TARGET_FIRST_S, TARGET_NOCHANGE_S, TARGET_EXTRACT_RATIO = 90.0, 15.0, 0.8
PAIRS = '{"1": 10001, "2": 10002}'


# -- child: one night --------------------------------------------------------------------------------------------
def night_child(record: Path, timings: Path) -> None:
    """Run ``tlsync.nightly.local``'s ``run_once`` with timers around the pipeline's phases and a recorder of the
    HTTP requests (instrumentation of this benchmark only; nothing is replaced)."""
    import httpx

    from tlsync import connections
    from tlsync.nightly import local, pipeline
    from tlsync.staging.engine import default_url, staging_engine
    from tlsync.staging.migrate import upgrade
    requests: list[tuple[str, str, dict, bytes]] = []
    send = httpx.Client.send

    def recording_send(self, request, **kw):
        response = send(self, request, **kw)
        requests.append((request.method, str(request.url), dict(request.headers), request.content))
        return response

    httpx.Client.send = recording_send
    phases = {"extract": 0.0, "stage": 0.0}

    def timed(phase, fn):
        def wrapper(*a, **kw):
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                phases[phase] += time.perf_counter() - t0
        return wrapper

    for name in ("extract_timelog_site", "extract_timelog_legal_entity", "extract_uniconta_company"):
        setattr(pipeline, name, timed("extract", getattr(pipeline, name)))
    pipeline.validate_and_stage_all = timed("stage", pipeline.validate_and_stage_all)

    upgrade(default_url())
    timelog = connections.connection_fields("timelog_default")
    uniconta = connections.connection_fields("uniconta_default")
    profile = os.environ.get("TLSYNC_BENCH_PROFILE_FILE")
    t0 = time.perf_counter()
    if profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    run_id = local.run_once(timelog, uniconta, PAIRS)
    if profile:
        prof.disable()
        prof.dump_stats(profile)
    total = time.perf_counter() - t0
    from tlsync.nightly import runs
    summary = runs.format_summary(staging_engine(), run_id)
    record.write_bytes(pickle.dumps(requests))
    timings.write_text(json.dumps({"total": total, **phases, "requests": len(requests), "summary": summary}))


# -- parent --------------------------------------------------------------------------------------------------------
def serve(module: str, port: int, fixture: Path, *extra: str) -> subprocess.Popen:
    from simulators._common import serve_process

    return serve_process(module, port, fixture, *extra, cwd=ROOT, wait_s=600)


def raw_fetch(record: Path) -> tuple[float, int, int]:
    """Replay the recorded requests with a bare client: seconds, requests, bytes received."""
    import httpx

    requests = pickle.loads(record.read_bytes())
    received = 0
    with httpx.Client(timeout=300) as client:
        t0 = time.perf_counter()
        for method, url, headers, content in requests:
            headers = {k: v for k, v in headers.items() if k.lower() not in ("content-length", "host")}
            response = client.request(method, url, headers=headers, content=content or None)
            received += len(response.content)
        return time.perf_counter() - t0, len(requests), received


def run_night(n: int, env: dict, work: Path) -> dict:
    record, timings = work / f"requests.{n}.pickle", work / f"timings.{n}.json"
    env = dict(env)
    if os.environ.get("TLSYNC_BENCH_PROFILE"):
        env["TLSYNC_BENCH_PROFILE_FILE"] = f"{os.environ['TLSYNC_BENCH_PROFILE']}.{n}.prof"
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--phase", "night", "--record", str(record), "--timings",
                          str(timings)], cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if out.returncode:
        raise SystemExit(f"night {n} failed:\n{out.stderr[-4000:]}")
    result = json.loads(timings.read_text())
    result["wall"] = wall
    result["raw_s"], result["raw_requests"], result["raw_bytes"] = raw_fetch(record)
    record.unlink()
    return result


def verdict(name: str, met: bool, figure: str, target: str) -> str:
    return f"VERDICT {name}: {'met' if met else 'NOT MET'} — {figure} (target {target})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="M", choices=["S", "M"])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", help="keep the fixture here and reuse it next time")
    parser.add_argument("--sqlite", action="store_true", help="SQLite staging instead of PostgreSQL")
    parser.add_argument("--pg", default="postgresql+psycopg2://postgres@127.0.0.1:5432/postgres",
                        help="PostgreSQL server (a throw-away database is created and dropped)")
    parser.add_argument("--cold", action="store_true",
                        help="no bytecode cache: every night compiles its imports from source")
    parser.add_argument("--phase", default="all", choices=["all", "night"], help=argparse.SUPPRESS)
    parser.add_argument("--record", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--timings", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "night":
        night_child(args.record, args.timings)
        return

    from sqlalchemy import create_engine, text

    from simulators._common import free_port
    from simulators.generator import write_fixture

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="tlsync-nightly-"))
    workdir.mkdir(parents=True, exist_ok=True)
    fixture = workdir / f"fixture-{args.size}-{args.seed}.json"
    if not fixture.exists():
        t0 = time.perf_counter()
        write_fixture(fixture, size=args.size, seed=args.seed)
        print(f"generated {args.size} in {time.perf_counter() - t0:.0f} s", flush=True)
    admin, db_name = None, None
    if args.sqlite:
        url = f"sqlite:///{workdir / f'staging-{uuid.uuid4().hex[:8]}.db'}"
    else:
        db_name = f"tlsync_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{db_name}"'))
        url = args.pg.rsplit("/", 1)[0] + "/" + db_name
    tl_port, uc_port = free_port(), free_port()
    procs = []
    try:
        t0 = time.perf_counter()
        procs = [serve("simulators.timelog", tl_port, fixture),
                 serve("simulators.uniconta", uc_port, fixture, "--daily-quota", "1000000")]
        print(f"simulators up in {time.perf_counter() - t0:.0f} s", flush=True)
        env = {**os.environ, "PYTHONPATH": f"{ROOT / 'include'}{os.pathsep}{ROOT}",
               "TLSYNC_STAGING_URL": url, "TLSYNC_OUT_DIR": str(workdir / "out"),
               "TLSYNC_LANDING_URL": str(workdir / "out" / "landing"),
               "AIRFLOW_VAR_TLSYNC_ENTITY_PAIRS": PAIRS,
               "AIRFLOW_CONN_TIMELOG_DEFAULT": json.dumps({
                   "conn_type": "timelog", "host": f"http://127.0.0.1:{tl_port}/tlsim", "login": "integration",
                   "password": "integration-pw",
                   "extra": {"reporting_site_code": "SIMSITE", "reporting_api_id": "apiuser",
                             "reporting_api_password": "apipass", "rest_token": "sim-pat-token"}}),
               "AIRFLOW_CONN_UNICONTA_DEFAULT": json.dumps({
                   "conn_type": "uniconta", "host": f"http://127.0.0.1:{uc_port}", "login": "integration",
                   "password": "uniconta-pw", "extra": {}})}
        if not args.cold:
            # A deployed worker runs compiled bytecode; this machine sets PYTHONDONTWRITEBYTECODE, which made every
            # night compile great_expectations from source (~10 s, cProfile). Bytecode goes to a cache of the
            # work folder (never into .venv), warmed by one import before the clock starts.
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")
            subprocess.run([sys.executable, "-c", "import great_expectations, tlsync.quality, tlsync.nightly.local"],
                           cwd=ROOT, env=env, check=True, capture_output=True)
        first = run_night(1, env, workdir)
        second = run_night(2, env, workdir)
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=60)
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
            admin.dispose()

    backend = "SQLite" if args.sqlite else "PostgreSQL"
    print(f"nightly sync, size {args.size} (seed {args.seed}), {backend} staging, simulators in their own processes")
    print(f"{'night':<10} {'pipeline s':>10} {'extract s':>9} {'stage s':>8} {'requests':>8} {'raw fetch s':>11} "
          f"{'MB':>6} {'extract/raw':>11}")
    for name, r in (("first", first), ("no-change", second)):
        print(f"{name:<10} {r['total']:>10.1f} {r['extract']:>9.1f} {r['stage']:>8.1f} {r['requests']:>8} "
              f"{r['raw_s']:>11.1f} {r['raw_bytes'] / 1e6:>6.0f} {r['raw_s'] / r['extract']:>10.2f}x")
    print(f"(process wall incl. start-up and migrations: first {first['wall']:.1f} s, no-change {second['wall']:.1f} s)")
    for n, r in ((1, first), (2, second)):
        (workdir / f"summary.{n}.txt").write_text(r["summary"])
    print(f"run summaries: {workdir}/summary.1.txt, summary.2.txt")
    ratio = first["raw_s"] / first["extract"]
    print(verdict("M first night" if args.size == "M" else f"{args.size} first night",
                  first["total"] <= TARGET_FIRST_S, f"{first['total']:.1f} s", f"<= {TARGET_FIRST_S:.0f} s"))
    print(verdict("no-change night", second["total"] <= TARGET_NOCHANGE_S, f"{second['total']:.1f} s",
                  f"<= {TARGET_NOCHANGE_S:.0f} s"))
    print(verdict("extraction vs raw fetch (first night)", ratio >= TARGET_EXTRACT_RATIO,
                  f"{ratio:.2f} x (raw {first['raw_s']:.1f} s / extract {first['extract']:.1f} s)",
                  f">= {TARGET_EXTRACT_RATIO}"))


if __name__ == "__main__":
    main()
