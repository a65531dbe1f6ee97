"""Many L3.1 links at once ("link, TimeLog data wins"), in a handful of Uniconta calls (issue 13).

The administrator's set-up links most debtors in one go (``accept-one``, an Excel sheet of decisions): 1,717 links
in the M data set. One by one, each link read its debtor (a ``get_by``) and wrote it (an ``Update``): 3,026 calls,
more than half of a day's 5,000. Here a run of link decisions is written together:

1. every decision is checked and planned from staging (:meth:`~tlsync.linking.actions.Linker.plan_link`; no call);
2. the debtors that differ are read **fresh** from Uniconta in bulk — a filtered read per 40 accounts, or one read
   of the whole debtor table when that is cheaper (:func:`fresh_debtors`). Fresh, not staged: the set-up happens
   during the day and Uniconta's Update replaces the whole record, so a staged copy hours old could blank what
   someone changed since the night;
3. the TimeLog values that still differ are applied and the debtors written with ``UpdateList``, 100 per call;
4. each link is then recorded (ledger event + ``customer_links`` row, one transaction per link).

Rule L3's guarantees are unchanged: a decision refused on its own merits (L3 checks, Uniconta refusing that
debtor) becomes an :class:`~tlsync.linking.decisions.Outcome` with ``error`` and the others go on; anything else
(connection, quota) stops the batch. Idempotent across a crash: a link whose debtor was written but not recorded
is planned again, its fresh read shows nothing left to change, and it is recorded without a second write — the
fresh read is the look-up that settles a write whose answer was lost. Measured on M's set-up (1,717 links):
3,026 Uniconta calls before, 22 now (docs/going-live.md §5).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from tlsync.clients.errors import QuotaExceededError, RecordRejectedError
from tlsync.clients.uniconta.models import DebtorClient
from tlsync.clients.uniconta.odata import Field

from .decisions import TIMELOG, Decision, LinkError, LinkPlan, Outcome

log = logging.getLogger(__name__)

BATCH_SIZE = 100          # debtors per UpdateList
OR_LIMIT = Field.MAX_OR_VALUES   # accounts per filtered read (the OData filter's "or" limit, 40)
WHOLE_TABLE_AT = 3 * OR_LIMIT   # more accounts than this: read the whole debtor table (a few pages) instead


def fresh_debtors(client, accounts: Sequence[str]) -> dict[str, DebtorClient]:
    """The debtors ``accounts`` as Uniconta holds them now: filtered reads of 40 accounts each, or — for more than
    :data:`WHOLE_TABLE_AT` accounts — one paged read of all debtors (a few calls however many are linked)."""
    wanted = list(dict.fromkeys(str(a) for a in accounts))
    if not wanted:
        return {}
    if len(wanted) > WHOLE_TABLE_AT:
        rows = client.read(DebtorClient)
    else:
        rows = (d for i in range(0, len(wanted), OR_LIMIT)
                for d in client.read(DebtorClient, filter=Field("Account").in_(wanted[i:i + OR_LIMIT])))
    keep = set(wanted)
    return {str(d.Account): d for d in rows if str(d.Account) in keep}


def link_timelog_all(linker: Any, decisions: Sequence[Decision]) -> list[Outcome]:
    """Apply ``link-timelog`` decisions (distinct debtors and customers) as one batch; an outcome per decision, in
    order. See the module docstring. ``linker``: the :class:`~tlsync.linking.actions.Linker` whose
    ``plan_link``/``commit_link``/``require_targets`` it uses (typed loosely: the Linker imports this module)."""
    from tlsync.customers.mapping import debtor_changes

    outcomes: dict[int, Outcome] = {}
    plans: dict[int, LinkPlan] = {}
    for n, d in enumerate(decisions):
        try:
            planned = linker.plan_link(d.debtor_account, d.customer_id, wins=TIMELOG)
        except LinkError as exc:
            outcomes[n] = _refused(d, exc)
            continue
        if isinstance(planned, Outcome):
            outcomes[n] = planned
        elif not planned.changes:
            outcomes[n] = linker.commit_link(planned, {})
        else:
            plans[n] = planned
    if plans:
        client = linker.require_targets().uniconta
        current = fresh_debtors(client, [p.account for p in plans.values()])
        writes: list[tuple[int, DebtorClient, dict]] = []
        for n, plan in plans.items():
            debtor = current.get(plan.account)
            if debtor is None:
                outcomes[n] = _refused(plan.decision, LinkError(
                    f"debtor {plan.account} no longer exists in Uniconta company {linker.company_id}; run the "
                    f"nightly sync and review again (rule L3)"))
                continue
            changes = debtor_changes(plan.customer, debtor)
            before = {k: getattr(debtor, k, None) for k in changes}
            if not changes:                      # Uniconta already has TimeLog's values (or an earlier run wrote them)
                outcomes[n] = linker.commit_link(plan, before)
                continue
            writes.append((n, debtor.model_copy(update=changes), before))
        for i in range(0, len(writes), BATCH_SIZE):
            _write(linker, client, writes[i:i + BATCH_SIZE], plans, outcomes)
    return [outcomes[n] for n in range(len(decisions))]


def _write(linker: Any, client, batch: list[tuple[int, DebtorClient, dict]], plans: dict[int, LinkPlan],
           outcomes: dict[int, Outcome]) -> None:
    """One UpdateList; a debtor Uniconta refuses (named by the server) is refused alone and the rest sent again; a
    refusal that names no debtor splits the batch until it does."""
    if not batch:
        return
    try:
        client.update_list([record for _, record, _ in batch], batch_size=len(batch))
    except QuotaExceededError:
        raise
    except RecordRejectedError as exc:
        bad = next((k for k, (_, record, _) in enumerate(batch) if exc.record == record.describe()), None)
        if bad is None and len(batch) > 1:
            half = len(batch) // 2
            _write(linker, client, batch[:half], plans, outcomes)
            _write(linker, client, batch[half:], plans, outcomes)
            return
        bad = bad or 0
        n = batch[bad][0]
        outcomes[n] = _refused(plans[n].decision, exc)
        _write(linker, client, batch[:bad] + batch[bad + 1:], plans, outcomes)
        return
    for n, _, before in batch:
        outcomes[n] = linker.commit_link(plans[n], before)


def _refused(d: Decision, exc: Exception) -> Outcome:
    return Outcome(d, False, f"debtor {d.debtor_account}: refused: {exc}", error=str(exc))
