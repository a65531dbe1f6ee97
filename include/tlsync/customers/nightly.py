"""The nightly customer sync of one legal entity: TimeLog → Uniconta (T1, with contacts) and Uniconta → TimeLog
(U1), for every linked customer — in manual mode (S3a) the ones a user linked, in automatic mode (S3b) also the
ones tlsync created while transferring invoices (both are ``linked`` rows of ``customer_links``).

It decides on staged data (the nightly sync stages both systems first) and writes through the clients; a night
on which nothing changed makes **no API call at all**.

Which side wins
---------------
For each linked customer the ledger (domain ``customer_sync``, key ``<company>/<customer id>``) keeps, per mapped
field, the normalised value each side had after the last sync. Tonight's values are compared with that memory
field by field:

- only TimeLog changed → TimeLog's value goes to the debtor (T1);
- only Uniconta changed → Uniconta's value goes to the TimeLog customer (U1);
- **both changed to different values → TimeLog wins** (TimeLog is the customer master in both S3 modes: "later
  edits in TimeLog are pushed"); the overwritten Uniconta value is kept in the ledger event's ``before`` and the
  conflict is counted;
- first sync of a customer (no memory) → the link decision decides: after "link and use Uniconta data" (L3.2) or
  an import (L3.3) Uniconta's non-empty values win and TimeLog fills the fields Uniconta has empty; otherwise
  (L3.1, a debtor tlsync created) TimeLog's non-empty values win and Uniconta fills the fields TimeLog has empty;
- an empty value never overwrites (L3.1/L3.2): a field cleared on one side stays as the other side has it.

Right after linking: a link action (L3.1 "use TimeLog data", L3.2 "use Uniconta data") has already written one
side's values into the other and recorded them in the ledger (domain ``customer_link``). The first sync of that
customer applies those recorded writes to the staged records that predate them, so it does not send the same
update a second time (``accept-one --wins timelog`` followed by the customer step writes nothing more); a record
staged after the link is taken as staged, so a real change since is still written (T1/U1).

Fields the mapping does not cover are never touched, in particular the S4 defaults (debtor group, VAT zone,
VAT code, payment terms, layout group): Uniconta's values stay whatever an accountant made them.

Contacts (T1, official Contacts table): each active TimeLog contact of a linked customer becomes a Uniconta
``ContactClient`` on the debtor (ledger domain ``contact``, key ``<company>/<contact id>``, target = RowId); new
contacts go in with one ``InsertList`` per batch, changed ones are updated; a contact whose data did not change
since it was last written costs nothing (content hash).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Engine

from tlsync.clients.errors import RecordRejectedError
from tlsync.clients.timelog.models import Customer, CustomerUpdate
from tlsync.clients.timelog.rest import RestClient
from tlsync.clients.uniconta.client import UnicontaClient
from tlsync.clients.uniconta.crud import Unverified
from tlsync.clients.uniconta.models import DebtorClient
from tlsync.ledger import DONE, FAILED, IN_FLIGHT, PENDING, Ledger, content_hash
from tlsync.ledger.domains import Domain

from . import staged
from .mapping import (
    FIELDS,
    canonical,
    contact_changes,
    contact_values,
    customer_changes,
    debtor_changes,
    is_empty,
    new_contact,
    timelog_values,
    uniconta_values,
)

log = logging.getLogger(__name__)

SYNC_DOMAIN = Domain.CUSTOMER_SYNC
CONTACT_DOMAIN = Domain.CONTACT
_FIELD_OF_ATTR = {f.update: f.uniconta for f in FIELDS if f.update}
BATCH_SIZE = 100
UNICONTA_FIRST = frozenset({"uniconta_wins", "imported"})
"""Link actions (``customer_links.action``) after which the first sync keeps Uniconta's values (L3.2, L3.3)."""


def _memory(customer: dict, debtor: dict) -> dict[str, Any]:
    """What the ledger remembers: each side's normalised value per mapped field, and a hash of each staged record
    as it was read (so a side that has not been staged again since the last sync counts as unchanged — a re-run
    before the next staging must not mistake its own write for an edit on the other side)."""
    tl, uc = timelog_values(customer), uniconta_values(debtor)
    return {"tl": {f: canonical(f, v) for f, v in tl.items()}, "uc": {f: canonical(f, v) for f, v in uc.items()},
            "tl_seen": content_hash(customer), "uc_seen": content_hash(debtor)}


def plan_customer(customer: dict, debtor: dict, memory: dict | None, *, first: str = "timelog"
                  ) -> tuple[dict, dict, list[str]]:
    """``(debtor changes, customer changes, conflicting fields)`` for one linked pair — the rules in the module
    docstring. Debtor changes are keyed by DebtorClient field, customer changes by CustomerUpdate attribute.
    ``first``: whose filled-in fields win when there is no memory yet — ``"uniconta"`` for a link made with "use
    Uniconta data" (L3.2) or an import (L3.3), else ``"timelog"``."""
    now = _memory(customer, debtor)
    tl_now = timelog_values(customer)
    if memory is None and first == "uniconta":
        uc_now = uniconta_values(debtor)
        to_tl = customer_changes(debtor, customer)
        return {f: v for f, v in debtor_changes(customer, debtor).items() if is_empty(uc_now[f])}, to_tl, []

    def changed(side: str, field: str) -> bool:
        if memory is None:
            return True
        if memory.get(f"{side}_seen") == now[f"{side}_seen"]:
            return False                      # not staged again since the last sync: nothing new from that side
        return now[side][field] != memory.get(side, {}).get(field)

    to_uc = {f: v for f, v in debtor_changes(customer, debtor).items() if changed("tl", f)}
    to_tl: dict[str, Any] = {}
    for attr, value in customer_changes(debtor, customer).items():
        field = _FIELD_OF_ATTR[attr]
        if field in to_uc or (changed("tl", field) and not is_empty(tl_now[field])):
            continue                          # TimeLog changed it to a value: TimeLog's side wins
        if changed("uc", field):
            to_tl[attr] = value
    conflicts = [f for f in to_uc if memory is not None and changed("uc", f) and now["uc"][f]]
    return to_uc, to_tl, conflicts


LEASE_DOMAINS = (SYNC_DOMAIN, CONTACT_DOMAIN)
"""Ledger domains the customer sync writes, held as one write lease for the run (:mod:`tlsync.ledger.lease`): a
second sync of the legal entity stops with one line (:class:`~tlsync.ledger.lease.LeaseHeld`) instead of updating
the same debtors and contacts at the same time."""


def sync_customers(engine: Engine, le, uniconta: UnicontaClient, timelog_rest: RestClient, *, ledger: Ledger,
                   dry_run: bool = False) -> dict[str, int]:
    """:func:`_sync_customers` holding the legal entity's customer write lease (none for a dry run)."""
    if dry_run:
        return _sync_customers(engine, le, uniconta, timelog_rest, ledger=ledger, dry_run=True)
    from tlsync.ledger.lease import write_lease

    with write_lease(engine, le.legal_entity_id, LEASE_DOMAINS, run_id=ledger.run_id, what="synchronised"):
        return _sync_customers(engine, le, uniconta, timelog_rest, ledger=ledger, dry_run=False)


def _sync_customers(engine: Engine, le, uniconta: UnicontaClient, timelog_rest: RestClient, *, ledger: Ledger,
                    dry_run: bool = False) -> dict[str, int]:
    """T1 + U1 + contacts for every linked customer of ``le`` (a :class:`LegalEntitySettings`). Returns counts:
    ``linked``, ``debtors_updated``, ``customers_updated``, ``conflicts`` (TimeLog won), ``unchanged``,
    ``not_staged`` (link without a staged customer/debtor yet), ``failed``, ``contacts_created``,
    ``contacts_updated``, ``contacts_unchanged``. ``dry_run``: the counts of what would be written; nothing is."""
    if le.uniconta_company_id is None:
        raise ValueError(f"{le.label}: no Uniconta company chosen; customers cannot be synchronised (rule S1)")
    company = le.uniconta_company_id
    le_id = le.legal_entity_id
    counts = dict.fromkeys(("linked", "debtors_updated", "customers_updated", "conflicts", "unchanged",
                            "not_staged", "failed", "contacts_created", "contacts_updated", "contacts_unchanged"), 0)
    links = staged.linked_customers(engine, le_id, company)
    counts["linked"] = len(links)
    customers = staged.timelog_customers(engine, links)
    debtors = staged.uniconta_rows(engine, "uniconta.debtors", company)
    memory = ledger.by_key(SYNC_DOMAIN, le_id)
    link_actions = staged.link_actions(engine, le_id)
    linked_since = _written_by_links(engine, le_id, company, links, memory)

    for cid, account in sorted(links.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else kv[0]):
        seen_customer, seen_debtor = customers.get(cid), debtors.get(account)
        if seen_customer is None or seen_debtor is None:
            counts["not_staged"] += 1
            continue
        key = f"{company}/{cid}"
        entry = memory.get(key)
        first = "uniconta" if link_actions.get(cid) in UNICONTA_FIRST else "timelog"
        customer, debtor = _as_left_by_link(seen_customer, seen_debtor, linked_since.get(cid))
        to_uc, to_tl, conflicts = plan_customer(customer, debtor, entry.details if entry and entry.details else None,
                                                first=first)
        counts["conflicts"] += 1 if conflicts else 0
        after_uc = {**debtor, **to_uc}
        after_tl = _apply_to_customer(customer, to_tl)
        remembered = {**_memory(after_tl, after_uc), "tl_seen": content_hash(seen_customer),
                      "uc_seen": content_hash(seen_debtor)}
        if not to_uc and not to_tl and entry is not None and entry.state == DONE \
                and entry.content_hash == content_hash(remembered):
            counts["unchanged"] += 1
            continue
        if dry_run:
            counts["debtors_updated"] += bool(to_uc)
            counts["customers_updated"] += bool(to_tl)
            counts["unchanged"] += not (to_uc or to_tl)
            continue
        try:
            if to_uc:
                # Update replaces the whole record: patch the debtor as Uniconta holds it *now* (one look-up), so
                # an accountant's edit made after tonight's staging (an S4 field, say) is never reverted.
                live = uniconta.get_by(DebtorClient, "Account", account)
                if not live:
                    raise RecordRejectedError("Uniconta", f"debtor {account} no longer exists in company {company}; "
                                              "link the customer again (rule L3)", record=f"DebtorClient {account}")
                uniconta.update(live[0].model_copy(update=to_uc))
                counts["debtors_updated"] += 1
            if to_tl:
                timelog_rest.update_customer(int(cid), to_tl,
                                             base=CustomerUpdate.from_reporting(Customer.model_validate(customer)))
                counts["customers_updated"] += 1
        except RecordRejectedError as exc:
            counts["failed"] += 1
            ledger.transition(SYNC_DOMAIN, le_id, key, FAILED, action="sync", target_key=account,
                              reason=f"customer {cid} ⇄ debtor {account}: {exc} (rules T1/U1)")
            continue
        if not to_uc and not to_tl:
            counts["unchanged"] += 1
        before = {"uniconta": {f: debtor.get(f) for f in to_uc},
                  "timelog": {a: customer.get(_timelog_key(a)) for a in to_tl}}
        ledger.transition(SYNC_DOMAIN, le_id, key, DONE, action="sync", target_key=account,
                          content_hash=content_hash(remembered), details=remembered, before=before,
                          after={"to_uniconta": to_uc, "to_timelog": to_tl, "conflicts_timelog_won": conflicts})

    _sync_contacts(engine, le_id, company, links, debtors, uniconta, ledger, dry_run, counts)
    return counts


def _written_by_links(engine: Engine, le_id: int, company: int, links: dict[str, str],
                      memory: dict) -> dict[str, tuple[dict, dict]]:
    """``{customer id: (debtor fields, customer attributes)}`` that a link action (L3.1/L3.2) wrote *after* the
    debtor or customer was last staged, for the customers this sync has no memory of yet (their first sync).

    ``accept-one --wins timelog`` writes TimeLog's values into the debtor and records them in the ledger
    (domain ``customer_link``); the customer step that follows the same night still reads the debtor as staged
    before the link. Without this it would send exactly the same update again. Only what was written after the
    record's staging counts: once the next night has staged the record, staging is the truth again (an edit made
    since the link is then a real change, rules T1/U1)."""
    first = {cid: account for cid, account in links.items()
             if not ((e := memory.get(f"{company}/{cid}")) is not None and e.details)}
    if not first:
        return {}
    writes = staged.link_writes(engine, le_id, first.values())
    if not writes:
        return {}
    debtor_at = staged.staged_times(engine, "uniconta.debtors", first.values(), tenant=str(company))
    customer_at = staged.staged_times(engine, "timelog.customers", first.keys())
    out: dict[str, tuple[dict, dict]] = {}
    for cid, account in first.items():
        w = writes.get(account)
        if w is None or w.customer_id != cid:
            continue
        # staged in the same second as the link (both clocks keep whole seconds): the write is applied; when the
        # staged record has it already, that changes nothing
        to_uc = w.to_uniconta if account in debtor_at and debtor_at[account] <= w.at else {}
        to_tl = w.to_timelog if cid in customer_at and customer_at[cid] <= w.at else {}
        if to_uc or to_tl:
            out[cid] = (to_uc, to_tl)
    return out


def _as_left_by_link(customer: dict, debtor: dict, written: tuple[dict, dict] | None) -> tuple[dict, dict]:
    """The staged customer and debtor with what a link wrote since their staging applied (see
    :func:`_written_by_links`): the two records as the systems hold them now."""
    if not written:
        return customer, debtor
    to_uc, to_tl = written
    return _apply_to_customer(customer, to_tl), {**debtor, **to_uc}


_TL_KEY = {f.update: f.timelog for f in FIELDS if f.update}


def _timelog_key(attr: str) -> str:
    return _TL_KEY.get(attr, attr)


def _apply_to_customer(customer: dict, changes: dict) -> dict:
    """The staged customer as it will be after ``changes`` (CustomerUpdate attributes) are written."""
    out = dict(customer)
    for attr, value in changes.items():
        if attr == "country_id":
            out["CountryID"], out["Country"] = value, None
        else:
            out[_timelog_key(attr)] = value
    return out


# --------------------------------------------------------------------------------------------------- contacts


def _sync_contacts(engine: Engine, le_id: int, company: int, links: dict[str, str], debtors: dict,
                   uniconta: UnicontaClient, ledger: Ledger, dry_run: bool, counts: dict[str, int]) -> None:
    contacts = [c for c in staged.timelog_contacts(engine).values()
                if str(c.get("CustomerID")) in links and links[str(c.get("CustomerID"))] in debtors
                and str(c.get("IsActive", "true")).lower() not in ("false", "0")]
    entries = ledger.by_key(CONTACT_DOMAIN, le_id)
    todo = []
    for c in contacts:
        account = links[str(c["CustomerID"])]
        values = contact_values(c, account)
        if is_empty(values["Name"]):
            continue
        key = f"{company}/{c['ID']}"
        entry = entries.get(key)
        if entry is not None and entry.state == DONE and entry.content_hash == content_hash(values):
            counts["contacts_unchanged"] += 1
            continue
        todo.append((key, c, account, values, entry))
    if not todo:
        return
    if dry_run:
        counts["contacts_updated"] += sum(1 for t in todo if t[4] is not None and t[4].target_key)
        counts["contacts_created"] += sum(1 for t in todo if t[4] is None or not t[4].target_key)
        return

    existing = list(uniconta.contacts())                      # one read, only when something is to be written
    by_row = {str(r.RowId): r for r in existing if r.RowId is not None}
    by_name = {(str(r.DCAccount), (r.Name or "").strip().casefold()): r for r in existing}
    inserts = []
    for key, c, account, values, entry in todo:
        row = by_row.get(str(entry.target_key)) if entry is not None and entry.target_key else None
        row = row or by_name.get((account, values["Name"].strip().casefold()))
        if row is None:
            inserts.append((key, c, account, values, entry))
            continue
        changes = contact_changes(c, row.model_dump(), account)
        try:
            if changes:
                uniconta.update(row.model_copy(update=changes))
                counts["contacts_updated"] += 1
            else:
                counts["contacts_unchanged"] += 1
        except RecordRejectedError as exc:
            counts["failed"] += 1
            ledger.transition(CONTACT_DOMAIN, le_id, key, FAILED, action="sync_contact",
                              reason=f"contact {c['ID']} on debtor {account}: {exc} (rule T1)")
            continue
        ledger.transition(CONTACT_DOMAIN, le_id, key, DONE, action="sync_contact", target_key=str(row.RowId),
                          content_hash=content_hash(values), before=row.to_payload(), after=values)

    claimed = []
    for key, c, account, values, entry in inserts:
        if entry is not None and entry.state == IN_FLIGHT:   # interrupted earlier and not found above: retry
            ledger.transition(CONTACT_DOMAIN, le_id, key, PENDING, action="verify_not_found", expect=(IN_FLIGHT,))
        if ledger.claim(CONTACT_DOMAIN, le_id, key, action="claim_contact", allow=(PENDING, FAILED, DONE),
                        details={"company_id": company, "account": account, "name": values["Name"]}):
            claimed.append((key, c, account, values))
    for start in range(0, len(claimed), BATCH_SIZE):
        batch = claimed[start:start + BATCH_SIZE]
        records = [new_contact(c, account) for _, c, account, _ in batch]
        try:
            stored = uniconta.insert_list(records, batch_size=len(records))
        except RecordRejectedError as exc:
            for key, c, account, _ in batch:
                counts["failed"] += 1
                ledger.fail(CONTACT_DOMAIN, le_id, key, f"contact {c['ID']} on debtor {account}: {exc} (rule T1)",
                            action="create_contact")
            continue
        rows: list[Any] = list(stored)
        if isinstance(stored, Unverified):   # a 2xx answer that is not the stored rows: read back, never assume
            back = {(str(r.DCAccount), (r.Name or "").strip().casefold()): r for r in uniconta.contacts()}
            rows = [back.get((account, values["Name"].strip().casefold())) for _, _, account, values in batch]
        with ledger.engine.begin() as conn:
            for (key, c, account, values), row in zip(batch, rows):
                if row is None:
                    counts["failed"] += 1
                    ledger.transition(CONTACT_DOMAIN, le_id, key, FAILED, action="create_contact",
                                      reason=f"contact {c['ID']} on debtor {account}: Uniconta answered the "
                                      f"InsertList without the stored rows and it was not found when read back; "
                                      f"tried again on the next run (rule T1)", expect=(IN_FLIGHT,), conn=conn)
                    continue
                ledger.transition(CONTACT_DOMAIN, le_id, key, DONE, action="create_contact",
                                  target_key=str(row.RowId) if row.RowId is not None else None,
                                  content_hash=content_hash(values), after=values, expect=(IN_FLIGHT,), conn=conn)
                counts["contacts_created"] += 1
