"""Transfer TimeLog projects to Uniconta ``ProjectClient`` records (rules T3, S7), idempotent by content.

Mapping (official mapping "Projects": Name → Name, Description → Description; the rest is what Uniconta needs):

=====================  ==========================================================================================
Uniconta field         from
=====================  ==========================================================================================
``Number``             TimeLog project number (``No``); the project's key in both systems
``Name``               ``Name``
``Description``        ``Description``
``Group``              the configured project group (rule S7) — Uniconta refuses a project without one
``Account``            the customer's linked Uniconta debtor (``customer_links``), when there is one
``StartDate/EndDate``  ``ProjectStartDate`` / ``ProjectEndDate``
=====================  ==========================================================================================

Idempotency: the ledger (domain ``project``, key ``<company>/<TimeLog project ID>``) holds the hash of what was last
written; an unchanged project is never written again (:meth:`Ledger.unchanged` / :meth:`Ledger.record_change`).
New projects go in through the one exactly-once protocol (:mod:`tlsync.ledger.protocol`: claimed, one
``InsertList`` per 100, ``done``); this module gives its keys and look-up (the numbers, a filtered read per 40). A
crash after the claim is recovered by the next run by that look-up; a project Uniconta already has under the number
(made by hand) is adopted instead of written twice — ``Number`` is the key, so a duplicate is impossible.
Changed projects are written with ``UpdateList`` (one call per 100; Uniconta's Update replaces the record, so each
is the full object).

**Calls** (issue 13, Uniconta's 5,000 calls a day): the nightly sync has already read every Uniconta project of
the company into staging, so this step reads none again. A project Uniconta already has under the TimeLog number
but the ledger does not know yet (the first night, or projects made by hand) is compared with its staged record:
when the fields tlsync owns already agree it is *adopted* — recorded in the ledger, no call; otherwise it is
updated with the staged record as the base of the full object (no read first). Before, each of those projects
cost a read and a write: 3,458 projects took the M data set's whole daily quota on the first night. Trade-off:
the staged record is as old as the last nightly read — minutes, since the write-back DAG is triggered by the
staged assets; a project edited in Uniconta in between has those edits overwritten by the full-object Update
(Uniconta offers no partial update). The interactive linking (L3.1) reads its debtors fresh (in bulk) for that
reason: it happens during the day, hours after the nightly read (:mod:`tlsync.linking.batch`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from tlsync.clients.errors import NotFoundError, QuotaExceededError, RecordRejectedError, WriteOutcomeUnknownError
from tlsync.clients.uniconta.crud import Unverified
from tlsync.clients.uniconta.models import ProjectClient
from tlsync.clients.uniconta.odata import Field
from tlsync.ledger import DONE, WRITABLE, ExactlyOnce, Landed, Ledger, LedgerEntry
from tlsync.ledger.domains import Domain
from tlsync.linking.store import linked_customers
from tlsync.settings.models import LegalEntitySettings
from tlsync.staging.read import Tenant, payloads, rows

log = logging.getLogger(__name__)

PROJECT_DOMAIN = Domain.PROJECT
BATCH_SIZE = 100


@dataclass
class ProjectResult:
    """What a project transfer did (counts) and what it knows afterwards."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    module: bool = True
    numbers: dict[int, str] = field(default_factory=dict)      # TimeLog project ID → Uniconta project Number
    failures: dict[int, str] = field(default_factory=dict)     # TimeLog project ID → reason
    messages: list[str] = field(default_factory=list)
    planned: list[dict] = field(default_factory=list)          # dry run: the writes it would make

    def counts(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "failed": self.failed}


def no_module_message(le: LegalEntitySettings) -> str:
    return (f"{le.label}: the Uniconta company has no project module, so projects are not transferred and "
            f"invoices travel without project references (rule T3)")


def has_project_module(engine: Engine, le: LegalEntitySettings) -> bool:
    """Rule T3: judged from the staged company record (``CompanyClient.ProjectModule``), else from staged project
    groups/categories (a company without the module has none)."""
    from tlsync.settings.checks import project_module

    company = str(le.uniconta_company_id)
    for row in rows(engine, "uniconta.companies", None, [company]):
        flag = row.payload.get("ProjectModule")
        if flag is not None:
            return bool(flag)
    return project_module(engine, int(company))


def staged_projects(engine: Engine, legal_entity_id: int, ids: Iterable[int] | None = None) -> dict[int, dict]:
    """The legal entity's staged TimeLog projects (site-level tenants, :meth:`Tenant.site_only`) by ID."""
    wanted = None if ids is None else [int(i) for i in ids]
    out = {}
    for row in rows(engine, "timelog.projects", Tenant.site_only(), wanted):
        le = row.payload.get("LegalEntityID")
        if le not in (None, "") and int(le) != int(legal_entity_id):
            continue
        out[int(row.key)] = row.payload
    return out


def staged_uniconta_projects(engine: Engine, company_id: int | str) -> dict[str, dict]:
    """The company's Uniconta projects as the nightly sync staged them, by ``Number`` (the full records)."""
    return payloads(engine, "uniconta.projects", Tenant.company(company_id))


def _agrees(staged: dict, payload: dict) -> bool:
    """Whether Uniconta's record already holds every field tlsync owns with the value it would write."""
    for k, v in payload.items():
        have = staged.get(k)
        if k in ("StartDate", "EndDate"):
            have = _day(have)
        if str(have if have is not None else "").strip() != str(v).strip():
            return False
    return True


def _debtors(engine: Engine, legal_entity_id: int) -> dict[str, str]:
    """``{TimeLog customer id: debtor account}`` of the legal entity's linked customers (:mod:`tlsync.linking.store`,
    the one home of ``customer_links``)."""
    return linked_customers(engine, legal_entity_id)


def _day(value: Any) -> str | None:
    text = str(value or "")[:10]
    return text if len(text) == 10 and not text.startswith("0001") else None


def project_payload(project: dict, group: str, debtor: str | None) -> dict[str, Any]:
    """The ``ProjectClient`` fields tlsync owns for one TimeLog project (see the module docstring)."""
    out = {"Number": str(project.get("No") or "").strip(), "Name": (project.get("Name") or "").strip(),
           "Group": group, "Description": project.get("Description") or None, "Account": debtor,
           "StartDate": _day(project.get("ProjectStartDate")), "EndDate": _day(project.get("ProjectEndDate"))}
    return {k: v for k, v in out.items() if v not in (None, "")}


def _key(le: LegalEntitySettings, project_id: int) -> str:
    return f"{le.uniconta_company_id}/{project_id}"


def ensure_projects(client: Any, engine: Engine, le: LegalEntitySettings, project_ids: Iterable[int], *,
                    ledger: Ledger, dry_run: bool = False, module: bool | None = None) -> ProjectResult:
    """Make sure the given TimeLog projects exist in Uniconta (create the missing ones; never update here — an
    invoice needs the project to exist, not to be current). ``result.numbers`` maps each available project."""
    return _transfer(client, engine, le, ledger=ledger, ids=set(int(i) for i in project_ids), dry_run=dry_run,
                     update=False, module=module)


def transfer_projects(client: Any, engine: Engine, le: LegalEntitySettings, *, ledger: Ledger,
                      dry_run: bool = False) -> ProjectResult:
    """Rule T3 for a whole legal entity: create new projects, update changed ones, skip unchanged ones.
    Internal projects (TimeLog ``InternalProject``) are never invoiced and are left out."""
    return _transfer(client, engine, le, ledger=ledger, ids=None, dry_run=dry_run, update=True, module=None)


def _transfer(client: Any, engine: Engine, le: LegalEntitySettings, *, ledger: Ledger, ids: set[int] | None,
              dry_run: bool, update: bool, module: bool | None) -> ProjectResult:
    """Holds the legal entity's ``project`` write lease (re-entrant: the invoice transfer already holds it) so two
    writers never create the same project (:mod:`tlsync.ledger.lease`)."""
    if dry_run:
        return _transfer_leased(client, engine, le, ledger=ledger, ids=ids, dry_run=True, update=update,
                                module=module)
    from tlsync.ledger.lease import write_lease

    with write_lease(engine, le.legal_entity_id, (PROJECT_DOMAIN,), run_id=ledger.run_id, what="transferred"):
        return _transfer_leased(client, engine, le, ledger=ledger, ids=ids, dry_run=False, update=update,
                                module=module)


def _transfer_leased(client: Any, engine: Engine, le: LegalEntitySettings, *, ledger: Ledger, ids: set[int] | None,
                     dry_run: bool, update: bool, module: bool | None) -> ProjectResult:
    result = ProjectResult()
    if le.uniconta_company_id is None:
        raise ValueError(f"{le.label}: no Uniconta company chosen; projects cannot be transferred (rule S1)")
    result.module = has_project_module(engine, le) if module is None else module
    if not result.module:
        result.messages.append(no_module_message(le))
        return result
    if not dry_run:
        _recover(client, engine, ledger, le)       # what a crashed run left in flight, before planning
    projects = staged_projects(engine, le.legal_entity_id, ids)
    if ids is None:
        projects = {i: p for i, p in projects.items() if p.get("InternalProject") not in (True, "true", 1, "1")}
    staged_uc = staged_uniconta_projects(engine, le.uniconta_company_id)
    existing = set(staged_uc)
    entries = {e.source_key: e for e in ledger.entries(PROJECT_DOMAIN, le.legal_entity_id)} if projects else {}
    debtors = _debtors(engine, le.legal_entity_id)
    new: list[tuple[int, dict]] = []
    changed: list[tuple[int, dict]] = []
    for pid, project in sorted(projects.items()):
        number = str(project.get("No") or "").strip()
        if not number:
            result.failed += 1
            result.failures[pid] = (f"TimeLog project {pid} has no project number; it cannot become a Uniconta "
                                    "project (rule T3)")
            continue
        entry = entries.get(_key(le, pid))
        known = number in existing or (entry is not None and entry.state == DONE and entry.target_key == number)
        if known and not update:
            result.numbers[pid] = number
            result.unchanged += 1
            continue
        if le.project_group is None:
            result.failed += 1
            result.failures[pid] = (f"TimeLog project {number} is not in Uniconta and no project group is configured "
                                    f"for {le.label} (rule S7)")
            continue
        payload = project_payload(project, le.project_group, debtors.get(str(project.get("CustomerID"))))
        if known and entry is not None and entry.state == DONE and ledger.unchanged(
                PROJECT_DOMAIN, le.legal_entity_id, _key(le, pid), payload):
            result.numbers[pid] = number
            result.unchanged += 1
            continue
        if known and entry is None and number in staged_uc and _agrees(staged_uc[number], payload):
            if not dry_run:        # Uniconta already has it as tlsync would write it: adopt, no call
                _record(ledger, le, pid, payload, "adopt_project")
            result.numbers[pid] = number
            result.unchanged += 1
            continue
        (changed if known else new).append((pid, payload))
    if dry_run:
        result.planned = ([{"write": "insert ProjectClient", **p} for _, p in new]
                          + [{"write": "update ProjectClient", **p} for _, p in changed])
        result.numbers.update({pid: p["Number"] for pid, p in new + changed})
        return result
    for i in range(0, len(new), BATCH_SIZE):
        _insert(client, ledger, le, new[i:i + BATCH_SIZE], result)
    based = [(pid, payload, staged_uc[payload["Number"]]) for pid, payload in changed if payload["Number"] in staged_uc]
    for i in range(0, len(based), BATCH_SIZE):
        _update_batch(client, ledger, le, based[i:i + BATCH_SIZE], result)
    for pid, payload in changed:
        if payload["Number"] not in staged_uc:
            _update(client, ledger, le, pid, payload, result)
    return result


def _record(ledger: Ledger, le: LegalEntitySettings, pid: int, payload: dict, action: str) -> None:
    ledger.record_change(PROJECT_DOMAIN, le.legal_entity_id, _key(le, pid), action=action, written=payload,
                         target_key=payload["Number"])


def _protocol(client: Any, ledger: Ledger, le: LegalEntitySettings) -> ExactlyOnce:
    """The project domain of the one exactly-once protocol (:mod:`tlsync.ledger.protocol`). Keys: source key
    ``<company>/<TimeLog project ID>``, the project ``Number`` it is created under in the claim's details. Look-up:
    those numbers in Uniconta, one filtered read per 40. A claim without a number or for another company goes to
    review."""
    def find_landed(entries: Sequence[LedgerEntry]) -> dict[str, str | None]:
        targets = {e.source_key: str(e.details["target"]) for e in entries
                   if e.details.get("target") and e.source_key.startswith(f"{le.uniconta_company_id}/")}
        there = _present(client, sorted(set(targets.values())))
        return {k: (t if t in there else None) for k, t in targets.items()}

    return ExactlyOnce(ledger, PROJECT_DOMAIN, le.legal_entity_id, target="Uniconta", find_landed=find_landed)


def _recover(client: Any, engine: Engine, ledger: Ledger, le: LegalEntitySettings) -> None:
    """Creations a crashed run left ``in_flight``: found in Uniconta → ``done`` with the payload it was created
    from (so the next night sees it unchanged); not there → ``pending``, created again by this run."""
    protocol = _protocol(client, ledger, le)

    def settle(landed: dict[str, tuple[LedgerEntry, str]]) -> None:
        staged = staged_projects(engine, le.legal_entity_id, [int(k.split("/", 1)[1]) for k in landed])
        debtors = _debtors(engine, le.legal_entity_id) if le.project_group else {}
        written = {k: project_payload(staged[pid], le.project_group, debtors.get(str(staged[pid].get("CustomerID"))))
                   if (pid := int(k.split("/", 1)[1])) in staged and le.project_group else None for k in landed}
        protocol.complete_many([Landed(k, t, written=written[k]) for k, (_, t) in landed.items()], action="recover")

    protocol.recover(settle=settle)


def _insert(client: Any, ledger: Ledger, le: LegalEntitySettings, batch: list[tuple[int, dict]],
            result: ProjectResult) -> None:
    """Claim the batch, one InsertList, complete (:mod:`tlsync.ledger.protocol`); numbers Uniconta already has are
    adopted (one filtered read per 40). A project whose ledger entry is ``done`` under another number (renumbered in
    TimeLog, or deleted in Uniconta since) may be claimed again: it is created under its number now."""
    if not batch:
        return
    protocol = _protocol(client, ledger, le)
    claims = {_key(le, pid): {"company_id": le.uniconta_company_id, "target": p["Number"]} for pid, p in batch}
    claimed = set(protocol.claim_many(claims, action="claim_project", allow=(*WRITABLE, DONE)))
    for pid, p in batch:
        if _key(le, pid) not in claimed:
            result.failed += 1
            result.failures[pid] = f"project {p['Number']} is held by another writer or waits for review (rule T3)"
    try:
        _write(client, protocol, le, [(pid, p) for pid, p in batch if _key(le, pid) in claimed], result)
    except QuotaExceededError:
        protocol.release_many(claimed, reason="Uniconta's daily call quota is spent; tried again on the next run")
        raise


def _write(client: Any, protocol: ExactlyOnce, le: LegalEntitySettings, batch: list[tuple[int, dict]],
           result: ProjectResult, *, resend: int = 1) -> None:
    """One InsertList of claimed projects; a refusal splits the batch, a lost answer is settled by looking up."""
    if not batch:
        return
    keys = {_key(le, pid): p for pid, p in batch}
    try:
        stored = client.insert_list([ProjectClient(**p) for _, p in batch], batch_size=len(batch))
    except WriteOutcomeUnknownError:                 # look up before anything is sent again (issue 17)
        landed = protocol.settle(keys, action="create_project", settle=lambda found: protocol.complete_many(
            [Landed(k, t, written=keys[k]) for k, (_, t) in found.items()], action="create_project"))
        rest = [(pid, p) for pid, p in batch if _key(le, pid) in landed.released]
        again = set(protocol.claim_many({k: keys[k] for k in landed.released}, action="claim_project")) \
            if rest and resend else set()
        _write(client, protocol, le, [(pid, p) for pid, p in rest if _key(le, pid) in again], result, resend=0)
        for pid, p in batch:
            if _key(le, pid) in landed.landed:
                result.numbers[pid] = p["Number"]
                result.created += 1
        return
    except RecordRejectedError as exc:
        present = _present(client, [p["Number"] for _, p in batch])
        rest = [(pid, p) for pid, p in batch if p["Number"] not in present]
        protocol.complete_many([Landed(_key(le, pid), p["Number"], written=p) for pid, p in batch
                                if p["Number"] in present], action="adopt_project")
        for pid, p in batch:
            if p["Number"] in present:
                result.numbers[pid] = p["Number"]
                result.unchanged += 1
        if len(rest) == 1 and len(batch) == 1:       # the refusal is about this record itself
            pid, p = rest[0]
            result.failed += 1
            result.failures[pid] = f"Uniconta refused project {p['Number']}: {exc.message} (rule T3)"
            protocol.fail(_key(le, pid), result.failures[pid], action="create_project")
            return
        half = len(rest) // 2 if len(rest) == len(batch) else len(rest)
        _write(client, protocol, le, rest[:half], result)
        _write(client, protocol, le, rest[half:], result)
        return
    read_back: set[str] | None = None
    if isinstance(stored, Unverified):     # a 2xx answer without the stored records (InsertList's is not published)
        read_back = _present(client, [p["Number"] for _, p in batch])    # verify by reading back
    done: list[Landed] = []
    for pid, p in batch:
        if read_back is not None and p["Number"] not in read_back:
            result.failed += 1
            result.failures[pid] = (f"Uniconta answered the InsertList of project {p['Number']} without the stored "
                                    f"records and it was not found when read back; it is tried again next night "
                                    f"(rule T3)")
            protocol.fail(_key(le, pid), result.failures[pid], action="create_project")
            continue
        done.append(Landed(_key(le, pid), p["Number"], written=p))
        result.numbers[pid] = p["Number"]
        result.created += 1
    protocol.complete_many(done, action="create_project")


def _present(client: Any, numbers: list[str]) -> set[str]:
    found: set[str] = set()
    step = Field.MAX_OR_VALUES
    for i in range(0, len(numbers), step):
        found |= {p.Number for p in client.read(ProjectClient, filter=Field("Number").in_(numbers[i:i + step]))
                  if p.Number}
    return found


def _full_record(base: dict, payload: dict) -> ProjectClient:
    return ProjectClient.model_validate({**{k: v for k, v in base.items() if not k.startswith("_")}, **payload})


def _update_batch(client: Any, ledger: Ledger, le: LegalEntitySettings, batch: list[tuple[int, dict, dict]],
                  result: ProjectResult) -> None:
    """One ``UpdateList`` for up to 100 changed projects, each the staged record with tlsync's fields on top. A
    refused record (the server names it) fails alone and the rest is sent again; a refusal that names none splits
    the batch. Each project is recorded in the ledger only after its batch is stored."""
    if not batch:
        return
    records = [_full_record(base, payload) for _, payload, base in batch]
    try:
        client.update_list(records, batch_size=len(records))
    except QuotaExceededError:
        raise
    except RecordRejectedError as exc:
        bad = next((n for n, r in enumerate(records) if exc.record == r.describe()), None)
        if bad is None and len(batch) > 1:
            half = len(batch) // 2
            _update_batch(client, ledger, le, batch[:half], result)
            _update_batch(client, ledger, le, batch[half:], result)
            return
        pid, payload, _ = batch[bad or 0]
        if isinstance(exc, NotFoundError):      # gone since the nightly read: written as a new project
            _insert(client, ledger, le, [(pid, payload)], result)
        else:
            result.failed += 1
            result.failures[pid] = (f"Uniconta refused the update of project {payload['Number']}: {exc.message} "
                                    f"(rule T3)")
        _update_batch(client, ledger, le, batch[:bad or 0] + batch[(bad or 0) + 1:], result)
        return
    for pid, payload, _ in batch:
        _record(ledger, le, pid, payload, "update_project")
        result.numbers[pid] = payload["Number"]
        result.updated += 1


def _update(client: Any, ledger: Ledger, le: LegalEntitySettings, pid: int, payload: dict,
            result: ProjectResult, base: dict | None = None) -> None:
    """Update one project: the full object is the staged record (``base``, read by the nightly sync) with tlsync's
    fields on top; without a staged record it is read first."""
    try:
        if base is None:
            current = client.get_by(ProjectClient, "Number", payload["Number"])
            if not current:
                _insert(client, ledger, le, [(pid, payload)], result)
                return
            base = current[0].to_payload()
        client.update(_full_record(base, payload))
    except QuotaExceededError:
        raise
    except RecordRejectedError as exc:
        result.failed += 1
        result.failures[pid] = f"Uniconta refused the update of project {payload['Number']}: {exc.message} (rule T3)"
        return
    _record(ledger, le, pid, payload, "update_project")
    result.numbers[pid] = payload["Number"]
    result.updated += 1
