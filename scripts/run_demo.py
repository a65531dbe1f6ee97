"""`make run`: the nightly sync end to end on the embedded default.

Starts both simulators with generated demo data (same seed, so the two systems tell one story), prepares an
Airflow home inside the project (SQLite metadata DB, this project's dags/ and plugins/, connections and the
legal-entity ↔ company Variable from the environment), runs the nightly sync DAG with ``airflow dags test``,
and prints the run summary and where everything is. Run it twice: the second run stages nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from datetime import datetime, timezone
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "include"), str(ROOT)]

from simulators._common import free_port  # noqa: E402


@contextmanager
def simulator(module: str, port: int, size: str, seed: int, log_dir: Path):
    log = (log_dir / f"{module.rsplit('.', 1)[1]}-sim.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", module, "--port", str(port), "--size", size, "--seed", str(seed)],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/_sim/counters", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{module} did not start; see {log.name}")
            time.sleep(0.3)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def airflow_env(timelog_url: str, uniconta_url: str, out: Path) -> dict[str, str]:
    env = dict(os.environ)
    home = Path(os.environ.get("TLSYNC_AIRFLOW_HOME", ROOT / "airflow_home"))
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "TLSYNC_TASK_RETRIES": os.environ.get("TLSYNC_TASK_RETRIES", "0"),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "TLSYNC_OUT_DIR": str(out),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "include"), str(ROOT / "plugins"), str(ROOT)]),
        "AIRFLOW_CONN_TIMELOG_DEFAULT": json.dumps({
            "conn_type": "timelog", "host": f"{timelog_url}/tlsim", "login": "integration",
            "password": "integration-pw",
            "extra": {"reporting_site_code": "SIMSITE", "reporting_api_id": "apiuser",
                      "reporting_api_password": "apipass", "rest_token": "sim-pat-token"}}),
        "AIRFLOW_CONN_UNICONTA_DEFAULT": json.dumps({
            "conn_type": "uniconta", "host": uniconta_url, "login": "integration", "password": "uniconta-pw",
            "extra": {"daily_call_budget": 5000}}),
    })
    env.setdefault("AIRFLOW_VAR_TLSYNC_ENTITY_PAIRS", json.dumps({"1": 10001, "2": 10002}))
    return env


def airflow(env: dict[str, str], *args: str, log: Path) -> None:
    bin_dir = Path(sys.executable).parent
    with log.open("a") as fh:
        fh.write(f"\n$ airflow {' '.join(args)}\n")
        fh.flush()
        rc = subprocess.call([str(bin_dir / "airflow"), *args], env=env, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
    if rc != 0:
        tail = "".join(log.read_text(errors="replace").splitlines(keepends=True)[-60:])
        raise SystemExit(f"`airflow {' '.join(args)}` failed (exit {rc}); last lines of {log}:\n{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="S", choices=["S", "M", "L"])
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    out = Path(os.environ.get("TLSYNC_OUT_DIR", ROOT / "out"))
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with ExitStack() as stack:
        print(f"• starting the TimeLog and Uniconta simulators with generated data (size {args.size}, seed {args.seed})")
        timelog = stack.enter_context(simulator("simulators.timelog", free_port(), args.size, args.seed, logs))
        uniconta = stack.enter_context(simulator("simulators.uniconta", free_port(), args.size, args.seed, logs))
        env = airflow_env(timelog, uniconta, out)
        log = logs / "airflow.log"
        print(f"• preparing the Airflow home (SQLite) in {env['AIRFLOW_HOME']}")
        airflow(env, "db", "migrate", log=log)
        airflow(env, "pools", "set", "timelog_api", "4", "Concurrent calls to TimeLog's APIs", log=log)
        airflow(env, "pools", "set", "uniconta_api", "2", "Concurrent calls to Uniconta (5,000/user/day)", log=log)
        logical = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        print(f"• airflow dags test tlsync_nightly_sync {logical}")
        airflow(env, "dags", "test", "tlsync_nightly_sync", logical, log=log)

    os.environ["TLSYNC_OUT_DIR"] = str(out)
    from tlsync.sync import config, report  # noqa: E402

    print()
    print(report.after_run(config.staging_engine()))
    from tlsync.reconcile.flow import demo_reports  # noqa: E402  (issue 7: the finance report, rule U3)

    print("\n• the finance report (invoice reconciliation, rule U3):\n")
    print(demo_reports(env["AIRFLOW_VAR_TLSYNC_ENTITY_PAIRS"], out / "reports"))
    print(f"\nDone in {time.monotonic() - started:.0f} s. Outputs:")
    print(f"  staging database   {make_url(config.staging_url()).render_as_string(hide_password=True)}")
    print(f"  landing files      {out / 'landing'}")
    print(f"  finance reports    {out / 'reports'}  (HTML, Excel, CSV; how to read them: docs/reconciliation.md)")
    print(f"  Airflow + DAG log  {log}")
    print(f"  simulator logs     {logs}")


if __name__ == "__main__":
    main()
