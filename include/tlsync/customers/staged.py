"""What the customer sync reads from the staging database, and the link rows it writes.

The nightly sync stages both systems before this runs, so the customer sync decides on staged payloads (the APIs'
own records, as JSON) and spends API calls only on writes. TimeLog customers, contacts and employees are site-wide
(tenant = the site code, no ``:``); Uniconta records belong to one company (tenant = the company id as text).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, select

from tlsync.staging.tables import STAGING, customer_links

LINKED = "linked"


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
