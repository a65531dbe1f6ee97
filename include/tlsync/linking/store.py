"""What the linking review reads and writes in the staging database (rules L2/L3).

- the staged records both sides are matched on: Uniconta debtors of one company (``uniconta.debtors``, tenant =
  company id) and the site-wide TimeLog customers (``timelog.customers``), as the APIs' own payloads, read with
  :mod:`tlsync.staging.read` (exact Decimals);
- ``customer_links``: one row per debtor that is linked (to a TimeLog customer) or ignored, per legal entity —
  what makes a debtor leave the first three views (L2) and a customer leave the candidates.

This module is the one home of ``customer_links`` (issue 12, item 5): the customer sync
(:mod:`tlsync.customers.staged`), the suggestions' refresh, reconciliation and the settings' reset read and clear
links through it. Only reads, upserts (one row, or a batch's in a few statements) and the reset live here; *when*
to write is decided in :mod:`tlsync.linking.actions`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, bindparam, delete, insert, inspect, select, update

from tlsync.staging.read import Tenant, payload, payloads
from tlsync.staging.tables import customer_links

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


def company_links(engine: Engine, company_id: int | str) -> list[Link]:
    """Every link/ignore to debtors of one Uniconta company (whatever legal entity made it), by debtor account."""
    q = select(customer_links).where(customer_links.c.company_id == str(company_id)).order_by(
        customer_links.c.debtor_account, customer_links.c.legal_entity_id)
    with engine.connect() as conn:
        return [_link(r) for r in conn.execute(q)]


def linked_customers(engine: Engine, legal_entity_id: int, company_id: int | str | None = None) -> dict[str, str]:
    """``{TimeLog customer id: debtor account}`` of the legal entity's links in state ``linked`` (only those to
    ``company_id`` when given: a link to the company the entity was connected to before is no debtor here); of a
    customer linked to several debtors, the first account in text order."""
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
    """``{TimeLog customer id: link action}`` of the legal entity's linked customers (``created`` for debtors
    tlsync created in automatic mode); of a customer linked to several debtors, the action of the link
    :func:`linked_customers` names."""
    q = select(customer_links.c.customer_id, customer_links.c.action).where(
        customer_links.c.legal_entity_id == int(legal_entity_id), customer_links.c.state == LINKED,
        customer_links.c.customer_id.is_not(None)).order_by(customer_links.c.debtor_account)
    out: dict[str, str] = {}
    with engine.connect() as conn:
        for customer_id, action in conn.execute(q):
            out.setdefault(str(customer_id), str(action))
    return out


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


def save_links(conn: Any, *, legal_entity_id: int, company_id: int | str, links: Iterable[tuple[str, str | None]],
               state: str, action: str, run_id: str | None, actor: str, now: datetime) -> None:
    """:func:`save_link` for many debtors — ``links`` are ``(debtor account, customer id)`` pairs, of an account
    given twice the last — in a few statements (the accounts already linked read per 500, updated; the others
    inserted in one multi-row ``INSERT``): the debtors a batch of the invoice transfer created are linked in its
    ``done`` transaction without two statements per debtor."""
    wanted = {str(account): None if customer is None else str(customer) for account, customer in links}
    if not wanted:
        return
    le = int(legal_entity_id)
    common = {"company_id": str(company_id), "state": state, "action": action, "run_id": run_id, "actor": actor,
              "updated_at": now}
    accounts = sorted(wanted)
    there: set[str] = set()
    for i in range(0, len(accounts), 500):
        there.update(conn.execute(select(customer_links.c.debtor_account).where(
            customer_links.c.legal_entity_id == le,
            customer_links.c.debtor_account.in_(accounts[i:i + 500]))).scalars())
    if there:
        conn.execute(update(customer_links).where(
            customer_links.c.legal_entity_id == le, customer_links.c.debtor_account == bindparam("k_account"))
            .values(customer_id=bindparam("k_customer"), **common),
            [{"k_account": a, "k_customer": wanted[a]} for a in accounts if a in there])
    new = [{"legal_entity_id": le, "debtor_account": a, "customer_id": wanted[a], **common}
           for a in accounts if a not in there]
    if new:
        conn.execute(insert(customer_links), new)


def drop_link(conn: Any, legal_entity_id: int, debtor_account: str) -> int:
    return conn.execute(delete(customer_links).where(
        customer_links.c.legal_entity_id == int(legal_entity_id),
        customer_links.c.debtor_account == str(debtor_account))).rowcount or 0


def clear_links(engine: Engine, legal_entity_id: int) -> int:
    """Delete every link and ignored debtor of one legal entity (rule S1's reset); the number of rows deleted. A
    staging database created before the link table existed has nothing to clear (0)."""
    if not inspect(engine).has_table(customer_links.name):
        return 0
    with engine.begin() as conn:
        return conn.execute(delete(customer_links)
                            .where(customer_links.c.legal_entity_id == int(legal_entity_id))).rowcount or 0


# ---- staged records --------------------------------------------------------------------------------------------

def staged_debtors(engine: Engine, company_id: int | str) -> dict[str, dict[str, Any]]:
    """The company's staged ``DebtorClient`` payloads by ``Account``."""
    return payloads(engine, "uniconta.debtors", Tenant.company(company_id))


def staged_debtor(engine: Engine, company_id: int | str, account: str) -> dict[str, Any] | None:
    return payload(engine, "uniconta.debtors", Tenant.company(company_id), str(account))


def staged_customers(engine: Engine) -> dict[str, dict[str, Any]]:
    """The staged TimeLog ``Customer`` payloads (Reporting ``GetCustomersRaw``) by ``ID`` (as text), of any
    staged tenant (the settings do not know the site code)."""
    return payloads(engine, "timelog.customers")


def staged_customer(engine: Engine, customer_id: str) -> dict[str, Any] | None:
    """One staged TimeLog customer by ``ID``, of any tenant: an index probe on the key alone
    (``ix_tlsync_customer_id``)."""
    return payload(engine, "timelog.customers", None, str(customer_id))
