"""``tlsync deploy`` — the operator's set-up in one command, and the check behind it (issue 11; README "Deploy").

    tlsync deploy init     staging migrations (Alembic), Airflow's metadata DB migrated, the DAGs' pools created,
                           then everything ``check`` checks
    tlsync deploy check    changes nothing: connections tested (also those defined only in the environment, which
                           Airflow's UI does not list), the settings or the legal entity ↔ company pairs, the out
                           folder, the staging database's revision

Every step prints one line — ``ok``, or ``missing``/``failed`` with what to do — and the exit code is 0 when the
installation can run its nightly, 1 when something is missing or failed, 2 for a usage error. ``docker-compose.yaml``'s
``airflow-init``, ``make run`` and the deployment test (``tests/deploy/test_deployment.py``) all run this command, so
the README's Deploy steps are exactly what is tested.

Decisions recorded here:
- The staging schema is created and upgraded **only** here (``tlsync.staging.migrate.upgrade``), never as a side
  effect of opening an engine: concurrent first tasks of a night raced on ``CREATE TABLE`` under the
  CeleryExecutor. The upgrade itself is serialised across processes, so running ``init`` twice at once is safe.
- Airflow's own steps (``airflow db migrate``, ``airflow pools import``) run as the ``airflow`` command of the same
  environment, so ``include/tlsync`` stays free of Airflow imports and the steps are exactly an operator's.
- Secrets are never printed: connection hosts are shown without user or password, and the checks' messages come
  from :mod:`tlsync.connections`, which never includes one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

#: The pools the DAGs use (``pool=`` in ``dags/``); created by ``init``. One home: ``make run`` imports them too.
POOLS: dict[str, dict[str, Any]] = {
    "timelog_api": {"slots": 4, "description": "Concurrent calls to TimeLog's APIs", "include_deferred": False},
    "uniconta_api": {"slots": 2, "description": "Concurrent calls to Uniconta (5,000 calls per user per day)",
                     "include_deferred": False},
}
TIMELOG_CONN = "timelog_default"
UNICONTA_CONN = "uniconta_default"
PAIRS_VARIABLE = "tlsync_entity_pairs"


@dataclass(frozen=True)
class Line:
    """One result line: ``ok`` / ``missing`` / ``failed`` / ``note``, what was checked, and what was found."""

    status: str
    what: str
    detail: str

    @property
    def bad(self) -> bool:
        return self.status in ("missing", "failed")

    def __str__(self) -> str:
        return f"{self.status:<8}{self.what}: {self.detail}"


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a malformed URL is reported by the step that uses it
        return "<unparsable URL>"


# --- steps --------------------------------------------------------------------------------------------------------

def migrate_staging(url: str | None = None) -> Line:
    """Create or upgrade the staging schema to the code's revision (serialised across processes)."""
    from tlsync.staging import migrate
    from tlsync.staging.engine import default_url
    url = url or default_url()
    try:
        revision = migrate.upgrade(url)
    except Exception as exc:  # noqa: BLE001 - one line for whatever the database says
        return Line("failed", "staging database", f"{_safe_url(url)}: {str(exc).splitlines()[0]}")
    return Line("ok", "staging database", f"{_safe_url(url)} at revision {revision}")


def staging_revision(url: str | None = None) -> Line:
    from tlsync.staging import migrate
    from tlsync.staging.engine import default_url
    url = url or default_url()
    try:
        migrate.require_current(url)
    except Exception as exc:  # noqa: BLE001
        return Line("missing", "staging database", str(exc).splitlines()[0])
    return Line("ok", "staging database", f"{_safe_url(url)} is at the code's revision")


def _airflow(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("airflow", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    if exe is None:
        raise FileNotFoundError("the `airflow` command is not installed in this environment")
    return subprocess.run([exe, *args], capture_output=True, text=True, check=False)


def _last_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [ln for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
    return lines[-1] if lines else f"exit {proc.returncode}"


def migrate_airflow() -> Line:
    try:
        proc = _airflow("db", "migrate")
    except FileNotFoundError as exc:
        return Line("failed", "Airflow metadata database", str(exc))
    if proc.returncode != 0:
        return Line("failed", "Airflow metadata database", f"`airflow db migrate` failed: {_last_line(proc)}")
    return Line("ok", "Airflow metadata database", "migrated (`airflow db migrate`)")


def create_pools() -> Line:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as fh:
        json.dump(POOLS, fh)
        path = fh.name
    try:
        proc = _airflow("pools", "import", path)
    except FileNotFoundError as exc:
        return Line("failed", "Airflow pools", str(exc))
    finally:
        os.unlink(path)
    if proc.returncode != 0:
        return Line("failed", "Airflow pools", f"`airflow pools import` failed: {_last_line(proc)}")
    listed = ", ".join(f"{name} ({p['slots']} slots)" for name, p in POOLS.items())
    return Line("ok", "Airflow pools", listed)


def _fields(conn_id: str) -> dict[str, Any]:
    from tlsync.connections import connection_fields

    return connection_fields(conn_id, airflow=True)


def check_connection(conn_id: str, system: str, test: Callable[..., tuple[bool, str]]) -> Line:
    """The same test as the connection's *Test* button in the Airflow UI (the hooks call the same function),
    also for connections defined only as ``AIRFLOW_CONN_*`` environment variables."""
    from tlsync.connections import ConnectionSettingError

    what = f"{system} connection '{conn_id}'"
    try:
        fields = _fields(conn_id)
    except ConnectionSettingError as exc:
        return Line("missing", what, str(exc))
    host = fields.get("host") or "(no host)"
    ok, message = test(**fields)
    return Line("ok" if ok else "failed", what, f"{host}: {message}")


def check_settings() -> list[Line]:
    """The integration settings file, else the pairs Variable; which legal entities are activated (rule S8)."""
    from tlsync import settings
    from tlsync.nightly import pipeline
    path = settings.settings_path()
    if path.exists():
        try:
            configured = settings.load(path)
        except settings.SettingsError as exc:
            return [Line("failed", "settings", f"{path}: {exc.problems[0]}"
                         + (f" (+{len(exc.problems) - 1} more; `tlsync settings validate`)" if len(exc.problems) > 1
                            else ""))]
        lines = []
        for le_id, le in sorted(configured.legal_entities.items()):
            company = le.uniconta_company_id
            state = ("activated" if le.activation.activated
                     else "not activated yet (rule S8: its invoices wait)")
            lines.append(Line("ok" if company else "missing", f"legal entity {le_id}",
                              f"Uniconta company {company}, {state}" if company
                              else "no Uniconta company chosen (rule S1): `tlsync settings`"))
        return lines or [Line("missing", "settings", f"{path} has no legal entity")]
    raw = os.environ.get(f"AIRFLOW_VAR_{PAIRS_VARIABLE.upper()}") or _airflow_variable(PAIRS_VARIABLE)
    if not raw:
        return [Line("missing", "settings", f"no settings file ({path}; set TLSYNC_SETTINGS) and no Airflow Variable "
                                            f"'{PAIRS_VARIABLE}': create one with "
                                            "`tlsync settings init --pair 1=<company>`")]
    try:
        pairs = pipeline.parse_entity_pairs(raw)
    except ValueError as exc:
        return [Line("failed", f"Variable '{PAIRS_VARIABLE}'", str(exc))]
    listed = ", ".join(f"{p['legal_entity_id']}→{p['company_id']}" for p in pairs)
    return [Line("ok", f"Variable '{PAIRS_VARIABLE}'", f"{listed}; no settings file ({path}), so nothing is written "
                                                       "to either system until one is made (`tlsync settings init`)")]


def _airflow_variable(key: str) -> str | None:
    """A Variable stored in Airflow's metadata DB (``airflow variables get``); ``None`` when unset or unreachable."""
    try:
        proc = _airflow("variables", "get", key)
    except FileNotFoundError:
        return None
    value = proc.stdout.strip()
    return value if proc.returncode == 0 and value else None


def check_out_dir() -> Line:
    from tlsync import config
    out = config.out_dir()
    probe = out / ".tlsync-write-test"
    try:
        probe.write_text("ok", encoding="utf-8")
        probe.unlink()
    except OSError as exc:
        return Line("failed", "out folder", f"{out} is not writable ({exc.strerror}); set TLSYNC_OUT_DIR")
    return Line("ok", "out folder", f"{out} (reports; landing files unless TLSYNC_LANDING_URL says otherwise)")


def check_test_button() -> Line:
    enabled = os.environ.get("AIRFLOW__CORE__TEST_CONNECTION", "Disabled").lower() == "enabled"
    return Line("note", "connection Test button",
                "enabled in the Airflow UI" if enabled else
                "disabled in the Airflow UI (Airflow's default); set AIRFLOW__CORE__TEST_CONNECTION=Enabled to "
                "enable it, or use `tlsync deploy check`")


def checks() -> list[Line]:
    from tlsync.connections import check_timelog, check_uniconta

    return [check_connection(TIMELOG_CONN, "TimeLog", check_timelog),
            check_connection(UNICONTA_CONN, "Uniconta", check_uniconta),
            *check_settings(), check_out_dir(), check_test_button()]


# --- command line -------------------------------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="tlsync deploy", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="verb", required=True, metavar="{init,check}")
    init = sub.add_parser("init", help="migrate the staging and Airflow databases, create the pools, then check")
    init.add_argument("--skip-airflow", action="store_true",
                      help="leave Airflow's metadata DB and pools alone (staging migrations and checks only)")
    sub.add_parser("check", help="test the connections and the settings; change nothing")
    for p in (init, sub.choices["check"]):
        p.add_argument("--staging-url", help="staging database URL (default: $TLSYNC_STAGING_URL, else the embedded "
                                             "SQLite database)")
    return ap


def run(verb: str, *, staging_url: str | None = None, skip_airflow: bool = False,
        out: TextIO | None = None) -> int:
    out = out or sys.stdout
    lines: list[Line] = []

    def emit(line: Line) -> None:
        lines.append(line)
        print(line, file=out, flush=True)

    if verb == "init":
        emit(migrate_staging(staging_url))
        if not skip_airflow:
            airflow_db = migrate_airflow()
            emit(airflow_db)
            if not airflow_db.bad:
                emit(create_pools())
    else:
        emit(staging_revision(staging_url))
    for line in checks():
        emit(line)
    bad = [ln for ln in lines if ln.bad]
    print(f"{len(bad)} problem(s): the nightly cannot run until they are fixed" if bad
          else "ready: unpause tlsync_nightly_sync (README, Deploy)", file=out)
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.staging_url:
        os.environ["TLSYNC_STAGING_URL"] = args.staging_url
    return run(args.verb, staging_url=args.staging_url, skip_airflow=getattr(args, "skip_airflow", False))


if __name__ == "__main__":
    sys.exit(main())
