"""`make run`: the nightly sync and the write-back end to end on the embedded default.

Starts both simulators with generated demo data (same seed, so the two systems tell one story), prepares an
Airflow home inside the project (SQLite metadata DB, this project's dags/ and plugins/, connections and the
legal-entity ↔ company Variable from the environment), runs the nightly sync DAG with ``airflow dags test`` and
prints its summary. Then, for legal entity 1, it does the administrator's setup as **scripted demo steps** (the
real ``python -m tlsync.linking`` commands: accept the matcher's One suggestions, ignore the rest; confirm the
activation checklist, rule S8) in a demo settings file under the output folder — never in ``config/`` — runs the
transfer DAG (``tlsync_transfer``) with ``airflow dags test`` and prints its summary; an accountant posting the new
drafts (a simulator admin call) and the next night's sync follow, then the finance reconciliation report.

The simulators keep their state between runs (``out/simulators/``), as real systems would, so the second run
stages nothing and transfers nothing new. ``make clean`` starts afresh. See docs/transfer.md.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager, redirect_stdout
from datetime import date, datetime, timezone
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "include"), str(ROOT)]

from simulators._common import free_port  # noqa: E402

DEMO_LEGAL_ENTITY = 1


def stop(proc: subprocess.Popen, timeout: float) -> None:
    """Ask a child process to end (TERM), and kill it if it has not within ``timeout`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def simulator(module: str, port: int, size: str, seed: int, log_dir: Path, fixture: Path | None = None,
              today: str | None = None):
    log = (log_dir / f"{module.rsplit('.', 1)[1]}-sim.log").open("w")
    data = ["--fixture", str(fixture)] if fixture else ["--size", size, "--seed", str(seed)]
    if today and not fixture:   # the generated data ends the day before (default: today in Denmark)
        data += ["--today", today]
    proc = subprocess.Popen([sys.executable, "-m", module, "--port", str(port), *data],
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
        stop(proc, timeout=10)
        log.close()


def save_state(timelog_url: str, uniconta_url: str, path: Path) -> None:
    """Both simulators' state (the fixture shape, no passwords) for the next run to start from."""
    doc = {**httpx.get(f"{timelog_url}/_sim/state", timeout=60).json(),
           **httpx.get(f"{uniconta_url}/_sim/state", timeout=60).json()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc), encoding="utf-8")
    tmp.replace(path)


def simulator_connections(timelog_url: str, uniconta_url: str) -> dict[str, str]:
    """The two Connections, as ``AIRFLOW_CONN_*`` variables, that point the product at the simulators (their demo
    users; no real secret)."""
    return {
        "AIRFLOW_CONN_TIMELOG_DEFAULT": json.dumps({
            "conn_type": "timelog", "host": f"{timelog_url}/tlsim", "login": "integration",
            "password": "integration-pw",
            "extra": {"reporting_site_code": "SIMSITE", "reporting_api_id": "apiuser",
                      "reporting_api_password": "apipass", "rest_token": "sim-pat-token"}}),
        "AIRFLOW_CONN_UNICONTA_DEFAULT": json.dumps({
            "conn_type": "uniconta", "host": uniconta_url, "login": "integration", "password": "uniconta-pw",
            "extra": {"daily_call_budget": 5000}}),
    }


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
        **simulator_connections(timelog_url, uniconta_url),
    })
    env.setdefault("AIRFLOW_VAR_TLSYNC_ENTITY_PAIRS", json.dumps({"1": 10001, "2": 10002}))
    return env


def pools_file(home: Path) -> Path:
    """The DAGs' pools (:data:`tlsync.deploy.POOLS`) as a file for ``airflow pools import`` (tests that prepare an
    Airflow home without the whole ``tlsync deploy init``)."""
    from tlsync.deploy import POOLS

    home.mkdir(parents=True, exist_ok=True)
    path = home / "tlsync-pools.json"
    path.write_text(json.dumps(POOLS, indent=2), encoding="utf-8")
    return path


def deploy_init(env: dict[str, str], log: Path) -> None:
    """``tlsync deploy init`` — staging migrations, ``airflow db migrate``, the pools, the connection and settings
    checks — exactly as an operator runs it; its lines are shown, and a failed step stops the demo."""
    proc = subprocess.run([str(Path(sys.executable).parent / "tlsync"), "deploy", "init"], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    with log.open("a") as fh:
        fh.write(f"\n$ tlsync deploy init\n{proc.stdout}{proc.stderr}")
    for line in proc.stdout.splitlines():
        print(f"    {line}")
    if any(line.startswith("failed") for line in proc.stdout.splitlines()) or proc.returncode == 2:
        raise SystemExit(f"`tlsync deploy init` failed (exit {proc.returncode}); see {log}")


def airflow(env: dict[str, str], *args: str, log: Path) -> None:
    bin_dir = Path(sys.executable).parent
    with log.open("a") as fh:
        fh.write(f"\n$ airflow {' '.join(args)}\n")
        fh.flush()
        rc = subprocess.call([str(bin_dir / "airflow"), *args], env=env, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
    if rc != 0:
        tail = "".join(log.read_text(errors="replace").splitlines(keepends=True)[-60:])
        raise SystemExit(f"`airflow {' '.join(args)}` failed (exit {rc}); last lines of {log}:\n{tail}")


def api_server(env: dict[str, str], port: int, log: Path, *, workers: int | None = 1,
               timeout: float | None = 300) -> subprocess.Popen:
    """Start ``airflow api-server`` on loopback ``port`` (output appended to ``log``) and wait until
    ``/api/v2/monitor/health`` answers 200 — for ``make ui``, the pages' tests and the linking-page benchmark.
    ``workers=None``: Airflow's default; ``timeout=None``: wait as long as it runs. Raises :class:`RuntimeError`
    naming the log when the server exits or does not answer in time (it is stopped first). The caller stops it
    (:func:`stop`)."""
    command = [str(Path(sys.executable).parent / "airflow"), "api-server", "--host", "127.0.0.1", "--port",
               str(port), *(["--workers", str(workers)] if workers else [])]
    with log.open("a") as fh:
        proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"airflow api-server exited ({proc.returncode}); see {log}")
        try:
            if httpx.get(f"{url}/api/v2/monitor/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if deadline is not None and time.monotonic() > deadline:
            stop(proc, timeout=20)
            raise RuntimeError(f"airflow api-server did not answer in {timeout:g} s; see {log}")
        time.sleep(0.5)


def linking(settings_file: Path, *argv: str, head: int = 3, tail: int = 2) -> str:
    """Run ``python -m tlsync.linking`` (in-process: the same ``main``) and show the command and its output."""
    from tlsync.linking.cli import main as linking_main

    print(f"  $ python -m tlsync.linking --settings {settings_file} {' '.join(argv)}")
    buf = io.StringIO()
    with redirect_stdout(buf):
        code = linking_main(["--settings", str(settings_file), "--actor", "demo", *argv])
    lines = buf.getvalue().splitlines()
    if len(lines) > head + tail + 1:
        lines = [*lines[:head], *([f"… {len(lines) - head - tail} more line(s) …"] if tail else []),
                 *(lines[len(lines) - tail:] if tail else [])]
    for line in lines:
        print(f"      {line}")
    if code not in (0, 1):
        raise SystemExit(f"`python -m tlsync.linking {' '.join(argv)}` failed (exit {code})")
    return buf.getvalue()


def demo_setup(settings_file: Path, legal_entity_id: int) -> None:
    """The administrator's setup of one legal entity, scripted for the demo (rules L2/L3, S8)."""
    from tlsync import settings as settings_mod
    from tlsync.linking import view_rows
    from tlsync.staging.engine import staging_engine
    print(f"\n• demo: accepting the matcher's one-suggestions, ignoring the rest, confirming the checklist — an "
          f"administrator does this with `python -m tlsync.linking ...` (docs/linking.md) and by editing the "
          f"settings file; here for legal entity {legal_entity_id}, in the demo's own settings file "
          f"{settings_file} (config/ is left alone)")
    if not settings_file.exists():
        settings_file.parent.mkdir(parents=True, exist_ok=True)
        settings_mod.save(settings_mod.load(ROOT / "config" / "integration.example.yaml"), settings_file)
    le = settings_mod.load(settings_file).entity(legal_entity_id)
    linking(settings_file, "refresh", "--legal-entity", str(legal_entity_id))
    linking(settings_file, "status", "--legal-entity", str(legal_entity_id))
    engine = staging_engine()
    left = len(view_rows(engine, le.uniconta_company_id, "one"))
    while left:                      # accept-one takes a page of 200: again until the One view is empty
        linking(settings_file, "accept-one", "--legal-entity", str(legal_entity_id), "--wins", "timelog")
        before, left = left, len(view_rows(engine, le.uniconta_company_id, "one"))
        if left >= before:           # nothing more could be accepted (refusals): the rest is ignored below
            break
    for view in ("one", "several", "none"):
        for row in view_rows(engine, le.uniconta_company_id, view):
            linking(settings_file, "apply", "ignore", "--legal-entity", str(legal_entity_id), "--debtor",
                    row.debtor_account, head=1, tail=0)
    document = settings_mod.load(settings_file)
    le = document.entity(legal_entity_id)
    if not le.activation.activated:
        le.activation = settings_mod.ActivationChecklist(
            configuration_complete=True, customers_linked=True, item_numbers_imported=True,
            confirmed_by="make run (scripted demo step)", confirmed_at=datetime.now().replace(microsecond=0))
        settings_mod.save(document, settings_file)
        print(f"  demo: activation checklist of legal entity {legal_entity_id} confirmed in {settings_file} "
              f"(configuration_complete, customers_linked, item_numbers_imported, confirmed_by/at; rule S8)")
    else:
        print(f"  the activation checklist of legal entity {legal_entity_id} is already confirmed in {settings_file}")
    linking(settings_file, "status", "--legal-entity", str(legal_entity_id))


FIRST_NIGHT_TARGET = {"M": 1500}     # issue 13: Uniconta calls of M's first night (bench/uniconta_first_night.py)


def uniconta_calls(uniconta_url: str) -> int:
    """Every authenticated call the Uniconta simulator has answered since it started (its own count, reads
    included; ``/_sim/quota``)."""
    return sum(httpx.get(f"{uniconta_url}/_sim/quota", timeout=30).json()["used"].values())


def calls_line(phases: list[tuple[str, int]], size: str, first: bool) -> str:
    """The night's Uniconta calls per phase, against the 5,000 a day and (first night) issue 13's target."""
    total = sum(n for _, n in phases)
    night = "first night" if first else "this night (the simulators kept their state: not a first night)"
    text = (f"Uniconta calls of the {night}: {total:,} = " + " + ".join(f"{what} {n:,}" for what, n in phases)
            + f"; {total / 5000:.0%} of Uniconta's 5,000 calls a day")
    target = FIRST_NIGHT_TARGET.get(size)
    if first and target:
        text += f"; target for {size} ≤ {target:,}: {'met' if total <= target else 'NOT met'}"
    return text


def transfer_summary(env: dict[str, str]) -> str:
    """What the transfer DAG's ``summary`` task returned in its latest run (its XCom in Airflow's metadata DB)."""
    from sqlalchemy import create_engine, text

    url = env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN") or f"sqlite:///{Path(env['AIRFLOW_HOME']) / 'airflow.db'}"
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            value = conn.execute(text(
                "SELECT value FROM xcom WHERE dag_id = 'tlsync_transfer' AND task_id = 'summary' "
                "AND key = 'return_value' ORDER BY timestamp DESC LIMIT 1")).scalar()
    finally:
        engine.dispose()
    if value is None:
        return "(the transfer's summary task left no result; see the Airflow log)"
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def post_new_drafts(uniconta_url: str, pairs: list[dict], legal_entity_id: int) -> None:
    """Demo step: an accountant posts the drafts tlsync created (the simulator's stand-in for posting in Uniconta)."""
    from tlsync.ledger import Ledger
    from tlsync.staging.engine import staging_engine
    company = next(p["company_id"] for p in pairs if p["legal_entity_id"] == legal_entity_id)
    orders = [int(e.target_key) for e in Ledger(staging_engine()).entries("invoice", legal_entity_id,
                                                                                  states=["done"]) if e.target_key]
    answer = httpx.post(f"{uniconta_url}/_sim/companies/{company}/post-drafts",
                        json={"orders": orders},   # each keeps its own invoice date, as in Uniconta
                        timeout=120).json()
    if not answer["posted"] and not answer.get("skipped"):
        print(f"\n• demo: no new drafts in Uniconta company {company} for an accountant to post")
        return
    print(f"\n• demo: an accountant posts the new drafts in Uniconta (a simulator admin call standing "
          f"in for posting them in Uniconta): {len(answer['posted'])} posted in company {company}"
          + (f", {len(answer['skipped'])} refused by Uniconta" if answer.get("skipped") else ""))


def next_night(pairs: list[dict]) -> None:
    """The next night's sync, in-process (``python -m tlsync.nightly.local`` runs the DAG's steps without Airflow)."""
    from tlsync.connections import connection_fields
    from tlsync.nightly import runs
    from tlsync.nightly.local import run_once
    from tlsync.staging.engine import staging_engine

    run_id = run_once(connection_fields("timelog_default"), connection_fields("uniconta_default"), pairs)
    staged = {r["entity"]: r["staged"] for r in runs.summary_rows(staging_engine(), run_id) if r["staged"]}
    text = ", ".join(f"{entity} {n:,}" for entity, n in staged.items()) or "nothing (nothing changed)"
    print(f"\n• the next night's sync (in-process, the same steps as the DAG: `python -m tlsync.nightly.local`) "
          f"staged what the write-back changed: {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="S", choices=["S", "M", "L"])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--today", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                        help="the generated data's 'today' (default: today in Denmark, so this month has data; "
                             "a fixed date gives the same data on every day)")
    args = parser.parse_args()
    today = args.today.isoformat() if args.today else None

    out = Path(os.environ.get("TLSYNC_OUT_DIR", ROOT / "out"))
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    os.environ["TLSYNC_OUT_DIR"] = str(out)
    state = out / "simulators" / f"state-{args.size}-{args.seed}.json"
    settings_file = out / "demo" / "integration.yaml"
    started = time.monotonic()
    from tlsync.nightly import pipeline, report
    from tlsync.staging.engine import default_url, staging_engine
    with ExitStack() as stack:
        if state.exists():
            print(f"• starting the TimeLog and Uniconta simulators from the state the last run left ({state}; "
                  f"`make clean` starts afresh)")
        else:
            print(f"• starting the TimeLog and Uniconta simulators with generated data (size {args.size}, "
                  f"seed {args.seed}, dated up to {today or 'today'})")
        fixture = state if state.exists() else None
        timelog = stack.enter_context(simulator("simulators.timelog", free_port(), args.size, args.seed, logs, fixture,
                                                today))
        uniconta = stack.enter_context(simulator("simulators.uniconta", free_port(), args.size, args.seed, logs,
                                                 fixture, today))
        env = airflow_env(timelog, uniconta, out)
        env["TLSYNC_SETTINGS"] = str(settings_file)
        for key in ("AIRFLOW_CONN_TIMELOG_DEFAULT", "AIRFLOW_CONN_UNICONTA_DEFAULT", "TLSYNC_SETTINGS"):
            os.environ[key] = env[key]          # the linking commands and the report below use the same ones
        pairs = pipeline.entity_pairs(env["AIRFLOW_VAR_TLSYNC_ENTITY_PAIRS"])
        log = logs / "airflow.log"
        try:
            print(f"• the operator's set-up, `tlsync deploy init` (README, Deploy), with the Airflow home (SQLite) "
                  f"in {env['AIRFLOW_HOME']}:")
            deploy_init(env, log)
            marks = [uniconta_calls(uniconta)]
            logical = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
            print(f"• airflow dags test tlsync_nightly_sync {logical}")
            airflow(env, "dags", "test", "tlsync_nightly_sync", logical, log=log)
            marks.append(uniconta_calls(uniconta))
            print()
            print(report.after_run(staging_engine()))

            write_back_started = time.monotonic()
            demo_setup(settings_file, DEMO_LEGAL_ENTITY)
            marks.append(uniconta_calls(uniconta))
            logical = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
            print(f"\n• airflow dags test tlsync_transfer {logical}   (the write-back, docs/transfer.md)\n")
            transfer_started = time.monotonic()
            airflow(env, "dags", "test", "tlsync_transfer", logical, log=log)
            transfer_seconds = time.monotonic() - transfer_started
            marks.append(uniconta_calls(uniconta))
            print(transfer_summary(env))
            print("\n• " + calls_line([("nightly sync", marks[1] - marks[0]), ("set-up", marks[2] - marks[1]),
                                     ("transfer", marks[3] - marks[2])], args.size, fixture is None))
            from tlsync.quota import tally_report

            print(f"  tlsync's own tally: {tally_report(staging_engine())}")
            post_new_drafts(uniconta, pairs, DEMO_LEGAL_ENTITY)
            next_night(pairs)
            print(f"\n  (set-up, transfer and the next night took {time.monotonic() - write_back_started:.0f} s, "
                  f"of which `airflow dags test tlsync_transfer` {transfer_seconds:.0f} s)")
        finally:
            save_state(timelog, uniconta, state)

    from tlsync.reconcile.flow import demo_reports  # noqa: E402  (issue 7: the finance report, rule U3)

    print("\n• the finance report (invoice reconciliation, rule U3):\n")
    print(demo_reports(env["AIRFLOW_VAR_TLSYNC_ENTITY_PAIRS"], out / "reports"))
    print(f"\nDone in {time.monotonic() - started:.0f} s. Outputs:")
    print(f"  staging database   {make_url(default_url()).render_as_string(hide_password=True)}")
    print(f"  landing files      {out / 'landing'}")
    print(f"  finance reports    {out / 'reports'}  (HTML, Excel, CSV; how to read them: docs/reconciliation.md)")
    print(f"  demo settings      {settings_file}  (legal entity 1 set up by the scripted demo steps)")
    print(f"  simulator state    {state}  (the next run starts from it)")
    print(f"  Airflow + DAG log  {log}")
    print(f"  simulator logs     {logs}")


if __name__ == "__main__":
    main()
