"""End-to-end fixtures (the simulators are served by ``sims`` in tests/conftest.py): a fresh staging database
and output folder per test, and the legal-entity ↔ company pairs of the generated data."""

from __future__ import annotations

import pytest

PAIRS = {"1": 10001, "2": 10002}


