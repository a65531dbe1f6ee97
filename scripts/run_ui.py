"""``make ui`` — the Airflow UI with tlsync's pages on the demo data: http://127.0.0.1:8080 (``UI_PORT``).

Run ``make run`` first: it leaves the demo's staging database, settings (``out/demo/integration.yaml``) and the
simulators' state (``out/simulators/``). This starts both simulators from that state (the pages' actions write to
them), then ``airflow api-server`` on the same Airflow home as the demo, with SimpleAuthManager users ``admin``
(Admin) and ``viewer`` (Viewer); their passwords are printed and kept in
``airflow_home/simple_auth_manager_passwords.json.generated``. Ctrl-C stops everything and saves the simulators'
state for the next ``make run``/``make ui``. The pages are under *Plugins › TimeLog ⇄ Uniconta* (or directly
``/tlsync/integration``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("tlsync_run_demo", ROOT / "scripts" / "run_demo.py")
demo = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(demo)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="S", choices=["S", "M", "L"])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--port", type=int, default=int(os.environ.get("UI_PORT", "8080")))
    args = parser.parse_args()
    out = Path(os.environ.get("TLSYNC_OUT_DIR", ROOT / "out"))
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    state = out / "simulators" / f"state-{args.size}-{args.seed}.json"
    settings_file = out / "demo" / "integration.yaml"
    if not state.exists() or not settings_file.exists():
        print(f"no demo data yet ({state}, {settings_file}): run `make run` first", file=sys.stderr)
        return 2
    with ExitStack() as stack:
        timelog = stack.enter_context(demo.simulator("simulators.timelog", demo.free_port(), args.size, args.seed,
                                                     logs, state))
        uniconta = stack.enter_context(demo.simulator("simulators.uniconta", demo.free_port(), args.size, args.seed,
                                                      logs, state))
        env = demo.airflow_env(timelog, uniconta, out)
        env.update({"TLSYNC_SETTINGS": str(settings_file),
                    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": os.environ.get(
                        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "admin:admin,viewer:viewer"),
                    "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{args.port}"})
        log = logs / "airflow-ui.log"
        demo.airflow(env, "db", "migrate", log=log)
        proc = None
        try:
            proc = demo.api_server(env, args.port, log, workers=None, timeout=None)
            url = f"http://127.0.0.1:{args.port}"
            passwords = Path(env["AIRFLOW_HOME"]) / "simple_auth_manager_passwords.json.generated"
            users = json.loads(passwords.read_text()) if passwords.exists() else {}
            print(f"Airflow with tlsync's pages: {url}/tlsync/integration  (Plugins › TimeLog ⇄ Uniconta)")
            for user, password in users.items():
                print(f"  log in as {user}: password {password}   ({passwords})")
            print("Ctrl-C stops the UI and the simulators (their state is saved for the next run).")
            proc.wait()
        except KeyboardInterrupt:
            pass
        except RuntimeError as exc:        # the api-server stopped before it answered
            print(exc, file=sys.stderr)
            return 1
        finally:
            if proc is not None:
                demo.stop(proc, timeout=20)
            demo.save_state(timelog, uniconta, state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
