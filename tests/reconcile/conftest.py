"""Reconciliation fixtures: a fresh staging database (SQLite and PostgreSQL) and output folder, configured the way
the product reads them (``TLSYNC_STAGING_URL``, ``TLSYNC_OUT_DIR``), for the tests that run the nightly sync against
the in-process simulators (``sims`` in tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def staging(staging, tmp_path, monkeypatch):
    """The shared ``staging`` (tests/conftest.py: migrated, configured), without a settings file."""
    monkeypatch.setenv("TLSYNC_SETTINGS", str(tmp_path / "no-settings.yaml"))
    return staging
