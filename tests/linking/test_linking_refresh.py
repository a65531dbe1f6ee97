"""Links feed the suggestions (rule L2/L3): linked debtors leave the views, ignored ones show under Ignored, and a
customer linked to one debtor is no longer offered to the others."""

from __future__ import annotations

from datetime import datetime

from conftest import COMPANY, LE, customer, debtor, stage
from sqlalchemy import select

from tlsync.linking import Linker, view_counts
from tlsync.linking.store import save_link
from tlsync.matching.refresh import refresh_suggestions
from tlsync.staging.tables import customer_links, link_suggestions


def rows(engine) -> dict[str, tuple[str, list]]:
    out: dict[str, tuple[str, list]] = {}
    with engine.connect() as conn:
        for r in conn.execute(select(link_suggestions).order_by(link_suggestions.c.rank)):
            view, cands = out.setdefault(r.debtor_account, (r.view, []))
            if r.customer_id:
                cands.append(r.customer_id)
    return out


def test_linked_debtors_leave_the_views_and_linked_customers_the_candidates(engine):
    stage(engine,
          customers=[customer(1, "Eriksen Vin ApS", "501", VATNo="11062814", Phone="33431918"),
                     customer(2, "Bager Jensen ApS", "502", VATNo="29403473")],
          debtors=[debtor("10004", "Eriksen Vin ApS", CompanyRegNo="DK11062814", Phone="33431918"),
                   debtor("10009", "Eriksen Vin ApS", CompanyRegNo="11062814"),      # a duplicate debtor
                   debtor("10006", "Bager Jensen ApS", CompanyRegNo="29403473"),
                   debtor("10007", "Smed Olsen", Phone="12345678")])
    refresh_suggestions(engine, [COMPANY])
    before = rows(engine)
    assert before["10004"][0] == before["10009"][0] == "several", "two debtors claim customer 1"
    assert before["10006"] == ("one", ["2"])

    with engine.begin() as conn:
        save_link(conn, legal_entity_id=LE, company_id=COMPANY, debtor_account="10004", customer_id="1",
                  state="linked", action="timelog_wins", run_id=None, actor="test", now=datetime(2026, 11, 1))
    Linker(engine, LE, COMPANY).ignore("10007")          # no API is involved in ignoring
    counts = refresh_suggestions(engine, [COMPANY])[COMPANY]
    after = rows(engine)
    assert "10004" not in after, "a linked debtor leaves the first three views"
    assert after["10009"] == ("none", []), "customer 1 is linked and no longer a candidate"
    assert after["10006"] == ("one", ["2"])
    assert after["10007"][0] == "ignored"
    assert counts == {"one": 1, "several": 0, "none": 1, "ignored": 1}
    assert view_counts(engine, COMPANY) == {"one": 1, "several": 0, "none": 1, "ignored": 1, "linked": 1,
                                            "unmatched": 0}


def test_counts_follow_the_links_before_the_refresh_and_a_write_needs_connections(engine):
    stage(engine, customers=[customer(2, "Bager Jensen ApS", "502", VATNo="29403473", City="Vejle")],
          debtors=[debtor("10006", "Bager Jensen ApS", CompanyRegNo="29403473", City="Vejle"),
                   debtor("10007", "Bager Jensen ApS", CompanyRegNo="29403473", City="Horsens")])
    refresh_suggestions(engine, [COMPANY])
    linker = Linker(engine, LE, COMPANY)                 # no connections: only actions that write nothing work
    linker.link("10006", "2", wins="timelog")            # equal data: nothing to write
    assert view_counts(engine, COMPANY)["linked"] == 1, "counted as linked before any refresh"
    linker.ignore("10006")
    import pytest

    from tlsync.linking import LinkError

    with pytest.raises(LinkError, match="no connections were given"):
        linker.link("10007", "2", wins="timelog")       # City differs: Uniconta would be written
    with engine.connect() as conn:
        assert "10007" not in {r.debtor_account for r in conn.execute(select(customer_links))}, "nothing recorded"


def test_a_refused_decision_does_not_hold_back_the_rest_of_the_batch(engine):
    from tlsync.linking import Decision

    stage(engine, customers=[customer(2, "Bager Jensen ApS", "502", VATNo="29403473")],
          debtors=[debtor("10006", "Bager Jensen ApS", CompanyRegNo="29403473"), debtor("10007", "X"),
                   debtor("10008", "Y")])
    refresh_suggestions(engine, [COMPANY])
    out = Linker(engine, LE, COMPANY).apply_all([
        Decision("link-timelog", "10006", "2"), Decision("link-timelog", "10007", "2"), Decision("ignore", "10008")])
    assert [o.changed for o in out] == [True, False, True]
    assert out[1].error and "already linked to debtor 10006" in out[1].error
    assert view_counts(engine, COMPANY) == {"one": 0, "several": 0, "none": 1, "ignored": 1, "linked": 1,
                                            "unmatched": 0}
