"""The TimeLog simulator on a real loopback port (one per test module, seeded from the hand-written sample
fixture) and a client that puts it back to a known state before each test."""

from __future__ import annotations

import httpx
import pytest

from simulators._common import serve_in_thread
from simulators.timelog import create_app
from simulators.timelog.sample import sample_fixture


@pytest.fixture(scope="module")
def timelog_sim_url():
    with serve_in_thread(create_app(sample_fixture())) as url:
        yield url


@pytest.fixture
def timelog_sim(timelog_sim_url):
    """An httpx client on the simulator after reset: initial data, no faults, real clock, zeroed counters."""
    with httpx.Client(base_url=timelog_sim_url, timeout=20) as client:
        client.post("/_sim/reset").raise_for_status()
        client.put("/_sim/faults", json={}).raise_for_status()
        client.put("/_sim/clock", json={}).raise_for_status()
        client.post("/_sim/counters/reset").raise_for_status()
        yield client
