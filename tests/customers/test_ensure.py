"""ensure_debtors (rules S3a/S3b, S4) and ensure_employees (rule T4) against the Uniconta simulator, on both
databases: batched InsertList, links and ledger entries, manual vs automatic mode, dry run, crash recovery."""

from __future__ import annotations

import json

import httpx
import pytest
from conftest import COMPANY, counters, reset_counters, settings, stage
from sqlalchemy import insert, select

from tlsync.customers import staged as staged_mod
from tlsync.customers.sync import DEBTOR_DOMAIN, EMPLOYEE_DOMAIN, ensure_debtors, ensure_employees
from tlsync.ledger import DONE, FAILED, IN_FLIGHT
from tlsync.settings.models import DebtorDefaults
from tlsync.staging.tables import customer_links


def link(engine, customer_id, account, action="timelog_wins", company=COMPANY):
    from datetime import datetime

    with engine.begin() as conn:
        conn.execute(insert(customer_links).values(legal_entity_id=1, debtor_account=str(account),
                                                   company_id=str(company), customer_id=str(customer_id),
                                                   state="linked", action=action, actor="pytest",
                                                   updated_at=datetime.now()))


def uc_rows(sims, cls):
    state = httpx.get(f"{sims['uniconta_url']}/_sim/state").json()["uniconta"]
    company = next(c for c in state["companies"] if c["CompanyId"] == COMPANY)
    return company.get(cls, [])


def unlinked_customers(engine):
    """Staged TimeLog customers split by whether their number is already a debtor account of the company."""
    customers = staged_mod.timelog_customers(engine)
    accounts = set(staged_mod.uniconta_rows(engine, "uniconta.debtors", COMPANY))
    free = sorted((int(k) for k, c in customers.items() if c.get("No") and c["No"] not in accounts))
    taken = sorted((int(k) for k, c in customers.items() if c.get("No") in accounts))
    return customers, free, taken


def test_manual_mode_returns_linked_only_and_calls_nothing(engine, sims, uniconta, ledger):
    stage(engine, sims)
    link(engine, 5, "8528")
    link(engine, 6, "X-6", company=10099)              # linked while the entity was connected to another company
    reset_counters(sims["uniconta_url"])
    result = ensure_debtors(uniconta, engine, settings("manual"), [5, 6, 7], ledger=ledger)
    assert result == {5: "8528"}, "unlinked customers are absent in manual mode (rule S3a)"
    assert counters(sims["uniconta_url"]).get("total", 0) == 0
    assert ledger.entries(DEBTOR_DOMAIN) == []


def test_automatic_mode_creates_missing_debtors_in_batches_with_s4_defaults(engine, sims, uniconta, ledger):
    stage(engine, sims)
    customers, free, taken = unlinked_customers(engine)
    assert len(free) >= 4 and taken, "the S data has customers with free and with taken numbers"
    wanted = free[:4] + taken[:1]
    link(engine, free[0], "8528")                        # one of them is already linked
    reset_counters(sims["uniconta_url"])

    result = ensure_debtors(uniconta, engine, settings("automatic"), wanted, ledger=ledger, batch_size=2)

    assert counters(sims["uniconta_url"]).get("crud") == 2, "4 new debtors, batches of 2: two InsertList calls"
    assert result[free[0]] == "8528"
    for cid in free[1:4]:
        assert result[cid] == customers[str(cid)]["No"], "the TimeLog customer number when it is free"
    numeric = [int(a) for a in staged_mod.uniconta_rows(engine, "uniconta.debtors", COMPANY) if a.isdigit()]
    assert result[taken[0]] == str(max(numeric) + 1), "a taken number gets the next free account"

    debtors = {d["Account"]: d for d in uc_rows(sims, "DebtorClient")}
    for cid in wanted[1:]:
        d = debtors[result[cid]]
        assert d["Name"] == customers[str(cid)]["Name"]
        assert (d["Group"], d["Payment"], d["LayoutGroup"], d["VatZone"]) == ("OFF", "LM30", "OIOUBL", "Domestic")
    with engine.connect() as conn:
        rows = {r.customer_id: r for r in conn.execute(select(customer_links))}
    assert {rows[str(c)].action for c in wanted[1:]} == {"created"}
    assert rows[str(free[0])].action == "timelog_wins"
    done = {e.source_key: e for e in ledger.entries(DEBTOR_DOMAIN, 1)}
    assert {k: e.state for k, e in done.items()} == {f"{COMPANY}/{c}": DONE for c in wanted[1:]}
    assert done[f"{COMPANY}/{taken[0]}"].target_key == result[taken[0]]

    # a second call finds everything linked: no call, same answer
    reset_counters(sims["uniconta_url"])
    assert ensure_debtors(uniconta, engine, settings("automatic"), wanted, ledger=ledger) == result
    assert counters(sims["uniconta_url"]).get("total", 0) == 0


def test_dry_run_plans_without_writing(engine, sims, uniconta, ledger):
    stage(engine, sims)
    customers, free, _ = unlinked_customers(engine)
    reset_counters(sims["uniconta_url"])
    result = ensure_debtors(uniconta, engine, settings("automatic"), free[:3], ledger=ledger, dry_run=True)
    assert result == {c: customers[str(c)]["No"] for c in free[:3]}
    assert counters(sims["uniconta_url"]).get("total", 0) == 0
    assert ledger.entries(DEBTOR_DOMAIN) == []
    with engine.connect() as conn:
        assert conn.execute(select(customer_links)).all() == []


def test_rejected_debtors_fail_with_uniconta_reason_and_are_not_linked(engine, sims, uniconta, ledger):
    stage(engine, sims)
    _, free, _ = unlinked_customers(engine)
    bad = settings("automatic").model_copy(update={"debtor_defaults": DebtorDefaults(
        debtor_group="NOSUCH", payment_terms="N30", layout_group="Standard")})
    result = ensure_debtors(uniconta, engine, bad, free[:2], ledger=ledger)
    assert result == {}
    entries = ledger.entries(DEBTOR_DOMAIN, 1)
    assert [e.state for e in entries] == [FAILED, FAILED]
    assert all("NOSUCH" in (e.reason or "") and "Uniconta refused" in e.reason for e in entries)
    with engine.connect() as conn:
        assert conn.execute(select(customer_links)).all() == []
    # fixed settings: the failed ones are written on the next try
    assert set(ensure_debtors(uniconta, engine, settings("automatic"), free[:2], ledger=ledger)) == set(free[:2])


def test_one_bad_record_does_not_block_its_batch(engine, sims, uniconta, ledger):
    stage(engine, sims)
    _, free, _ = unlinked_customers(engine)
    # a debtor created in Uniconta after staging takes the number tlsync plans for free[1] (KeyExists)
    customers = staged_mod.timelog_customers(engine)
    from tlsync.clients.uniconta.models import DebtorClient
    uniconta.insert(DebtorClient(Account=customers[str(free[1])]["No"], Name="Oprettet i Uniconta i dag"))
    result = ensure_debtors(uniconta, engine, settings("automatic"), free[:3], ledger=ledger)
    assert set(result) == {free[0], free[2]}
    failed = ledger.get(DEBTOR_DOMAIN, 1, f"{COMPANY}/{free[1]}")
    assert failed.state == FAILED and "Uniconta refused" in failed.reason


def test_interrupted_creation_is_adopted_not_written_twice(engine, sims, uniconta, ledger):
    stage(engine, sims)
    customers, free, _ = unlinked_customers(engine)
    cid = free[0]
    account = customers[str(cid)]["No"]
    # a crashed run: claimed, InsertList landed, the ledger/link commit never happened
    ledger.claim(DEBTOR_DOMAIN, 1, f"{COMPANY}/{cid}", details={"company_id": COMPANY, "target": account})
    from tlsync.clients.uniconta.models import DebtorClient
    uniconta.insert(DebtorClient(Account=account, Name=customers[str(cid)]["Name"]))
    before = len(uc_rows(sims, "DebtorClient"))
    result = ensure_debtors(uniconta, engine, settings("automatic"), [cid], ledger=ledger)
    assert result == {cid: account}
    assert len(uc_rows(sims, "DebtorClient")) == before, "adopted, not created again"
    entry = ledger.get(DEBTOR_DOMAIN, 1, f"{COMPANY}/{cid}")
    assert entry.state == DONE and entry.target_key == account
    assert [e["action"] for e in ledger.events(DEBTOR_DOMAIN, 1, f"{COMPANY}/{cid}")][-1] == "recover"


def test_ensure_employees_creates_missing_in_batches(engine, sims, uniconta, ledger):
    stage(engine, sims)
    timelog = staged_mod.timelog_employees(engine)
    known = set(staged_mod.uniconta_rows(engine, "uniconta.employees", COMPANY))
    initials = sorted(e["Initials"] for e in timelog.values())
    missing = [i for i in initials if i not in known]
    assert missing and set(initials) - set(missing)
    wanted = [i.lower() if n == 0 else i for n, i in enumerate(initials)] + ["ZZZ"]   # case-insensitive match
    wanted += [missing[0].lower()]                  # the same employee in two spellings: created once
    reset_counters(sims["uniconta_url"])

    result = ensure_employees(uniconta, engine, settings("manual"), wanted, ledger=ledger, batch_size=2)

    calls = -(-(len(missing) + 1) // 2)           # + ZZZ
    assert counters(sims["uniconta_url"]).get("crud") == calls, "one InsertList per batch of 2"
    assert set(result) == set(wanted)
    assert result[missing[0].lower()] == result[missing[0]]
    employees = {e["Number"]: e for e in uc_rows(sims, "EmployeeClient")}
    full = {e["Initials"]: e["FullName"] for e in timelog.values()}
    for i in missing:
        assert employees[result[i]]["Name"] == full[i]
    assert employees["ZZZ"]["Name"] == "ZZZ", "Uniconta needs a name; TimeLog has none: the initials (rule T4)"
    assert {e.state for e in ledger.entries(EMPLOYEE_DOMAIN, 1)} == {DONE}

    reset_counters(sims["uniconta_url"])
    assert ensure_employees(uniconta, engine, settings("manual"), wanted, ledger=ledger) == result
    assert counters(sims["uniconta_url"]).get("total", 0) == 0, "created earlier, known from the ledger"


def test_automatic_mode_without_debtor_defaults_is_a_clear_error(engine, sims, uniconta, ledger):
    stage(engine, sims)
    _, free, _ = unlinked_customers(engine)
    le = settings("automatic").model_copy(update={"debtor_defaults": None})
    with pytest.raises(ValueError, match=r"debtor defaults are not set.*S3b/S4"):
        ensure_debtors(uniconta, engine, le, free[:1], ledger=ledger)


def test_in_flight_not_landed_is_written_again(engine, sims, uniconta, ledger):
    stage(engine, sims)
    customers, free, _ = unlinked_customers(engine)
    cid = free[0]
    ledger.claim(DEBTOR_DOMAIN, 1, f"{COMPANY}/{cid}", details={"company_id": COMPANY,
                                                                 "target": customers[str(cid)]["No"]})
    assert ledger.get(DEBTOR_DOMAIN, 1, f"{COMPANY}/{cid}").state == IN_FLIGHT
    result = ensure_debtors(uniconta, engine, settings("automatic"), [cid], ledger=ledger)
    assert result == {cid: customers[str(cid)]["No"]}
    assert customers[str(cid)]["No"] in {d["Account"] for d in uc_rows(sims, "DebtorClient")}
    assert json.dumps([e["action"] for e in ledger.events(DEBTOR_DOMAIN, 1, f"{COMPANY}/{cid}")]) == json.dumps(
        ["claim", "recover", "claim_create_debtor", "create_debtor"])


def test_spent_call_budget_releases_the_claims_for_the_next_run(engine, sims, ledger):
    from tlsync import connections
    from tlsync.clients._http import CallCounter
    from tlsync.clients.errors import CallBudgetExceededError
    from tlsync.ledger import PENDING

    stage(engine, sims)
    customers, free, _ = unlinked_customers(engine)
    counter = CallCounter(budgets={"Uniconta": 1})
    with connections.uniconta_client(company_id=COMPANY, counter=counter, **sims["uniconta"]) as client:
        with pytest.raises(CallBudgetExceededError):
            ensure_debtors(client, engine, settings("automatic"), free[:4], ledger=ledger, batch_size=2)
    entries = ledger.entries(DEBTOR_DOMAIN, 1)
    assert [e.state for e in entries].count(DONE) == 2, "the first batch (the one call allowed) is written"
    assert [e.state for e in entries].count(PENDING) == 2, "the rest is released, not failed"
    assert all("quota" in (e.reason or "") for e in entries if e.state == PENDING)
    with connections.uniconta_client(company_id=COMPANY, **sims["uniconta"]) as client:
        result = ensure_debtors(client, engine, settings("automatic"), free[:4], ledger=ledger)
    assert set(result) == set(free[:4])
    assert result == {c: customers[str(c)]["No"] for c in free[:4]}
