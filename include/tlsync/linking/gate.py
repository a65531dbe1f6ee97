"""The activation gate of rule S8: invoices of a legal entity are transferred only when its settings are complete
and confirmed **and** customer linking is finished — the One / Several / No suggestion views are empty (L2).
Otherwise the transfer would create a second debtor for every customer that already has one in Uniconta.

The invoice transfer calls :func:`transfer_blockers` and refuses while it returns anything.
"""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from tlsync.settings.checks import project_module
from tlsync.settings.models import LegalEntitySettings
from tlsync.staging.read import Tenant
from tlsync.staging.tables import STAGING, link_suggestions

from .store import company_links

OPEN_VIEWS = ("one", "several", "none")
VIEW_LABELS = {"one": "One suggestion", "several": "Several", "none": "No suggestion", "ignored": "Ignored"}


def view_counts(engine: Engine, company_id: int | str) -> dict[str, int]:
    """Debtors per view of the company, plus ``"linked"`` (debtors linked) and ``"unmatched"``: staged, neither
    linked nor ignored, and not in the suggestions yet (staged after the last refresh).

    The links win over stored suggestions that predate them, so the counts are right even between an action and
    the refresh that follows it. The links are read through :mod:`.store` (their one home); the staged debtors'
    keys alone, in SQL (no payload is needed to count them)."""
    tenant = Tenant.company(company_id)
    debtors = STAGING["uniconta.debtors"]
    with engine.connect() as conn:
        suggested = dict(conn.execute(
            select(link_suggestions.c.debtor_account, func.min(link_suggestions.c.view))
            .where(link_suggestions.c.company_id == tenant.code).group_by(link_suggestions.c.debtor_account)).all())
        staged = set(conn.execute(select(debtors.c.natural_key).where(tenant.where(debtors.c.tenant))).scalars())
    decided = {link.debtor_account: link.state for link in company_links(engine, company_id)}
    counts = dict.fromkeys((*OPEN_VIEWS, "ignored", "linked", "unmatched"), 0)
    for account, view in suggested.items():
        state = decided.get(account)
        counts["linked" if state == "linked" else "ignored" if state == "ignored" else view] += 1
    counts["linked"] += sum(1 for a, s in decided.items() if s == "linked" and a not in suggested)
    counts["ignored"] += sum(1 for a, s in decided.items() if s == "ignored" and a not in suggested and a in staged)
    counts["unmatched"] = len(staged - set(suggested) - set(decided))
    return counts


def linking_blocker(engine: Engine, company_id: int | str, label: str | None = None) -> str | None:
    """The S8 message when customer linking is not finished for the company, else ``None``."""
    c = view_counts(engine, company_id)
    if not (c["one"] or c["several"] or c["none"] or c["unmatched"]):
        return None
    who = f"{label}: " if label else ""
    text = (f"{who}customer linking not finished: One suggestion: {c['one']}, Several: {c['several']}, "
            f"No suggestion: {c['none']}")
    if c["unmatched"]:
        text += (f", not matched yet: {c['unmatched']} (run `python -m tlsync.linking refresh "
                 f"--legal-entity N`)")
    return text + " (rule S8/L2)"


def transfer_blockers(le: LegalEntitySettings, engine: Engine) -> list[str]:
    """Why invoices of legal entity ``le`` may not be transferred yet; empty = they may (rule S8).

    ``le.invoice_transfer_blockers(project_module=…)`` (connection, S4 defaults, S5 where the company has the
    project module, the confirmed checklist) plus the customer-linking check above."""
    company = le.uniconta_company_id
    has_projects = project_module(engine, company) if company is not None else True
    out = list(le.invoice_transfer_blockers(project_module=has_projects))
    if company is not None:
        blocker = linking_blocker(engine, company, le.label)
        if blocker:
            out.append(blocker)
    return out
