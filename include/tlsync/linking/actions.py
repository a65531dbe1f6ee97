"""The four linking actions of rule L3, each idempotent and audited in the sync ledger.

1. **link, TimeLog data wins** — non-empty TimeLog fields overwrite the Uniconta debtor (``UnicontaClient.update``
   of the freshly read debtor, so fields tlsync does not map are kept); a batch of such links (:meth:`Linker.apply_all`)
   reads its debtors in bulk and writes them with ``UpdateList`` (:mod:`.batch`, issue 13);
2. **link, Uniconta data wins** — non-empty Uniconta fields overwrite the TimeLog customer
   (``RestClient.update_customer`` with the full prior state from the staged Reporting record);
3. **import** — a new TimeLog customer from the debtor (``RestClient.create_customer``), then linked; exactly once
   (``Ledger.claim`` → create → done; a crash in between is resolved by looking the customer up by its number);
4. **ignore / un-ignore** — the debtor moves to the Ignored view and back.

Ledger: domain ``customer_link``, key = (legal entity, debtor account), with the values before and after. The link
itself is the row of ``customer_links``, committed in the same transaction as its ledger event. An action whose
outcome is already in place writes nothing, records nothing and makes no API call (the clients are opened lazily).

Field mapping (which field wins, empty never overwrites) is :mod:`tlsync.customers.mapping`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from tlsync.ledger import DONE, FAILED, IGNORED, IN_FLIGHT, PENDING, Ledger, content_hash

from . import store
from .batch import BATCH_SIZE, link_timelog_all
from .decisions import TIMELOG, UNICONTA, Decision, LinkError, LinkPlan, Outcome
from .numbers import DOMAIN, number_advice
from .store import LINKED, Link

LINK_ACTIONS = {TIMELOG: "timelog_wins", UNICONTA: "uniconta_wins"}
IMPORTED = "imported"


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


def _name(record: dict | None) -> str | None:
    return None if record is None else record.get("Name")


class Linker:
    """Applies L3 actions for one legal entity ↔ Uniconta company (rule S2).

    ``targets``: a :class:`~tlsync.linking.targets.Targets` (lazy clients); only needed by actions that write.
    """

    def __init__(self, engine: Engine, legal_entity_id: int, company_id: int, *, targets: Any = None,
                 run_id: str | None = None, actor: str = "tlsync-linking") -> None:
        self.engine = engine
        self.legal_entity_id = int(legal_entity_id)
        self.company_id = int(company_id)
        self.targets = targets
        self.actor = actor
        self.run_id = run_id
        self.ledger = Ledger(engine, run_id=run_id, actor=actor)

    # -- the dispatcher --------------------------------------------------------------------------------------

    def apply(self, decision: Decision) -> Outcome:
        if decision.action == "link-timelog":
            return self.link(decision.debtor_account, decision.customer_id, wins=TIMELOG)
        if decision.action == "link-uniconta":
            return self.link(decision.debtor_account, decision.customer_id, wins=UNICONTA)
        if decision.action == "import":
            return self.import_customer(decision.debtor_account)
        if decision.action == "ignore":
            return self.ignore(decision.debtor_account)
        return self.unignore(decision.debtor_account)

    def apply_all(self, decisions: Iterable[Decision], *, refresh: bool = True) -> list[Outcome]:
        """Apply a batch in order, then recompute the suggestions once (rule L5).

        A decision refused on its own merits (:class:`LinkError`, or the API rejecting that record) becomes an
        :class:`Outcome` with ``error`` set and the batch goes on — the other debtors do not depend on it. Anything
        else (connection, authentication, quota) stops the batch and is re-raised, after the refresh, so what was
        applied shows in the views."""
        out: list[Outcome] = []
        run: list[Decision] = []      # consecutive L3.1 links of distinct debtors and customers: written together

        def flush() -> None:
            if run:
                out.extend(link_timelog_all(self, run) if len(run) > 1 else [self._apply_one(run[0])])
                run.clear()

        try:
            for d in decisions:
                if d.action == "link-timelog":
                    if any(r.debtor_account == d.debtor_account or str(r.customer_id) == str(d.customer_id)
                           for r in run):
                        flush()
                    run.append(d)
                    if len(run) >= 10 * BATCH_SIZE:
                        flush()
                    continue
                flush()
                out.append(self._apply_one(d))
            flush()
        finally:
            if refresh and out:
                self.refresh()
        return out

    def _apply_one(self, d: Decision) -> Outcome:
        from tlsync.clients.errors import RecordRejectedError

        try:
            return self.apply(d)
        except (LinkError, RecordRejectedError) as exc:
            return Outcome(d, False, f"debtor {d.debtor_account}: refused: {exc}", error=str(exc))

    def refresh(self) -> dict[str, int]:
        from tlsync.matching.refresh import refresh_suggestions

        return refresh_suggestions(self.engine, [self.company_id])[self.company_id]

    # -- shared checks ---------------------------------------------------------------------------------------

    def require_targets(self) -> Any:
        """The write targets; a :class:`LinkError` when none were given."""
        return self._targets()

    def _targets(self) -> Any:
        if self.targets is None:
            raise LinkError(f"legal entity {self.legal_entity_id}: this action writes to TimeLog or Uniconta, but no "
                            f"connections were given (Linker(targets=Targets(...)))")
        return self.targets

    def _debtor(self, account: str) -> dict:
        debtor = store.staged_debtor(self.engine, self.company_id, account)
        if debtor is None:
            raise LinkError(f"debtor {account} is not among the staged debtors of Uniconta company {self.company_id} "
                            f"(legal entity {self.legal_entity_id}); check the account, or run the nightly sync "
                            f"first (rule L1)")
        return debtor

    def _customer(self, customer_id: str) -> dict:
        customer = store.staged_customer(self.engine, str(customer_id))
        if customer is None:
            raise LinkError(f"TimeLog customer {customer_id} is not among the staged TimeLog customers; check the id, "
                            f"or run the nightly sync first (rule L1)")
        return customer

    def _check_link_allowed(self, account: str, customer_id: str, existing: Link | None) -> None:
        with self.engine.connect() as conn:
            other = store.debtor_linked_to(conn, self.legal_entity_id, customer_id)
        if other is not None and other != account:
            raise LinkError(f"TimeLog customer {customer_id} is already linked to debtor {other} in legal entity "
                            f"{self.legal_entity_id}; a customer can be linked to at most one debtor per legal "
                            f"entity (rule L3) — ignore debtor {other} first to move the link")
        if existing is not None and existing.state == LINKED and existing.customer_id != str(customer_id):
            raise LinkError(f"debtor {account} is already linked to TimeLog customer {existing.customer_id}; to link "
                            f"it to customer {customer_id} instead, ignore it first, then link it (rule L3)")
        entry = self.ledger.get(DOMAIN, self.legal_entity_id, account)
        if entry is not None and entry.state == IN_FLIGHT:
            raise LinkError(f"debtor {account}: an import is in progress or was interrupted; run the import again "
                            f"to finish it before linking (rule L3)")

    # -- 1 + 2: link -----------------------------------------------------------------------------------------

    def link(self, account: str, customer_id: str | int, *, wins: str) -> Outcome:
        """Link debtor ``account`` to TimeLog customer ``customer_id``; ``wins`` = ``"timelog"`` (L3.1) or
        ``"uniconta"`` (L3.2) says whose non-empty fields overwrite the other's."""
        plan = self.plan_link(account, customer_id, wins=wins)
        if isinstance(plan, Outcome):
            return plan
        before_values = self._write_debtor(plan.account, plan.customer, plan.changes) if wins == TIMELOG else \
            self._write_customer(plan.customer_id, plan.customer, plan.changes)
        return self.commit_link(plan, before_values)

    def plan_link(self, account: str, customer_id: str | int, *, wins: str) -> LinkPlan | Outcome:
        """The checks and the changes of a link, from staging (no API call): an :class:`Outcome` when there is
        nothing to do, else the :class:`LinkPlan` to write and then :meth:`commit_link`."""
        from tlsync.customers.mapping import customer_changes, debtor_changes

        if wins not in LINK_ACTIONS:
            raise LinkError(f"wins must be 'timelog' or 'uniconta', not {wins!r} (rule L3)")
        account, customer_id = str(account), str(customer_id)
        decision = Decision(f"link-{wins}", account, customer_id)
        debtor, customer = self._debtor(account), self._customer(customer_id)
        with self.engine.connect() as conn:
            existing = store.link_of(conn, self.legal_entity_id, account)
        self._check_link_allowed(account, customer_id, existing)
        action = LINK_ACTIONS[wins]
        changes = debtor_changes(customer, debtor) if wins == TIMELOG else customer_changes(debtor, customer)
        written = {"link": {"state": LINKED, "action": action, "customer_id": customer_id},
                   "debtor_name": _name(debtor), "customer_name": _name(customer),
                   "changes": {("uniconta" if wins == TIMELOG else "timelog"): changes}}
        already = (existing is not None and existing.state == LINKED and existing.action == action
                   and existing.customer_id == customer_id)
        if already and (not changes or self.ledger.unchanged(DOMAIN, self.legal_entity_id, account, written)):
            return Outcome(decision, False, f"debtor {account} is already linked to customer {customer_id} "
                                            f"({action}); nothing to do", customer_id)
        return LinkPlan(decision, account, customer_id, wins, customer, existing, changes, written)

    def commit_link(self, plan: LinkPlan, before_values: dict) -> Outcome:
        """Record the link (ledger event + ``customer_links`` row, one transaction) after its write."""
        action = LINK_ACTIONS[plan.wins]
        with self.engine.begin() as conn:
            self.ledger.record_change(DOMAIN, self.legal_entity_id, plan.account, action=f"link_{action}",
                                      written=plan.written,
                                      before={"link": plan.existing.as_dict() if plan.existing else None,
                                              "values": before_values},
                                      target_key=plan.customer_id, conn=conn)
            store.save_link(conn, legal_entity_id=self.legal_entity_id, company_id=self.company_id,
                            debtor_account=plan.account, customer_id=plan.customer_id, state=LINKED, action=action,
                            run_id=self.run_id, actor=self.actor, now=_now())
        side = "Uniconta debtor" if plan.wins == TIMELOG else "TimeLog customer"
        what = f"{len(plan.changes)} field(s) of the {side} updated" if plan.changes else "no field differed"
        return Outcome(plan.decision, True, f"debtor {plan.account} linked to customer {plan.customer_id} "
                                            f"({action}; {what})", plan.customer_id, plan.written)

    def _write_debtor(self, account: str, customer: dict, staged_changes: dict) -> dict:
        """L3.1: read the debtor as Uniconta holds it now (a full-replace update must not blank anything), apply the
        TimeLog values that still differ, write. Returns the values before."""
        if not staged_changes:
            return {}
        from tlsync.clients.uniconta.models import DebtorClient
        from tlsync.customers.mapping import debtor_changes

        client = self._targets().uniconta
        current = client.get_by(DebtorClient, "Account", account)
        if not current:
            raise LinkError(f"debtor {account} no longer exists in Uniconta company {self.company_id}; run the nightly "
                            f"sync and review again (rule L3)")
        debtor = current[0]
        changes = debtor_changes(customer, debtor)
        if changes:
            client.update(debtor.model_copy(update=changes))
        return {k: getattr(debtor, k, None) for k in changes}

    def _write_customer(self, customer_id: str, customer: dict, changes: dict) -> dict:
        """L3.2: read-modify-write of the TimeLog customer, the full prior state from the staged Reporting record
        (REST's read model has 8 fields; its PUT replaces all 33). Returns the values before."""
        if not changes:
            return {}
        from tlsync.clients.timelog.models import Customer, CustomerUpdate

        base = CustomerUpdate.from_reporting(Customer.model_validate(customer))
        self._targets().rest.update_customer(int(customer_id), changes, base=base)
        return {k: getattr(base, k, None) for k in changes}

    # -- 3: import -------------------------------------------------------------------------------------------

    def import_customer(self, account: str) -> Outcome:
        """L3.3: create a TimeLog customer from the debtor and link it — exactly once, also across a crash."""
        from tlsync.customers.mapping import new_customer

        account = str(account)
        decision = Decision("import", account)
        debtor = self._debtor(account)
        with self.engine.connect() as conn:
            existing = store.link_of(conn, self.legal_entity_id, account)
        entry = self.ledger.get(DOMAIN, self.legal_entity_id, account)
        if existing is not None and existing.state == LINKED:
            if existing.action == IMPORTED:
                return Outcome(decision, False, f"debtor {account} was already imported as TimeLog customer "
                                                f"{existing.customer_id}; nothing to do", existing.customer_id)
            raise LinkError(f"debtor {account} is already linked to TimeLog customer {existing.customer_id}; "
                            f"importing it would create a duplicate customer (rule L3)")
        created_before = entry.details.get("created_customer_id") if entry is not None else None
        if created_before and entry.state != IN_FLIGHT:
            # created earlier and since ignored, reset or interrupted after the ledger: link that customer again —
            # never a second TimeLog customer for one debtor
            return self._finish_import(account, debtor, str(created_before), entry.details.get("customer_no"),
                                       existing, recovered=True)
        if entry is not None and entry.state == IN_FLIGHT:
            number = entry.details.get("customer_no")
            found = self._find_by_number(number)
            if found is not None:
                return self._finish_import(account, debtor, found, number, existing, recovered=True)
            self.ledger.fail(DOMAIN, self.legal_entity_id, account, f"an interrupted import of customer no. {number} "
                             f"did not reach TimeLog; importing again", action="import_verify")
            entry = self.ledger.get(DOMAIN, self.legal_entity_id, account)
            number = number or self._customer_number(account)
        else:
            number = self._customer_number(account)
        allow = (PENDING, FAILED, IGNORED, DONE)
        claimed = self.ledger.claim(DOMAIN, self.legal_entity_id, account, action="import_claim",
                                    details={"action": "import", "customer_no": number}, allow=allow)
        if claimed is None:
            raise LinkError(f"debtor {account}: another import of this debtor is running right now; try again when "
                            f"it has finished (rule L3)")
        try:
            created = self._targets().rest.create_customer(new_customer(debtor, number))
        except Exception as exc:
            self.ledger.fail(DOMAIN, self.legal_entity_id, account, f"TimeLog refused the new customer: {exc}",
                             action="import")
            raise
        return self._finish_import(account, debtor, str(created.customer_id), number, existing)

    def _customer_number(self, account: str) -> str:
        """The debtor's account when TimeLog does not use it yet (the systems then share the number), else the
        next number free in both systems (rule L6)."""
        advice = number_advice(self.engine, self.company_id, self.legal_entity_id)
        return account if account not in advice.used else str(advice.next_free)

    def _find_by_number(self, number: str | None) -> str | None:
        if not number:
            return None
        found = [c for c in self._targets().rest.customers() if (c.no or "") == number]
        return str(max(c.customer_id for c in found)) if found else None

    def _finish_import(self, account: str, debtor: dict, customer_id: str, number: str, existing: Link | None,
                       *, recovered: bool = False) -> Outcome:
        written = {"link": {"state": LINKED, "action": IMPORTED, "customer_id": customer_id},
                   "customer_no": number, "debtor_name": _name(debtor)}
        with self.engine.begin() as conn:
            entry = self.ledger.get_in(conn, DOMAIN, self.legal_entity_id, account)
            if entry.state != DONE or entry.target_key != customer_id:
                self.ledger.transition(DOMAIN, self.legal_entity_id, account, DONE,
                                       action="import_relinked" if recovered else "import",
                                       target_key=customer_id, content_hash=content_hash(written),
                                       before={"link": existing.as_dict() if existing else None}, after=written,
                                       details={"action": "import", "customer_no": number,
                                                "created_customer_id": customer_id},
                                       expect=(IN_FLIGHT, DONE, IGNORED, PENDING, FAILED), conn=conn)
            store.save_link(conn, legal_entity_id=self.legal_entity_id, company_id=self.company_id,
                            debtor_account=account, customer_id=customer_id, state=LINKED, action=IMPORTED,
                            run_id=self.run_id, actor=self.actor, now=_now())
        how = "(created earlier) linked again" if recovered else "created and linked"
        return Outcome(Decision("import", account), True,
                       f"debtor {account} imported: TimeLog customer {customer_id} (no. {number}) {how}",
                       customer_id, written)

    # -- 4: ignore / un-ignore -------------------------------------------------------------------------------

    def ignore(self, account: str) -> Outcome:
        """L3.4: move the debtor to the Ignored view (a linked debtor is un-linked by this; the ledger keeps what
        the link was)."""
        account = str(account)
        decision = Decision("ignore", account)
        self._debtor(account)
        entry = self.ledger.get(DOMAIN, self.legal_entity_id, account)
        if entry is not None and entry.state == IN_FLIGHT:
            raise LinkError(f"debtor {account}: an import is in progress or was interrupted; run the import again to "
                            f"finish it before ignoring the debtor (rule L3)")
        with self.engine.begin() as conn:
            existing = store.link_of(conn, self.legal_entity_id, account)
            if existing is not None and existing.state == IGNORED:
                return Outcome(decision, False, f"debtor {account} is already ignored; nothing to do")
            after = {"link": {"state": IGNORED, "action": "ignored", "customer_id": None}}
            self.ledger.transition(DOMAIN, self.legal_entity_id, account, IGNORED, action="ignore",
                                   before={"link": existing.as_dict() if existing else None}, after=after,
                                   expect=(None, PENDING, DONE, FAILED, IGNORED), conn=conn)
            store.save_link(conn, legal_entity_id=self.legal_entity_id, company_id=self.company_id,
                            debtor_account=account, customer_id=None, state=IGNORED, action="ignored",
                            run_id=self.run_id, actor=self.actor, now=_now())
        return Outcome(decision, True, f"debtor {account} moved to Ignored", written=after)

    def unignore(self, account: str) -> Outcome:
        """Bring an ignored debtor back into the review (it is matched again at the refresh)."""
        account = str(account)
        decision = Decision("unignore", account)
        self._debtor(account)
        with self.engine.begin() as conn:
            existing = store.link_of(conn, self.legal_entity_id, account)
            if existing is None or existing.state != IGNORED:
                state = "linked" if existing else "not ignored"
                return Outcome(decision, False, f"debtor {account} is {state}; nothing to un-ignore")
            self.ledger.transition(DOMAIN, self.legal_entity_id, account, PENDING, action="unignore",
                                   before={"link": existing.as_dict()}, after={"link": None},
                                   expect=(IGNORED, None), conn=conn)
            store.drop_link(conn, self.legal_entity_id, account)
        return Outcome(decision, True, f"debtor {account} is back in the review")
