"""A draft dated months ago, posted after a nightly staging, is staged by the next night (docs/staging-cursors.md).

Uniconta's posted classes are read by ``RowId`` (assigned when the invoice is posted), not by their ``Date``: an
accountant posting last month's drafts, or a backfill's drafts dated years ago, must not leave the reconciliation
(rule U3) believing the invoice is "still a draft" / "missing in Uniconta". On SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import httpx
from conftest import PAIRS  # tests/e2e/conftest.py
from sqlalchemy import select

from tlsync import config
from tlsync.nightly.local import run_once
from tlsync.staging.tables import STAGING, run_entity_counts, watermarks

COMPANY = 10001
POSTED = ("uniconta.invoices", "uniconta.invoice_lines", "uniconta.gl_transactions")


def uniconta_counts(engine, run_id: str) -> dict[str, dict[str, int]]:
    with engine.connect() as conn:
        rows = conn.execute(select(run_entity_counts).where(run_entity_counts.c.run_id == run_id,
                                                            run_entity_counts.c.tenant == str(COMPANY))).mappings()
        return {r["entity"]: {k: r[k] for k in ("extracted", "unchanged", "staged", "quarantined")} for r in rows}


def staged(engine, name: str) -> dict[str, dict]:
    table = STAGING[name]
    with engine.connect() as conn:
        return {key: json.loads(payload) for key, payload in conn.execute(
            select(table.c.natural_key, table.c.payload).where(table.c.tenant == str(COMPANY)))}


def test_backdated_posting_is_staged_next_night_and_a_quiet_night_reads_nothing(sims, staging):
    uc = sims["uniconta_url"]
    auth = ("integration", "uniconta-pw")
    run_once(sims["timelog"], sims["uniconta"], PAIRS, "night-1")
    invoices_before = staged(staging, "uniconta.invoices")
    assert invoices_before, "the first night stages the posted invoices"

    # An accountant posts a draft today, dated five months ago (before the watermark minus the look-back window).
    drafts = httpx.get(f"{uc}/odata/{COMPANY}/DebtorOrderClient", auth=auth).json()["value"]
    lines = httpx.get(f"{uc}/odata/{COMPANY}/DebtorOrderLineClient", auth=auth).json()["value"]
    with_lines = sorted({ln["OrderNumber"] for ln in lines} & {d["OrderNumber"] for d in drafts})
    assert with_lines, "the generated company has drafts to post"
    old_date = datetime.now(timezone.utc).date() - timedelta(days=150)
    answer = httpx.post(f"{uc}/_sim/companies/{COMPANY}/post-drafts",
                        json={"orders": with_lines[:1], "date": old_date.isoformat()}).json()
    assert len(answer["posted"]) == 1, answer
    invoice = answer["posted"][0]["invoice"]
    number = str(invoice["InvoiceNumber"])
    assert invoice["Date"] == old_date.isoformat() and number not in invoices_before
    with staging.connect() as conn:
        mark = conn.execute(select(watermarks.c.high_water).where(
            watermarks.c.entity == "uniconta.invoices", watermarks.c.tenant == str(COMPANY))).scalar_one()
    assert date.fromisoformat(invoice["Date"]) < (mark - timedelta(days=config.lookback_days())).date(), \
        "a date window would never have read this invoice"

    run_once(sims["timelog"], sims["uniconta"], PAIRS, "night-2")
    invoices = staged(staging, "uniconta.invoices")
    assert number in invoices, "rule U3: the posted invoice is staged, not reported as still a draft"
    assert invoices[number]["Date"] == old_date.isoformat()
    staged_lines = {k: v for k, v in staged(staging, "uniconta.invoice_lines").items()
                    if k.split("|")[0] == number}
    assert sorted(int(v["LineNumber"]) for v in staged_lines.values()) == \
        sorted(int(r["LineNumber"]) for r in answer["posted"][0]["lines"]), "and every one of its lines"
    c2 = uniconta_counts(staging, "night-2")
    assert c2["uniconta.invoices"] == {"extracted": 1, "unchanged": 0, "staged": 1, "quarantined": 0}
    assert c2["uniconta.invoice_lines"]["extracted"] == len(answer["posted"][0]["lines"]) == \
        c2["uniconta.invoice_lines"]["staged"]
    assert c2["uniconta.gl_transactions"]["extracted"] == 0

    run_once(sims["timelog"], sims["uniconta"], PAIRS, "night-3")
    c3 = uniconta_counts(staging, "night-3")
    assert {name: c3[name]["extracted"] for name in POSTED} == {name: 0 for name in POSTED}, \
        "a night without postings reads nothing new"
