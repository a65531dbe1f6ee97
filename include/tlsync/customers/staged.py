"""What the customer sync reads from the staging database, and the link rows it writes.

The nightly sync stages both systems before this runs, so the customer sync decides on staged payloads (the APIs'
own records, as JSON) and spends API calls only on writes. TimeLog customers, contacts and employees are site-wide
(tenant = the site code, no ``:``); Uniconta records belong to one company (tenant = the company id as text).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from tlsync.ledger.domains import Domain
from tlsync.staging.tables import STAGING, customer_links

LINKED = "linked"
LINK_DOMAIN = Domain.CUSTOMER_LINK                 # tlsync.linking's ledger domain (key: the debtor account)
LINK_WRITE_ACTIONS = ("link_timelog_wins", "link_uniconta_wins")


def _site_rows(engine: Engine, entity: str, keys: Iterable[str] | None = None) -> dict[str, dict]:
    """Staged payloads of a site-wide TimeLog entity by natural key (all site tenants; a key filter if given)."""
    table = STAGING[entity]
    q = select(table.c.natural_key, table.c.payload).where(table.c.tenant.notlike("%:%"))
    wanted = None if keys is None else sorted({str(k) for k in keys})
    out: dict[str, dict] = {}
    with engine.connect() as conn:
        if wanted is None:
            rows = conn.execute(q).all()
        else:
            rows = []
            for i in range(0, len(wanted), 500):   # IN lists stay short on both databases
                rows += conn.execute(q.where(table.c.natural_key.in_(wanted[i:i + 500]))).all()
    for key, payload in rows:
        out[str(key)] = json.loads(payload)
    return out


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
    table = STAGING[entity]
    q = select(table.c.natural_key, table.c.payload).where(table.c.tenant == str(company_id))
    with engine.connect() as conn:
        return {str(k): json.loads(p) for k, p in conn.execute(q)}


def linked_customers(engine: Engine, legal_entity_id: int, company_id: int | str | None = None) -> dict[str, str]:
    """``{TimeLog customer id: debtor account}`` of the legal entity's links in state ``linked`` (only those to
    ``company_id`` when given: a link to the company the entity was connected to before is no debtor here)."""
    q = select(customer_links.c.customer_id, customer_links.c.debtor_account).where(
        customer_links.c.legal_entity_id == int(legal_entity_id), customer_links.c.state == LINKED,
        customer_links.c.customer_id.is_not(None)).order_by(customer_links.c.debtor_account)
    if company_id is not None:
        q = q.where(customer_links.c.company_id == str(company_id))
    out: dict[str, str] = {}
    with engine.connect() as conn:
        for customer_id, account in conn.execute(q):
            out.setdefault(str(customer_id), str(account))
    return out


def link_actions(engine: Engine, legal_entity_id: int) -> dict[str, str]:
    """``{TimeLog customer id: link action}`` (``created`` for debtors tlsync created in automatic mode)."""
    q = select(customer_links.c.customer_id, customer_links.c.action).where(
        customer_links.c.legal_entity_id == int(legal_entity_id), customer_links.c.state == LINKED,
        customer_links.c.customer_id.is_not(None))
    with engine.connect() as conn:
        return {str(c): str(a) for c, a in conn.execute(q)}


def staged_times(engine: Engine, entity: str, keys: Iterable[str], *, tenant: str | None = None
                 ) -> dict[str, datetime]:
    """``{natural key: staged_at}`` of some staged records — of one tenant, or of the site-wide TimeLog tenants
    (no ``:``) when ``tenant`` is ``None``."""
    table = STAGING[entity]
    q = select(table.c.natural_key, table.c.staged_at)
    q = q.where(table.c.tenant == str(tenant)) if tenant is not None else q.where(table.c.tenant.notlike("%:%"))
    wanted = sorted({str(k) for k in keys})
    out: dict[str, datetime] = {}
    with engine.connect() as conn:
        for i in range(0, len(wanted), 500):
            for key, at in conn.execute(q.where(table.c.natural_key.in_(wanted[i:i + 500]))):
                if at is not None:
                    out[str(key)] = at
    return out


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
    each debtor in the sync ledger, read from its audit trail (one query per 500 debtors)."""
    from tlsync.staging.tables import ledger_events

    wanted = sorted({str(a) for a in accounts})
    out: dict[str, LinkWrite] = {}
    with engine.connect() as conn:
        for i in range(0, len(wanted), 500):
            q = (select(ledger_events.c.source_key, ledger_events.c.after, ledger_events.c.at)
                 .where(ledger_events.c.domain == LINK_DOMAIN,
                        ledger_events.c.legal_entity_id == int(legal_entity_id),
                        ledger_events.c.action.in_(LINK_WRITE_ACTIONS),
                        ledger_events.c.source_key.in_(wanted[i:i + 500]))
                 .order_by(ledger_events.c.id))
            for key, after, at in conn.execute(q):
                try:
                    written = json.loads(after) if after else {}
                except ValueError:
                    continue
                changes = written.get("changes") or {}
                customer_id = str((written.get("link") or {}).get("customer_id") or "")
                if at is None or not customer_id:
                    continue
                out[str(key)] = LinkWrite(customer_id, dict(changes.get("uniconta") or {}),
                                          dict(changes.get("timelog") or {}), at)   # the latest wins (id order)
    return out
