"""Recompute the customer-linking suggestions from what the nightly sync staged (rules L1/L2).

Reads the staged Uniconta debtors of each company and the staged TimeLog customers (payloads, the APIs' own field
names), runs :func:`match_customers`, and replaces that company's rows in ``link_suggestions``: one row per
candidate (rank 1, 2, …; rank 0 for a debtor without any), with the view, score and reasons. Links and ignores
(``customer_links``) are taken into account. The review (CLI, Excel, :mod:`tlsync.linking`) reads this table; the
DAG ``tlsync_customer_linking`` runs this after every staging of either side.

Speed (issue 15, the real path at 100k × 100k): the staged payloads are read with :func:`tlsync.staging.read.rows`
(parsed with ``orjson``, exact numbers; ~3× ``json``), and the reasons of a suggestion are serialised once per
distinct list (the matcher shares one wording per combination of levels); of each payload only the fields the
matcher reads are kept (:data:`~tlsync.matching.blocking.DEBTOR_FIELDS`, ``CUSTOMER_FIELDS``), and the rows go in
in chunks. The links come from :mod:`tlsync.linking.store`, the one home of ``customer_links``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, insert

from tlsync.linking.store import LINKED, company_links
from tlsync.staging.read import Tenant, rows
from tlsync.staging.tables import link_suggestions

from .records import CUSTOMER_FIELDS, DEBTOR_FIELDS
from .views import build_index, match_customers

INSERT_CHUNK = 20_000        # link_suggestions rows per INSERT (bounds the driver's parameter lists)


def _payloads(engine: Engine, entity: str, fields: tuple[str, ...], tenant: Tenant | None = None
              ) -> list[dict[str, Any]]:
    """The staged payloads of ``entity`` (every row, in natural-key order), each cut to ``fields`` (the matcher's
    and the review rows'): a payload holds ~35 fields, and at 100k × 100k keeping them all costs the refresh ~2 GB
    instead of a few hundred MB."""
    return [row.payload for row in rows(engine, entity, tenant, fields=fields)]


def _links(engine: Engine, company: int) -> tuple[set[str], set[str], set[str]]:
    """(linked debtor accounts, ignored debtor accounts, linked customer ids) of the company (``customer_links``,
    written by the L3 actions of :mod:`tlsync.linking`)."""
    linked, ignored, customers = set(), set(), set()
    for link in company_links(engine, company):
        if link.state == LINKED:
            linked.add(link.debtor_account)
            if link.customer_id is not None:
                customers.add(link.customer_id)
        else:
            ignored.add(link.debtor_account)
    return linked, ignored, customers


def refresh_suggestions(engine: Engine, company_ids: Iterable[int], *, ignored: dict[int, set[str]] | None = None,
                        now: datetime | None = None) -> dict[int, dict[str, int]]:
    """Recompute and store the suggestions of each company; returns the count per view per company.

    The company's ``customer_links`` decide (rule L2/L3): a linked debtor leaves the views (it has no rows), an
    ignored one is shown under Ignored, and a TimeLog customer linked to one of the company's debtors is no longer
    offered as a candidate to the others. ``ignored`` adds debtor accounts to the Ignored view."""
    now = now or datetime.now().replace(microsecond=0)
    customers = _payloads(engine, "timelog.customers", CUSTOMER_FIELDS)
    names = {str(c.get("ID")): c.get("Name") for c in customers}
    index = build_index(customers)
    counts: dict[int, dict[str, int]] = {}
    for company in company_ids:
        linked, ignored_here, taken = _links(engine, company)
        debtors = [d for d in _payloads(engine, "uniconta.debtors", DEBTOR_FIELDS, Tenant.company(company))
                   if str(d.get("Account", "")) not in linked]
        company_index = index if not taken else build_index([c for c in customers if str(c.get("ID")) not in taken])
        result = match_customers(debtors, index=company_index,
                                 ignored=set((ignored or {}).get(company, ())) | ignored_here)
        rows = []
        worded: dict[tuple[str, ...], str] = {}
        for suggestion in result.rows:
            base = {"company_id": str(company), "debtor_account": suggestion.debtor_account,
                    "view": suggestion.view, "debtor_name": (suggestion.debtor.get("Name") or "")[:400],
                    "computed_at": now}
            if not suggestion.candidates:
                rows.append({**base, "rank": 0, "customer_id": None, "customer_name": None, "score": None,
                             "reasons": "[]"})
            for rank, cand in enumerate(suggestion.candidates, start=1):
                rows.append({**base, "rank": rank, "customer_id": str(cand.customer_id),
                             "customer_name": (names.get(str(cand.customer_id)) or "")[:400], "score": cand.score,
                             "reasons": _reasons_json(worded, cand.reasons)})
        with engine.begin() as conn:
            conn.execute(delete(link_suggestions).where(link_suggestions.c.company_id == str(company)))
            for start in range(0, len(rows), INSERT_CHUNK):
                conn.execute(insert(link_suggestions), rows[start:start + INSERT_CHUNK])
        counts[company] = result.counts()
    return counts


def _reasons_json(cache: dict[tuple[str, ...], str], reasons: list[str]) -> str:
    key = tuple(reasons)
    text = cache.get(key)
    if text is None:
        text = cache[key] = json.dumps(reasons, ensure_ascii=False)
    return text
