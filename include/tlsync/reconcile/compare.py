"""Compare the two sides of a pair, sort every row into one category, and explain it (rule U3).

A *finding* says what differs ("net 1,000.00 in TimeLog, 1,100.00 in Uniconta"); a *hint* says why it probably
differs, from what the pipeline knows: the ledger's state and failure reason (quota, refused record), whether the
customer is linked (rules L2/S8), whether every line has an item that exists in Uniconta (rules I1–I5, U2),
whether the record was quarantined by the quality gate, and whether the document was edited in Uniconta after it
was transferred. Hints are advice for a person, not verdicts; findings are facts.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from tlsync.ledger import DONE, ELSEWHERE, FAILED, IGNORED, IN_FLIGHT, PENDING, REVIEW

from .load import Sources
from .model import (
    AMOUNTS_DIFFER,
    BY_DEBTOR_DATE_AMOUNT,
    BY_LEDGER,
    CURRENCY_DIFFERS,
    DEBTOR_DIFFERS,
    DRAFT,
    DRAFT_IN_UNICONTA,
    LINES_EDITED,
    MATCHED,
    MISSING_IN_TIMELOG,
    MISSING_IN_UNICONTA,
    PAIR_PRECEDENCE,
    Doc,
    Line,
    Row,
)
from .pairing import expected_debtor

Q2 = Decimal("0.01")
HALF_ORE = Decimal("0.005")     # the most VAT rounded per line can move on one line


def fmt(amount: Decimal | None) -> str:
    """Danish finance reads ``1,234.50``-style in reports meant for both languages; keep it unambiguous."""
    return "–" if amount is None else f"{amount.quantize(Q2):,.2f}"


def _qty(value: Decimal) -> str:
    return f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}".rstrip("0").rstrip(".")


# ---- lines ------------------------------------------------------------------------------------------------------

def line_changes(tl: list[Line], uc: list[Line], tolerance: Decimal) -> list[str]:
    """What differs between TimeLog's lines and Uniconta's, line by line in order (texts are not compared: a
    transfer may shorten them). Empty when the lines agree. A TimeLog line's item is the item tlsync *sent*
    (``Line.sent_item``: the line's own item or a default item, rules I1–I4) when tlsync transferred it — a
    default item is not an edit in Uniconta — else the line's own ``ProductNo``."""
    out = []
    for a, b in zip(tl, uc):
        parts = []
        sent = a.sent_item if a.sent_item is not None else a.item
        if sent != b.item:
            parts.append(f"item {sent or '(none)'} → {b.item or '(none)'}")
        if a.qty != b.qty:
            parts.append(f"quantity {_qty(a.qty)} → {_qty(b.qty)}")
        if abs(a.price - b.price) > tolerance:
            parts.append(f"price {fmt(a.price)} → {fmt(b.price)}")
        if a.discount_pct != b.discount_pct:
            parts.append(f"discount {_qty(a.discount_pct)} % → {_qty(b.discount_pct)} %")
        if abs(a.net - b.net) > tolerance and not parts:
            parts.append(f"amount {fmt(a.net)} → {fmt(b.net)}")
        if parts:
            out.append(f"line {b.number}: " + ", ".join(parts))
    for b in uc[len(tl):]:
        out.append(f"line {b.number} added in Uniconta: {b.item or '(no item)'} {b.text!r} {fmt(b.net)}")
    for a in tl[len(uc):]:
        out.append(f"line {a.number} missing in Uniconta: {a.item or '(no item)'} {a.text!r} {fmt(a.net)}")
    return out


# ---- hints ------------------------------------------------------------------------------------------------------

def _ledger_hint(state: str, reason: str | None, target: str | None) -> str | None:
    reason = (reason or "").strip()
    if state == FAILED:
        if "quota" in reason.lower():
            return f"Uniconta's daily API quota ran out during the transfer: {reason}"
        return f"transfer failed: {reason}" if reason else "transfer failed (no reason recorded)"
    if state == PENDING:
        if "quota" in reason.lower():
            return f"waiting for transfer: the daily API quota ran out ({reason})"
        return f"waiting for transfer{': ' + reason if reason else ' (next run)'}"
    if state == IN_FLIGHT:
        return "the transfer was interrupted; the next run checks Uniconta for it before writing again"
    if state == IGNORED:
        return f"ignored by an administrator{': ' + reason if reason else ''}"
    if state == REVIEW:
        return f"waiting for review: {reason}" if reason else "waiting for review"
    if state == ELSEWHERE:
        return "transferred by TimeLog's built-in integration (adopted by tlsync)"
    if state == DONE and target:
        return (f"transferred by tlsync as draft order {target}, but neither that draft nor a posted invoice with "
                f"order number {target} is in Uniconta (deleted there?)")
    return None


def _quarantined(src: Sources, entity: str, match) -> list[str]:
    return [f"{q['entity']} {q['natural_key']} was quarantined by the quality gate ({q['rule']}): {q['reason']}"
            for q in src.quarantine if q["entity"] == entity and match(q)]


def _said(reason: str, ln: Line) -> bool:
    """Whether a ledger reason already names this line or its item (so a line hint would repeat it)."""
    if not reason:
        return False
    if re.search(rf"\bline {ln.number}\b", reason):
        return True
    if ln.item:
        return re.search(rf"(?<![\w-]){re.escape(ln.item)}(?![\w-])", reason) is not None
    return "no item number" in reason   # the reason counts lines by their TimeLog ID, the hint by position


def missing_in_uniconta_hints(tl: Doc, src: Sources, notes: list[str]) -> list[str]:
    hints = list(notes)
    entry = src.ledger.get(tl.key)
    reason = (entry.reason or "") if entry is not None else ""   # what the transfer said: not repeated below
    target = str(entry.target_key) if entry is not None and entry.target_key else ""
    if entry is not None:
        h = _ledger_hint(entry.state, entry.reason, entry.target_key)
        if h:
            hints.append(h)
    if tl.ignored_in_source and not any("ignore" in h.lower() and "timelog" in h.lower() for h in hints):
        hints.append("marked 'ignore when transferring' in TimeLog")   # unless the ledger's reason says so already
    if tl.external_no:
        what = "draft order" if tl.external_status.lower() == "draft" else "invoice"
        hints.append(f"TimeLog says it was transferred as Uniconta {what} {tl.external_no} "
                     f"({tl.external_status or 'status unknown'}), but Uniconta has no such {what}")
    wanted = {x for x in (tl.external_no, target) if x}
    hints += _quarantined(src, "uniconta.invoices", lambda q: str(q["natural_key"]) in wanted or str(
        q["payload_dict"].get("OrderNumber", "")).removesuffix(".0") in wanted)
    hints += _quarantined(src, "uniconta.orders", lambda q: str(q["natural_key"]) in wanted)
    if not expected_debtor(tl, src) and "not linked to a Uniconta debtor" not in reason:
        hints.append(f"customer {tl.party_name} ({tl.party_no or tl.party}) is not linked to a Uniconta debtor "
                     f"(rules L2/S8)")
    for ln in tl.lines:
        if _said(reason, ln):
            continue       # the transfer's own reason already says it: one hint, not two wordings of it
        if not ln.item:
            hints.append(f"line {ln.number} has no item number (rule I5)")
        elif src.items and ln.item not in src.items:
            hints.append(f"line {ln.number}: item {ln.item} does not exist in Uniconta (rule U2)")
    if not hints:
        hints.append("not transferred yet: the sync ledger has no record of it")
    return hints


def missing_in_timelog_hints(uc: Doc, src: Sources, ledger_by_order: dict) -> list[str]:
    hints = []
    numbers = {uc.number, uc.order_number} - {""}
    hints += _quarantined(src, "timelog.invoices", lambda q: str(
        q["payload_dict"].get("ExternalInvoiceNo") or "").strip() in numbers)
    entry = ledger_by_order.get(uc.order_number) if uc.order_number else None
    if entry is not None:
        no = entry.details.get("invoice_no") or entry.source_key
        hints.append(f"tlsync transferred TimeLog invoice {no} as order {uc.order_number}, but that invoice is no "
                     f"longer booked in TimeLog for this period (deleted or reopened?)")
    if uc.status == DRAFT:
        hints.append("a draft in Uniconta that no TimeLog invoice refers to")
    elif uc.party and uc.party not in set(src.linked_debtor.values()):
        hints.append(f"invoiced directly in Uniconta: debtor {uc.party} is not linked to a TimeLog customer")
    elif not hints:
        hints.append("invoiced directly in Uniconta: no TimeLog invoice refers to it")
    return hints


# ---- one pair ---------------------------------------------------------------------------------------------------

def compare_pair(tl: Doc, uc: Doc, basis: str, src: Sources, tolerance: Decimal) -> Row:
    found: dict[str, list[str]] = {c: [] for c in PAIR_PRECEDENCE}
    hints: list[str] = []
    entry = src.ledger.get(tl.key)
    by_us = entry is not None and basis == BY_LEDGER and entry.state != ELSEWHERE
    by = "tlsync" if by_us else "TimeLog's built-in integration" if basis != BY_DEBTOR_DATE_AMOUNT else ""
    when = f" on {entry.updated_at:%Y-%m-%d}" if entry is not None and entry.updated_at and by == "tlsync" else ""
    if uc.status == DRAFT:
        found[DRAFT_IN_UNICONTA].append(f"still a draft in Uniconta (order {uc.number})")
        hints.append(f"transferred{' by ' + by if by else ''}{when} as draft order {uc.number}; not posted in "
                     f"Uniconta yet")
    if tl.currency != uc.currency:
        found[CURRENCY_DIFFERS].append(f"currency {tl.currency} in TimeLog, {uc.currency} in Uniconta")
        hints.append(f"Uniconta used {uc.currency}: check the currency of debtor {uc.party} in Uniconta against "
                     f"the invoice's in TimeLog")
    want = expected_debtor(tl, src)
    if want and uc.party != want:
        found[DEBTOR_DIFFERS].append(f"debtor {uc.party} in Uniconta, {want} expected")
        linked = src.linked_debtor.get(tl.party)
        if entry is not None and entry.details.get("debtor_account") and linked and linked != want:
            hints.append(f"customer {tl.party_name} was relinked to debtor {linked} after the transfer")
        else:
            hints.append(f"the invoice is on debtor {uc.party} ({uc.party_name or src.debtor_names.get(uc.party, '')}) "
                         f"but customer {tl.party_name} is linked to debtor {want}: changed in Uniconta after "
                         f"transfer")
    # Lines are compared only when both sides have them staged: a side without any (its lines quarantined, or not
    # read yet) says nothing about edits, and the header amounts are still compared below.
    changes = line_changes(tl.lines, uc.lines, tolerance) if uc.lines and tl.lines else []
    if changes:
        found[LINES_EDITED] += changes
        hints.append(f"edited in Uniconta after transfer{' by ' + by if by else ''}{when}")
    diffs = []
    for name, a, b in (("net", tl.net, uc.net), ("VAT", tl.vat, uc.vat), ("total", tl.total, uc.total)):
        if uc.status == DRAFT and name != "net":
            continue   # a draft has no VAT or total yet
        if a is None or b is None or abs(a - b) > tolerance:
            diffs.append(name)
            found[AMOUNTS_DIFFER].append(f"{name} {fmt(a)} in TimeLog, {fmt(b)} in Uniconta")
    if diffs and not changes:
        lines = max(len(uc.lines), len(tl.lines), 1)
        if diffs in (["VAT", "total"], ["VAT"]) and tl.vat is not None and uc.vat is not None \
                and abs(tl.vat - uc.vat) <= HALF_ORE * lines:
            hints.append(f"VAT rounded per line in Uniconta: at most half an øre on each of the {lines} lines "
                         f"explains {fmt(abs(tl.vat - uc.vat))} — not an error")
        elif diffs in (["VAT", "total"], ["VAT"]):
            hints.append("VAT differs though the lines agree: check the VAT zone/code of the debtor in Uniconta")
        else:
            hints.append("the lines agree but the header differs: an end discount or header edit in Uniconta")
    category = next((c for c in PAIR_PRECEDENCE if found[c]), MATCHED)
    findings = [f for c in PAIR_PRECEDENCE for f in found[c]]
    if basis == BY_DEBTOR_DATE_AMOUNT:
        hints.append("paired by debtor, date and amount only (no ledger record, no external invoice number): "
                     "check that it is the same invoice")
    return Row(category=category, timelog=tl, uniconta=uc, basis=basis, findings=findings,
               hints=hints if category != MATCHED else hints[-1:] if basis == BY_DEBTOR_DATE_AMOUNT else [],
               ledger_state=entry.state if entry is not None else "")


def orphan_rows(pairing, src: Sources) -> list[Row]:
    ledger_by_order = {str(e.target_key): e for e in src.ledger.values() if e.target_key and e.state != ELSEWHERE}
    rows = []
    for tl in pairing.only_timelog:
        entry = src.ledger.get(tl.key)
        rows.append(Row(category=MISSING_IN_UNICONTA, timelog=tl, uniconta=None,
                        findings=[f"booked {tl.kind} {tl.number} is not in Uniconta"],
                        hints=missing_in_uniconta_hints(tl, src, pairing.notes.get(tl.key, [])),
                        ledger_state=entry.state if entry is not None else ""))
    for uc in pairing.only_uniconta:
        what = "draft order" if uc.status == DRAFT else uc.kind
        rows.append(Row(category=MISSING_IN_TIMELOG, timelog=None, uniconta=uc,
                        findings=[f"Uniconta {what} {uc.number} has no TimeLog counterpart"],
                        hints=missing_in_timelog_hints(uc, src, ledger_by_order)))
    return rows


def set_age(rows: list[Row], as_of: date) -> None:
    """Days an open difference has been open (from the invoice date to ``as_of``)."""
    for r in rows:
        r.age_days = (as_of - r.date).days if r.open and r.date is not None else None
