"""TimeLog invoices without ``LegalEntityID`` (optional in the Reporting schema; a site without legal entities
sends none) are never dropped silently (issue 15, item 4; rule S2): on a site with one legal entity they are that
entity's, on a site with several they come back with a reason the validate step quarantines."""

from __future__ import annotations

import copy
from datetime import date

import httpx

from simulators.generator import FIXED_TODAY
from tlsync.nightly import sources


def _read(timelog_conn: dict, legal_entity: int):
    with sources.timelog_source(**timelog_conn) as source:
        return source.invoices_with_lines(legal_entity, date(2020, 1, 1), date(2026, 12, 31), modified=False)


def test_invoice_without_legal_entity_is_quarantined_with_a_reason_when_the_site_has_several(sims):
    tl = sims["timelog_url"]
    before, _, _ = _read(sims["timelog"], 2)
    assert before and all(x.error is None for x in before)
    victim = int(before[0].raw["ID"])
    httpx.post(f"{tl}/_sim/touch", json={"collection": "Invoices", "ids": [victim],
                                         "changes": {"LegalEntityID": None}}).raise_for_status()
    invoices, lines, _ = _read(sims["timelog"], 2)
    refused = [x for x in invoices if x.error]
    assert [int(x.raw["ID"]) for x in refused] == [victim], "kept, with an error: the validate step quarantines it"
    assert "no LegalEntityID" in refused[0].error and "legal entities" in refused[0].error
    assert str(victim) not in {str(x.raw["InvoiceID"]) for x in lines}, "a quarantined invoice brings no lines"
    assert len(invoices) == len(before), "nothing dropped"


def test_invoice_without_legal_entity_belongs_to_the_single_legal_entity(sims):
    import simulators.timelog as timelog_sim
    from simulators._common import serve_in_thread
    from simulators.generator import generate

    fx = copy.deepcopy(generate("S", 42, today=FIXED_TODAY)["timelog"])
    keep = fx["LegalEntities"][0]
    fx["LegalEntities"] = [keep]
    for inv in fx["Invoices"]:
        inv["LegalEntityID"] = keep["ID"]
    app = timelog_sim.create_app({"timelog": fx})
    with serve_in_thread(app) as tl:
        conn = {**sims["timelog"], "host": f"{tl}/tlsim"}
        with_id, lines_with_id, _ = _read(conn, int(keep["ID"]))
        httpx.post(f"{tl}/_sim/touch", json={"collection": "Invoices", "ids": [i["ID"] for i in fx["Invoices"]],
                                             "changes": {"LegalEntityID": None}}).raise_for_status()
        invoices, lines, _ = _read(conn, int(keep["ID"]))
    assert with_id and sorted(x.raw["ID"] for x in invoices) == sorted(x.raw["ID"] for x in with_id), "none dropped"
    assert all(x.error is None and x.raw["LegalEntityID"] == str(keep["ID"]) for x in invoices)
    assert len(lines) == len(lines_with_id) > 0
