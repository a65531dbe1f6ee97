"""Carry out the plan: write TimeLog project expenses exactly once through the sync ledger (rule U4).

Ledger domain ``expense``, legal entity = the TimeLog legal entity, source key = the posting key
(``"<company>:<RowId>"``, see :mod:`.postings`). The write protocol is the ledger's: ``claim`` (committed
``in_flight``) → ``POST /v1/project-expense`` carrying the posting key as ``ExternalID`` → ``complete`` with the new
expense's ID (``done``) or ``fail`` with TimeLog's reason. A posting that is ``done`` or ``ignored`` is never
claimed again, so importing twice writes nothing the second time; one left ``in_flight`` by a crash is settled by
asking TimeLog for the marker (:meth:`ExpenseImport.settle_interrupted`), never by writing again blindly. That is
the one exactly-once protocol (:mod:`tlsync.ledger.protocol`); this module supplies its keys and its look-up
(:meth:`ExpenseImport.protocol`).

The ledger entry's ``details`` keep the posting (amounts as text), the expense type and project chosen, the
currency and rate sent, and how it was decided — what :func:`~.report.imported_expenses` gives the finance report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from tlsync.clients.errors import RecordRejectedError, SyncAPIError, WriteOutcomeUnknownError
from tlsync.clients.timelog.models import ProjectExpense, ProjectExpenseCreate
from tlsync.clients.timelog.rest import RestClient
from tlsync.ledger import FAILED, IGNORED, IN_FLIGHT, PENDING, REVIEW, ExactlyOnce, Ledger, LedgerEntry
from tlsync.ledger.domains import Domain
from tlsync.settings.models import LegalEntitySettings

from .plan import IGNORE, INTERRUPTED, REVIEW_, UNCHANGED, WRITE, Action, interrupted_reason, plan
from .postings import SupplierPosting, staged_postings
from .reference import ExpenseReference

DOMAIN = Domain.EXPENSE
COUNT_KEYS = ("imported", "review", "ignored", "unchanged", "failed")


@dataclass
class RunResult:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_KEYS, 0))
    lines: list[str] = field(default_factory=list)

    def add(self, what: str, line: str | None = None) -> None:
        self.counts[what] += 1
        if line:
            self.lines.append(line)


def expense_body(a: Action, currency: str, rate: Decimal | None) -> ProjectExpenseCreate:
    """The official mapping (``timelog-uniconta-mapping.md``, "Expenses"): amount incl. VAT = ``Amount +
    AmountVat``, VAT = ``AmountVat``, purchase date, currency of the Uniconta company with TimeLog's rate for it,
    comment = ``JournalPostedComment`` (the posting text when the journal had no comment). Beyond the mapping:
    the project (when known), the supplier's invoice number and the posting key as ``ExternalID``."""
    p = a.posting
    assert a.expense_type is not None and a.project is not None
    return ProjectExpenseCreate(
        project_id=a.project.id, expense_type_id=a.expense_type.expense_type_id,
        purchase_date=datetime.combine(p.purchase_date, time()),
        amount_including_vat_expense_currency=p.amount_incl_vat, vat_amount_expense_currency=p.vat,
        expense_currency_iso=currency, project_expense_exchange_rate=rate, external_id=p.key,
        supplier_invoice_no=p.invoice or None, comment=(p.comment or p.text or None))


def _details(a: Action, *, currency: str | None = None, rate: Decimal | None = None) -> dict:
    d: dict = {"posting": a.posting.snapshot(), "codes": a.codes}
    if a.entry is not None and a.entry.details.get("decision"):
        d["decision"] = a.entry.details["decision"]
    if a.decision:
        d["decision"] = a.decision
    if a.expense_type is not None:
        d["expense_type_id"] = a.expense_type.expense_type_id
        d["expense_type_name"] = a.expense_type.expense_type_name
    if a.project is not None:
        d["project_id"] = a.project.id
        d["project_no"] = a.project.no
        d["project_name"] = a.project.name
    if a.reversal_of:
        d["reversal_of"] = a.reversal_of
    if currency:
        d["currency"] = currency
        d["exchange_rate"] = None if rate is None else str(rate)
    return d


def _review(e: LedgerEntry) -> tuple[str, Any]:
    """Review reason and details of an interrupted write with nothing to look it up by (the protocol's rule)."""
    posting = (e.details or {}).get("posting") or {}
    label = (f"posting {e.source_key} (voucher {posting.get('voucher')}, {posting.get('date')}, account "
             f"{posting.get('account')})") if posting else f"posting {e.source_key}"
    return interrupted_reason(label, e.source_key), {**(e.details or {}), "codes": [INTERRUPTED]}


class ExpenseImport:
    """The import of one legal entity: staged postings + reference data, the ledger and the TimeLog REST client."""

    def __init__(self, engine: Engine, le: LegalEntitySettings, timelog_rest: RestClient | None, *, ledger: Ledger,
                 ref: ExpenseReference | None = None, postings: list[SupplierPosting] | None = None) -> None:
        self.engine, self.le, self.rest, self.ledger = engine, le, timelog_rest, ledger
        self.ref = ref or ExpenseReference.from_staging(engine, le)
        self.postings = postings if postings is not None else staged_postings(engine, le)
        self._rates: dict[str, Decimal] | None = None

    @property
    def le_id(self) -> int:
        return self.le.legal_entity_id

    def plan(self, *, since: date | None = None, only: set[str] | None = None) -> list[Action]:
        return plan(self.postings, self.ledger.by_key(DOMAIN, self.le_id), self.ref, since=since, only=only)

    def rate(self, currency: str) -> Decimal | None:
        """TimeLog's current rate (per 100) of ``currency``, read once per run; ``None`` if TimeLog lacks it
        (TimeLog then refuses the expense with its own reason, which the ledger keeps)."""
        if self._rates is None:
            if self.rest is None:
                raise RuntimeError("the TimeLog REST client is needed to write expenses")
            self._rates = {(c.currency_abb or "").upper(): c.current_rate for c in self.rest.currencies()
                           if c.currency_abb and c.current_rate is not None}
        return self._rates.get(currency.upper())

    def protocol(self) -> ExactlyOnce:
        """The expense domain of the one exactly-once protocol (:mod:`tlsync.ledger.protocol`). Keys: the posting
        key, sent as the expense's ``ExternalID``; the TimeLog project it was sent to in the claim's details. Look-up:
        the project's expenses (one list per project), by ``ExternalID``. A claim without a project cannot be looked
        up: it goes to review (:data:`~.plan.INTERRUPTED`: a person looks in TimeLog)."""
        return ExactlyOnce(self.ledger, DOMAIN, self.le_id, target="TimeLog", find_landed=self._find_landed,
                           review=_review, released="the interrupted write never landed in TimeLog; written again")

    def _find_landed(self, entries: Sequence[LedgerEntry]) -> dict[str, str | None]:
        if self.rest is None:
            raise RuntimeError("the TimeLog REST client is needed to settle interrupted writes")
        out: dict[str, str | None] = {}
        by_project: dict[int, dict[str, ProjectExpense]] = {}
        for e in entries:
            project_id = (e.details or {}).get("project_id")
            if not project_id:
                continue                                   # nothing to look in: review
            if int(project_id) not in by_project:
                by_project[int(project_id)] = {x.external_id: x for x in self.rest.project_expenses(int(project_id))
                                               if x.external_id}
            found = by_project[int(project_id)].get(e.source_key)
            out[e.source_key] = None if found is None else str(found.project_expense_id)
        return out

    def settle_interrupted(self, result: RunResult) -> None:
        """Writes a dead run claimed and never finished: every ``in_flight`` claim of the legal entity — the import
        holds the ``expense`` write lease, so no live writer has one (no age cut-off, issue 17). Asks TimeLog whether
        each expense landed and completes it (found) or releases it to be written now (not found); a claim with no
        project to look in goes to the review list. If TimeLog cannot be asked, nothing is moved: the claims stay
        ``in_flight`` (the plan leaves them alone) and the next run asks again — never written again blindly."""
        try:
            got = self.protocol().recover()
        except SyncAPIError as exc:
            result.lines.append(f"could not ask TimeLog about interrupted writes ({exc.message}); they stay in flight "
                                f"and the next run asks again (rule U4)")
            return
        for key, target in got.landed.items():
            result.lines.append(f"recovered: posting {key} had landed in TimeLog as expense {target} before the "
                                f"earlier run died")
        for reason in got.review.values():
            result.lines.append(f"waits for review: {reason}")

    def run(self, *, since: date | None = None, dry_run: bool = False, only: set[str] | None = None) -> RunResult:
        """Plan and write (or, ``dry_run``, only plan). Writing holds the legal entity's ``expense`` write lease
        (:mod:`tlsync.ledger.lease`; re-entrant under :func:`import_expenses`): a second importer — the DAG, the
        CLI — stops with one line (:class:`~tlsync.ledger.lease.LeaseHeld`) instead of writing the same postings."""
        if dry_run:
            return self._run(since=since, dry_run=True, only=only)
        from tlsync.ledger.lease import write_lease

        with write_lease(self.engine, self.le_id, (DOMAIN,), run_id=self.ledger.run_id, what="imported"):
            return self._run(since=since, dry_run=False, only=only)

    def _run(self, *, since: date | None, dry_run: bool, only: set[str] | None) -> RunResult:
        result = RunResult()
        if not dry_run:
            self.settle_interrupted(result)
        for a in self.plan(since=since, only=only):
            if a.kind == UNCHANGED:
                result.add("unchanged")
            elif a.kind == REVIEW_:
                self._review(a, dry_run, result)
            elif a.kind == IGNORE:
                self._ignore(a, dry_run, result)
            elif a.kind == WRITE:
                self._write(a, dry_run, result)
        return result

    # -- the moves -------------------------------------------------------------------------------------------

    def _review(self, a: Action, dry_run: bool, result: RunResult) -> None:
        e = a.entry
        same = e is not None and e.state == REVIEW and e.reason == a.reason
        result.add("review", None if same else f"{'would wait' if dry_run else 'waits'} for review: {a.reason}")
        if dry_run or same:
            return
        self.ledger.transition(DOMAIN, self.le_id, a.posting.key, REVIEW, action="review", reason=a.reason,
                               details=_details(a, currency=self.ref.company_currency),
                               before=e.state if e else None, expect=(None, REVIEW, PENDING, FAILED, IN_FLIGHT))

    def _ignore(self, a: Action, dry_run: bool, result: RunResult) -> None:
        result.add("ignored", f"{'would ignore' if dry_run else 'ignored'}: {a.reason}")
        if dry_run:
            return
        self.ledger.transition(DOMAIN, self.le_id, a.posting.key, IGNORED, action="ignore", reason=a.reason,
                               details=_details(a, currency=self.ref.company_currency),
                               expect=(None, REVIEW, PENDING, FAILED))

    def _write(self, a: Action, dry_run: bool, result: RunResult) -> None:
        p = a.posting
        currency = self.ref.company_currency
        if dry_run:
            result.add("imported", "would " + a.describe())
            return
        rate = self.rate(currency)                # needs the REST client (raises without one)
        rest = self.rest
        assert rest is not None
        body = expense_body(a, currency, rate)
        details = _details(a, currency=currency, rate=rate)
        protocol = self.protocol()
        claimed = protocol.claim(p.key, action="import", details=details, allow=(PENDING, FAILED, REVIEW))
        if claimed is None:                      # another run has it, or it was finished meanwhile
            result.add("unchanged")
            return
        try:
            created = rest.create_project_expense(body)
        except RecordRejectedError as exc:
            reason = f"{p.label}: TimeLog refused the expense: {exc.message} (rule U4)"
            protocol.fail(p.key, reason, action="import")
            result.add("failed", f"FAILED: {reason}")
            return
        except WriteOutcomeUnknownError as exc:  # sent, answer lost, and TimeLog could not be asked: it stays
            reason = (f"{p.label}: {exc.message}; the next run looks for external ID {p.key} before writing "
                      f"anything (rule U4)")     # in_flight — settled by the next run's look-up, never re-sent
            result.add("failed", f"FAILED: {reason}")
            return
        except SyncAPIError as exc:              # not refused, just not reachable now: try again next run
            reason = f"{p.label}: TimeLog could not be reached ({exc.message}); retried next run (rule U4)"
            protocol.release_many([p.key], reason=reason, action="import")
            result.add("failed", f"FAILED: {reason}")
            return
        target = created.project_expense_id if created is not None else None
        protocol.complete(p.key, None if target is None else str(target), written=body.to_api(), action="import")
        result.add("imported", a.describe() + (f" → TimeLog expense {target}" if target is not None else ""))


def import_expenses(engine: Engine, le: LegalEntitySettings, timelog_rest: RestClient, *, ledger: Ledger,
                    since: date | None = None, dry_run: bool = False) -> dict:
    """Import one legal entity's supplier postings (rules U4, S6) as TimeLog project expenses.

    Returns ``{"imported", "review", "ignored", "unchanged", "failed"}``: postings written now, waiting for a
    person (new or still), ignored now (reversal pairs, see :mod:`.plan`), already done or ignored before, and
    refused or unreachable now (kept with the reason; retried next run). ``dry_run`` writes nothing anywhere —
    neither TimeLog nor the ledger — and counts what would happen. Nothing happens without S6 accounts."""
    if dry_run:
        return dict(ExpenseImport(engine, le, timelog_rest, ledger=ledger).run(since=since, dry_run=True).counts)
    from tlsync.ledger.lease import write_lease

    # one importer per legal entity at a time (the lease): every in-flight claim it finds belongs to a writer that
    # is gone, so it is settled now, whatever its age (issue 17)
    with write_lease(engine, le.legal_entity_id, (DOMAIN,), run_id=ledger.run_id, what="imported"):
        run = ExpenseImport(engine, le, timelog_rest, ledger=ledger).run(since=since, dry_run=False)
    return dict(run.counts)


def summarise(counts: dict) -> str:
    c = Counter(counts)
    return (f"{c['imported']} imported, {c['review']} waiting for review, {c['ignored']} ignored, "
            f"{c['unchanged']} unchanged, {c['failed']} failed")
