"""The Airflow Assets tlsync emits and consumes — the one home of their names.

One Asset per staged entity (``staging.<system>.<entity>``, uri ``tlsync://staging/<system>/<entity>``), so the
downstream DAGs (customer linking, transfer, reconciliation) are triggered by data, not by the clock:
``schedule=staged("uniconta.debtors") | staged("timelog.customers")``.

An event means "this entity changed" (issue 11 item 1; content and decisions in :mod:`tlsync.nightly.changes`). The
nightly sync emits them once per night from its ``finish`` task, after every legal entity was staged, through the
alias :data:`STAGED_CHANGES` — only for the entities that staged or removed rows, with the counts per tenant in the
event's ``extra``. No staging task declares the Assets as outlets (that emitted an event per mapped task whether
anything changed or not, and started the downstream DAGs before the night was over). All events of a night are
registered in one transaction when ``finish`` succeeds, so Airflow's scheduler queues them together and starts
**one** run of each downstream DAG, whichever of its ``|`` assets changed; a night with no change starts none.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from airflow.sdk import Asset, AssetAlias

from tlsync.staging.entities import BY_NAME, EntitySpec

log = logging.getLogger(__name__)

PREFIX = "staging."
STAGED_CHANGES = AssetAlias(name="tlsync.staged-changes")


def staged_asset(spec: EntitySpec) -> Asset:
    return Asset(name=f"{PREFIX}{spec.qualified}", uri=f"tlsync://staging/{spec.system}/{spec.name}")


def staged(qualified: str) -> Asset:
    """The Asset of a staged entity by its qualified name, e.g. ``staged("uniconta.debtors")``."""
    return staged_asset(BY_NAME[qualified])


def emit_changes(outlet_events: Any, changes: Mapping[str, Mapping[str, Any]]) -> None:
    """Add one event per changed entity to the running task's ``outlet_events`` (the task declares
    ``outlets=[STAGED_CHANGES]``); ``changes`` as :func:`tlsync.nightly.changes.night_changes` returns them."""
    from tlsync.nightly.changes import describe

    for qualified, extra in changes.items():
        outlet_events[STAGED_CHANGES].add(staged(qualified), extra=dict(extra))
    log.info("%s", describe(changes))


def triggering_changes(context: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The events that triggered this run as plain dicts ``{"entity", "extra", "timestamp"}`` (entity: the
    qualified name, e.g. ``timelog.invoices``); ``[]`` for a run not triggered by assets."""
    accessor = context.get("triggering_asset_events") or {}
    out = []
    for key in accessor:
        if not isinstance(key, Asset):   # an alias-emitted event is listed under its alias as well: count it once
            continue
        for event in accessor[key]:
            name = event.asset.name
            if name.startswith(PREFIX) and name[len(PREFIX):] in BY_NAME:
                out.append({"entity": name[len(PREFIX):], "extra": dict(event.extra or {}),
                            "timestamp": event.timestamp})
    return out
