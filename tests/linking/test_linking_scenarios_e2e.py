"""The four scenarios of rule L4, end to end: both simulators → the nightly sync's staging → suggestions →
the administrator's actions → the S8 gate. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter

from conftest import COMPANY, LE, confirmed_settings, customer, debtor, fixture, no_calls

from simulators.generator import FIXED_TODAY
from tlsync.linking import Decision, number_advice, transfer_blockers, view_counts, view_rows
from tlsync.matching.refresh import refresh_suggestions

OPEN = ("one", "several", "none")


def test_no_data_anywhere_nothing_to_link_gate_opens_once_confirmed(world):
    w = world(fixture([], []))
    assert view_counts(w.engine, COMPANY) == {"one": 0, "several": 0, "none": 0, "ignored": 0, "linked": 0,
                                              "unmatched": 0}
    unconfirmed = confirmed_settings(confirmed=False).entity(LE)
    assert [b.split(": ", 1)[1] for b in transfer_blockers(unconfirmed, w.engine)] == [
        "the activation checklist is not confirmed; no invoices are transferred until it is (rule S8)"]
    assert transfer_blockers(confirmed_settings().entity(LE), w.engine) == []


def test_uniconta_only_import_what_is_wanted(world):
    w = world(fixture([], [debtor("1001", "Kunde Et A/S", City="Aarhus C", ZipCode="8000", Phone="+4586120000"),
                           debtor("1002", "Kunde To ApS", CompanyRegNo="29403473"),
                           debtor("1003", "Gammel Kunde I/S")]))
    assert {v: n for v, n in view_counts(w.engine, COMPANY).items() if n} == {"none": 3}
    le = confirmed_settings().entity(LE)
    assert "No suggestion: 3" in transfer_blockers(le, w.engine)[0]

    w.linker().apply_all([Decision("import", "1001"), Decision("import", "1002"), Decision("ignore", "1003")])
    created = {c["No"]: c for c in w.timelog_customers()}
    assert set(created) == {"1001", "1002"}, "only what was wanted is imported"
    assert created["1001"]["City"] == "Aarhus C" and created["1002"]["VATNo"] == "29403473"
    assert transfer_blockers(le, w.engine) == [], "gate open"
    advice = number_advice(w.engine, COMPANY, LE)
    assert (advice.timelog_highest, advice.uniconta_highest, advice.next_free) == (1002, 1003, 1004)
    assert not advice.aligned and "1004" in advice.lines()[-1]

    with no_calls(w):       # the same batch again writes nothing
        again = w.linker().apply_all([Decision("import", "1001"), Decision("import", "1002"),
                                      Decision("ignore", "1003")])
    assert not any(o.changed for o in again)

    w.sync("run-2")         # the next night stages the new customers; they are linked, so nothing reappears
    refresh_suggestions(w.engine, [COMPANY])
    assert transfer_blockers(le, w.engine) == []
    assert number_advice(w.engine, COMPANY, LE).timelog_highest == 1002


def test_timelog_only_nothing_to_link(world):
    w = world(fixture([customer(1, "Kunde Et A/S", "1"), customer(2, "Kunde To ApS", "2")], []))
    counts = view_counts(w.engine, COMPANY)
    assert all(counts[v] == 0 for v in (*OPEN, "ignored", "unmatched")), "customers flow to Uniconta later (T1)"
    assert transfer_blockers(confirmed_settings().entity(LE), w.engine) == []


def test_both_matching_does_the_heavy_lifting(world):
    from simulators.generator import generate

    w = world(generate(size="S", seed=42, today=FIXED_TODAY))
    le = confirmed_settings(project_category="TID").entity(LE)    # the company has the project module (S5)
    counts = view_counts(w.engine, COMPANY)
    total = sum(counts[v] for v in OPEN)
    assert counts["one"] > counts["several"] and counts["one"] > 0 and total >= 20
    customers_before = len(w.timelog_customers())

    linker = w.linker()
    one = view_rows(w.engine, COMPANY, "one")
    linker.apply_all([Decision("link-timelog", r.debtor_account, r.best.customer_id) for r in one])
    several = view_rows(w.engine, COMPANY, "several")
    taken: set[str] = set()
    decisions = []
    for r in several:           # a person picks the best candidate not taken yet, or ignores
        pick = next((c.customer_id for c in r.candidates if c.customer_id not in taken), None)
        if pick:
            taken.add(pick)
            decisions.append(Decision("link-uniconta", r.debtor_account, pick))
        else:
            decisions.append(Decision("ignore", r.debtor_account))
    linker.apply_all(decisions)
    none = view_rows(w.engine, COMPANY, "none")
    linker.apply_all([Decision("import" if i % 2 == 0 else "ignore", r.debtor_account) for i, r in enumerate(none)])

    after = view_counts(w.engine, COMPANY)
    assert after["one"] == after["several"] == after["none"] == after["unmatched"] == 0, after
    assert transfer_blockers(le, w.engine) == [], "every debtor linked or ignored: the gate opens"
    imported = sum(1 for i in range(len(none)) if i % 2 == 0)
    assert len(w.timelog_customers()) == customers_before + imported, "no duplicate customers"
    linked = Counter(c for c in (lk for lk in _customers_linked(w)))
    assert linked and max(linked.values()) == 1, "each TimeLog customer linked to one debtor at most"

    with no_calls(w):
        again = w.linker().apply_all([Decision("link-timelog", r.debtor_account, r.best.customer_id) for r in one])
    assert not any(o.changed for o in again)


def _customers_linked(w) -> list[str]:
    from sqlalchemy import select

    from tlsync.staging.tables import customer_links

    with w.engine.connect() as conn:
        return [c for c in conn.execute(select(customer_links.c.customer_id).where(
            customer_links.c.state == "linked", customer_links.c.legal_entity_id == LE)).scalars()]
