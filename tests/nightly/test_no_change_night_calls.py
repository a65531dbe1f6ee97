"""A no-change night costs the same API calls whether or not the previous night wrote back (issue 11, item 8).

The write-back records the Uniconta reference on each transferred TimeLog invoice (``UpdateExternalData``, rule
T2), which moves the invoice's modification time. The legal entity's extract asks TimeLog which invoices were
modified in a period; when that period reached back the dated reads' look-back (``TLSYNC_LOOKBACK_DAYS``, 7 days),
every written-back invoice dated before the window was fetched again by id — three Reporting calls each — on
every one of the next seven nights. The modified read now starts at the previous successful run's start (minus
``TLSYNC_MODIFIED_OVERLAP_MINUTES``, a clock-skew margin), so the night after the write-back stages the changes
and the night after that is an ordinary no-change night.

The calls are counted by the simulators themselves (``GET /_sim/counters``), per API surface. The overlap (default
three hours, for clocks and time zones) is set to 0 here because the whole scenario takes seconds, not the day
between a night's write-back and the next night but one; a second's pause keeps the second-resolution timestamps
apart. With the overlap at the old look-back (10080 minutes) night 3 spends 176 Reporting calls again.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from tlsync import settings as settings_mod
from tlsync import writeback
from tlsync.linking import Decision, Linker, Targets, view_page, view_rows
from tlsync.matching.refresh import refresh_suggestions
from tlsync.nightly import runs
from tlsync.nightly.local import run_once

ROOT = Path(__file__).resolve().parents[2]
LE, COMPANY = 1, 10001
PAIRS = {"1": 10001, "2": 10002}


@pytest.fixture
def staging(use_staging, tmp_path, monkeypatch):
    monkeypatch.setenv("TLSYNC_MODIFIED_OVERLAP_MINUTES", "0")
    return use_staging(f"sqlite:///{tmp_path / 'staging.db'}")


def counters(url: str) -> dict[str, int]:
    return {k: v for k, v in httpx.get(f"{url}/_sim/counters").json()["by_surface"].items() if k != "total"}


def night(sims, run_id: str) -> tuple[dict[str, dict[str, int]], int]:
    """One nightly run; the calls each simulator counted, and how many records it staged."""
    for url in (sims["timelog_url"], sims["uniconta_url"]):
        httpx.post(f"{url}/_sim/counters/reset").raise_for_status()
    time.sleep(1.1)                       # run start and the simulators' stamps are whole seconds
    run_once(sims["timelog"], sims["uniconta"], PAIRS, run_id)
    from tlsync.staging.engine import staging_engine
    staged = sum(r["staged"] for r in runs.summary_rows(staging_engine(), run_id))
    return {"timelog": counters(sims["timelog_url"]), "uniconta": counters(sims["uniconta_url"])}, staged


def activate(sims, engine, tmp_path, monkeypatch):
    """Legal entity 1 set up as an administrator would: One suggestions accepted, the rest ignored, checklist
    confirmed (rules L2/L3, S8)."""
    refresh_suggestions(engine, [COMPANY])
    linker = Linker(engine, LE, COMPANY, targets=Targets(sims["timelog"], sims["uniconta"], COMPANY), actor="admin")
    try:
        one = view_page(engine, LE, COMPANY, "one", 1)
        linker.apply_all([Decision("link-timelog", r.debtor_account, r.best.customer_id) for r in one.rows])
        rest = [r.debtor_account for v in ("several", "none") for r in view_rows(engine, COMPANY, v)]
        linker.apply_all([Decision("ignore", a) for a in rest])
    finally:
        linker.targets.close()
    document = settings_mod.load(ROOT / "config" / "integration.example.yaml")
    document.entity(LE).activation = settings_mod.ActivationChecklist(
        configuration_complete=True, customers_linked=True, item_numbers_imported=True, confirmed_by="admin",
        confirmed_at=datetime(2026, 11, 27, 12, 0))
    path = tmp_path / "integration.yaml"
    settings_mod.save(document, path)
    monkeypatch.setenv("TLSYNC_SETTINGS", str(path))
    return writeback.load_settings()


def test_the_night_after_the_write_back_night_costs_what_a_no_change_night_costs(sims, staging, tmp_path,
                                                                                monkeypatch):
    engine = staging
    night(sims, "night-1")                                    # the first load
    quiet, staged = night(sims, "night-1b")                   # a no-change night, no write-back before it
    assert staged == 0
    settings = activate(sims, engine, tmp_path, monkeypatch)
    results = {step: writeback.run_step(step, LE, run_id="transfer-1", timelog_fields=sims["timelog"],
                                        uniconta_fields=sims["uniconta"], settings=settings, engine=engine)
               for step in writeback.STEPS}
    transferred = results["invoices"].counts["transferred"]
    assert transferred > 0, results["invoices"]

    after_write, staged = night(sims, "night-2")             # the written-back invoices are restaged, once
    assert staged >= transferred
    extra = after_write["timelog"]["reporting"] - quiet["timelog"]["reporting"]
    assert extra > 0, "night 2 reads the invoices the write-back modified"

    third, staged = night(sims, "night-3")
    assert staged == 0, "nothing changed since night 2"
    assert third == quiet, (f"night 3 after a write-back spent {third}, a no-change night {quiet}; night 2 spent "
                            f"{after_write}")
