"""Every component of the deployment can start on the lock (issue 11): the executors docker-compose.yaml and the
embedded default configure import through Airflow's own loader, every provider hook imports, and the installed
environment has no conflicting requirement.

This is the fast check that was missing when celery 5.7.0 removed ``celery.backends.database.retry``: ``pip check``
was clean, but the scheduler and the Celery worker died at start. Each import runs in a fresh interpreter, as a
component's start does, so nothing imported earlier by the test session can hide a failure.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yaml").read_text(encoding="utf-8"))


def _configured_executors() -> list[str]:
    names = {svc.get("environment", {}).get("AIRFLOW__CORE__EXECUTOR") for svc in COMPOSE["services"].values()
             if isinstance(svc.get("environment"), dict)}
    return sorted(n for n in names | {"LocalExecutor"} if n)   # LocalExecutor: the embedded default (make run)


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={**os.environ, **env})


@pytest.mark.parametrize("executor", _configured_executors())
def test_configured_executor_imports_as_the_scheduler_loads_it(executor, tmp_path):
    proc = _python("from airflow.executors.executor_loader import ExecutorLoader\n"
                   "cls, _ = ExecutorLoader.import_default_executor_cls()\n"
                   "print(cls.__name__)\n",
                   AIRFLOW_HOME=str(tmp_path), AIRFLOW__CORE__EXECUTOR=executor)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == executor


def test_celery_worker_side_imports():
    """What ``airflow celery worker`` imports before it can take a task (the 5.7.0 failure was here)."""
    proc = _python("import airflow.providers.celery.executors.celery_executor_utils as u\n"
                   "from airflow.providers.celery.executors.celery_executor import app\n"
                   "print(app.main)\n")
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_every_provider_hook_imports():
    """Each hook every installed provider declares (ours included: ``timelog``, ``uniconta``) imports."""
    code = ("from airflow.providers_manager import ProvidersManager\n"
            "pm = ProvidersManager()\n"
            "bad = []\n"
            "for conn_type, info in pm.hooks.items():\n"
            "    if info is None:\n"
            "        bad.append(conn_type)\n"
            "print('HOOKS', len(pm.hooks), 'BAD', bad)\n")
    proc = _python(code)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("HOOKS"))
    assert line.endswith("BAD []"), line
    proc = _python("from airflow.providers_manager import ProvidersManager\n"
                   "print(sorted(ProvidersManager().hooks))\n")
    assert {"timelog", "uniconta", "postgres", "http", "smtp"} <= set(ast.literal_eval(proc.stdout.strip().splitlines()[-1]))


def test_environment_has_no_conflicting_requirement():
    uv = shutil.which("uv", path=str(Path(sys.executable).parent))
    if uv is None:
        pytest.skip("uv is installed by `make venv`; this environment was made otherwise")
    proc = subprocess.run([uv, "pip", "check", "--python", sys.executable], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_lock_pins_a_celery_that_the_provider_can_import():
    pins = {ln.split("==")[0]: ln.split("==")[1].strip() for ln in (ROOT / "requirements.lock").read_text().splitlines()
            if "==" in ln and not ln.startswith((" ", "#"))}
    assert pins["celery"] != "5.7.0", "celery 5.7.0 removed celery.backends.database.retry (providers-celery 3.26)"
