"""The nightly sync end to end against both simulators, on SQLite and on PostgreSQL (issue 4's acceptance)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from conftest import PAIRS  # tests/e2e/conftest.py
from sqlalchemy import select

from tlsync.nightly.local import run_once
from tlsync.staging.tables import STAGING, run_entity_counts, sync_runs

ROOT = Path(__file__).resolve().parents[2]


def counts(engine, run_id: str) -> dict[str, dict[str, int]]:
    """Per entity (summed over tenants) extracted/unchanged/staged/quarantined of one run."""
    out: dict[str, dict[str, int]] = {}
    with engine.connect() as conn:
        for row in conn.execute(select(run_entity_counts).where(run_entity_counts.c.run_id == run_id)).mappings():
            c = out.setdefault(row["entity"], {"extracted": 0, "unchanged": 0, "staged": 0, "quarantined": 0})
            for k in c:
                c[k] += row[k]
    return out


def calls(engine, run_id: str) -> dict[str, int]:
    with engine.connect() as conn:
        return conn.execute(select(sync_runs.c.calls).where(sync_runs.c.run_id == run_id)).scalar_one()


def snapshot(engine) -> dict[str, set[tuple[str, str, str]]]:
    """Everything staged: (tenant, natural key, content hash) per entity."""
    with engine.connect() as conn:
        return {name: set(conn.execute(select(t.c.tenant, t.c.natural_key, t.c.content_hash)).all())
                for name, t in STAGING.items()}


def test_second_run_with_no_change_stages_nothing_and_spends_one_call_per_read(sims, staging):
    first = run_once(sims["timelog"], sims["uniconta"], PAIRS, "run-1")
    c1 = counts(staging, first)
    assert sum(c["staged"] for c in c1.values()) > 1000
    assert c1["timelog.invoices"]["staged"] > 50 and c1["uniconta.debtors"]["staged"] > 20
    for entity, c in c1.items():
        assert c["extracted"] == c["unchanged"] + c["staged"] + c["quarantined"], entity

    second = run_once(sims["timelog"], sims["uniconta"], PAIRS, "run-2")
    c2 = counts(staging, second)
    assert {e: c["staged"] for e, c in c2.items() if c["staged"]} == {}, "nothing changed, nothing restaged"
    # Only what it takes to learn that nothing changed: one call per entity read, per tenant.
    assert calls(staging, second) == {
        "TimeLog Reporting API": 10 + 2,         # 10 site-wide lists; invoices per legal entity (no invoice is in
                                                 # the look-back window, so no lines or details are read)
        "TimeLog REST API": 3 + 2,               # products, expense types, currencies; currencies per entity
        "TimeLog Transactional API": 3 + 2 * 3,  # token + customers/projects modified since; token + invoices /
                                                 # credit notes modified in period per legal entity
        "Uniconta": 2 * 17,                      # 17 classes per company, one page each at this size
    }


def test_one_percent_changed_exactly_those_are_restaged(sims, staging):
    c1 = counts(staging, run_once(sims["timelog"], sims["uniconta"], PAIRS, "run-1"))
    total = sum(c["extracted"] for c in c1.values())
    tl, uc = sims["timelog_url"], sims["uniconta_url"]
    state = httpx.get(f"{tl}/_sim/state").json()["timelog"]
    customers = [c["ID"] for c in state["Customers"]][::8]                          # modified since
    projects = [p["ID"] for p in state["Projects"]][::16]                           # modified in period
    old_invoices = [i["ID"] for i in sorted(state["Invoices"], key=lambda i: i["InvoiceDate"])[:6]]
    for collection, ids, changes in (("Customers", customers, {"Phone": "+45 70 10 20 30"}),
                                     ("Projects", projects, {"Name": "Omdøbt projekt"}),
                                     ("Invoices", old_invoices, {"ExternalInvoiceNo": "UC-999",
                                                                 "ExternalInvoiceStatus": "Transferred"})):
        httpx.post(f"{tl}/_sim/touch", json={"collection": collection, "ids": ids, "changes": changes}
                   ).raise_for_status()
    debtors = httpx.post(f"{uc}/_sim/touch", json={"company": 10001, "class": "DebtorClient", "count": 4,
                                                   "seed": 3}).json()["touched"]
    items = httpx.post(f"{uc}/_sim/touch", json={"company": 10002, "class": "InvItemClient", "count": 3,
                                                 "seed": 4, "changes": {"SalesPrice1": 1499.5}}).json()["touched"]
    changed = len(customers) + len(projects) + len(old_invoices) + len(debtors) + len(items)
    assert 0.008 * total <= changed <= 0.02 * total, (changed, total)   # about 1 % of all records

    c2 = counts(staging, run_once(sims["timelog"], sims["uniconta"], PAIRS, "run-2"))
    restaged = {e: c["staged"] for e, c in c2.items() if c["staged"]}
    assert restaged == {"timelog.customers": len(customers), "timelog.projects": len(projects),
                        "timelog.invoices": len(old_invoices), "uniconta.debtors": len(debtors),
                        "uniconta.items": len(items)}
    table = STAGING["timelog.invoices"]
    with staging.connect() as conn:
        rows = conn.execute(select(table.c.natural_key, table.c.external_invoice_no)
                            .where(table.c.run_id == "run-2")).all()
    assert sorted(rows) == sorted((str(i), "UC-999") for i in old_invoices)


KILLER = textwrap.dedent("""
    import os, signal, sys, json
    from tlsync.staging import loader
    from tlsync.nightly import steps
    from tlsync.nightly.local import run_once
    read_landing, load = steps.read_landing, loader.StagingLoader.load
    steps.read_landing = lambda path, chunk=40: read_landing(path, 40)   # small chunks: many commits
    chunks = {"n": 0}
    def load_then_die(self, spec, *args, **kwargs):
        written = load(self, spec, *args, **kwargs)
        if spec.qualified == sys.argv[2]:
            chunks["n"] += 1
            if chunks["n"] == 3:
                os.kill(os.getpid(), signal.SIGKILL)   # the machine dies mid-stage: no cleanup, no except
        return written
    loader.StagingLoader.load = load_then_die
    conn = json.loads(sys.argv[1])
    run_once(conn["timelog"], conn["uniconta"], {"1": 10001, "2": 10002}, "killed-run")
""")


@pytest.mark.slow
def test_killed_mid_stage_then_rerun_equals_an_uninterrupted_run(sims, staging, db_url, second_db_url, tmp_path,
                                                                  use_staging):
    env = {**os.environ, "TLSYNC_STAGING_URL": db_url, "TLSYNC_OUT_DIR": str(tmp_path / "out"),
           "PYTHONPATH": os.pathsep.join([str(ROOT / "include"), str(ROOT)])}
    conns = json.dumps({"timelog": sims["timelog"], "uniconta": sims["uniconta"]})
    proc = subprocess.run([sys.executable, "-c", KILLER, conns, "timelog.invoice_lines"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    partial = snapshot(staging)
    assert len(partial["timelog.invoice_lines"]) == 3 * 40, "killed after the third chunk of 40 lines was staged"
    assert not partial["uniconta.debtors"], "…and before anything after it"

    run_once(sims["timelog"], sims["uniconta"], PAIRS, "rerun")
    after = snapshot(staging)

    # The same sync, never interrupted, into a second empty database of the same kind.
    second = use_staging(second_db_url)
    run_once(sims["timelog"], sims["uniconta"], PAIRS, "uninterrupted")
    reference = snapshot(second)
    assert after == reference, "no duplicates, no gaps"


def test_bad_records_from_the_apis_are_quarantined_and_the_good_ones_staged(sims, staging):
    run_once(sims["timelog"], sims["uniconta"], PAIRS, "run-1")
    state = httpx.get(f"{sims['timelog_url']}/_sim/state").json()["timelog"]
    le1 = [i for i in state["Invoices"] if str(i.get("LegalEntityID")) == "1" and i.get("CurrencyAbb") == "DKK"]
    bad_currency, bad_sum = le1[0], le1[1]
    for inv, changes in ((bad_currency, {"CurrencyAbb": "XYZ"}),
                         (bad_sum, {"NetAmount": str(Decimal(str(bad_sum["NetAmount"])) + 1)})):
        httpx.post(f"{sims['timelog_url']}/_sim/touch",
                   json={"collection": "Invoices", "ids": [inv["ID"]], "changes": changes}).raise_for_status()
    httpx.post(f"{sims['uniconta_url']}/_sim/touch",
               json={"company": 10001, "class": "DebtorClient", "count": 1, "seed": 1, "changes": {"Account": ""}}
               ).raise_for_status()

    second = run_once(sims["timelog"], sims["uniconta"], PAIRS, "run-2")
    from tlsync.staging.tables import quarantine

    with staging.connect() as conn:
        rows = conn.execute(select(quarantine.c.entity, quarantine.c.natural_key, quarantine.c.rule)
                            .where(quarantine.c.run_id == second)).all()
    assert sorted(rows, key=str) == sorted([
        ("timelog.invoices", str(bad_currency["ID"]), "currency_unknown"),
        ("timelog.invoices", str(bad_sum["ID"]), "header_lines_mismatch"),
        ("uniconta.debtors", None, "key_missing"),
    ], key=str)
    c2 = counts(staging, second)
    assert c2["timelog.invoices"]["quarantined"] == 2 and c2["uniconta.debtors"]["quarantined"] == 1
    assert all(c["extracted"] == c["unchanged"] + c["staged"] + c["quarantined"] for c in c2.values())
    table = STAGING["timelog.invoices"]
    with staging.connect() as conn:
        kept = conn.execute(select(table.c.currency_abb).where(table.c.natural_key == str(bad_currency["ID"]))).scalar()
    assert kept == "DKK", "a quarantined new version never overwrites the last good one"
