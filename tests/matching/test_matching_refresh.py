"""Suggestions recomputed from what the nightly sync staged, stored per company (rules L1/L2)."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from tlsync.matching.refresh import refresh_suggestions
from tlsync.nightly.local import run_once
from tlsync.staging.tables import STAGING, link_suggestions


def test_refresh_from_staging_stores_every_debtor_with_reasons(sims, staging):
    engine = staging
    run_once(sims["timelog"], sims["uniconta"], {"1": 10001, "2": 10002}, "run-1")
    counts = refresh_suggestions(engine, [10001, 10002], ignored={10002: set()})
    with engine.connect() as conn:
        debtors = {c: conn.execute(select(func.count()).select_from(STAGING["uniconta.debtors"])
                                   .where(STAGING["uniconta.debtors"].c.tenant == str(c))).scalar_one()
                   for c in (10001, 10002)}
        one = conn.execute(select(link_suggestions).where(link_suggestions.c.view == "one",
                                                          link_suggestions.c.rank == 1)).mappings().all()
        per_debtor = conn.execute(select(link_suggestions.c.company_id, link_suggestions.c.debtor_account)
                                  .distinct()).all()
    for company in (10001, 10002):
        assert sum(counts[company].values()) == debtors[company], "every debtor in exactly one view"
    assert len(per_debtor) == sum(debtors.values())
    assert one and all(json.loads(r["reasons"]) for r in one), "every suggestion carries its reasons"
    again = refresh_suggestions(engine, [10001, 10002])
    assert again == counts, "recomputing from the same staging gives the same views"
