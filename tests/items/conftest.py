"""Fixtures of the items tests: both simulators (served once for the session and reset before every test, which is
much cheaper than generating their data again), the company's Uniconta items and TimeLog's expense types staged
from the simulators through the product's own clients and loader, and a REST client on TimeLog."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from simulators.generator import FIXED_TODAY
from tlsync.clients.timelog import RestClient, RestSettings
from tlsync.nightly import sources
from tlsync.settings.models import LegalEntitySettings
from tlsync.staging.entities import get
from tlsync.staging.loader import StagingLoader


class ItemWorld:
    def __init__(self, engine, sims) -> None:
        self.engine, self.sims = engine, sims
        self.tl, self.uc = sims["timelog_url"], sims["uniconta_url"]
        self.le = LegalEntitySettings(legal_entity_id=1, uniconta_company_id=10001)
        self.rest = RestClient(RestSettings(base_url=f"{self.tl}/tlsim", token="sim-pat-token"))
        self.runs = 0
        self.stage_items()
        spec = get("timelog.expense_types")
        StagingLoader(self.engine).load(spec, "SIMSITE", "items-run-0", [r.raw for r in self.rest.expense_types_raw()])

    def stage_items(self) -> None:
        """Read InvItemClient from the Uniconta simulator and stage it, as the nightly sync does."""
        self.runs += 1
        spec = get("uniconta.items")
        with sources.uniconta_source(company_id=10001, **self.sims["uniconta"]) as source:
            records = [e.raw for e in source.records(spec)]
        StagingLoader(self.engine).load(spec, "10001", f"items-run-{self.runs}", records,
                                        staged_at=datetime(2026, 1, 1, 0, 0, self.runs))

    def touch_item(self, item: str, changes: dict) -> None:
        r = httpx.post(f"{self.uc}/_sim/touch", json={"company": 10001, "class": "InvItemClient", "keys": [item],
                                                      "changes": changes})
        r.raise_for_status()
        assert r.json()["touched"], item

    def rest_calls(self) -> int:
        return httpx.get(f"{self.tl}/_sim/counters").json()["by_surface"].get("rest", 0)

    def tl_state(self) -> dict:
        return httpx.get(f"{self.tl}/_sim/state").json()["timelog"]

    def products(self) -> dict[str, dict]:
        return {p["ProductNumber"]: p for p in self.tl_state()["Products"] if int(p.get("LegalEntityID") or 0) == 1}


@pytest.fixture(scope="session")
def item_sims():
    """Both simulators with the generator's S data, like ``sims`` in tests/conftest.py but served once."""
    import simulators.timelog as timelog_sim
    import simulators.uniconta as uniconta_sim
    from simulators._common import serve_in_thread

    with serve_in_thread(timelog_sim.create_app(size="S", seed=42, today=FIXED_TODAY)) as tl, \
            serve_in_thread(uniconta_sim.create_app(size="S", seed=42, today=FIXED_TODAY)) as uc:
        yield {
            "timelog_url": tl, "uniconta_url": uc,
            "uniconta": {"conn_id": "uniconta_default", "host": uc, "login": "integration",
                         "password": "uniconta-pw", "extra": {}},
            "timelog": {"conn_id": "timelog_default", "host": f"{tl}/tlsim", "login": "integration",
                        "password": "integration-pw",
                        "extra": {"reporting_site_code": "SIMSITE", "reporting_api_id": "apiuser",
                                  "reporting_api_password": "apipass", "rest_token": "sim-pat-token"}},
        }


@pytest.fixture
def world(engine, item_sims):
    for url in (item_sims["timelog_url"], item_sims["uniconta_url"]):
        httpx.post(f"{url}/_sim/reset").raise_for_status()
        httpx.post(f"{url}/_sim/counters/reset").raise_for_status()
    w = ItemWorld(engine, item_sims)
    yield w
    w.rest.close()
