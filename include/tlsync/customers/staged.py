"""What the customer sync reads from the staging database: staged records, links, and what link actions wrote.

The nightly sync stages both systems before this runs, so the customer sync decides on staged payloads (the APIs'
own records, as JSON, read with :mod:`tlsync.staging.read`: exact Decimals, short IN lists) and spends API calls
only on writes. TimeLog customers, contacts and employees are site-wide (:meth:`Tenant.site_only
<tlsync.staging.read.Tenant.site_only>`: the site code, no ``:``); Uniconta records belong to one company (tenant =
the company id as text). The links (``customer_links``) are read through their one home, :mod:`tlsync.linking.store`
(:func:`linked_customers` and :func:`link_actions` are its functions, named here for the customer sync).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from tlsync.ledger.domains import Domain
from tlsync.linking.store import link_actions as link_actions
from tlsync.linking.store import linked_customers as linked_customers
from tlsync.staging import read
from tlsync.staging.read import Tenant

LINK_DOMAIN = Domain.CUSTOMER_LINK                 # tlsync.linking's ledger domain (key: the debtor account)
LINK_WRITE_ACTIONS = ("link_timelog_wins", "link_uniconta_wins")


def _site_rows(engine: Engine, entity: str, keys: Iterable[str] | None = None) -> dict[str, dict]:
    """Staged payloads of a site-wide TimeLog entity by natural key (all site tenants; a key filter if given)."""
    return read.payloads(engine, entity, Tenant.site_only(), keys)


def timelog_customers(engine: Engine, ids: Iterable[Any] | None = None) -> dict[str, dict]:
    """Staged ``GetCustomersRaw`` records by customer ID (text)."""
    return _site_rows(engine, "timelog.customers", ids)


def timelog_contacts(engine: Engine) -> dict[str, dict]:
    """Staged ``GetContactsRaw`` records by contact ID (text)."""
    return _site_rows(engine, "timelog.contacts")


def timelog_employees(engine: Engine) -> dict[str, dict]:
    """Staged ``GetEmployeesRaw`` records by employee ID (text)."""
    return _site_rows(engine, "timelog.employees")


def uniconta_rows(engine: Engine, entity: str, company_id: int | str) -> dict[str, dict]:
    """Staged payloads of one Uniconta company (``"uniconta.debtors"`` …) by natural key."""
    return read.payloads(engine, entity, Tenant.company(company_id))


def uniconta_keys(engine: Engine, entity: str, company_id: int | str) -> set[str]:
    """The natural keys of one Uniconta company's staged records (``"uniconta.debtors"`` → the accounts), without
    their payloads."""
    return set(read.natural_keys(engine, entity, Tenant.company(company_id)))


def staged_times(engine: Engine, entity: str, keys: Iterable[str], *, tenant: str | None = None
                 ) -> dict[str, datetime]:
    """``{natural key: staged_at}`` of some staged records — of one tenant, or of the site-wide TimeLog tenants
    (no ``:``) when ``tenant`` is ``None``."""
    return read.staged_times(engine, entity, Tenant.site_only() if tenant is None else Tenant.parse(str(tenant)),
                             keys)


@dataclass(frozen=True)
class LinkWrite:
    """What a link action (rule L3.1/L3.2, ledger domain ``customer_link``) last wrote for one debtor: the
    debtor fields written to Uniconta (``DebtorClient`` names), the customer fields written to TimeLog
    (``CustomerUpdate`` attributes), and when."""

    customer_id: str
    to_uniconta: dict[str, Any]
    to_timelog: dict[str, Any]
    at: datetime


def link_writes(engine: Engine, legal_entity_id: int, accounts: Iterable[str]) -> dict[str, LinkWrite]:
    """``{debtor account: LinkWrite}`` — the latest link event (``link_timelog_wins``/``link_uniconta_wins``) of
    each debtor in the sync ledger, read from its audit trail (:meth:`Ledger.trails
    <tlsync.ledger.store.Ledger.trails>`)."""
    from tlsync.ledger.store import Ledger

    out: dict[str, LinkWrite] = {}
    for key, written, at in Ledger(engine).trails(LINK_DOMAIN, legal_entity_id, accounts,
                                                  actions=LINK_WRITE_ACTIONS):
        if not isinstance(written, dict):
            continue
        changes = written.get("changes") or {}
        customer_id = str((written.get("link") or {}).get("customer_id") or "")
        if at is None or not customer_id:
            continue
        out[key] = LinkWrite(customer_id, dict(changes.get("uniconta") or {}),
                             dict(changes.get("timelog") or {}), at)   # the latest wins (oldest first)
    return out
