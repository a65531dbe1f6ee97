"""A real Airflow api-server with tlsync's pages, for the page tests (and by hand: ``python
tests/plugins/pages_env.py`` keeps one running and prints its URL and passwords).

Started once per test module: both simulators on loopback (S data), a SQLite staging database filled by the nightly
pipeline (``run_once``) and the linking suggestions, a settings file where legal entity 1 has no company or
defaults chosen yet (the administrator does that in the page) and legal entity 2 is paired with company 10002, an
Airflow home with a migrated SQLite metadata DB, SimpleAuthManager users ``admin`` (Admin) and ``viewer``
(Viewer), the invoice backfill DAG serialized (the invoices page starts it through the REST API; no scheduler runs,
so its runs stay queued), and ``airflow api-server`` on a free port with this project's plugins folder.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from simulators.generator import FIXED_TODAY

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("tlsync_run_demo", ROOT / "scripts" / "run_demo.py")
demo = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(demo)   # api_server, airflow, stop: as `make ui` starts and stops Airflow
PAIRS = {"1": 10001, "2": 10002}


@dataclass
class PagesServer:
    url: str
    passwords: dict[str, str]
    sims: dict[str, Any]
    engine: Any
    settings_file: Path
    env: dict[str, str]

    def token(self, user: str) -> str:
        r = httpx.post(f"{self.url}/auth/token", json={"username": user, "password": self.passwords[user]},
                       timeout=30)
        r.raise_for_status()
        return r.json()["access_token"]


def _settings_document(path: Path) -> None:
    from tlsync import settings as st

    example = st.load(ROOT / "config" / "integration.example.yaml")
    one = st.LegalEntitySettings(legal_entity_id=1, name=example.entity(1).name,
                                 item_numbers=example.entity(1).item_numbers)
    two = example.entity(2)
    st.save(st.IntegrationSettings(legal_entities={1: one, 2: two}), path)


@contextlib.contextmanager
def pages_server(tmp: Path) -> Iterator[PagesServer]:
    import simulators.timelog as timelog_sim
    import simulators.uniconta as uniconta_sim
    from simulators._common import serve_in_thread
    from tlsync.matching.refresh import refresh_suggestions
    from tlsync.nightly.local import run_once
    from tlsync.staging.engine import staging_engine
    from tlsync.staging.migrate import upgrade

    tmp.mkdir(parents=True, exist_ok=True)
    staging_url = f"sqlite:///{tmp / 'staging.db'}"
    settings_file = tmp / "integration.yaml"
    saved = {k: os.environ.get(k) for k in ("TLSYNC_STAGING_URL", "TLSYNC_SETTINGS", "TLSYNC_OUT_DIR")}
    os.environ.update(TLSYNC_STAGING_URL=staging_url, TLSYNC_SETTINGS=str(settings_file),
                      TLSYNC_OUT_DIR=str(tmp / "out"))
    staging_engine.cache_clear()
    proc = None
    try:
        with serve_in_thread(timelog_sim.create_app(size="S", seed=42, today=FIXED_TODAY)) as tl, \
                serve_in_thread(uniconta_sim.create_app(size="S", seed=42, today=FIXED_TODAY)) as uc:
            timelog = {"conn_id": "timelog_default", "host": f"{tl}/tlsim", "login": "integration",
                       "password": "integration-pw",
                       "extra": {"reporting_site_code": "SIMSITE", "reporting_api_id": "apiuser",
                                 "reporting_api_password": "apipass", "rest_token": "sim-pat-token"}}
            uniconta = {"conn_id": "uniconta_default", "host": uc, "login": "integration",
                        "password": "uniconta-pw", "extra": {}}
            upgrade(staging_url)
            engine = staging_engine()
            run_once(timelog, uniconta, PAIRS, "night-1")
            refresh_suggestions(engine, [10001, 10002])
            _settings_document(settings_file)

            home = tmp / "airflow"
            (tmp / "dags").mkdir(exist_ok=True)
            # the backfill DAG only (the invoices page starts it through the REST API): serialized below, never
            # scheduled (no scheduler runs here), so its runs stay queued for the test to inspect
            shutil.copy(ROOT / "dags" / "invoice_backfill.py", tmp / "dags" / "invoice_backfill.py")
            port = demo.free_port()
            env = dict(os.environ)
            env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)
            env.update({
                "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__DAGS_FOLDER": str(tmp / "dags"),
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin,viewer:viewer",
                "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
                "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
                "PYTHONPATH": os.pathsep.join([str(ROOT / "include"), str(ROOT / "plugins"), str(ROOT)]),
                "AIRFLOW_CONN_TIMELOG_DEFAULT": json.dumps({"conn_type": "timelog", **{
                    k: v for k, v in timelog.items() if k != "conn_id"}}),
                "AIRFLOW_CONN_UNICONTA_DEFAULT": json.dumps({"conn_type": "uniconta", **{
                    k: v for k, v in uniconta.items() if k != "conn_id"}}),
            })
            log = tmp / "airflow.log"
            demo.airflow(env, "db", "migrate", log=log)
            demo.airflow(env, "dags", "reserialize", log=log)
            proc = demo.api_server(env, port, log, timeout=180)
            url = f"http://127.0.0.1:{port}"
            passwords = json.loads((home / "simple_auth_manager_passwords.json.generated").read_text())
            yield PagesServer(url, passwords, {"timelog": timelog, "uniconta": uniconta, "timelog_url": tl,
                                               "uniconta_url": uc}, engine, settings_file, env)
    finally:
        if proc is not None:
            demo.stop(proc, timeout=20)
        staging_engine().dispose()
        staging_engine.cache_clear()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


if __name__ == "__main__":   # by hand: keep a server running until Ctrl-C
    sys.path[:0] = [str(ROOT / "include"), str(ROOT / "plugins"), str(ROOT)]
    import tempfile

    with pages_server(Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp())) as srv:
        print(srv.url, srv.passwords, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
