"""The drafts of a batch (rule T2): master data first — debtors (S3), employees (T4), projects (T3), created in
Uniconta where missing — then each invoice built into a draft (:mod:`.draft`), or held back with its reason: a
shared invoice number (issue 17), an item TimeLog does not have (rule U2), bad input."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import Engine, and_, select

from tlsync.clients.timelog.models import Invoice
from tlsync.ledger import DONE, ELSEWHERE, IN_FLIGHT
from tlsync.settings.models import LegalEntitySettings

from . import source
from .draft import Context, Draft, build, describe, internal_reference, marker
from .run import DOMAIN, Candidate, PlannedWrite, Run, stops_on_quota

if TYPE_CHECKING:                            # like the rest of tlsync.projects, imported in masters() when used
    from tlsync.projects.transfer import ProjectResult


def load_context(engine: Engine, le: LegalEntitySettings, tenant: str) -> Context:
    """Master data, read once per run — from staging, which the nightly sync keeps current (no Uniconta call)."""
    from tlsync.customers.staged import uniconta_rows
    from tlsync.items.resolver import ItemResolver
    from tlsync.items.todo import TimeLogProducts
    from tlsync.projects.transfer import has_project_module, staged_projects

    company = le.uniconta_company_id
    if company is None:                       # the S8 gate refuses such a legal entity before any of this
        raise ValueError(f"{le.label}: no Uniconta company chosen (rule S1)")
    companies = uniconta_rows(engine, "uniconta.companies", company)
    own = (companies.get(str(company)) or {}).get("Currency") or None
    module = has_project_module(engine, le)
    categories = set(uniconta_rows(engine, "uniconta.project_categories", company)) if module else set()
    employees = {k: (v.get("Name") or k) for k, v in uniconta_rows(engine, "uniconta.employees", company).items()}
    return Context(company_currency=own, project_module=module, category=le.invoice_project_category,
                   categories=categories, resolver=ItemResolver.from_staging(engine, le),
                   projects=staged_projects(engine, le.legal_entity_id), employee_names=employees,
                   timelog_products=TimeLogProducts.from_staging(engine, le))


def masters(run: Run, invoices: list[source.Staged]) -> tuple[dict[int, str], dict[str | None, str | None],
                                                               dict[str, str], ProjectResult | None]:
    """Debtors (S3), employees (T4) and projects (T3) of some invoices — created in Uniconta where missing, in
    batches. What is known is kept for the rest of the run, so a backfill asks once per month (``_month`` calls
    this for the whole month) instead of once per batch; what could not be resolved is asked again next time.
    Returns ``(debtors, refs, employees, projects)``; ``projects`` is ``None`` without the project module."""
    from tlsync.customers.sync import ensure_debtors, ensure_employees
    from tlsync.projects.transfer import ProjectResult, ensure_projects

    le, ctx = run.le, run.ctx
    customers = {inv.customer_id for inv, _ in invoices}
    refs = {inv.guid: internal_reference(raw, ctx, inv) for inv, raw in invoices}
    initials = {r for r in refs.values() if r}
    with stops_on_quota():
        new_customers = {c for c in customers if c not in run.debtors}
        if new_customers:
            run.debtors.update(ensure_debtors(run.uniconta, run.engine, le, new_customers, ledger=run.ledger,
                                              dry_run=run.dry_run))
        new_initials = {r for r in initials if r not in run.employees}
        if new_initials:
            run.employees.update(ensure_employees(run.uniconta, run.engine, le, new_initials, ledger=run.ledger,
                                                  dry_run=run.dry_run))
        projects: ProjectResult | None = None
        if ctx.project_module:
            wanted = {inv.project_id for inv, _ in invoices if inv.project_id}
            new = {p for p in wanted if p not in run.projects}
            projects = ProjectResult()
            if new:
                projects = ensure_projects(run.uniconta, run.engine, le, new, ledger=run.ledger,
                                           dry_run=run.dry_run, module=True)
                run.projects.update(projects.numbers)
                if run.dry_run:
                    run.planned.extend(projects.planned)
            projects.numbers = {p: run.projects[p] for p in wanted if p in run.projects}
    debtors = {c: run.debtors[c] for c in customers if c in run.debtors}
    employees = {r: run.employees[r] for r in initials if r in run.employees}
    return debtors, refs, employees, projects


def duplicate_numbers(engine: Engine, tenant: str) -> dict[str, dict[int, str]]:
    """Invoice numbers that more than one staged booked invoice or credit note of the tenant carries:
    ``{number: {TimeLog invoice ID: GUID}}`` (one grouped query; normally empty)."""
    from sqlalchemy import func

    inv = source.INVOICES
    booked = and_(inv.c.tenant == tenant, inv.c.status.in_(source.BOOKED), inv.c.type.in_(source.TRANSFERRED_TYPES),
                  inv.c.invoice_number.is_not(None), inv.c.invoice_number != "")
    shared = select(inv.c.invoice_number).where(booked).group_by(inv.c.invoice_number).having(func.count() > 1)
    out: dict[str, dict[int, str]] = {}
    with engine.connect() as conn:
        for number, payload in conn.execute(select(inv.c.invoice_number, inv.c.payload)
                                            .where(booked, inv.c.invoice_number.in_(shared))):
            raw = source.loads(payload)
            out.setdefault(str(number), {})[int(raw.get("ID") or 0)] = marker(str(raw.get("GUID") or ""))
    return out


def duplicate_problem(run: Run, inv: Invoice) -> str | None:
    """Why an invoice whose number another staged invoice also carries is held back (``None``: its number is its
    own). Issue 17: a second TimeLog invoice with an existing number went out as a second draft. Neither is sent
    while the number is shared — which one is right is for a person to decide in TimeLog — except that one already
    in Uniconta stays there."""
    others = {i: g for i, g in run.duplicates.get(str(inv.invoice_number or ""), {}).items() if i != inv.id}
    if not others:
        return None
    written = run.ledger.get_many(DOMAIN, run.le_id, others.values())
    sent = [f"{i} (order {written[g].target_key})" for i, g in sorted(others.items())
            if g in written and written[g].state in (DONE, IN_FLIGHT, ELSEWHERE)]
    listed = ", ".join(str(i) for i in sorted(others))
    return (f"{describe(inv)}: its invoice number {inv.invoice_number} is also TimeLog invoice {listed}"
            + (f", already in Uniconta as {', '.join(sent)}" if sent else "")
            + "; held back until TimeLog gives each invoice its own number (rule T2)")


def prepare(run: Run, batch: Sequence[Candidate]) -> tuple[list[Draft], dict[str, list[str]]]:
    """Build the drafts of a batch: debtors (S3), employees (T4) and projects (T3) first (:func:`masters`). An
    invoice whose number another staged invoice shares is held back (:func:`duplicate_problem`). Problems are keyed
    by marker (every candidate has a GUID: the transfer fails an invoice without one before it is a candidate)."""
    le, ctx = run.le, run.ctx
    if run.duplicates:
        held: dict[str, list[str]] = {}
        for inv, _, _ in batch:
            shared = duplicate_problem(run, inv)
            if shared:
                held[marker(inv.guid or "")] = [shared]
        if held:
            rest, rest_problems = prepare(run, [b for b in batch if marker(b[0].guid or "") not in held]) \
                if len(held) < len(batch) else ([], {})
            return rest, {**rest_problems, **held}
    lines = source.lines_for(run.engine, run.tenant, [inv.id for inv, _, _ in batch])
    run.lines_seen += sum(len(v) for v in lines.values())
    ctx.resolver.prefetch_credited(raw for _, raw, _ in batch)   # the lines its credit notes credit: one read
    debtors, refs, employees, projects = masters(run, [(inv, raw) for inv, raw, _ in batch])
    drafts: list[Draft] = []
    problems: dict[str, list[str]] = {}
    automatic = le.customer_master.value == "automatic"
    for inv, raw, _ in batch:
        debtor = debtors.get(inv.customer_id)
        customer_problem = None
        if debtor is None:
            customer_problem = (f"{describe(inv)}: customer {inv.customer_id} ({inv.customer_name or '?'}) is not "
                                f"linked to a Uniconta debtor (rule S3a)") if not automatic else (
                f"{describe(inv)}: customer {inv.customer_id} ({inv.customer_name or '?'}) could not be created as a "
                f"Uniconta debtor (rule S3b); the reason is in the sync ledger, domain debtor")
        number, project_problem = None, None
        if projects is not None and inv.project_id:
            number = projects.numbers.get(inv.project_id)
            if number is None:
                project_problem = (f"{describe(inv)}: " + projects.failures.get(
                    inv.project_id, f"project {inv.project_no or inv.project_id} is not staged from TimeLog, so it "
                                    f"cannot be transferred to Uniconta (rule T3)"))
        ref = refs.get(inv.guid)
        draft, why = build(inv, raw, lines.get(inv.id, []), ctx, debtor=debtor,
                           employee=employees.get(ref) if ref else None, project_number=number,
                           project_problem=project_problem, customer_problem=customer_problem)
        if draft is None:
            problems[marker(inv.guid or "")] = why
            continue
        products = ctx.timelog_products
        missing = products.missing(draft.details.get("items") or []) if products is not None else []
        if missing and products is not None:    # rule U2: an item TimeLog does not have holds the invoice back
            run.held_items[draft.guid] = missing
            problems[draft.guid] = [products.hold_reason(describe(inv), missing)]
            continue
        drafts.append(draft)
    return drafts, problems


def plan_of(d: Draft) -> PlannedWrite:
    order = d.order.to_payload()
    return {"write": "insert DebtorOrderClient", "guid": d.guid, "invoice_no": d.details.get("invoice_no"),
            "debtor": order.get("Account"), "currency": order.get("Currency") or "(company currency)",
            "project": order.get("Project"), "lines": len(d.lines), "total": str(d.total())}
