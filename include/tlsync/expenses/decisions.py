"""Apply an administrator's review decisions (rule U4): ``import`` with a chosen expense type and project,
``ignore``, or ``wait``.

A decision is recorded in the ledger first (``pending`` with ``details.decision``, or ``ignored`` with who chose
it), then the decided imports are written at once through the same claim/complete protocol as the nightly import
— so a decision survives a failed write (the next import run retries it) and is in the audit trail.
"""

from __future__ import annotations

from datetime import datetime

from tlsync.ledger import FAILED, IGNORED, PENDING, REVIEW

from .excel import Decision
from .importer import DOMAIN, ExpenseImport, RunResult

DECIDABLE = (REVIEW, FAILED, PENDING)   # never a write under way (in_flight)


def apply_decisions(imp: ExpenseImport, decisions: list[Decision], *, actor: str, dry_run: bool = False) -> RunResult:
    """Record and carry out ``decisions`` (already checked by :func:`~.excel.read_decisions`)."""
    ledger, le_id = imp.ledger, imp.le_id
    result = RunResult()
    to_write: set[str] = set()
    for d in decisions:
        entry = ledger.get(DOMAIN, le_id, d.posting_key)
        label = ((entry.reason or "").split(": ", 1)[0] if entry and entry.reason else f"posting {d.posting_key}")
        if d.action == "wait":
            continue
        if d.action == "ignore":
            reason = f"{label}: ignored by {actor} in the review (rule U4)"
            result.add("ignored", f"{'would ignore' if dry_run else 'ignored'}: {reason}")
            if not dry_run:
                ledger.transition(DOMAIN, le_id, d.posting_key, IGNORED, action="decide", reason=reason,
                                  expect=DECIDABLE, after={"decision": "ignore", "by": actor})
            continue
        decision = {"action": "import", "expense_type_id": d.expense_type_id, "project_id": d.project_id,
                    "project_no": d.project_no, "by": actor, "at": datetime.now().replace(microsecond=0)}
        if dry_run:
            t = imp.ref.usable_type(d.expense_type_id) if d.expense_type_id is not None else None
            result.add("imported", f"would import {label} with expense type {t.expense_type_name if t else '?'} "
                                   f"[{d.expense_type_id}] on project {d.project_no} [{d.project_id}]")
            continue
        details = dict(entry.details) if entry else {}
        details["decision"] = decision
        ledger.transition(DOMAIN, le_id, d.posting_key, PENDING, action="decide", reason=None, details=details,
                          expect=DECIDABLE, after=decision)
        to_write.add(d.posting_key)
    if to_write:
        written = imp.run(only=to_write)
        for k, v in written.counts.items():
            result.counts[k] += v
        result.lines.extend(written.lines)
    return result
