"""End-to-end fixtures (the simulators are served by ``sims`` in tests/conftest.py): a fresh staging database
and output folder per test, and the legal-entity ↔ company pairs of the generated data."""

from __future__ import annotations

from pathlib import Path

import pytest

PAIRS = {"1": 10001, "2": 10002}




def pytest_collection_modifyitems(items):
    """The end-to-end tests run Airflow CLIs and whole nights: 15 minutes each (the suite-wide limit is 5) so that a
    busy CI machine — the deployment test runs beside them — is not mistaken for a hang."""
    here = Path(__file__).resolve().parent
    for item in items:
        if Path(str(item.fspath)).resolve().parent == here and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(900))
