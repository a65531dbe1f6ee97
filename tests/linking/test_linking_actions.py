"""The four L3 actions against both simulators: what they write, that a second application writes nothing (no API
call at all), the ledger's before/after, the one-debtor-per-customer rule, and an import that survives a crash."""

from __future__ import annotations

import pytest
from conftest import COMPANY, HOSTILE, LE, confirmed_settings, customer, debtor, fixture, no_calls
from sqlalchemy import select

from tlsync.ledger import Ledger
from tlsync.linking import Decision, LinkError
from tlsync.linking.actions import Linker
from tlsync.staging.tables import customer_links

DOC = fixture(
    customers=[customer(1, "Eriksen Vin ApS", "501", VATNo="11062814", Phone="33431918", City="Slagelse"),
               customer(2, HOSTILE, "502", Phone="70112233", Email="kontakt@hostile.dk"),
               customer(3, "Tømrer Hansen I/S", "503", VATNo="10000106")],
    debtors=[debtor("10004", "Eriksen Vin ApS", CompanyRegNo="DK11062814", Phone="", City="Slagelse",
                    Address1="Lyngbyvej 34"),
             debtor("10005", "Hostile Debtor", Phone="70112233", City="Odense", ZipCode="5000"),
             debtor("10006", "Bager Jensen ApS", CompanyRegNo="29403473", City="Vejle", Address1="Torvet 1"),
             debtor("501", "Number Clash A/S", City="Kolding")],
)


def links(engine) -> dict[str, tuple]:
    with engine.connect() as conn:
        return {r.debtor_account: (r.state, r.customer_id, r.action) for r in conn.execute(select(customer_links))}


def test_link_timelog_wins_overwrites_the_debtor_once(world):
    w = world(DOC, sync=False)
    linker = w.linker()
    out = linker.link("10004", 1, wins="timelog")
    assert out.changed
    d = next(d for d in w.debtors() if d["Account"] == "10004")
    assert d["Phone"] == "33431918", "a non-empty TimeLog field overwrites Uniconta's empty one (L3.1)"
    assert d["Address1"] == "Lyngbyvej 34", "an empty TimeLog field never overwrites (L3.1)"
    assert links(w.engine)["10004"] == ("linked", "1", "timelog_wins")
    events = Ledger(w.engine).events("customer_link", LE, "10004")
    assert events[-1]["before"]["values"] == {"Phone": None} or events[-1]["before"]["values"] == {"Phone": ""}
    assert events[-1]["after"]["changes"]["uniconta"]["Phone"] == "33431918"

    with no_calls(w):
        again = w.linker().link("10004", "1", wins="timelog")
    assert not again.changed
    assert len(Ledger(w.engine).events("customer_link", LE, "10004")) == len(events), "nothing recorded twice"


def test_link_uniconta_wins_overwrites_the_customer_and_keeps_a_hostile_name(world):
    w = world(DOC, sync=False)
    w.linker().link("10005", 2, wins="uniconta")
    c = next(c for c in w.timelog_customers() if c["ID"] == 2)
    assert c["Name"] == "Hostile Debtor" and c["City"] == "Odense" and c["ZipCode"] == "5000"
    assert c["Email"] == "kontakt@hostile.dk", "fields Uniconta leaves empty are not copied (L3.2)"
    events = Ledger(w.engine).events("customer_link", LE, "10005")
    assert events[-1]["before"]["values"]["name"] == HOSTILE, "the ledger keeps the hostile name unchanged"
    assert events[-1]["after"]["customer_name"] == HOSTILE
    with no_calls(w):
        assert not w.linker().link("10005", 2, wins="uniconta").changed


def test_a_customer_links_to_at_most_one_debtor_per_legal_entity(world):
    w = world(DOC, sync=False)
    linker = w.linker()
    linker.link("10004", 1, wins="timelog")
    with pytest.raises(LinkError, match=r"customer 1 is already linked to debtor 10004 .*rule L3"):
        linker.link("10006", 1, wins="uniconta")
    with pytest.raises(LinkError, match=r"debtor 10004 is already linked to TimeLog customer 1"):
        linker.link("10004", 3, wins="timelog")
    with pytest.raises(LinkError, match="duplicate customer"):
        linker.import_customer("10004")
    with pytest.raises(LinkError, match="not among the staged debtors"):
        linker.link("nope", 3, wins="timelog")
    with pytest.raises(LinkError, match="unknown action"):
        Decision("merge", "10004")
    # ignoring the debtor releases the customer for another debtor (L3: from Ignored it can be linked again)
    linker.ignore("10004")
    linker.link("10006", 1, wins="uniconta")
    assert links(w.engine)["10006"][:2] == ("linked", "1")


def test_import_creates_one_customer_links_it_and_never_twice(world):
    w = world(DOC, sync=False)
    before = len(w.timelog_customers())
    out = w.linker().import_customer("10006")
    created = [c for c in w.timelog_customers() if c["Name"] == "Bager Jensen ApS"]
    assert len(created) == 1 and len(w.timelog_customers()) == before + 1
    assert created[0]["No"] == "10006", "the new customer takes the debtor's number (L6)"
    assert created[0]["City"] == "Vejle"
    assert links(w.engine)["10006"] == ("linked", str(created[0]["ID"]), "imported")
    assert out.customer_id == str(created[0]["ID"])
    with no_calls(w):
        assert not w.linker().import_customer("10006").changed
    # ignored, then imported again: the customer created the first time is linked again, never a second one
    w.linker().ignore("10006")
    w.linker().import_customer("10006")
    assert len(w.timelog_customers()) == before + 1
    assert links(w.engine)["10006"][1] == str(created[0]["ID"])


def test_import_takes_the_next_free_number_when_timelog_uses_the_account(world):
    w = world(DOC, sync=False)
    w.linker().import_customer("501")           # TimeLog customer 1 already has number 501
    new = [c for c in w.timelog_customers() if c["Name"] == "Number Clash A/S"]
    assert [c["No"] for c in new] == ["10007"], "max(TimeLog 503, Uniconta 10006) + 1 (rule L6)"


def test_a_crash_between_create_and_link_does_not_create_a_second_customer(world, monkeypatch):
    w = world(DOC, sync=False)
    before = len(w.timelog_customers())

    def crash(self, *a, **kw):
        raise KeyboardInterrupt("killed after the create")

    monkeypatch.setattr(Linker, "_finish_import", crash)
    with pytest.raises(KeyboardInterrupt):
        w.linker().import_customer("10006")
    monkeypatch.undo()
    assert Ledger(w.engine).get("customer_link", LE, "10006").state == "in_flight"
    assert "10006" not in links(w.engine)

    out = w.linker().import_customer("10006")
    assert len(w.timelog_customers()) == before + 1, "found by its number, not created again"
    assert "created earlier" in out.message
    assert links(w.engine)["10006"][0] == "linked"
    assert Ledger(w.engine).get("customer_link", LE, "10006").state == "done"


def test_an_interrupted_import_that_never_reached_timelog_is_created_on_retry(world, monkeypatch):
    w = world(DOC, sync=False)
    before = len(w.timelog_customers())
    # the claim was taken, then the process died before the create call
    Ledger(w.engine).claim("customer_link", LE, "10006", details={"action": "import", "customer_no": "10006"})
    w.linker().import_customer("10006")
    assert len(w.timelog_customers()) == before + 1
    states = [e["state_after"] for e in Ledger(w.engine).events("customer_link", LE, "10006")]
    assert states == ["in_flight", "failed", "in_flight", "done"]


def test_ignore_and_unignore_are_idempotent_and_audited(world):
    w = world(DOC, sync=False)
    linker = w.linker()
    assert linker.ignore("10006").changed
    with no_calls(w):
        assert not linker.ignore("10006").changed
    assert links(w.engine)["10006"] == ("ignored", None, "ignored")
    assert linker.unignore("10006").changed
    assert not linker.unignore("10006").changed
    assert "10006" not in links(w.engine)
    actions = [e["action"] for e in Ledger(w.engine).events("customer_link", LE, "10006")]
    assert actions == ["ignore", "unignore"]


def test_apply_all_refreshes_the_views_after_the_batch(world):
    w = world(DOC, sync=False)
    from tlsync.linking import view_counts

    assert view_counts(w.engine, COMPANY)["ignored"] == 0
    w.linker().apply_all([Decision("ignore", "10006"), Decision("link-timelog", "10004", "1")])
    counts = view_counts(w.engine, COMPANY)
    assert counts["ignored"] == 1 and counts["linked"] == 1
    assert sum(counts[v] for v in ("one", "several", "none", "ignored")) == 3   # 4 debtors, one linked


def test_a_hostile_name_survives_the_import_and_the_ledger_unchanged(world):
    doc = fixture([], [debtor("7001", HOSTILE, City="Odense")])
    w = world(doc, sync=False)
    w.linker().import_customer("7001")
    [created] = w.timelog_customers()
    assert created["Name"] == HOSTILE and len(HOSTILE) == 300
    assert Ledger(w.engine).events("customer_link", LE, "7001")[-1]["after"]["debtor_name"] == HOSTILE


def test_cli_writes_through_the_airflow_connections_and_advises_the_number_series(world, tmp_path, monkeypatch,
                                                                                   capsys):
    import json

    from tlsync.linking.cli import main
    from tlsync.settings import save


    w = world(DOC, sync=False)
    for name, fields in (("TIMELOG_DEFAULT", w.timelog), ("UNICONTA_DEFAULT", w.uniconta)):
        monkeypatch.setenv(f"AIRFLOW_CONN_{name}", json.dumps({k: v for k, v in fields.items() if k != "conn_id"}))
    settings = tmp_path / "settings.yaml"
    save(confirmed_settings(), settings)
    argv = ["--db", w.engine.url.render_as_string(hide_password=False), "--settings", str(settings),
            "--actor", "finance-anna", "apply", "import", "--legal-entity", "1", "--debtor", "10006"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "✔ debtor 10006 imported: TimeLog customer" in out and "(no. 10006) created and linked" in out
    assert "Next free customer number in both systems: 10007" in out
    assert Ledger(w.engine).events("customer_link", LE, "10006")[-1]["actor"] == "finance-anna"
    with no_calls(w):
        assert main(argv) == 0
    assert "0 action(s) applied, 1 already in place." in capsys.readouterr().out
