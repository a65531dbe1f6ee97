"""Two writers for one legal entity at once never post an invoice twice (issue 17, rule T2).

Issue 17 found that a second ``transfer`` started while the first had claims ``in_flight`` (Uniconta slow) took
them for interrupted and posted all 40 drafts a second time. Here: the nightly-staged S data, Uniconta answering
half its calls after a delay, and two real processes transferring legal entity 1 at the same moment (as the CLI,
the backfill DAG and ``airflow dags test`` can). One holds the legal entity's write lease; the other stops with one
line naming it and writes nothing. A rerun afterwards finds nothing left to do. Record by record: every invoice
the ledger calls done has exactly one draft, with exactly its lines — 0 duplicated, 0 missing.

``TLSYNC_RELIABILITY_LONG=1`` repeats the race more often (``docs/reliability.md``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import pytest
from sqlalchemy import func, select

from tests.invoicing.conftest import sim_state
from tests.reliability.conftest import TRIALS
from tlsync.invoicing import DOMAIN, MARKER_FIELD, transfer_invoices
from tlsync.staging.tables import sync_ledger

WRITER = r"""
import json, sys
from tlsync import connections
from tlsync.invoicing import transfer_invoices
from tlsync.ledger import Ledger
from tlsync.settings.models import LegalEntitySettings
from tlsync.staging.engine import staging_engine
cfg = json.loads(sys.argv[1])
le = LegalEntitySettings.model_validate(cfg["le"])
engine = staging_engine()
with connections.uniconta_client(company_id=10001, **cfg["uniconta"]) as uc, \
        connections.timelog_source(**cfg["timelog"]) as tl:
    print("ready", flush=True)
    sys.stdin.readline()                               # both start together
    res = transfer_invoices(engine, le, uc, tl.transactional, ledger=Ledger(engine, run_id=cfg["run_id"]))
print(json.dumps({"transferred": res["transferred"], "stopped": res["stopped"], "failed": res["failed"]}))
"""


def _writer(world, run_id: str) -> subprocess.Popen:
    le = world["le"](1).model_dump(mode="json")
    cfg = {"le": le, "uniconta": world["sims"]["uniconta"], "timelog": world["sims"]["timelog"], "run_id": run_id}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", WRITER, json.dumps(cfg)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    return proc


def _drafts(world):
    state = sim_state(world["sims"], 10001)
    marks: dict[str, int] = {}
    for o in state["DebtorOrderClient"]:
        if o.get(MARKER_FIELD):
            marks[o[MARKER_FIELD]] = marks.get(o[MARKER_FIELD], 0) + 1
    return marks


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)   # production's database: once, for CI time
def test_two_transfers_at_once_post_each_invoice_once(world):
    sims = world["sims"]
    httpx.put(f"{sims['uniconta_url']}/_sim/faults",
              json={"rate_slow": 0.5, "slow_seconds": 0.3, "seed": 5}).raise_for_status()
    stopped_lines = []
    for trial in range(TRIALS):
        a, b = _writer(world, f"writer-A{trial}"), _writer(world, f"writer-B{trial}")
        for p in (a, b):
            p.stdin.write("go\n")
            p.stdin.flush()
        outs = []
        for p in (a, b):
            out, err = p.communicate(timeout=600)
            assert p.returncode == 0, err[-3000:]
            assert "IntegrityError" not in err and "LedgerConflict" not in err and "Traceback" not in err
            outs.append(json.loads(out.strip().splitlines()[-1]))
        stopped_lines += [o["stopped"] for o in outs if o["stopped"]]
        if trial == 0:
            # the first race: one writer transferred, the other stopped at the lease without writing
            assert sum(1 for o in outs if o["transferred"] > 0) == 1, outs
            line = next(o["stopped"] for o in outs if o["stopped"])
            assert line.startswith("legal entity 1 is being transferred by run writer-") and "\n" not in line
    httpx.put(f"{sims['uniconta_url']}/_sim/faults", json={}).raise_for_status()
    again = transfer_invoices(world["engine"], world["le"](1), world["uniconta"](10001), world["tx"],
                              ledger=world["ledger"])
    assert again["transferred"] == 0 and not again["stopped"]
    marks = _drafts(world)
    done = {e.source_key for e in world["ledger"].entries(DOMAIN, 1, states=["done"])}
    assert done and set(marks) == done                        # 0 missing, 0 drafts the ledger does not know
    assert [k for k, n in marks.items() if n > 1] == []       # 0 duplicated
    assert stopped_lines


FULL_WRITE_BACK = r"""
import json, sys
from tlsync.settings.models import IntegrationSettings, LegalEntitySettings
from tlsync.nightly.local import run_write_back

cfg = json.loads(sys.argv[1])
settings = IntegrationSettings(legal_entities={1: LegalEntitySettings.model_validate(cfg["le"])})
print("ready", flush=True)
sys.stdin.readline()
out = run_write_back(cfg["timelog"], cfg["uniconta"], [{"legal_entity_id": 1, "company_id": 10001}],
                     settings=settings, run_id=cfg["run_id"])
print(json.dumps({step: result.to_json() for step, result in out[1].items() if result is not None}))
"""

#: what makes a record the same record in each collection the write-back writes to
IDENTITY = {
    ("uniconta", "DebtorClient"): ("Account",), ("uniconta", "ProjectClient"): ("Number",),
    ("uniconta", "ContactClient"): ("DCAccount", "Name", "Email"), ("uniconta", "DebtorOrderClient"): (MARKER_FIELD,),
    ("timelog", "Customers"): ("No",), ("timelog", "Contacts"): ("CustomerID", "FirstName", "LastName", "Email"),
    ("timelog", "Expenses"): ("ExternalID",),
}


def _duplicates(world) -> dict[str, list]:
    """Per collection, the identities held by more than one record."""
    from tests.invoicing.conftest import timelog_state

    states = {"uniconta": sim_state(world["sims"], 10001), "timelog": timelog_state(world["sims"])}
    out: dict[str, list] = {}
    for (system, name), fields in IDENTITY.items():
        seen: dict[tuple, int] = {}
        for rec in states[system].get(name, []):
            key = tuple(rec.get(f) for f in fields)
            if any(v not in (None, "") for v in key):
                seen[key] = seen.get(key, 0) + 1
        out[f"{system}.{name}"] = sorted((k for k, n in seen.items() if n > 1), key=str)
    return out


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_whole_write_backs_at_once_write_each_record_once(world):
    """Issue 17's second race: two complete write-backs (customers, items, projects, invoices, expenses) started
    0–1 s apart, Uniconta slow. Every step runs in one writer and is a clean skip in the other; no
    ``IntegrityError``, ``LedgerConflict`` or traceback; no record written twice in either system."""
    sims = world["sims"]
    before = _duplicates(world)               # the generated data's own look-alikes are not the write-back's
    httpx.put(f"{sims['uniconta_url']}/_sim/faults",
              json={"rate_slow": 0.5, "slow_seconds": 0.3, "seed": 7}).raise_for_status()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for trial, offset in enumerate([0.0, 0.6][:TRIALS + 1]):
        procs = []
        for name in ("A", "B"):
            cfg = {"le": world["le"](1).model_dump(mode="json"), "timelog": sims["timelog"],
                   "uniconta": sims["uniconta"], "run_id": f"wb-{name}{trial}"}
            p = subprocess.Popen([sys.executable, "-c", FULL_WRITE_BACK, json.dumps(cfg)], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            assert p.stdout.readline().strip() == "ready", p.stderr.read()
            procs.append(p)
        procs[0].stdin.write("go\n")
        procs[0].stdin.flush()
        time.sleep(offset)
        procs[1].stdin.write("go\n")
        procs[1].stdin.flush()
        for p in procs:
            out, err = p.communicate(timeout=600)
            assert p.returncode == 0, err[-3000:]
            assert "IntegrityError" not in err and "LedgerConflict" not in err and "Traceback" not in err, err[-3000:]
            assert json.loads(out.strip().splitlines()[-1]).keys() >= {"customers", "projects", "invoices"}
    httpx.put(f"{sims['uniconta_url']}/_sim/faults", json={}).raise_for_status()
    after = _duplicates(world)
    assert {k: [d for d in v if d not in before[k]] for k, v in after.items()} == {k: [] for k in after}
    with world["engine"].connect() as conn:
        stuck = conn.execute(select(func.count()).select_from(sync_ledger)
                             .where(sync_ledger.c.state == "in_flight")).scalar()
    assert stuck == 0, "every claim settled"
