"""End-to-end fixtures: both simulators on real loopback ports with the generator's S data, and the connection
fields that point the product at them, exactly as Airflow Connections would."""

from __future__ import annotations

import pytest

from simulators._common import serve_in_thread

PAIRS = {"1": 10001, "2": 10002}


@pytest.fixture
def sims():
    import simulators.timelog as timelog_sim
    import simulators.uniconta as uniconta_sim

    timelog_app = timelog_sim.create_app(size="S", seed=42)
    uniconta_app = uniconta_sim.create_app(size="S", seed=42)
    with serve_in_thread(timelog_app) as tl, serve_in_thread(uniconta_app) as uc:
        yield {
            "timelog_url": tl,
            "uniconta_url": uc,
            "timelog": {"conn_id": "timelog_default", "host": f"{tl}/tlsim", "login": "integration",
                        "password": "integration-pw",
                        "extra": {"reporting_site_code": "SIMSITE", "reporting_api_id": "apiuser",
                                  "reporting_api_password": "apipass", "rest_token": "sim-pat-token"}},
            "uniconta": {"conn_id": "uniconta_default", "host": uc, "login": "integration",
                         "password": "uniconta-pw", "extra": {}},
        }


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
