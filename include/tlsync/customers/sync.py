"""Debtors and employees the invoice transfer needs: find them, and create the missing ones in batches.

:func:`ensure_debtors` — rule S3. A TimeLog customer has a Uniconta debtor when ``customer_links`` links it (state
``linked``). In **manual** mode (S3a) that is all: an unlinked customer is absent from the result and the caller
reports "customer not linked (rule S3a)". In **automatic** mode (S3b) the missing debtors are created from the
staged TimeLog customers with the S4 defaults (:func:`~tlsync.customers.mapping.new_debtor`), numbered with the
TimeLog customer number when that account is free in Uniconta, else the next free number.

:func:`ensure_employees` — rule T4. An invoice's internal reference (TimeLog initials) must exist as a Uniconta
``EmployeeClient.Number``; missing employees are created with TimeLog's name (the official mapping: ExternalKey →
Number, Name → Name) and defaults where TimeLog lacks a value (the initials as name).

Both write through the one exactly-once protocol (:mod:`tlsync.ledger.protocol`), so a double creation is
impossible even across a crash; this module supplies only the keys and the look-up (:func:`_protocol`). Under the
legal entity's ``debtor`` / ``employee`` write lease:

1. plan from staging (no API call);
2. claim the records (domain ``debtor`` / ``employee``, key ``<company>/<customer id|INITIALS>``; the planned
   account/number in the claim's details), in one transaction;
3. **one** ``InsertList`` call per batch of up to ``batch_size`` records — never one call per record (the daily
   Uniconta quota is 5,000 calls);
4. in one database transaction: the ledger moves to ``done`` with the account, and (debtors) the link row
   ``customer_links`` is written with action ``created``.

A record Uniconta refuses is marked ``failed`` with Uniconta's reason and the rest of its batch is sent again; a
spent quota releases the claims (nothing was written) and is raised. A crash after step 2 leaves ``in_flight``:
the next run's recovery looks the planned keys up in Uniconta (one filtered read per 40) and adopts the records that
landed (``done``, with their link rows), instead of writing again blindly; the others are written again. A lost
answer is settled the same way at once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from tlsync.clients.errors import QuotaExceededError, RecordRejectedError, WriteOutcomeUnknownError
from tlsync.clients.uniconta.client import UnicontaClient
from tlsync.clients.uniconta.crud import Unverified
from tlsync.clients.uniconta.models import DebtorClient, EmployeeClient, UnicontaEntity
from tlsync.clients.uniconta.odata import Field
from tlsync.ledger import DONE, ExactlyOnce, Landed, Ledger, LedgerEntry
from tlsync.ledger.domains import Domain
from tlsync.ledger.lease import write_lease
from tlsync.ledger.protocol import OnDoneMany, Settle
from tlsync.linking import store as link_store
from tlsync.settings.models import CustomerMaster, LegalEntitySettings

from . import staged
from .mapping import is_empty, new_debtor

log = logging.getLogger(__name__)

DEBTOR_DOMAIN = Domain.DEBTOR
EMPLOYEE_DOMAIN = Domain.EMPLOYEE
BATCH_SIZE = 100
LINK_ACTION_CREATED = "created"


@dataclass
class _Planned:
    source_key: str            # ledger key: "<company>/<customer id | INITIALS>"
    ref: str                   # what the caller asked for (customer id as text / initials)
    target: str                # the account / employee number it gets in Uniconta
    record: UnicontaEntity


def _company(le: LegalEntitySettings) -> int:
    if le.uniconta_company_id is None:
        raise ValueError(f"{le.label}: no Uniconta company chosen; debtors and employees cannot be looked up or "
                         f"created (rule S1)")
    return le.uniconta_company_id


# ------------------------------------------------------------------------------------------------- debtors


def ensure_debtors(client: UnicontaClient, engine: Engine, le: LegalEntitySettings, customer_ids: Iterable[int],
                   *, ledger: Ledger, dry_run: bool = False, batch_size: int = BATCH_SIZE) -> dict[int, str]:
    """``{customer id: Uniconta debtor account}`` for every customer of ``customer_ids`` that has a debtor —
    linked in ``customer_links`` — or, in automatic mode (S3b), gets one now (created in batches, linked with
    action ``created``, ledger domain ``debtor``). Manual mode (S3a): unlinked customers are simply absent.

    ``dry_run``: nothing is written (no claim, no API call); the result then also holds the accounts the missing
    debtors *would* get, so a dry run of the invoice transfer can show them. Writing holds the legal entity's
    ``debtor`` write lease (re-entrant: the invoice transfer already holds it)."""
    if dry_run:
        return _ensure_debtors(client, engine, le, customer_ids, ledger=ledger, dry_run=True, batch_size=batch_size)
    with write_lease(engine, le.legal_entity_id, (DEBTOR_DOMAIN,), run_id=ledger.run_id, what="given debtors"):
        return _ensure_debtors(client, engine, le, customer_ids, ledger=ledger, dry_run=False, batch_size=batch_size)


def _ensure_debtors(client: UnicontaClient, engine: Engine, le: LegalEntitySettings, customer_ids: Iterable[int],
                    *, ledger: Ledger, dry_run: bool, batch_size: int) -> dict[int, str]:
    company = _company(le)
    wanted = sorted({int(c) for c in customer_ids})
    links = staged.linked_customers(engine, le.legal_entity_id, company)
    result = {cid: links[str(cid)] for cid in wanted if str(cid) in links}
    missing = [cid for cid in wanted if cid not in result]
    if not missing or le.customer_master != CustomerMaster.automatic:
        return result
    if le.debtor_defaults is None:
        raise ValueError(f"{le.label}: debtor defaults are not set, so {len(missing)} customer(s) cannot get a "
                         f"Uniconta debtor in automatic mode (rules S3b/S4)")

    def save_links(conn: Any, done: Sequence[tuple[str, str]]) -> None:
        """The ``linked`` rows of the debtors tlsync created (``(ledger key, account)`` pairs), in the caller's
        transaction next to their ledger events — a few statements for the batch, not two per debtor."""
        link_store.save_links(conn, legal_entity_id=le.legal_entity_id, company_id=company,
                              links=[(target, key.split("/", 1)[1]) for key, target in done], state=link_store.LINKED,
                              action=LINK_ACTION_CREATED, run_id=ledger.run_id, actor=ledger.actor,
                              now=datetime.now().replace(microsecond=0))

    keys = {cid: f"{company}/{cid}" for cid in missing}
    entries = ledger.by_key(DEBTOR_DOMAIN, le.legal_entity_id)
    protocol = _protocol(client, ledger, le.legal_entity_id, DEBTOR_DOMAIN, company, on_done_many=save_links)
    if not dry_run:
        found, moved = _recover(protocol, entries, keys)
        result.update(found)
        if moved:
            entries = ledger.by_key(DEBTOR_DOMAIN, le.legal_entity_id)
    missing = [cid for cid in missing if cid not in result]

    accounts = staged.uniconta_keys(engine, "uniconta.debtors", company)   # the accounts only: no payload parsed
    taken = {a.casefold() for a in accounts} | {a.casefold() for a in links.values()}
    taken |= {str(e.target_key).casefold() for e in entries.values() if e.target_key}
    ours = set(keys.values())
    taken |= {str(e.details.get("target")).casefold() for k, e in entries.items()
              if e.details.get("target") and k not in ours}     # planned by an unfinished write of another
    customers = staged.timelog_customers(engine, missing)
    numbers = _NextFree(taken)
    planned: list[_Planned] = []
    for cid in missing:
        entry = entries.get(keys[cid])
        if entry is not None and entry.state == DONE and entry.target_key:
            # created by an earlier run whose link row has since been removed: never create it twice
            result[cid] = entry.target_key
            continue
        customer = customers.get(str(cid))
        if customer is None:
            log.warning("%s: TimeLog customer %s is not in staging; no debtor created (rule S3b)", le.label, cid)
            continue
        earlier = entry.details.get("target") if entry is not None else None   # a retry keeps its number
        account = numbers.take(earlier or customer.get("No"))
        try:
            record = new_debtor(customer, account, le.debtor_defaults)
        except ValueError as exc:
            if not dry_run:
                ledger.fail(DEBTOR_DOMAIN, le.legal_entity_id, keys[cid], str(exc), action="create_debtor")
            continue
        planned.append(_Planned(keys[cid], str(cid), account, record))
    if dry_run:
        result.update({int(p.ref): p.target for p in planned})
        return result

    for p in _insert_batched(client, protocol, planned, batch_size, action="create_debtor", company=company):
        result[int(p.ref)] = p.target
    return result


class _NextFree:
    """Debtor accounts: the TimeLog customer number when free, else the next free number after the highest
    numeric account in use (Uniconta's own numbering style)."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = set(taken)
        numeric = [int(a) for a in self.taken if a.isdigit()]
        self.next = max(numeric, default=0) + 1

    def take(self, preferred: Any) -> str:
        wish = "" if is_empty(preferred) else str(preferred).strip()
        if wish and wish.casefold() not in self.taken:
            self.taken.add(wish.casefold())
            return wish
        while str(self.next) in self.taken:
            self.next += 1
        account = str(self.next)
        self.taken.add(account)
        self.next += 1
        return account


# ----------------------------------------------------------------------------------------------- employees


def ensure_employees(client: UnicontaClient, engine: Engine, le: LegalEntitySettings, initials: Iterable[str],
                     *, ledger: Ledger, dry_run: bool = False, batch_size: int = BATCH_SIZE) -> dict[str, str]:
    """Rule T4: ``{TimeLog initials: Uniconta EmployeeClient.Number}`` for every initials given (matched
    case-insensitively); missing employees are created (InsertList per batch, ledger domain ``employee``) with
    Number = the initials and Name = TimeLog's full name (the initials when TimeLog has none). ``dry_run``: no
    writes; the result includes the numbers the missing employees would get."""
    company = _company(le)
    asked = sorted({str(i).strip() for i in initials if not is_empty(i)})
    spelling: dict[str, str] = {}
    for i in asked:                                   # "mda" and "MDA" are one employee: plan it once
        spelling.setdefault(i.casefold(), i)
    if dry_run:
        result = _ensure_employees(client, engine, le, company, sorted(spelling.values()), ledger=ledger,
                                   dry_run=True, batch_size=batch_size)
    else:                                             # the employee write lease (re-entrant under the transfer)
        with write_lease(engine, le.legal_entity_id, (EMPLOYEE_DOMAIN,), run_id=ledger.run_id, what="given employees"):
            result = _ensure_employees(client, engine, le, company, sorted(spelling.values()), ledger=ledger,
                                       dry_run=False, batch_size=batch_size)
    return {i: result[spelling[i.casefold()]] for i in asked if spelling[i.casefold()] in result}


def _ensure_employees(client: UnicontaClient, engine: Engine, le: LegalEntitySettings, company: int,
                      wanted: list[str], *, ledger: Ledger, dry_run: bool, batch_size: int) -> dict[str, str]:
    existing = {n.casefold(): n for n in staged.uniconta_rows(engine, "uniconta.employees", company)}
    result = {i: existing[i.casefold()] for i in wanted if i.casefold() in existing}
    missing = [i for i in wanted if i not in result]
    if not missing:
        return result
    keys = {i: f"{company}/{i.upper()}" for i in missing}
    entries = ledger.by_key(EMPLOYEE_DOMAIN, le.legal_entity_id)
    protocol = _protocol(client, ledger, le.legal_entity_id, EMPLOYEE_DOMAIN, company)
    if not dry_run:
        found, moved = _recover(protocol, entries, keys)
        result.update(found)
        if moved:
            entries = ledger.by_key(EMPLOYEE_DOMAIN, le.legal_entity_id)
    by_initials = {str(e.get("Initials") or "").strip().casefold(): e
                   for e in staged.timelog_employees(engine).values() if not is_empty(e.get("Initials"))}
    planned: list[_Planned] = []
    for i in missing:
        if i in result:
            continue
        entry = entries.get(keys[i])
        if entry is not None and entry.state == DONE and entry.target_key:
            result[i] = entry.target_key          # created earlier, not staged yet
            continue
        planned.append(_Planned(keys[i], i, i, new_employee(i, by_initials.get(i.casefold()))))
    if dry_run:
        result.update({p.ref: p.target for p in planned})
        return result
    for p in _insert_batched(client, protocol, planned, batch_size, action="create_employee", company=company):
        result[p.ref] = p.target
    return result


def new_employee(initials: str, employee: dict | None) -> EmployeeClient:
    """Rule T4 and the official Employees table: Number = the TimeLog initials, Name = the full name (Uniconta
    holds one name field). Uniconta needs a name; without a TimeLog record (or name) the initials are used."""
    employee = employee or {}
    name = employee.get("FullName")
    if is_empty(name):
        name = " ".join(str(p).strip() for p in (employee.get("FirstName"), employee.get("LastName"))
                        if not is_empty(p))
    return EmployeeClient(Number=initials, Name=name if not is_empty(name) else initials)


# ------------------------------------------------------------------------------------------------ machinery


def _protocol(client: UnicontaClient, ledger: Ledger, legal_entity_id: int, domain: Domain, company: int,
              on_done_many: OnDoneMany | None = None) -> ExactlyOnce:
    """The debtor/employee domain of the one exactly-once protocol (:mod:`tlsync.ledger.protocol`). Keys: source
    key ``<company>/<customer id | INITIALS>``, the planned account/number in the claim's ``details["target"]``.
    Look-up: the planned keys in Uniconta, one filtered read per 40 (``Field.MAX_OR_VALUES``). A claim without a
    planned key, or made for another company, cannot be looked up here: it goes to review."""
    model: type[UnicontaEntity] = DebtorClient if domain == DEBTOR_DOMAIN else EmployeeClient
    key_field = "Account" if model is DebtorClient else "Number"

    def planned(e: LedgerEntry) -> str | None:
        target = (e.details or {}).get("target")
        return str(target) if target and e.source_key.startswith(f"{company}/") else None

    def find_landed(entries: Sequence[LedgerEntry]) -> dict[str, str | None]:
        targets = {e.source_key: t for e in entries if (t := planned(e)) is not None}
        there = _present(client, model, key_field, sorted(set(targets.values())))
        return {k: (t if t in there else None) for k, t in targets.items()}

    def review(e: LedgerEntry) -> tuple[str, Any]:
        where = (e.details or {}).get("company_id") or e.source_key.split("/", 1)[0]
        return (f"{domain} {e.source_key}: an earlier run started creating it in Uniconta company {where} and did "
                f"not finish, and it cannot be looked up in company {company}; look there for "
                f"{key_field} {(e.details or {}).get('target') or '?'}: if it exists, link it, otherwise set the "
                f"record back to pending (rule T2)"), None

    return ExactlyOnce(ledger, domain, legal_entity_id, target="Uniconta", find_landed=find_landed,
                       on_done_many=on_done_many, review=review)


def _present(client: UnicontaClient, model: type[UnicontaEntity], key_field: str, keys: list[str]) -> set[str]:
    step = Field.MAX_OR_VALUES
    return {str(getattr(r, key_field)) for i in range(0, len(keys), step)
            for r in client.read(model, filter=Field(key_field).in_(keys[i:i + step]))}


def _recover(protocol: ExactlyOnce, entries: dict[str, LedgerEntry], keys: dict[Any, str]
             ) -> tuple[dict[Any, str], bool]:
    """Writes a crashed run left ``in_flight`` (:meth:`ExactlyOnce.recover`): landed → ``done`` (and the link
    row), not there → ``pending`` for a new try. Returns what was found among ``keys`` (ref → target) and whether
    any entry moved (only then are the domain's entries read again: the invoice transfer asks once per batch)."""
    recovered = protocol.recover(entries=entries.values())
    landed = recovered.landed
    return {ref: landed[key] for ref, key in keys.items() if key in landed}, bool(recovered)


def _completing(protocol: ExactlyOnce, payloads: dict[str, Any], action: str) -> Settle:
    """A ``settle`` that records the landed records as written with these payloads (their content hashes)."""
    def settle(landed: dict[str, tuple[LedgerEntry, str]]) -> None:
        protocol.complete_many([Landed(k, t, written=payloads[k]) for k, (_, t) in landed.items()], action=action)
    return settle


def _insert_batched(client: UnicontaClient, protocol: ExactlyOnce, planned: list[_Planned], batch_size: int, *,
                    action: str, company: int) -> list[_Planned]:
    """Claim, InsertList per batch, complete — see the module docstring. Returns the records written."""
    claims = {p.source_key: {"company_id": company, "target": p.target} for p in planned}
    claimed_keys = set(protocol.claim_many(claims, action=f"claim_{action}"))
    claimed = [p for p in planned if p.source_key in claimed_keys]
    written: list[_Planned] = []
    for start in range(0, len(claimed), max(1, batch_size)):
        pending = claimed[start:start + batch_size]
        while pending:
            try:
                stored = client.insert_list([p.record for p in pending], batch_size=len(pending))
                if isinstance(stored, Unverified):   # a 2xx answer that is not the stored rows: read back
                    field = "Account" if isinstance(pending[0].record, DebtorClient) else "Number"
                    there = _present(client, type(pending[0].record), field, [p.target for p in pending])
                    missing = [p for p in pending if p.target not in there]
                    for p in missing:
                        protocol.fail(p.source_key, f"Uniconta answered the InsertList of {p.record.describe()} "
                                      f"without the stored rows and it was not found when read back; tried again on "
                                      f"the next run", action=action, details=claims[p.source_key])
                    pending = [p for p in pending if p not in missing]
            except RecordRejectedError as exc:
                bad = next((n for n, p in enumerate(pending) if exc.record == p.record.describe()), None)
                culprits = pending if bad is None else [pending[bad]]
                for p in culprits:
                    protocol.fail(p.source_key, f"Uniconta refused {p.record.describe()}: {exc.message}",
                                  action=action, details=claims[p.source_key])
                pending = [] if bad is None else pending[:bad] + pending[bad + 1:]
                continue
            except QuotaExceededError:
                protocol.release_many([p.source_key for p in claimed[start:]], action=action,
                                      reason="Uniconta's daily call quota is spent; tried again on the next run")
                raise
            except WriteOutcomeUnknownError:
                # the answer was lost: look the records up before anything is sent again (issue 17) — those that
                # landed are done (with their links), the others are claimed and sent once more (a failing look-up
                # propagates and leaves the claims in flight for the next run's recovery)
                payloads = {p.source_key: p.record.to_payload() for p in pending}
                settled = protocol.settle(list(payloads), action=action,
                                          settle=_completing(protocol, payloads, action))
                written.extend(p for p in pending if p.source_key in settled.landed)
                again = set(protocol.claim_many({k: claims[k] for k in settled.released}, action=f"claim_{action}"))
                pending = [p for p in pending if p.source_key in again]
                if pending:
                    client.insert_list([p.record for p in pending], batch_size=len(pending))
            protocol.complete_many([Landed(p.source_key, p.target, written=p.record.to_payload()) for p in pending],
                                   action=action)
            written.extend(pending)
            pending = []
    return written


from .nightly import sync_customers  # noqa: E402  (the nightly T1/U1 sync, re-exported for callers)

__all__ = ["BATCH_SIZE", "DEBTOR_DOMAIN", "EMPLOYEE_DOMAIN", "ensure_debtors", "ensure_employees", "new_employee",
           "sync_customers"]
