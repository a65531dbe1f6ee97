"""Reconciliation fixtures: a fresh staging database (SQLite and PostgreSQL) and output folder, configured the way
the product reads them (``TLSYNC_STAGING_URL``, ``TLSYNC_OUT_DIR``), for the tests that run the nightly sync against
the in-process simulators (``sims`` in tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def staging(db_url, tmp_path, monkeypatch):
    from tlsync.sync import config

    monkeypatch.setenv("TLSYNC_STAGING_URL", db_url)
    monkeypatch.setenv("TLSYNC_OUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("TLSYNC_SETTINGS", str(tmp_path / "no-settings.yaml"))
    config.staging_engine.cache_clear()
    yield config.staging_engine()
    config.staging_engine().dispose()
    config.staging_engine.cache_clear()
