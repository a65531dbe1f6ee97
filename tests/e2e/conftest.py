"""End-to-end fixtures (the simulators are served by ``sims`` in tests/conftest.py): a fresh staging database
and output folder per test, and the legal-entity ↔ company pairs of the generated data."""

from __future__ import annotations

import pytest

PAIRS = {"1": 10001, "2": 10002}


@pytest.fixture
def staging(db_url, tmp_path, monkeypatch):
    """Point the product's configuration at a fresh staging DB (SQLite and PostgreSQL) and output folder."""
    from tlsync.sync import config

    monkeypatch.setenv("TLSYNC_STAGING_URL", db_url)
    monkeypatch.setenv("TLSYNC_OUT_DIR", str(tmp_path / "out"))
    config.staging_engine.cache_clear()
    yield config.staging_engine()
    config.staging_engine().dispose()
    config.staging_engine.cache_clear()
