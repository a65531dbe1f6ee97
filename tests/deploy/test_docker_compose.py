"""docker-compose.yaml is parsed and its wiring checked (no Docker engine runs here; the real pieces — Celery on
Redis, PostgreSQL metadata — are exercised directly by other tests)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yaml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
AIRFLOW = ["airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer", "airflow-worker"]


def _env(name: str) -> dict:
    return SERVICES[name]["environment"]


def test_every_airflow_3_component_runs_with_its_command():
    commands = {name: SERVICES[name]["command"] for name in AIRFLOW}
    assert commands == {
        "airflow-apiserver": "api-server",
        "airflow-scheduler": "scheduler",
        "airflow-dag-processor": "dag-processor",
        "airflow-triggerer": "triggerer",
        "airflow-worker": "celery worker",
    }
    assert "tlsync deploy init" in " ".join(SERVICES["airflow-init"]["command"])


def test_celery_executor_on_redis_with_postgres_metadata():
    for name in AIRFLOW + ["airflow-init"]:
        env = _env(name)
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://") and "@redis:6379" in env["AIRFLOW__CELERY__BROKER_URL"]
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
        assert "@postgres/" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
        assert env["TLSYNC_STAGING_URL"].endswith("@postgres/tlsync"), "staging lives in its own PostgreSQL database"
    init_sql = (ROOT / "docker/postgres-init/01-staging.sql").read_text()
    assert "CREATE DATABASE tlsync" in init_sql


def test_health_checks_and_dependencies():
    for name in ["postgres", "redis", *AIRFLOW, "timelog-sim", "uniconta-sim"]:
        assert SERVICES[name]["healthcheck"]["test"], f"{name} has no health check"
    assert "/api/v2/monitor/health" in " ".join(SERVICES["airflow-apiserver"]["healthcheck"]["test"])
    assert "inspect ping" in " ".join(SERVICES["airflow-worker"]["healthcheck"]["test"])
    for name in AIRFLOW:
        deps = SERVICES[name]["depends_on"]
        assert deps["postgres"]["condition"] == "service_healthy"
        assert deps["redis"]["condition"] == "service_healthy"
        assert deps["airflow-init"]["condition"] == "service_completed_successfully"


def test_project_folders_are_mounted_and_image_built_from_the_lock():
    for name in AIRFLOW:
        volumes = [v.replace("${AIRFLOW_PROJ_DIR:-.}", str(ROOT)).split(":") for v in SERVICES[name]["volumes"]]
        mounts = {container: host for host, container, *_ in volumes}
        for container in ("/opt/airflow/dags", "/opt/airflow/plugins", "/opt/tlsync/include"):
            assert Path(mounts[container]).is_dir(), f"{name} mounts a missing folder at {container}"
    dockerfile = (ROOT / SERVICES["airflow-scheduler"]["build"]["dockerfile"]).read_text()
    assert "FROM apache/airflow:3.3.2-python3.11" in dockerfile
    assert "requirements.lock" in dockerfile


def test_simulators_and_connections_point_at_each_other():
    import json

    env = _env("airflow-worker")
    timelog = json.loads(env["AIRFLOW_CONN_TIMELOG_DEFAULT"])
    uniconta = json.loads(env["AIRFLOW_CONN_UNICONTA_DEFAULT"])
    assert timelog["conn_type"] == "timelog" and "timelog-sim:8081" in timelog["host"]
    assert uniconta["conn_type"] == "uniconta" and "uniconta-sim:8082" in uniconta["host"]
    assert SERVICES["timelog-sim"]["entrypoint"][-1] == "simulators.timelog"
    assert SERVICES["uniconta-sim"]["entrypoint"][-1] == "simulators.uniconta"
    assert "8081" in SERVICES["timelog-sim"]["command"] and "8082" in SERVICES["uniconta-sim"]["command"]
    from tlsync.deploy import POOLS

    assert set(POOLS) == {"timelog_api", "uniconta_api"}, "tlsync deploy init creates the DAGs' pools"


def test_workers_get_settings_out_folder_and_one_jwt_secret():
    for name in AIRFLOW:
        env = _env(name)
        volumes = [v.replace("${AIRFLOW_PROJ_DIR:-.}", str(ROOT)).split(":") for v in SERVICES[name]["volumes"]]
        mounts = {container: host for host, container, *_ in volumes}
        assert Path(env["TLSYNC_SETTINGS"]).parent.as_posix() in mounts, "the settings file is mounted"
        assert env["TLSYNC_OUT_DIR"] in mounts, "reports land in the mounted out folder"
        assert "AIRFLOW__API_AUTH__JWT_SECRET" in env
        assert env["AIRFLOW__CORE__TEST_CONNECTION"] == "Enabled"
