"""The production deployment, started as an operator starts it (README, "Deploy"), on this machine's PostgreSQL
and Redis: its own metadata and staging databases and its own Redis DB index, both simulators on free loopback
ports, ``tlsync deploy init``, then ``airflow api-server``, ``scheduler``, ``dag-processor``, ``triggerer`` and
``airflow celery worker`` as separate processes with the CeleryExecutor.

Every process is started in its own process group and stopped (TERM, then KILL) when the context ends — also when
the test fails; the databases are dropped and the Redis DB index flushed. Used by ``test_deployment.py``; also
runnable by hand (``python tests/deploy/stack.py`` keeps a stack up until Ctrl-C and prints how to reach it).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg2
import redis

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ENV_EXAMPLE = ROOT / "config" / "deploy.env.example"
PG = dict(host="127.0.0.1", port=5432, user="postgres")
COMPONENTS = {
    "api-server": ["api-server"],
    "scheduler": ["scheduler"],
    "dag-processor": ["dag-processor"],
    "triggerer": ["triggerer"],
    "celery-worker": ["celery", "worker", "--concurrency", "4"],
}


def _demo():
    """``scripts/run_demo.py`` as a module (the simulators' Connections are defined there once)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("tlsync_run_demo", ROOT / "scripts" / "run_demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines (comments and blank lines skipped), as ``set -a; . FILE`` reads this file."""
    pairs = (ln.split("=", 1) for ln in path.read_text(encoding="utf-8").splitlines()
             if ln.strip() and not ln.lstrip().startswith("#"))
    return {k.strip(): v.strip() for k, v in pairs}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _admin_sql(sql: str) -> None:
    conn = psycopg2.connect(dbname="postgres", **PG)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def _free_redis_db() -> int:
    """A Redis DB index no one else uses right now (empty), in 8–15 so the suite's other tests keep 0–7."""
    for index in range(15, 7, -1):
        client = redis.Redis(host="127.0.0.1", port=6379, db=index)
        if client.dbsize() == 0 and client.set("tlsync-deploy-test-lock", "1", nx=True, ex=900):
            return index
    raise RuntimeError("no free Redis DB index in 8–15")


def _stop(proc: subprocess.Popen, timeout: float = 20) -> None:
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


@dataclass
class Stack:
    home: Path
    env: dict[str, str]
    api: str
    timelog: str
    uniconta: str
    staging_url: str
    metadata_url: str
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    _token: str | None = None

    # --- the operator's commands ---------------------------------------------------------------------------------
    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """A command in the deployment's environment (``tlsync …``, ``airflow …``)."""
        return subprocess.run([str(BIN / args[0]), *args[1:]], env=self.env, cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout)

    def start(self, name: str) -> None:
        log = (self.home / "logs").joinpath(f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen([str(BIN / "airflow"), *COMPONENTS[name]], env=self.env, cwd=ROOT,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def log(self, name: str, lines: int = 60) -> str:
        path = self.home / "logs" / f"{name}.log"
        return "".join(path.read_text(errors="replace").splitlines(keepends=True)[-lines:]) if path.exists() else ""

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise AssertionError(f"airflow {name} exited with {proc.returncode}:\n{self.log(name)}")

    # --- the REST API ----------------------------------------------------------------------------------------------
    def token(self) -> str:
        if self._token is None:
            r = httpx.post(f"{self.api}/auth/token", json={"username": "admin", "password": self.password()},
                           timeout=30)
            r.raise_for_status()
            self._token = r.json()["access_token"]
        return self._token

    def password(self) -> str:
        return json.loads((self.home / "simple_auth_manager_passwords.json.generated").read_text())["admin"]

    def rest(self, method: str, path: str, **kw) -> httpx.Response:
        r = httpx.request(method, f"{self.api}/api/v2{path}", headers={"Authorization": f"Bearer {self.token()}"},
                          timeout=60, **kw)
        if r.status_code >= 400:
            raise AssertionError(f"{method} {path}: {r.status_code} {r.text[:500]}")
        return r

    def wait_healthy(self, timeout: float = 420) -> None:
        """api-server answering, the scheduler, dag-processor and triggerer heartbeating, the worker's Celery app
        answering a ping, and every tlsync DAG parsed."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                health = httpx.get(f"{self.api}/api/v2/monitor/health", timeout=10).json()
                states = {k: (v or {}).get("status") for k, v in health.items()}
                dags = {d["dag_id"] for d in self.rest("GET", "/dags", params={"limit": 100}).json()["dags"]}
                last = f"health={states} dags={sorted(dags)}"
                if all(s == "healthy" for s in states.values()) and {"tlsync_nightly_sync", "tlsync_transfer",
                                                                   "tlsync_customer_linking",
                                                                   "tlsync_reconciliation"} <= dags:
                    if self._worker_ready():
                        return
            except (httpx.HTTPError, AssertionError, KeyError, ValueError) as exc:
                last = repr(exc)[:300]
            time.sleep(3)
        raise AssertionError(f"the deployment did not become healthy in {timeout:.0f} s: {last}\n"
                             + "\n".join(f"--- {n}\n{self.log(n, 20)}" for n in self.procs))

    def _worker_ready(self) -> bool:
        return "ready." in self.log("celery-worker", 400)

    def stop(self) -> None:
        for name in ("scheduler", "triggerer", "dag-processor", "celery-worker", "api-server"):
            if name in self.procs:
                _stop(self.procs[name])


def _simulator(module: str, port: int, home: Path, today: str | None) -> subprocess.Popen:
    log = (home / "logs" / f"{module.split('.')[-1]}.log").open("ab")
    args = [sys.executable, "-m", module, "--host", "127.0.0.1", "--port", str(port), "--size", "S", "--seed", "42"]
    if today:
        args += ["--today", today]
    return subprocess.Popen(args, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _wait_http(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=5).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} did not answer in {timeout:.0f} s")


@contextmanager
def deployment(home: Path, *, settings: str | None = None, today: str | None = None) -> Iterator[Stack]:
    """Everything of the README's Deploy section, torn down afterwards (also on failure)."""
    tag = uuid.uuid4().hex[:8]
    meta_db, stage_db = f"tlsync_deploy_meta_{tag}", f"tlsync_deploy_stage_{tag}"
    redis_db = _free_redis_db()
    home.mkdir(parents=True, exist_ok=True)
    (home / "logs").mkdir(exist_ok=True)
    api_port, tl_port, uc_port = free_port(), free_port(), free_port()
    sims: list[subprocess.Popen] = []
    stack: Stack | None = None
    try:
        _admin_sql(f"CREATE DATABASE {meta_db}")
        _admin_sql(f"CREATE DATABASE {stage_db}")
        sims = [_simulator("simulators.timelog", tl_port, home, today),
                _simulator("simulators.uniconta", uc_port, home, today)]
        timelog, uniconta = f"http://127.0.0.1:{tl_port}", f"http://127.0.0.1:{uc_port}"
        metadata = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{meta_db}"
        staging = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{stage_db}"
        api = f"http://127.0.0.1:{api_port}"
        settings_file = home / "integration.yaml"
        if settings is not None:
            settings_file.write_text(settings, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "TLSYNC_"))}
        env.update(read_env_file(ENV_EXAMPLE))          # the README's Deploy file, values filled in below
        env.update({
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata,
            "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:6379/{redis_db}",
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://postgres@127.0.0.1:5432/{meta_db}",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "TLSYNC_STAGING_URL": staging,
            "TLSYNC_OUT_DIR": str(home / "out"),
            "TLSYNC_SETTINGS": str(settings_file),
        })
        unfilled = sorted(k for k, v in env.items() if "<" in v and k.startswith(("AIRFLOW", "TLSYNC")))
        assert not unfilled, f"{ENV_EXAMPLE.name}: values the test does not fill in: {unfilled}"
        env.update({   # test-only: one API worker, task logs beside the home, no retries, quick DAG folder scans
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs" / "tasks"),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            "TLSYNC_TASK_RETRIES": "0",
            **_demo().simulator_connections(timelog, uniconta),
            "AIRFLOW_VAR_TLSYNC_ENTITY_PAIRS": json.dumps({"1": 10001, "2": 10002}),
        })
        stack = Stack(home=home, env=env, api=api, timelog=timelog, uniconta=uniconta, staging_url=staging,
                      metadata_url=metadata)
        _wait_http(f"{timelog}/_sim/counters")
        _wait_http(f"{uniconta}/_sim/counters")
        yield stack
    finally:
        if stack is not None:
            stack.stop()
        for proc in sims:
            _stop(proc, 10)
        redis.Redis(host="127.0.0.1", port=6379, db=redis_db).flushdb()
        for db in (meta_db, stage_db):
            try:
                _admin_sql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
            except psycopg2.Error:
                pass


if __name__ == "__main__":  # pragma: no cover - by hand
    import tempfile

    with deployment(Path(tempfile.mkdtemp(prefix="tlsync-deploy-"))) as s:
        print(s.run("tlsync", "deploy", "init").stdout)
        for component in COMPONENTS:
            s.start(component)
        s.wait_healthy()
        print(f"up: {s.api} (admin / {s.password()}); AIRFLOW_HOME={s.home}; Ctrl-C stops everything")
        try:
            while True:
                time.sleep(5)
                s.check_alive()
        except KeyboardInterrupt:
            pass
