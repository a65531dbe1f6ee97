"""What the sync reads from each system, against the simulators."""

from __future__ import annotations

from datetime import date, datetime

import httpx

from tlsync import connections
from tlsync.staging.entities import get


def test_company_without_project_module_has_no_projects_and_says_so(sims):
    with connections.uniconta_source(company_id=10002, **sims["uniconta"]) as source:
        assert list(source.records(get("uniconta.projects"))) == []
        assert source.project_module is False, "rule T3: a clear fact, not a crash"
    with connections.uniconta_source(company_id=10001, **sims["uniconta"]) as source:
        assert list(source.records(get("uniconta.projects")))
        assert source.project_module is True


def test_incremental_uniconta_read_filters_on_the_cursor(sims):
    with connections.uniconta_source(company_id=10001, **sims["uniconta"]) as source:
        everything = [r.raw for r in source.records(get("uniconta.invoices"))]
        recent = [r.raw for r in source.records(get("uniconta.invoices"), since=datetime(2026, 1, 1))]
    assert recent and len(recent) < len(everything)
    assert all(str(r["Date"]) >= "2026-01-01" for r in recent)


def test_legal_entity_invoices_only_and_their_lines(sims):
    with connections.timelog_source(**sims["timelog"]) as source:
        invoices, lines, details = source.invoices_with_lines(2, date(2020, 1, 1), date(2026, 12, 31))
    assert invoices and all(i.raw["LegalEntityID"] == "2" for i in invoices), "rule S2: one legal entity"
    ids = {i.raw["ID"] for i in invoices}
    assert lines and {l.raw["InvoiceID"] for l in lines} <= ids
    assert {d.raw["InvoiceID"] for d in details} <= ids


def test_customers_modified_since_reads_only_those(sims):
    tl = sims["timelog_url"]
    httpx.post(f"{tl}/_sim/touch", json={"collection": "Customers", "ids": [3, 5], "changes": {"Phone": "70 10 20 30"}}
               ).raise_for_status()
    at = httpx.get(f"{tl}/_sim/clock").json()["now"]
    with connections.timelog_source(**sims["timelog"]) as source:
        changed = [r.raw for r in source.changed(get("timelog.customers"), datetime.fromisoformat(at),
                                                 datetime(2030, 1, 1))]
        calls = source.calls()
    assert sorted(r["ID"] for r in changed) == ["3", "5"]
    assert calls["TimeLog Reporting API"] == 2, "one read per changed customer"
