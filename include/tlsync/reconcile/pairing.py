"""Pair TimeLog invoices with Uniconta invoices and drafts (rule U3), strongest evidence first.

1. **The sync ledger** (domain ``invoice``, any state but ``elsewhere``): tlsync transferred the TimeLog invoice as
   Uniconta draft order ``target_key``, marked with the GUID in ``CustomsNo``; once an accountant posts it, the
   posted ``DebtorInvoiceClient`` keeps that ``OrderNumber``. In order: a document carrying the marker; a posted
   invoice with the order number on the expected debtor; one with the order number dated on or after the transfer;
   the draft itself (staging keeps a draft after it was posted, so a posted invoice comes first). An order number
   alone is not unique over time: an old posted invoice can carry the same number as a newer draft.
2. **TimeLog's external invoice number**: history transferred by TimeLog's built-in integration carries the
   Uniconta number in ``ExternalInvoiceNo`` — the invoice number when ``ExternalInvoiceStatus`` is ``Posted``, the
   draft's order number when it is ``Draft`` (that draft may have been posted since: then its invoice is used).
3. **Debtor + date + amount**: what is left is paired when the Uniconta invoice is on the TimeLog customer's debtor
   (from the ledger or the customer link), on the same date, with the same total (within the tolerance). This is
   circumstantial, so such pairs are flagged as a *weaker match*.

Each Uniconta document is paired at most once; a second TimeLog invoice pointing at the same one stays unpaired and
says so.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from tlsync.ledger import ELSEWHERE

from .load import Sources
from .model import BY_DEBTOR_DATE_AMOUNT, BY_EXTERNAL_NUMBER, BY_LEDGER, Doc


@dataclass
class Pairing:
    pairs: list[tuple[Doc, Doc, str]] = field(default_factory=list)        # (TimeLog, Uniconta, basis)
    only_timelog: list[Doc] = field(default_factory=list)
    only_uniconta: list[Doc] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))   # TimeLog key → why unpaired


def expected_debtor(doc: Doc, src: Sources) -> str:
    """The debtor a TimeLog invoice should be on: what the transfer recorded, else the customer's link."""
    entry = src.ledger.get(doc.key)
    if entry is not None and entry.details.get("debtor_account"):
        return str(entry.details["debtor_account"])
    return src.linked_debtor.get(doc.party, "")


def pair(src: Sources, tolerance: Decimal) -> Pairing:
    posted_by_no = {d.number: d for d in src.posted}
    posted_by_order: dict[str, Doc] = {}
    posted_orders: dict[str, list[Doc]] = defaultdict(list)
    for d in src.posted:
        if d.order_number:
            posted_by_order.setdefault(d.order_number, d)
            posted_orders[d.order_number].append(d)
    # a marked draft may be stale (staging keeps it after posting): the posted invoice is looked for first
    posted_marker = {d.marker: d for d in src.posted if d.marker}
    draft_marker = {d.marker: d for d in src.drafts if d.marker}
    drafts_by_no = {d.number: d for d in src.drafts}
    taken: dict[int, str] = {}           # id(Uniconta doc) → TimeLog number that has it
    result = Pairing()
    left: list[Doc] = []

    def free(d: Doc) -> bool:
        return id(d) not in taken

    def by_ledger(tl: Doc, order: str, entry) -> Doc | None:
        marked = posted_marker.get(tl.key)
        if marked is not None and free(marked):
            return marked
        candidates = sorted((d for d in posted_orders.get(order, []) if free(d)), key=lambda d: str(d.date),
                            reverse=True)
        debtor = expected_debtor(tl, src)
        on_debtor = [d for d in candidates if debtor and d.party == debtor]
        if on_debtor:
            return on_debtor[0]
        since = entry.updated_at.date() if entry.updated_at else None
        later = [d for d in candidates if since is not None and d.date is not None and d.date >= since]
        if later:
            return later[0]
        draft = draft_marker.get(tl.key) or drafts_by_no.get(order)
        return draft if draft is not None and draft.marker in ("", tl.key) else None

    def take(tl: Doc, uc: Doc | None, basis: str, what: str) -> bool:
        if uc is None:
            return False
        if id(uc) in taken:
            result.notes[tl.key].append(f"{what} points to Uniconta {uc.status} {uc.number}, which is already paired "
                                        f"with TimeLog invoice {taken[id(uc)]}")
            return False
        taken[id(uc)] = tl.number
        result.pairs.append((tl, uc, basis))
        return True

    for tl in sorted(src.timelog, key=lambda d: (str(d.date), d.number)):
        entry = src.ledger.get(tl.key)
        if entry is not None and entry.target_key and entry.state != ELSEWHERE:   # elsewhere: an external number
            order = str(entry.target_key)
            if take(tl, by_ledger(tl, order, entry), BY_LEDGER, f"the ledger (order {order})"):
                continue
        if tl.external_no:
            ext = tl.external_no
            if tl.external_status.lower() == "draft":
                uc = posted_by_order.get(ext) or drafts_by_no.get(ext)
            else:
                uc = posted_by_no.get(ext) or posted_by_order.get(ext) or drafts_by_no.get(ext)
            if take(tl, uc, BY_EXTERNAL_NUMBER, f"external invoice number {ext}"):
                continue
        left.append(tl)

    # 3. debtor + date + total among what is left
    pool: dict[tuple[str, object], list[Doc]] = defaultdict(list)
    for d in src.posted:
        if id(d) not in taken:
            pool[(d.party, d.date)].append(d)
    for tl in left:
        debtor = expected_debtor(tl, src)
        found = None
        if debtor and tl.total is not None:
            for cand in pool.get((debtor, tl.date), []):
                if id(cand) not in taken and cand.total is not None and abs(cand.total - tl.total) <= tolerance:
                    found = cand
                    break
        if found is not None:
            take(tl, found, BY_DEBTOR_DATE_AMOUNT, "debtor + date + amount")
        else:
            result.only_timelog.append(tl)
    result.only_uniconta = [d for d in (*src.posted, *src.drafts) if id(d) not in taken
                            and not (d.status == "draft" and d.number in posted_by_order)]
    return result
