"""A batch of L3.1 links (issue 13): the debtors are read fresh in bulk and written with UpdateList — a few Uniconta
calls instead of a read and a write per debtor — and a kill between the write and the record neither writes twice
nor loses a link."""

from __future__ import annotations

import httpx
import pytest
from conftest import LE, customer, debtor, fixture, twins
from sqlalchemy import select

from tlsync.ledger import Ledger
from tlsync.linking import Decision
from tlsync.linking.actions import Linker
from tlsync.staging.tables import customer_links

N = 250


def _doc() -> dict:
    customers, debtors = twins(N)
    for d in debtors:
        d["Phone"] = ""                     # TimeLog has a phone, Uniconta none: every link writes the debtor
    customers.append(customer(9001, "Forsvundet ApS", "9001", Phone="11223344"))
    debtors.append(debtor("29001", "Forsvundet ApS"))
    return fixture(customers, debtors)


def _uniconta_calls(w) -> int:
    return sum(httpx.get(f"{w.uniconta_url}/_sim/quota").json()["used"].values())


def _decisions() -> list[Decision]:
    return ([Decision("link-timelog", str(20000 + i), str(i)) for i in range(1, N + 1)]
            + [Decision("link-timelog", "29001", "9001")])


def _linked(engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {r.debtor_account: r.customer_id for r in conn.execute(select(customer_links))
                if r.state == "linked"}


def test_a_batch_of_links_costs_a_few_calls_and_keeps_what_changed_in_uniconta_since_the_night(world):
    w = world(_doc(), sync=False)
    # after the nightly read: someone edits a debtor in Uniconta, and another debtor is deleted
    touched = httpx.post(f"{w.uniconta_url}/_sim/touch", json={
        "company": 10001, "class": "DebtorClient", "keys": ["20007"], "changes": {"Address1": "Ny Vej 7"}})
    assert touched.status_code == 200, touched.text
    with httpx.Client(base_url=f"{w.uniconta_url}/api/Entities", auth=("0010001/integration", "uniconta-pw")) as api:
        assert api.request("DELETE", "/Delete/DebtorClient", json={"Account": "29001"}).status_code == 200
    before = _uniconta_calls(w)
    out = w.linker().apply_all(_decisions(), refresh=False)
    calls = _uniconta_calls(w) - before
    assert calls <= 1 + 3, f"one read of the debtors, then {N} debtors in UpdateLists of 100: {calls} calls"
    assert [o.changed for o in out[:N]] == [True] * N and not out[N].changed
    assert "no longer exists" in out[N].error and "29001" in out[N].error
    debtors = {d["Account"]: d for d in w.debtors()}
    assert all(debtors[str(20000 + i)]["Phone"] for i in range(1, N + 1)), "TimeLog's phone written (L3.1)"
    assert debtors["20007"]["Address1"] == "Ny Vej 7", "an edit made since the night survives the full update"
    assert len(_linked(w.engine)) == N
    events = Ledger(w.engine).events("customer_link", LE, "20003")
    assert events[-1]["before"]["values"]["Phone"] in (None, "")


def test_a_kill_between_the_update_list_and_the_record_neither_writes_twice_nor_loses_a_link(world, monkeypatch):
    w = world(_doc(), sync=False)
    recorded = []
    real = Linker.commit_link

    def killed_after_40(self, plan, before_values):
        if len(recorded) == 40:
            raise KeyboardInterrupt("killed between the UpdateList and the ledger")
        recorded.append(plan.account)
        return real(self, plan, before_values)

    monkeypatch.setattr(Linker, "commit_link", killed_after_40)
    with pytest.raises(KeyboardInterrupt):
        w.linker().apply_all(_decisions()[:N], refresh=False)
    monkeypatch.undo()
    assert len(_linked(w.engine)) == 40
    written = sum(1 for d in w.debtors() if d["Account"] != "29001" and d.get("Phone"))
    assert written == 100, "the first UpdateList of 100 landed; the kill came before all of them were recorded"

    before = _uniconta_calls(w)
    out = w.linker().apply_all(_decisions()[:N], refresh=False)
    calls = _uniconta_calls(w) - before
    assert calls == 1 + 2, f"the fresh read settles the 60 written-but-unrecorded ones; 150 left to write: {calls}"
    assert sum(o.changed for o in out) == N - 40 and not any(o.error for o in out)
    assert len(_linked(w.engine)) == N
    assert all(len(Ledger(w.engine).events("customer_link", LE, str(20000 + i))) == 1 for i in range(1, N + 1))
