"""What a linking action is and what it did (rule L3): the decision a person takes on a debtor, its checked plan
and its outcome — the vocabulary shared by the actions (:mod:`.actions`), the batch writer (:mod:`.batch`), the
Excel round trip and the pages, in a module of its own so none of them imports another for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .store import Link

TIMELOG, UNICONTA = "timelog", "uniconta"
ACTIONS = ("link-timelog", "link-uniconta", "import", "ignore", "unignore")
"""The decisions a person can take on a review row (CLI ``apply`` and the Excel decision column)."""


class LinkError(ValueError):
    """An action cannot be applied; the message names the debtor, the customer and the rule."""


@dataclass(frozen=True)
class Decision:
    """One action on one debtor: ``action`` is one of :data:`ACTIONS`; ``customer_id`` only for the links."""

    action: str
    debtor_account: str
    customer_id: str | None = None

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise LinkError(f"unknown action {self.action!r}; expected one of {', '.join(ACTIONS)} (rule L3)")
        if self.action.startswith("link-") and not self.customer_id:
            raise LinkError(f"debtor {self.debtor_account}: {self.action} needs a TimeLog customer id (rule L3)")


@dataclass
class Outcome:
    """What one action did: ``changed`` is False when everything was already in place (nothing written)."""

    decision: Decision
    changed: bool
    message: str
    customer_id: str | None = None
    written: dict[str, Any] = field(default_factory=dict)
    error: str | None = None            # set when the action was refused (nothing applied for this debtor)


@dataclass
class LinkPlan:
    """A link checked against staging and ready to write (:meth:`Linker.plan_link`)."""

    decision: Decision
    account: str
    customer_id: str
    wins: str
    customer: dict
    existing: Link | None
    changes: dict[str, Any]
    written: dict[str, Any]
