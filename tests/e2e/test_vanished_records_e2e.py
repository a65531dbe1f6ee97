"""A Uniconta draft the accountant deletes, and one the accountant posts (posting removes the draft), leave staging
the next night and are kept in ``staging_deletions`` (docs/staging-deletions.md); a quiet night removes nothing; when
every draft is posted (an empty draft list) the safety valve holds them one night and the next read removes them.

Without this, the reconciliation (rule U3) would keep saying "still a draft in Uniconta" for a draft that is gone.
Deleted through the simulator's ``/api/Entities/Delete/DebtorOrderClient`` (the real JSON CRUD endpoint; it
deletes the order's lines too), posted through ``/_sim/companies/{id}/post-drafts``. SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import logging

import httpx
from conftest import PAIRS  # tests/e2e/conftest.py
from sqlalchemy import select

from tlsync.nightly.local import run_once
from tlsync.staging.tables import STAGING, run_entity_counts, staging_deletions

COMPANY = 10001
AUTH = ("integration", "uniconta-pw")
CRUD_AUTH = (f"00{COMPANY}/integration", "uniconta-pw")


def staged_keys(engine, name: str) -> set[str]:
    table = STAGING[name]
    with engine.connect() as conn:
        return set(conn.execute(select(table.c.natural_key).where(table.c.tenant == str(COMPANY))).scalars())


def counts(engine, run_id: str) -> dict[str, dict]:
    with engine.connect() as conn:
        rows = conn.execute(select(run_entity_counts).where(run_entity_counts.c.run_id == run_id)).mappings().all()
    return {(r["entity"], r["tenant"]): dict(r) for r in rows}


def copy_drafts(uc: str, copies: int) -> None:
    """The generated S company has one draft; copy it (header and lines, through the JSON CRUD inserts) so that
    removing two drafts stays within the safety valve's share (docs/staging-deletions.md)."""
    order = httpx.get(f"{uc}/odata/{COMPANY}/DebtorOrderClient", auth=AUTH).json()["value"][0]
    lines = [ln for ln in httpx.get(f"{uc}/odata/{COMPANY}/DebtorOrderLineClient", auth=AUTH).json()["value"]
             if ln["OrderNumber"] == order["OrderNumber"]]
    server_set = {"RowId", "OrderNumber", "LineNumber", "Created", "UpdatedAt", "Total"}
    for _ in range(copies):
        new = httpx.post(f"{uc}/api/Entities/Insert/DebtorOrderClient", auth=CRUD_AUTH,
                         json={k: v for k, v in order.items() if k not in server_set})
        assert new.status_code == 200, new.text
        number = new.json()["OrderNumber"]
        added = httpx.post(f"{uc}/api/Entities/InsertList/DebtorOrderLineClient", auth=CRUD_AUTH,
                           json=[{**{k: v for k, v in ln.items() if k not in server_set}, "OrderNumber": number}
                                 for ln in lines])
        assert added.status_code == 200, added.text


def test_deleted_and_posted_drafts_leave_staging_next_night_and_are_audited(sims, staging, caplog):
    caplog.set_level(logging.INFO, logger="tlsync.staging.deletions")
    uc = sims["uniconta_url"]
    copy_drafts(uc, 4)
    run_once(sims["timelog"], sims["uniconta"], PAIRS, "night-1")
    orders = staged_keys(staging, "uniconta.orders")
    order_lines = staged_keys(staging, "uniconta.order_lines")
    lines = httpx.get(f"{uc}/odata/{COMPANY}/DebtorOrderLineClient", auth=AUTH).json()["value"]
    with_lines = sorted({ln["OrderNumber"] for ln in lines} & {int(k) for k in orders})
    assert len(with_lines) >= 4, "the generated company has drafts with lines, all staged by the first night"
    deleted, posted = with_lines[0], with_lines[1]
    lines_of = {o: {f"{o}|{ln['LineNumber']}" for ln in lines if ln["OrderNumber"] == o} for o in (deleted, posted)}
    assert lines_of[deleted] <= order_lines and lines_of[posted] <= order_lines

    # The accountant deletes one draft and posts another.
    answer = httpx.post(f"{uc}/api/Entities/Delete/DebtorOrderClient", json={"OrderNumber": deleted}, auth=CRUD_AUTH)
    assert answer.status_code == 200, answer.text
    posting = httpx.post(f"{uc}/_sim/companies/{COMPANY}/post-drafts", json={"orders": [posted]}).json()
    assert len(posting["posted"]) == 1, posting
    invoice_no = str(posting["posted"][0]["invoice"]["InvoiceNumber"])

    run_once(sims["timelog"], sims["uniconta"], PAIRS, "night-2")
    assert staged_keys(staging, "uniconta.orders") == orders - {str(deleted), str(posted)}
    assert staged_keys(staging, "uniconta.order_lines") == order_lines - lines_of[deleted] - lines_of[posted]
    assert invoice_no in staged_keys(staging, "uniconta.invoices"), "the posted invoice is staged the same night"
    with staging.connect() as conn:
        audit = conn.execute(select(staging_deletions).where(staging_deletions.c.run_id == "night-2")).mappings().all()
    by_entity: dict[str, set[str]] = {}
    for row in audit:
        assert row["tenant"] == str(COMPANY) and row["deleted_at"] is not None
        by_entity.setdefault(row["entity"], set()).add(row["natural_key"])
    assert by_entity == {"uniconta.orders": {str(deleted), str(posted)},
                         "uniconta.order_lines": lines_of[deleted] | lines_of[posted]}
    last = {r["natural_key"]: json.loads(r["payload"]) for r in audit if r["entity"] == "uniconta.orders"}
    assert int(last[str(deleted)]["OrderNumber"]) == deleted, "the draft's last payload is kept"
    c2 = counts(staging, "night-2")
    assert c2[("uniconta.orders", str(COMPANY))]["removed"] == 2
    assert c2[("uniconta.order_lines", str(COMPANY))]["removed"] == len(lines_of[deleted] | lines_of[posted])
    for (entity, tenant), c in c2.items():
        assert c["extracted"] == c["unchanged"] + c["staged"] + c["quarantined"], (entity, tenant)
        if (entity, tenant) not in {("uniconta.orders", str(COMPANY)), ("uniconta.order_lines", str(COMPANY))}:
            assert c["removed"] == 0, (entity, tenant, "nothing else vanished")

    run_once(sims["timelog"], sims["uniconta"], PAIRS, "night-3")
    c3 = counts(staging, "night-3")
    assert c3 and all(c["removed"] == 0 for c in c3.values()), "a night without changes removes nothing"
    assert held(caplog) == [], "no safety-valve warning on any night so far"

    # Month end: the accountant posts every remaining draft, so the draft list is empty. One empty answer could be
    # an API hiccup: held (a warning), and removed the next night, whose complete read confirms it.
    left = sorted(int(k) for k in staged_keys(staging, "uniconta.orders"))
    posting = httpx.post(f"{uc}/_sim/companies/{COMPANY}/post-drafts", json={"orders": left}).json()
    assert len(posting["posted"]) == len(left) >= 2, posting
    run_once(sims["timelog"], sims["uniconta"], PAIRS, "night-4")
    assert {int(k) for k in staged_keys(staging, "uniconta.orders")} == set(left)
    warned = held(caplog)
    assert any(f"uniconta.orders@{COMPANY}: the full read returned no records while {len(left)} rows are staged" in m
               for m in warned), warned
    assert counts(staging, "night-4")[("uniconta.orders", str(COMPANY))]["warnings"] == 1
    run_once(sims["timelog"], sims["uniconta"], PAIRS, "night-5")
    assert staged_keys(staging, "uniconta.orders") == set() == staged_keys(staging, "uniconta.order_lines")
    c5 = counts(staging, "night-5")
    assert c5[("uniconta.orders", str(COMPANY))]["removed"] == len(left)
    assert c5[("uniconta.order_lines", str(COMPANY))]["removed"] == len(order_lines) - len(lines_of[deleted]) - \
        len(lines_of[posted])


def held(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "tlsync.staging.deletions" and r.levelno >= logging.WARNING]
