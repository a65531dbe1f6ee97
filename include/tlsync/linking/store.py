"""What the linking review reads and writes in the staging database (rules L2/L3).

- the staged records both sides are matched on: Uniconta debtors of one company (``uniconta.debtors``, tenant =
  company id) and the site-wide TimeLog customers (``timelog.customers``), as the APIs' own payloads;
- ``customer_links``: one row per debtor that is linked (to a TimeLog customer) or ignored, per legal entity —
  what makes a debtor leave the first three views (L2) and a customer leave the candidates.

Only reads and single-row upserts live here; *when* to write is decided in :mod:`tlsync.linking.actions`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, delete, insert, select, update

from tlsync.staging.tables import STAGING, customer_links

LINKED, IGNORED = "linked", "ignored"


@dataclass(frozen=True)
class Link:
    """A row of ``customer_links``."""

    legal_entity_id: int
    debtor_account: str
    company_id: str
    customer_id: str | None
    state: str                 # linked | ignored
    action: str                # timelog_wins | uniconta_wins | imported | ignored

    def as_dict(self) -> dict[str, Any]:
        return {"state": self.state, "action": self.action, "customer_id": self.customer_id}


def _link(row: Any) -> Link:
    m = row._mapping
    return Link(legal_entity_id=m["legal_entity_id"], debtor_account=m["debtor_account"], company_id=m["company_id"],
                customer_id=m["customer_id"], state=m["state"], action=m["action"])


def links(engine: Engine, legal_entity_id: int) -> dict[str, Link]:
    """Every link/ignore of one legal entity, by debtor account."""
    q = select(customer_links).where(customer_links.c.legal_entity_id == int(legal_entity_id))
    with engine.connect() as conn:
        return {r.debtor_account: _link(r) for r in conn.execute(q)}


def link_of(conn: Any, legal_entity_id: int, debtor_account: str) -> Link | None:
    row = conn.execute(select(customer_links).where(
        customer_links.c.legal_entity_id == int(legal_entity_id),
        customer_links.c.debtor_account == str(debtor_account))).first()
    return _link(row) if row else None


def debtor_linked_to(conn: Any, legal_entity_id: int, customer_id: str) -> str | None:
    """The debtor account a TimeLog customer is linked to in this legal entity, if any (at most one, rule L3)."""
    return conn.execute(select(customer_links.c.debtor_account).where(
        customer_links.c.legal_entity_id == int(legal_entity_id), customer_links.c.customer_id == str(customer_id),
        customer_links.c.state == LINKED).order_by(customer_links.c.debtor_account)).scalars().first()


def save_link(conn: Any, *, legal_entity_id: int, company_id: int | str, debtor_account: str,
              customer_id: str | None, state: str, action: str, run_id: str | None, actor: str,
              now: datetime) -> None:
    """Insert or replace the link row of one debtor (inside the caller's transaction, next to its ledger event)."""
    values = {"company_id": str(company_id), "customer_id": None if customer_id is None else str(customer_id),
              "state": state, "action": action, "run_id": run_id, "actor": actor, "updated_at": now}
    key = and_(customer_links.c.legal_entity_id == int(legal_entity_id),
               customer_links.c.debtor_account == str(debtor_account))
    if conn.execute(update(customer_links).where(key).values(**values)).rowcount == 0:
        conn.execute(insert(customer_links).values(legal_entity_id=int(legal_entity_id),
                                                   debtor_account=str(debtor_account), **values))


def drop_link(conn: Any, legal_entity_id: int, debtor_account: str) -> int:
    return conn.execute(delete(customer_links).where(
        customer_links.c.legal_entity_id == int(legal_entity_id),
        customer_links.c.debtor_account == str(debtor_account))).rowcount or 0


# ---- staged records --------------------------------------------------------------------------------------------

def staged_debtors(engine: Engine, company_id: int | str) -> dict[str, dict]:
    """The company's staged ``DebtorClient`` payloads by ``Account``."""
    table = STAGING["uniconta.debtors"]
    q = select(table.c.natural_key, table.c.payload).where(table.c.tenant == str(company_id))
    with engine.connect() as conn:
        return {str(k): json.loads(p) for k, p in conn.execute(q.order_by(table.c.natural_key))}


def staged_debtor(engine: Engine, company_id: int | str, account: str) -> dict | None:
    table = STAGING["uniconta.debtors"]
    q = select(table.c.payload).where(table.c.tenant == str(company_id), table.c.natural_key == str(account))
    with engine.connect() as conn:
        payload = conn.execute(q).scalar()
    return json.loads(payload) if payload else None


def staged_customers(engine: Engine) -> dict[str, dict]:
    """The staged TimeLog ``Customer`` payloads (Reporting ``GetCustomersRaw``) by ``ID`` (as text)."""
    table = STAGING["timelog.customers"]
    with engine.connect() as conn:
        return {str(k): json.loads(p) for k, p in conn.execute(select(table.c.natural_key, table.c.payload))}


def staged_customer(engine: Engine, customer_id: str) -> dict | None:
    table = STAGING["timelog.customers"]
    with engine.connect() as conn:
        payload = conn.execute(select(table.c.payload).where(table.c.natural_key == str(customer_id))).scalar()
    return json.loads(payload) if payload else None
