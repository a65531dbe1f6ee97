"""The invoice domain of the exactly-once protocol (:mod:`tlsync.ledger.protocol`, rule T2): its keys and its look-up.

Keys: the ledger's source key is the invoice's marker (its TimeLog GUID in lower case), which the draft carries in
``CustomsNo`` (:data:`~.draft.MARKER_FIELD`); the target key is the Uniconta order number. Look-up: the orders
carrying some markers, one filtered read per 40 markers (Uniconta's OR limit, ``Field.MAX_OR_VALUES``) — never a
scan per invoice. Every claim's key is its marker, so every claim can be looked up (none goes to review).

Used by the transfer (claims), :mod:`.completion` (``done``) and :mod:`.recovery` (what a crashed run left).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from tlsync.clients.uniconta.models import DebtorOrderClient
from tlsync.clients.uniconta.odata import Field
from tlsync.ledger import ExactlyOnce, LedgerEntry

from .draft import MARKER_FIELD, stored_number
from .run import DOMAIN, Run, stops_on_quota

RELEASED = "interrupted before its draft reached Uniconta; sent again"


def find_orders(run: Run, guids: Iterable[str]) -> dict[str, DebtorOrderClient]:
    """Orders carrying these invoice markers, by marker (one filtered read per 40 markers)."""
    wanted = sorted(set(guids))
    found: dict[str, DebtorOrderClient] = {}
    step = Field.MAX_OR_VALUES
    with stops_on_quota():
        for i in range(0, len(wanted), step):
            for order in run.uniconta.read(DebtorOrderClient, filter=Field(MARKER_FIELD).in_(wanted[i:i + step])):
                mark = str(getattr(order, MARKER_FIELD, "") or "").lower()
                if mark in wanted and mark not in found:
                    found[mark] = order
    return found


def protocol(run: Run, orders: dict[str, DebtorOrderClient] | None = None) -> ExactlyOnce:
    """The invoice domain's :class:`~tlsync.ledger.ExactlyOnce`; the orders its look-up finds are also put in
    ``orders`` (recovery rebuilds their drafts from them). A spent quota while looking up raises :class:`QuotaOut`:
    nothing is moved, the claims stay ``in_flight`` for the next run."""

    def find_landed(entries: Sequence[LedgerEntry]) -> Mapping[str, str | None]:
        found = find_orders(run, [e.source_key for e in entries])
        if orders is not None:
            orders.update(found)
        return {e.source_key: str(stored_number(found[e.source_key])) if e.source_key in found else None
                for e in entries}

    return ExactlyOnce(run.ledger, DOMAIN, run.le_id, target="Uniconta", find_landed=find_landed, released=RELEASED)
