"""Shared fixtures: a real database per test on SQLite (embedded default) and on PostgreSQL (127.0.0.1:5432)."""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

# Airflow reads its configuration at import time: give the test session its own home, never the user's.
ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="tlsync-airflow-home-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(ROOT / "dags"))
os.environ.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(ROOT / "plugins"))

import pytest
from sqlalchemy import create_engine, text

PG_ADMIN_URL = os.environ.get("TLSYNC_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def _pg_url(dbname: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + dbname


@pytest.fixture
def pg_database():
    """Create a throw-away PostgreSQL database, yield its URL, drop it. Fails loudly if the server is down."""
    name = f"tlsync_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield _pg_url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"
            ), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """The same test on both databases the product supports."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'staging.db'}"
    else:
        yield request.getfixturevalue("pg_database")


@pytest.fixture
def engine(db_url):
    from tlsync.staging.tables import create_all

    eng = create_engine(db_url)
    create_all(eng)
    yield eng
    eng.dispose()
