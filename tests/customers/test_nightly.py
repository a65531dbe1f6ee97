"""The nightly customer sync (rules T1, U1, S3, S4) against both simulators, on SQLite and PostgreSQL: what is
written each way, which side wins, that S4 defaults are never rewritten, and that a night without changes makes
no API call at all."""

from __future__ import annotations

from datetime import datetime

import httpx
from conftest import COMPANY, counters, reset_counters, settings, stage
from sqlalchemy import insert

from tlsync.customers import staged as staged_mod
from tlsync.customers.nightly import CONTACT_DOMAIN, SYNC_DOMAIN, sync_customers
from tlsync.customers.sync import ensure_debtors
from tlsync.staging.tables import customer_links

HOSTILE = "<b>Ærø & \"Søn\"</b> 'Kaffe' ☕🎂 " + "Ø" * 280


def link(engine, customer_id, account, action="timelog_wins"):
    with engine.begin() as conn:
        conn.execute(insert(customer_links).values(legal_entity_id=1, debtor_account=str(account),
                                                   company_id=str(COMPANY), customer_id=str(customer_id),
                                                   state="linked", action=action, actor="pytest",
                                                   updated_at=datetime.now()))


def tl_state(sims, collection="Customers"):
    rows = httpx.get(f"{sims['timelog_url']}/_sim/state").json()["timelog"][collection]
    return {str(r["ID"]): r for r in rows}


def uc_state(sims, cls="DebtorClient"):
    state = httpx.get(f"{sims['uniconta_url']}/_sim/state").json()["uniconta"]
    return next(c for c in state["companies"] if c["CompanyId"] == COMPANY).get(cls, [])


def debtor(sims, account):
    return next(d for d in uc_state(sims) if d["Account"] == account)


def tl_touch(sims, customer_id, **changes):
    httpx.post(f"{sims['timelog_url']}/_sim/touch",
               json={"collection": "Customers", "ids": [int(customer_id)], "changes": changes}).raise_for_status()


def uc_touch(sims, account, **changes):
    httpx.post(f"{sims['uniconta_url']}/_sim/touch",
               json={"company": COMPANY, "class": "DebtorClient", "keys": [account], "changes": changes}
               ).raise_for_status()


def no_calls(sims):
    return counters(sims["timelog_url"]).get("total", 0) == 0 and counters(sims["uniconta_url"]).get("total", 0) == 0


def pair(sims):
    """A TimeLog customer with contacts, and a debtor of company 10001 that is not "the same" company (so the
    first sync has something to do)."""
    contacts = tl_state(sims, "Contacts")
    with_contacts = sorted({int(c["CustomerID"]) for c in contacts.values()})
    customer_id = str(with_contacts[0])
    account = sorted(d["Account"] for d in uc_state(sims))[-1]
    return customer_id, account, [c for c in contacts.values() if str(c["CustomerID"]) == customer_id]


def test_first_night_t1_u1_and_contacts_then_a_quiet_night_makes_no_call(engine, sims, uniconta, rest, ledger):
    cid, account, contacts = pair(sims)
    uc_touch(sims, account, Address2="Bygning 4")           # TimeLog has no Address2: Uniconta's fills it (U1)
    tl_touch(sims, cid, Name=HOSTILE)                        # HTML, quotes, emoji, 300+ characters
    before_debtor, before_customer = debtor(sims, account), tl_state(sims)[cid]
    assert not before_customer.get("Address2")
    stage(engine, sims)
    link(engine, cid, account)
    reset_counters(sims["timelog_url"], sims["uniconta_url"])

    counts = sync_customers(engine, settings("manual"), uniconta, rest, ledger=ledger)

    assert counts["linked"] == 1 and counts["debtors_updated"] == 1 and counts["customers_updated"] == 1
    after = debtor(sims, account)
    assert after["Name"] == HOSTILE, "a hostile name reaches Uniconta unchanged"
    assert after["City"] == before_customer["City"]
    for s4 in ("Group", "VatZone", "Vat", "Payment", "LayoutGroup"):
        assert after.get(s4) == before_debtor.get(s4), f"{s4} is an S4 default: never rewritten"
    customer = tl_state(sims)[cid]
    assert customer["Address2"] == "Bygning 4", "U1: Uniconta's value where TimeLog had none"
    assert customer["WebPage"] == before_customer["WebPage"] and customer["Email"] == before_customer["Email"], \
        "the full-replace PUT keeps the fields the sync did not change"
    created = [c for c in uc_state(sims, "ContactClient") if c["DCAccount"] == account]
    active = [c for c in contacts if c.get("IsActive", True)]
    assert counts["contacts_created"] == len(active) and len(active) >= 1
    assert {c["FullName"] for c in active} <= {c["Name"] for c in created}
    assert counters(sims["uniconta_url"])["crud"] == 3, "debtor read + Update, one contact InsertList"

    # the next night: both systems staged again, nothing changed -> not a single API call
    stage(engine, sims)
    reset_counters(sims["timelog_url"], sims["uniconta_url"])
    counts = sync_customers(engine, settings("manual"), uniconta, rest, ledger=ledger)
    assert no_calls(sims)
    assert counts["debtors_updated"] == counts["customers_updated"] == counts["contacts_created"] == 0
    assert counts["contacts_unchanged"] == len(active)
    events = len(ledger.events(SYNC_DOMAIN, 1, f"{COMPANY}/{cid}"))
    # and again (no new staging either): no call, and not even a ledger write
    sync_customers(engine, settings("manual"), uniconta, rest, ledger=ledger)
    assert no_calls(sims)
    assert len(ledger.events(SYNC_DOMAIN, 1, f"{COMPANY}/{cid}")) == events


def test_s4_edits_in_uniconta_survive_later_pushes(engine, sims, uniconta, rest, ledger):
    cid, account, _ = pair(sims)
    stage(engine, sims)
    link(engine, cid, account)
    sync_customers(engine, settings("manual"), uniconta, rest, ledger=ledger)
    reset_counters(sims["timelog_url"], sims["uniconta_url"])
    counts = sync_customers(engine, settings("manual"), uniconta, rest, ledger=ledger)   # staging not refreshed
    assert no_calls(sims) and counts["customers_updated"] == counts["debtors_updated"] == 0, \
        "a re-run before the next staging does not mistake its own writes for edits"
    uc_touch(sims, account, Group="EU", Payment="KONT", LayoutGroup="Engelsk", VatZone="EU")   # accountant's edits
    tl_touch(sims, cid, Phone="+45 21 21 21 21")                                                 # a TimeLog edit
    stage(engine, sims)
    uc_touch(sims, account, Group="UDL")                  # and one more, after tonight's staging

    counts = sync_customers(engine, settings("manual"), uniconta, rest, ledger=ledger)

    assert counts["debtors_updated"] == 1 and counts["customers_updated"] == 0
    after = debtor(sims, account)
    assert after["Phone"] == "+45 21 21 21 21"
    assert (after["Group"], after["Payment"], after["LayoutGroup"], after["VatZone"]) == (
        "UDL", "KONT", "Engelsk", "EU"), "S4 values are used only on creation (rule S4); the Update patches the " \
        "debtor as Uniconta holds it at write time"


def test_u1_and_a_conflict_timelog_wins(engine, sims, uniconta, rest, ledger):
    cid, account, _ = pair(sims)
    stage(engine, sims)
    link(engine, cid, account)
    sync_customers(engine, settings("manual"), uniconta, rest, ledger=ledger)
    uc_touch(sims, account, City="Uniconta-by", Phone="+45 99 99 99 99", Name=HOSTILE)
    tl_touch(sims, cid, Phone="+45 11 11 11 11")
    stage(engine, sims)

    counts = sync_customers(engine, settings("manual"), uniconta, rest, ledger=ledger)

    customer = tl_state(sims)[cid]
    assert customer["City"] == "Uniconta-by", "U1: a field changed only in Uniconta goes to TimeLog"
    assert customer["Name"] == HOSTILE, "a hostile name passes unchanged (HTML, quotes, emoji, 300+ chars)"
    assert debtor(sims, account)["Phone"] == "+45 11 11 11 11", "changed on both sides: TimeLog wins"
    assert customer["Phone"] == "+45 11 11 11 11"
    assert counts["conflicts"] == 1
    last = ledger.events(SYNC_DOMAIN, 1, f"{COMPANY}/{cid}")[-1]
    assert last["before"]["uniconta"]["Phone"] == "+45 99 99 99 99", "the overwritten value is in the audit"
    assert last["after"]["conflicts_timelog_won"] == ["Phone"]

    stage(engine, sims)
    reset_counters(sims["timelog_url"], sims["uniconta_url"])
    sync_customers(engine, settings("manual"), uniconta, rest, ledger=ledger)
    assert no_calls(sims), "after the exchange both sides agree: the next night is quiet"


def test_automatic_mode_syncs_the_debtors_it_created(engine, sims, uniconta, rest, ledger):
    stage(engine, sims)
    customers = staged_mod.timelog_customers(engine)
    accounts = set(staged_mod.uniconta_rows(engine, "uniconta.debtors", COMPANY))
    cid = next(k for k, c in sorted(customers.items(), key=lambda kv: int(kv[0])) if c["No"] not in accounts)
    account = ensure_debtors(uniconta, engine, settings("automatic"), [int(cid)], ledger=ledger)[int(cid)]
    stage(engine, sims)
    sync_customers(engine, settings("automatic"), uniconta, rest, ledger=ledger)
    tl_touch(sims, cid, Email="bogholderi@example.dk")
    stage(engine, sims)

    counts = sync_customers(engine, settings("automatic"), uniconta, rest, ledger=ledger)

    assert counts["debtors_updated"] == 1
    after = debtor(sims, account)
    assert after["ContactEmail"] == "bogholderi@example.dk"
    assert (after["Group"], after["Payment"], after["LayoutGroup"]) == ("OFF", "LM30", "OIOUBL"), \
        "the S4 defaults it was created with stay"


def test_changed_contact_is_updated_not_duplicated(engine, sims, uniconta, rest, ledger):
    cid, account, contacts = pair(sims)
    stage(engine, sims)
    link(engine, cid, account)
    sync_customers(engine, settings("manual"), uniconta, rest, ledger=ledger)
    n = len(uc_state(sims, "ContactClient"))
    contact = contacts[0]
    httpx.post(f"{sims['timelog_url']}/_sim/touch", json={"collection": "Contacts", "ids": [contact["ID"]],
                                                         "changes": {"Email": "ny.mail@example.dk"}}).raise_for_status()
    stage(engine, sims)
    counts = sync_customers(engine, settings("manual"), uniconta, rest, ledger=ledger)
    assert counts["contacts_updated"] == 1 and counts["contacts_created"] == 0
    assert len(uc_state(sims, "ContactClient")) == n
    entry = ledger.get(CONTACT_DOMAIN, 1, f"{COMPANY}/{contact['ID']}")
    row = next(c for c in uc_state(sims, "ContactClient") if str(c["RowId"]) == entry.target_key)
    assert row["Email"] == "ny.mail@example.dk"


def test_dry_run_counts_and_writes_nothing(engine, sims, uniconta, rest, ledger):
    cid, account, _ = pair(sims)
    stage(engine, sims)
    link(engine, cid, account)
    link(engine, 99999, "no-such-debtor")                    # a link whose records are not staged (yet)
    reset_counters(sims["timelog_url"], sims["uniconta_url"])
    counts = sync_customers(engine, settings("manual"), uniconta, rest, ledger=ledger, dry_run=True)
    assert counts["debtors_updated"] == 1 and counts["contacts_created"] >= 1
    assert counts["linked"] == 2 and counts["not_staged"] == 1
    assert no_calls(sims)
    assert ledger.entries(SYNC_DOMAIN) == [] and ledger.entries(CONTACT_DOMAIN) == []


def test_first_sync_after_link_with_uniconta_data_keeps_uniconta_values(engine, sims, uniconta, rest, ledger):
    cid, account, _ = pair(sims)
    uc_touch(sims, account, Address3="")                    # Uniconta empty here: TimeLog's value fills it
    tl_touch(sims, cid, Address3="Postboks 12")
    before_debtor = debtor(sims, account)
    stage(engine, sims)
    link(engine, cid, account, action="uniconta_wins")       # L3.2 (TimeLog's staged record may predate the link)

    counts = sync_customers(engine, settings("manual"), uniconta, rest, ledger=ledger)

    customer = tl_state(sims)[cid]
    after = debtor(sims, account)
    assert customer["Name"] == before_debtor["Name"] and after["Name"] == before_debtor["Name"], \
        "after 'link and use Uniconta data' the first sync does not push TimeLog's older values"
    assert after["Address3"] == "Postboks 12", "but TimeLog still fills what Uniconta has empty"
    assert counts["conflicts"] == 0 and counts["customers_updated"] == 1


def test_first_sync_right_after_link_timelog_wins_writes_nothing_again(engine, sims, uniconta, rest, ledger):
    """``accept-one --wins timelog`` (L3.1) already wrote TimeLog's values into the debtor; the customer step that
    follows, on the debtors staged *before* the link, must not send the same update again (rules T1, S4) — and a
    real change afterwards is still written, exactly once."""
    from tlsync.linking.actions import Linker
    from tlsync.linking.targets import Targets

    contacts = tl_state(sims, "Contacts")
    with_contacts = {str(c["CustomerID"]) for c in contacts.values()}
    cid = sorted((c for c in tl_state(sims) if c not in with_contacts), key=int)[0]   # no contacts to create
    account = sorted(d["Account"] for d in uc_state(sims))[-1]
    stage(engine, sims)
    targets = Targets(sims["timelog"], sims["uniconta"], COMPANY)
    try:
        outcome = Linker(engine, 1, COMPANY, targets=targets).link(account, cid, wins="timelog")
    finally:
        targets.close()
    assert outcome.changed and outcome.written["changes"]["uniconta"], "the link wrote TimeLog's values"
    assert debtor(sims, account)["Name"] == tl_state(sims)[cid]["Name"]
    reset_counters(sims["timelog_url"], sims["uniconta_url"])

    counts = sync_customers(engine, settings("manual"), uniconta, rest, ledger=ledger)   # debtors not restaged

    assert no_calls(sims), "the link's write is not repeated: no read, no Update"
    assert counts["debtors_updated"] == counts["customers_updated"] == 0 and counts["unchanged"] == 1
    # the next night sees the debtor as the link left it: still nothing to write
    stage(engine, sims)
    reset_counters(sims["timelog_url"], sims["uniconta_url"])
    counts = sync_customers(engine, settings("manual"), uniconta, rest, ledger=ledger)
    assert no_calls(sims) and counts["debtors_updated"] == counts["customers_updated"] == 0
    # a real change in TimeLog afterwards: exactly one debtor update (T1)
    tl_touch(sims, cid, Phone="+45 31 31 31 31")
    stage(engine, sims)
    reset_counters(sims["timelog_url"], sims["uniconta_url"])
    counts = sync_customers(engine, settings("manual"), uniconta, rest, ledger=ledger)
    assert counts["debtors_updated"] == 1 and counts["customers_updated"] == 0
    assert counters(sims["uniconta_url"])["crud"] == 2, "one debtor read + one Update"
    assert debtor(sims, account)["Phone"] == "+45 31 31 31 31"


def test_first_sync_right_after_link_uniconta_wins_writes_nothing_again(engine, sims, uniconta, rest, ledger):
    """The same for "link and use Uniconta data" (L3.2): the link wrote Uniconta's values into the TimeLog
    customer; the customer step on the customers staged before the link does not write them again (U1)."""
    from tlsync.linking.actions import Linker
    from tlsync.linking.targets import Targets

    contacts = tl_state(sims, "Contacts")
    with_contacts = {str(c["CustomerID"]) for c in contacts.values()}
    cid = sorted((c for c in tl_state(sims) if c not in with_contacts), key=int)[0]
    account = sorted(d["Account"] for d in uc_state(sims))[-1]
    stage(engine, sims)
    targets = Targets(sims["timelog"], sims["uniconta"], COMPANY)
    try:
        outcome = Linker(engine, 1, COMPANY, targets=targets).link(account, cid, wins="uniconta")
    finally:
        targets.close()
    assert outcome.changed and outcome.written["changes"]["timelog"]
    reset_counters(sims["timelog_url"], sims["uniconta_url"])

    counts = sync_customers(engine, settings("manual"), uniconta, rest, ledger=ledger)   # customers not restaged

    assert counts["customers_updated"] == 0 and counts["debtors_updated"] == 0
    assert no_calls(sims)
