"""Fixtures of the expense-import tests (the world itself is in ``expense_world.py``): both simulators serving
the hand-written fixture (started once per module, reloaded before each test), its data staged on SQLite and
PostgreSQL (``engine``), and a REST client on TimeLog."""

from __future__ import annotations

import copy

import httpx
import pytest
from expense_world import TIMELOG, UNICONTA, ExpenseWorld, _jsonable


@pytest.fixture(scope="module")
def expense_sims():
    import simulators.timelog as timelog_sim
    import simulators.uniconta as uniconta_sim
    from simulators._common import serve_in_thread

    tl_app = timelog_sim.create_app({"timelog": copy.deepcopy(TIMELOG)})
    uc_app = uniconta_sim.create_app(_jsonable({"uniconta": copy.deepcopy(UNICONTA)}))
    with serve_in_thread(tl_app) as tl, serve_in_thread(uc_app) as uc:
        yield tl, uc


@pytest.fixture
def world(engine, expense_sims):
    tl, uc = expense_sims
    for url, doc in ((tl, {"timelog": copy.deepcopy(TIMELOG)}), (uc, _jsonable({"uniconta": copy.deepcopy(UNICONTA)}))):
        httpx.post(f"{url}/_sim/fixture", json=doc).raise_for_status()    # a fresh state for every test
        httpx.post(f"{url}/_sim/counters/reset").raise_for_status()
    w = ExpenseWorld(engine, tl, uc)
    yield w
    w.rest.close()
