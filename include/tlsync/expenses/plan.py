"""Decide, without writing anything, what happens to each supplier posting (rule U4).

One :class:`Action` per posting: ``write`` (create the TimeLog project expense), ``review`` (wait for a person,
with the reason), ``ignore`` (never import, with the reason) or ``unchanged`` (already imported or ignored: nothing
to do — this is what makes a second import a no-op).

The review reasons (``codes``), each with a sentence that names the posting and the rule:

``no_type``          no active TimeLog expense type carries the posting's account number
``several_types``    more than one does (the automatic choice would be a guess)
``unknown_project``  the posting carries a Uniconta project that is not a TimeLog project of the legal entity
``no_project``       the posting carries no project: TimeLog's REST API cannot store an expense without one, so
                     the administrator chooses it (TimeLog's own import leaves it to the administrator too)
``interrupted``      a previous run claimed the write and never finished, and TimeLog could not be asked whether
                     it landed (see :meth:`~.importer.ExpenseImport.settle_interrupted`); never written blindly
``reversal``         a reversal whose original cannot be netted automatically (see below)

**Reversals** (a counter-posting that cancels an earlier one, :func:`~.postings.pair_reversals`):

- original not imported (new, waiting in review, failed, ignored): *both are ignored*, with reasons naming each
  other — nothing reaches TimeLog, and the review list does not ask about a posting that no longer exists in
  effect;
- original already imported: the reversal is *imported as a negative expense* on the original's expense type and
  project, so TimeLog nets to zero exactly as Uniconta does and the audit trail shows both;
- original imported by TimeLog's own integration, or its write interrupted: the reversal waits in review.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TypeGuard

from tlsync.clients.timelog.models import ExpenseType, Project
from tlsync.ledger import DONE, ELSEWHERE, FAILED, IGNORED, IN_FLIGHT, PENDING, REVIEW, LedgerEntry

from .postings import SupplierPosting, pair_reversals
from .reference import ExpenseReference

NO_TYPE, SEVERAL_TYPES, UNKNOWN_PROJECT, NO_PROJECT = "no_type", "several_types", "unknown_project", "no_project"
INTERRUPTED, REVERSAL = "interrupted", "reversal"
FINAL = (DONE, IGNORED, ELSEWHERE)

WRITE, REVIEW_, IGNORE, UNCHANGED = "write", "review", "ignore", "unchanged"


@dataclass
class Action:
    kind: str                                   # write | review | ignore | unchanged
    posting: SupplierPosting
    entry: LedgerEntry | None = None            # the ledger's current entry, if any
    expense_type: ExpenseType | None = None
    project: Project | None = None
    codes: list[str] = field(default_factory=list)
    reason: str | None = None
    reversal_of: str | None = None
    decision: dict | None = None

    def describe(self) -> str:
        p = self.posting
        if self.kind == WRITE:
            what = "reversal of " + self.reversal_of + ", " if self.reversal_of else ""
            t = self.expense_type
            pr = self.project
            return (f"import {p.label} as a TimeLog expense ({what}type {t.expense_type_name if t else '?'} "
                    f"[{t.expense_type_id if t else '?'}], project {pr.no if pr else '?'} [{pr.id if pr else '?'}])")
        if self.kind == UNCHANGED:
            return f"unchanged: {p.label} is {self.entry.state if self.entry else '?'}"
        return f"{self.kind}: {self.reason}"


def _reason(p: SupplierPosting, problems: list[str]) -> str:
    return f"{p.label}: " + "; ".join(problems) + " (rule U4)"


def _type_names(types: list[ExpenseType]) -> str:
    return ", ".join(f"{t.expense_type_name or '?'} [{t.expense_type_id}]" for t in types)


def classify(p: SupplierPosting, entry: LedgerEntry | None, ref: ExpenseReference) -> Action:
    """The automatic decision for a posting on its own (not part of a reversal pair)."""
    codes: list[str] = []
    problems: list[str] = []
    types = ref.types_for_account(p.account)
    etype = types[0] if len(types) == 1 else None
    if not types:
        codes.append(NO_TYPE)
        problems.append(f"no active TimeLog expense type carries account number {p.account}; choose the expense "
                        f"type")
    elif len(types) > 1:
        codes.append(SEVERAL_TYPES)
        problems.append(f"several TimeLog expense types carry account number {p.account} ({_type_names(types)}); "
                        f"choose one")
    project = None
    if p.project:
        project, why = ref.project_by_number(p.project)
        if project is None:
            codes.append(UNKNOWN_PROJECT)
            problems.append(f"{why}; choose the TimeLog project")
    else:
        codes.append(NO_PROJECT)
        problems.append("the posting carries no Uniconta project; choose the TimeLog project (TimeLog stores no "
                        "expense without one)")
    if problems:
        return Action(REVIEW_, p, entry, etype, project, codes, _reason(p, problems))
    return Action(WRITE, p, entry, etype, project)


def _decided(p: SupplierPosting, entry: LedgerEntry, ref: ExpenseReference) -> Action:
    """A posting an administrator decided on (``pending`` with ``details.decision``)."""
    d = entry.details.get("decision") or {}
    etype = ref.usable_type(int(d.get("expense_type_id") or 0))
    project = ref.projects_by_id.get(int(d.get("project_id") or 0))
    rev = entry.details.get("reversal_of")
    if etype is None or project is None:
        missing = []
        if etype is None:
            missing.append(f"the chosen expense type {d.get('expense_type_id')} is no longer an active TimeLog "
                           f"expense type")
        if project is None:
            missing.append(f"the chosen TimeLog project {d.get('project_id')} no longer exists")
        return Action(REVIEW_, p, entry, etype, project, ["decision"], _reason(p, missing), reversal_of=rev)
    return Action(WRITE, p, entry, etype, project, reversal_of=rev, decision=d)


def _interrupted(entry: LedgerEntry | None) -> TypeGuard[LedgerEntry]:
    return entry is not None and entry.state == REVIEW and INTERRUPTED in (entry.details.get("codes") or [])


def _single(p: SupplierPosting, entry: LedgerEntry | None, ref: ExpenseReference) -> Action:
    if entry is not None and entry.state in FINAL:
        return Action(UNCHANGED, p, entry)
    if entry is not None and entry.state == IN_FLIGHT:
        return Action(UNCHANGED, p, entry)     # being written; a stale claim is settled by the importer first
    if _interrupted(entry):                    # waits until a person has looked in TimeLog: never re-classified
        return Action(REVIEW_, p, entry, codes=[INTERRUPTED], reason=entry.reason)
    if entry is not None and entry.state in (PENDING, FAILED) and entry.details.get("decision"):
        return _decided(p, entry, ref)
    return classify(p, entry, ref)


def _pair(o: SupplierPosting, r: SupplierPosting, eo: LedgerEntry | None, er: LedgerEntry | None,
          ref: ExpenseReference) -> list[Action]:
    if er is not None and (er.state in FINAL or er.state == IN_FLIGHT or _interrupted(er) or
                           (er.state == PENDING and er.details.get("decision"))):
        first = Action(UNCHANGED, o, eo) if eo is not None and eo.state in FINAL else _single(o, eo, ref)
        return [first, _single(r, er, ref)]
    if eo is not None and eo.state == DONE:
        etype = ref.types.get(int(eo.details.get("expense_type_id") or 0))
        project = ref.projects_by_id.get(int(eo.details.get("project_id") or 0))
        if etype is not None and project is not None:
            return [Action(UNCHANGED, o, eo), Action(WRITE, r, er, etype, project, reversal_of=o.key)]
        return [Action(UNCHANGED, o, eo), Action(REVIEW_, r, er, codes=[REVERSAL], reversal_of=o.key, reason=_reason(
            r, [f"it reverses {o.key}, which was imported, but that expense's type or project is no longer in "
                f"TimeLog; choose them for the negative expense"]))]
    if eo is not None and (eo.state in (ELSEWHERE, IN_FLIGHT) or _interrupted(eo)):
        how = ("was imported by TimeLog's own integration" if eo.state == ELSEWHERE
               else "is being written or its write was interrupted")
        return [_single(o, eo, ref), Action(REVIEW_, r, er, codes=[REVERSAL], reversal_of=o.key, reason=_reason(
            r, [f"it reverses {o.key}, which {how}; decide whether to import it as a negative expense"]))]
    out = []
    if eo is not None and eo.state == IGNORED:
        out.append(Action(UNCHANGED, o, eo))
    else:
        out.append(Action(IGNORE, o, eo, reason=_reason(o, [f"reversed by {r.key} (voucher {r.voucher}, "
                                                             f"{r.date.isoformat()}) before it was imported"])))
    out.append(Action(IGNORE, r, er, reversal_of=o.key, reason=_reason(
        r, [f"it reverses {o.key} (voucher {o.voucher}), which was not imported into TimeLog"])))
    return out


def plan(postings: list[SupplierPosting], entries: dict[str, LedgerEntry], ref: ExpenseReference, *,
         since: date | None = None, only: set[str] | None = None) -> list[Action]:
    """Every posting dated ``since`` or later (and in ``only``, if given) gets one action; a reversal pair is
    decided together when its later posting is in scope, whatever the original's date."""
    by_key = {p.key: p for p in postings}
    pairs = pair_reversals(postings)
    originals = set(pairs.values())
    out: list[Action] = []
    for p in postings:
        if p.key in originals:
            continue                     # decided with its reversal (which is never earlier)
        if since is not None and p.date < since:
            continue
        if p.key in pairs:
            o = by_key[pairs[p.key]]
            acts = _pair(o, p, entries.get(o.key), entries.get(p.key), ref)
        else:
            acts = [_single(p, entries.get(p.key), ref)]
        out.extend(a for a in acts if only is None or a.posting.key in only)
    return out


def interrupted_reason(p_label: str, key: str) -> str:
    return (f"{p_label}: an earlier run started writing it to TimeLog and did not finish; look in TimeLog for an "
            f"expense with external ID {key}: if it is there choose ignore, otherwise choose import (rule U4)")
