"""What the pages read, shaped for the templates, and the few glue steps between a form and the domain functions.

Everything decided here is decided by the domain packages (``tlsync.linking``, ``tlsync.settings``,
``tlsync.items``, ``tlsync.ledger``); this module only reads one page's worth of rows and turns form fields into
the settings models.

Linking page speed (rule L5, 200 rows from a company with 100,000 debtors): the page's debtor accounts are read
alone, in page order from ``ix_link_suggestions_page`` (migration 0004; the read stops after the page); only then
are the page's suggestions, debtor payloads and customer payloads read — 200 rows of each, not the whole company
(the payloads with :mod:`tlsync.staging.read`: exact Decimals, chunked ``IN`` lists, the :class:`Tenant` encoding). A
filter counts and pages in one scan. Figures: ``bench/linking_page.py``, docs/linking.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, exists, func, literal_column, or_, select

from tlsync.linking.review import ReviewRow, review_rows
from tlsync.staging.read import Tenant, payloads
from tlsync.staging.tables import (
    STAGING,
    account_order,
    customer_links,
    link_suggestions,
)


@dataclass
class LinkingPage:
    rows: list[ReviewRow]
    page: int
    pages: int
    total: int


def _account_order(account: str) -> tuple[bool, int, str]:
    return (not account.isdigit(), int(account) if account.isdigit() else 0, account)


def linking_page(engine: Engine, company_id: int, view: str, page: int, page_size: int, q: str = "",
                 total: int | None = None) -> LinkingPage:
    """One page of a linking view, the rows and order of ``tlsync.linking.view_page`` (which reads the whole view
    and every staged payload); ``q`` filters by debtor account/name/CVR or TimeLog customer id/number/name/CVR
    (case-insensitive). The page's debtors are chosen in SQL (``ORDER BY … LIMIT 200``); only their suggestions and
    payloads are read. ``total``: the view's size when already known (the tab count; unfiltered only)."""
    ls = link_suggestions
    tenant = Tenant.company(company_id)
    company = tenant.code
    base = (ls.c.company_id == company, ls.c.view == view)
    # one row per debtor (0 = no candidate); a literal 1, as in the index's predicate (ix_link_suggestions_page)
    head = select(ls.c.debtor_account).where(*base, ls.c.rank <= literal_column("1"))
    if q.strip():
        like = f"%{q.strip().lower()}%"
        debtors, customers = STAGING["uniconta.debtors"], STAGING["timelog.customers"]
        by_cvr = select(debtors.c.natural_key).where(tenant.where(debtors.c.tenant),
                                                     func.lower(debtors.c.company_reg_no).like(like))
        by_customer = select(customers.c.natural_key).where(or_(func.lower(customers.c.no).like(like),
                                                                func.lower(customers.c.vat_no).like(like)))
        conditions = [func.lower(ls.c.debtor_account).like(like), func.lower(ls.c.debtor_name).like(like),
                      func.lower(ls.c.customer_name).like(like)]
        if any(ch.isdigit() for ch in q):      # ids, customer numbers and CVR numbers all carry digits
            conditions += [ls.c.customer_id.like(like), ls.c.debtor_account.in_(by_cvr),
                           ls.c.customer_id.in_(by_customer)]
        matching = select(ls.c.debtor_account).where(*base, or_(*conditions))
        head = head.where(ls.c.debtor_account.in_(matching))
    ordered = head.order_by(*account_order(ls.c.debtor_account))
    page = max(1, page)
    chosen: list[str] | None = None
    with engine.connect() as conn:
        if total is None or q.strip():
            # the page and the size of the (filtered) view in one scan; a page past the end counts, then clamps
            got = conn.execute(ordered.add_columns(func.count().over()).limit(page_size)
                               .offset((page - 1) * page_size)).all()
            if got:
                total, chosen = got[0][1], [r[0] for r in got]
            else:
                total = conn.execute(select(func.count()).select_from(head.subquery())).scalar() or 0
        pages = max(1, -(-total // page_size))
        if page > pages:
            page, chosen = pages, None
        if chosen is None:
            chosen = list(conn.execute(ordered.limit(page_size).offset((page - 1) * page_size)).scalars())
        found: list[dict] = []
        if chosen:
            found = [dict(r._mapping) for r in conn.execute(
                select(ls).where(*base, ls.c.debtor_account.in_(chosen)).order_by(ls.c.debtor_account, ls.c.rank))]
    debtor_payloads = payloads(engine, "uniconta.debtors", tenant, chosen)
    customer_payloads = payloads(engine, "timelog.customers", None,
                                 sorted({r["customer_id"] for r in found if r["customer_id"] is not None}))
    rows = review_rows(found, debtor_payloads, customer_payloads, view)
    return LinkingPage([rows[a] for a in chosen if a in rows], page, pages, total)


def view_counts(engine: Engine, company_id: int) -> dict[str, int]:
    """The tab counts of ``tlsync.linking.view_counts`` (the S8 gate's), counted in SQL instead of read into
    Python: debtors per view (a linked or ignored debtor counted as such, whatever its stored suggestion says),
    ``linked``, and ``unmatched`` (staged, undecided, not in the suggestions yet)."""
    ls, cl, debtors = link_suggestions, customer_links, STAGING["uniconta.debtors"]
    tenant = Tenant.company(company_id)
    company = tenant.code
    decided = select(cl.c.debtor_account).where(cl.c.company_id == company)
    counts = dict.fromkeys(("one", "several", "none", "ignored", "linked", "unmatched"), 0)
    with engine.connect() as conn:
        for view, n in conn.execute(select(ls.c.view, func.count()).where(
                ls.c.company_id == company, ls.c.rank <= literal_column("1"), ls.c.debtor_account.not_in(decided))
                .group_by(ls.c.view)):
            counts[view] = counts.get(view, 0) + n
        # a decided debtor still staged (an outer join on the staged debtors' key: one probe per decision, not a
        # hash of every staged debtor) or still among the suggestions
        staged = cl.outerjoin(debtors, and_(tenant.where(debtors.c.tenant),
                                            debtors.c.natural_key == cl.c.debtor_account))
        suggested = exists().where(ls.c.company_id == company, ls.c.debtor_account == cl.c.debtor_account)
        for state, n in conn.execute(select(cl.c.state, func.count()).select_from(staged).where(
                cl.c.company_id == company, or_(cl.c.state == "linked", debtors.c.natural_key.is_not(None),
                                                suggested)).group_by(cl.c.state)):
            counts["linked" if state == "linked" else "ignored"] += n
        counts["unmatched"] = conn.execute(select(func.count()).select_from(debtors).where(
            tenant.where(debtors.c.tenant),
            ~exists().where(ls.c.company_id == company, ls.c.debtor_account == debtors.c.natural_key),
            ~exists().where(cl.c.company_id == company, cl.c.debtor_account == debtors.c.natural_key))).scalar() or 0
    return counts


def preview(engine: Engine, company_id: int, decisions: list[Any]) -> list[dict[str, Any]]:
    """What each decision would write, from the staged records (the action itself re-reads the live record and
    writes only what still differs): ``{"decision", "debtor", "customer", "side", "changes", "note"}``."""
    from tlsync.customers.mapping import customer_changes, debtor_changes, new_customer
    from tlsync.linking.store import staged_customer, staged_debtor

    out = []
    for d in decisions:
        debtor = staged_debtor(engine, company_id, d.debtor_account) or {}
        customer = staged_customer(engine, d.customer_id) if d.customer_id else None
        row: dict[str, Any] = {"decision": d, "debtor": debtor, "customer": customer or {}, "side": None,
                               "changes": {}, "note": None}
        if d.action == "link-timelog" and customer is not None:
            row.update(side="uniconta", changes=debtor_changes(customer, debtor))
        elif d.action == "link-uniconta" and customer is not None:
            row.update(side="timelog", changes=customer_changes(debtor, customer))
        elif d.action == "import" and debtor:
            created = new_customer(debtor).model_dump(exclude_none=True)
            row.update(side="timelog", changes={k: v for k, v in created.items() if v not in ("", [], {})},
                       note="new_customer")
        elif d.action == "ignore":
            row["note"] = "moves_to_ignored"
        elif d.action == "unignore":
            row["note"] = "moves_back"
        out.append(row)
    return out


# ---- integration page ------------------------------------------------------------------------------------------

CHOICE_ENTITIES = ("debtor_groups", "vat_zones", "payment_terms", "layout_groups", "project_categories",
                   "project_groups", "gl_accounts", "items")
_LABEL_FIELDS = ("Name", "Text", "Description", "Item")


def choices(engine: Engine, company_id: int) -> dict[str, list[tuple[str, str]]]:
    """The values each drop-down offers: the company's staged Uniconta reference data as ``(key, label)``, blocked
    rows, headings and sum accounts left out (what ``settings validate`` accepts)."""
    out: dict[str, list[tuple[str, str]]] = {}
    for entity in CHOICE_ENTITIES:
        staged = payloads(engine, f"uniconta.{entity}", Tenant.company(company_id))
        listed = []
        for key in sorted(staged, key=_account_order):
            p = staged[key]
            if str(p.get("Blocked", "")).lower() in {"true", "1"}:
                continue
            if entity == "gl_accounts" and str(p.get("AccountType", "")) in {"Header", "Sum",
                                                                             "CalculationExpression"}:
                continue
            label = next((str(p[f]) for f in _LABEL_FIELDS if p.get(f) and str(p[f]) != key), "")
            listed.append((key, f"{key} – {label}" if label else key))
        out[entity] = listed
    return out


def connection_summary(entity: Any) -> list[dict[str, str]]:
    """Each Connection of the legal entity by id, where it is defined (environment or Airflow) and its host — the
    login and every secret stay on the server."""
    from tlsync.connections import ConnectionSettingError, connection_fields, env_names

    out = []
    for system, conn_id in (("TimeLog", entity.timelog_connection_id), ("Uniconta", entity.uniconta_connection_id)):
        if not conn_id:
            out.append({"system": system, "conn_id": "—", "where": "", "host": ""})
            continue
        import os

        where = "environment" if any(os.environ.get(n) for n in env_names(conn_id)) else "Airflow"
        try:
            host = str(connection_fields(conn_id, airflow=True).get("host") or "")
        except ConnectionSettingError as exc:
            host, where = "", str(exc)
        out.append({"system": system, "conn_id": conn_id, "where": where, "host": host})
    return out


def test_connections(entity: Any) -> tuple[dict[str, tuple[bool, str]], list[Any]]:
    """*Test* for both Connections (environment or Airflow), and the Uniconta companies the user can see (S1)."""
    from tlsync.clients.errors import SyncAPIError
    from tlsync.connections import (
        ConnectionSettingError,
        check_timelog,
        connection_fields,
        uniconta_client,
    )

    results: dict[str, tuple[bool, str]] = {}
    companies: list[Any] = []
    try:
        results["TimeLog"] = check_timelog(**connection_fields(entity.timelog_connection_id, airflow=True))
    except ConnectionSettingError as exc:
        results["TimeLog"] = (False, str(exc))
    if not entity.uniconta_connection_id:
        results["Uniconta"] = (False, "no Uniconta Connection (after NULSTIL); set uniconta_connection_id (S1)")
        return results, companies
    try:
        fields = connection_fields(entity.uniconta_connection_id, airflow=True)
        with uniconta_client(**fields) as client:
            companies = list(client.companies())
        results["Uniconta"] = (True, f"Uniconta: logged in; {len(companies)} company(ies) visible to the user")
    except (ConnectionSettingError, SyncAPIError, ValueError) as exc:
        results["Uniconta"] = (False, str(exc))
    return results, companies


def _blank(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def entity_from_form(entity: Any, form: Any) -> Any:
    """The legal entity's settings with the form's values (pydantic validates; a bad value raises)."""
    from tlsync.settings import LegalEntitySettings

    doc = entity.model_dump(mode="json")
    if "uniconta_company_id" in form:
        company = _blank(form.get("uniconta_company_id"))
        doc["uniconta_company_id"] = int(company) if company else None
    doc["customer_master"] = form.get("customer_master") or doc["customer_master"]
    group, terms, layout = (_blank(form.get(k)) for k in ("debtor_group", "payment_terms", "layout_group"))
    if group or terms or layout:
        doc["debtor_defaults"] = {"debtor_group": group, "payment_terms": terms, "layout_group": layout,
                                  "vat_zone": form.get("vat_zone") or "Domestic", "vat": _blank(form.get("vat"))}
    else:
        doc["debtor_defaults"] = None
    doc["invoice_project_category"] = _blank(form.get("invoice_project_category"))
    doc["project_group"] = _blank(form.get("project_group"))
    doc["expense_gl_accounts"] = [str(a) for a in form.getlist("expense_gl_accounts") if str(a).strip()]
    items = doc["item_numbers"]
    for kind in ("time", "fixed_price", "expenses", "mileage", "per_diem", "accommodation"):
        choice = str(form.get(f"item.{kind}") or "")
        if not choice or choice == "keep":
            continue
        if choice == "on_line":
            items[kind] = {"mode": "on_line"}
        elif choice.startswith("item:"):
            items[kind] = {"mode": "specific_item", "item": choice[5:]}
        elif choice.startswith("gl:"):
            items[kind] = {"mode": "gl_account", "account": choice[3:]}
    if doc["uniconta_company_id"] != entity.uniconta_company_id:
        doc["activation"] = {}          # a new company: the checklist is confirmed again (S8)
    return LegalEntitySettings.model_validate(doc)


def active_items_missing(engine: Engine, entity: Any) -> list[str]:
    """Rule U2 behind the checklist's "item numbers imported": every item the defaults use, and at least one item,
    must be an active product number in TimeLog (one REST read)."""
    from tlsync.connections import (
        ConnectionSettingError,
        connection_fields,
        timelog_rest_client,
    )
    from tlsync.items.products import ItemNumbers

    try:
        with timelog_rest_client(connection_fields(entity.timelog_connection_id, airflow=True)) as rest:
            status = ItemNumbers(engine, entity, rest).status()
    except (ConnectionSettingError, ValueError) as exc:
        return [f"{entity.label}: item numbers could not be checked in TimeLog: {exc} (rule U2)"]
    except Exception as exc:  # noqa: BLE001 - an API error: one line, the rule, no traceback
        return [f"{entity.label}: item numbers could not be checked in TimeLog: {exc} (rule U2)"]
    active = {s.item for s in status if s.active}
    out = []
    if not active:
        out.append(f"{entity.label}: no Uniconta item is active as a TimeLog product number yet; activate the items "
                   f"to invoice with (`tlsync items`, rule U2)")
    for path, item in entity.item_numbers.items():
        if item not in active:
            out.append(f"{entity.label}: {path}: item {item!r} is not active in TimeLog (rule U2)")
    return out


# ---- reconciliation page ---------------------------------------------------------------------------------------

def _reports_dir():
    from tlsync import config
    return config.out_dir() / "reports"


def report_list(legal_entity_id: int) -> list[dict[str, Any]]:
    """The finance reports already written for the legal entity (newest first): name, period, the files."""
    import re

    folder = _reports_dir()
    day = r"(\d{4}-\d{2}-\d{2})"
    pattern = re.compile(rf"^reconciliation-le{int(legal_entity_id)}-{day}-{day}$")
    out = []
    for html in folder.glob("reconciliation-le*.html") if folder.exists() else []:
        m = pattern.match(html.stem)
        if not m:
            continue
        files = {ext: f"{html.stem}.{ext}" for ext in ("html", "xlsx", "pdf")
                 if (folder / f"{html.stem}.{ext}").exists()}
        if (folder / f"{html.stem}-excel-csv").is_dir():
            files["csv"] = f"{html.stem}-excel-csv.zip"
        out.append({"name": html.stem, "start": m.group(1), "end": m.group(2), "files": files,
                    "written": html.stat().st_mtime})
    return sorted(out, key=lambda r: r["written"], reverse=True)


def report_file(name: str) -> tuple[Any, str, bytes] | None:
    """A report file by its bare name (nothing outside the reports folder can be named): ``(path, media type,
    bytes)``; ``<report>-excel-csv.zip`` zips the Danish-Excel CSV folder on the fly."""
    import io
    import re
    import zipfile

    day = r"\d{4}-\d{2}-\d{2}"
    if not re.fullmatch(rf"reconciliation-le\d+-{day}-{day}(\.html|\.xlsx|\.pdf|-excel-csv\.zip)", name):
        return None
    folder = _reports_dir()
    if name.endswith("-excel-csv.zip"):
        source = folder / name[:-4]
        if not source.is_dir():
            return None
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in sorted(source.glob("*.csv")):
                zf.write(f, f.name)
        return source, "application/zip", buf.getvalue()
    path = folder / name
    if not path.is_file():
        return None
    media = {".html": "text/html; charset=utf-8", ".pdf": "application/pdf",
             ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}[path.suffix]
    return path, media, path.read_bytes()


# ---- invoices page ---------------------------------------------------------------------------------------------

def invoice_rows(engine: Engine, legal_entity_id: int, state: str | None) -> tuple[list[dict], dict[str, int]]:
    from tlsync.invoicing import DOMAIN
    from tlsync.ledger import Ledger

    ledger = Ledger(engine)
    entries = ledger.entries(DOMAIN, legal_entity_id, states=[state] if state else None)
    rows = [{"key": e.source_key, "state": e.state, "reason": e.reason, "target": e.target_key,
             "no": e.details.get("invoice_no"), "kind": e.details.get("kind"), "date": e.details.get("date"),
             "total": e.details.get("total")} for e in entries]
    rows.sort(key=lambda r: (str(r["date"] or ""), str(r["no"] or "")), reverse=True)
    return rows, ledger.counts(DOMAIN, legal_entity_id)


def move_invoices(engine: Engine, legal_entity_id: int, move: str, keys: list[str], *, actor: str) -> str:
    """Retry / ignore / un-ignore invoices: the same ledger transitions as ``tlsync invoicing retry|ignore``."""
    from tlsync.invoicing import DOMAIN
    from tlsync.ledger import FAILED, IGNORED, PENDING, Ledger, LedgerConflict

    moves = {"retry": ((FAILED,), PENDING, "retry", None),
             "ignore": ((None, PENDING, FAILED), IGNORED, "ignore", f"ignored by {actor}"),
             "unignore": ((IGNORED,), PENDING, "unignore", None)}
    if move not in moves:
        return "choose retry, ignore or un-ignore"
    expect, state, action, reason = moves[move]
    ledger = Ledger(engine, actor=actor)
    done, refused = 0, []
    for key in keys:
        try:
            ledger.transition(DOMAIN, legal_entity_id, key.strip().lower(), state, action=action, reason=reason,
                              expect=expect)
            done += 1
        except LedgerConflict as exc:
            refused.append(str(exc))
    return f"{done} {move}" + (f"; {len(refused)} refused: " + "; ".join(refused[:3]) if refused else "")


# ---- invoice backfill (T2) ---------------------------------------------------------------------------------------

BACKFILL_DAG = "tlsync_invoice_backfill"


def backfill_form(form: Any) -> tuple[Any, Any, list[int]]:
    """``start``/``end`` months (``YYYY-MM``) and the ticked legal entities → (first day, last day, ids)."""
    from tlsync.invoicing.backfill import month_range

    start, end = str(form.get("start") or ""), str(form.get("end") or "")
    ids = sorted({int(i) for i in form.getlist("legal_entities") if str(i).isdigit()})
    if not ids:
        raise ValueError("choose at least one legal entity for the backfill")
    try:
        first, last = month_range(start, end)
    except (ValueError, IndexError):
        raise ValueError("the backfill needs a first and a last month (YYYY-MM)") from None
    if last < first:
        raise ValueError("the backfill period ends before it starts")
    return first, last, ids


def backfill_plan(start: Any, end: Any, ids: list[int]) -> dict[str, dict]:
    """The dry run of the backfill DAG's step for the whole period (``transfer_period(dry_run=True)``): what would
    be written per legal entity, and what refuses it (S8)."""
    from tlsync.connections import connection_fields
    from tlsync.invoicing.runner import transfer_period

    def fields(conn_id: str) -> dict:
        return connection_fields(conn_id, airflow=True)

    try:
        return transfer_period((start, end), dry_run=True, legal_entity_ids=ids, timelog_fields=fields,
                               uniconta_fields=fields)
    except Exception as exc:  # noqa: BLE001 - connection/API problem: one line, no traceback, no secret
        return {"?": {"refused": [str(exc)]}}


async def start_backfill(request: Any, start: Any, end: Any, ids: list[int]) -> str:
    """Start the backfill DAG through Airflow's REST API (``POST /api/v2/backfills``) as the logged-in user (their
    token; Airflow checks their DAG permissions), with the conf that makes it write — Airflow's backfill form drops
    the conf it shows."""
    import httpx
    from airflow.api_fastapi.auth.managers.base_auth_manager import (
        COOKIE_NAME_JWT_TOKEN,
    )

    auth = request.headers.get("authorization") or f"Bearer {request.cookies.get(COOKIE_NAME_JWT_TOKEN, '')}"
    body = {"dag_id": BACKFILL_DAG, "from_date": f"{start.isoformat()}T00:00:00Z",
            "to_date": f"{end.isoformat()}T00:00:00Z", "max_active_runs": 1,
            "dag_run_conf": {"legal_entities": ids, "dry_run": False}}
    base = str(request.base_url).split("/tlsync", 1)[0].rstrip("/")
    async with httpx.AsyncClient(timeout=60) as client:
        r = await client.post(f"{base}/api/v2/backfills", json=body, headers={"Authorization": auth})
    if r.status_code >= 400:
        try:
            detail = r.json().get("detail")
        except ValueError:
            detail = r.text[:200]
        return f"✘ Airflow refused the backfill ({r.status_code}): {detail}"
    return (f"backfill {r.json().get('id')} of {BACKFILL_DAG} started: {start.isoformat()} – {end.isoformat()}, "
            f"legal entities {', '.join(map(str, ids))} (conf dry_run=false)")


# ---- expenses review (U4/S6) -------------------------------------------------------------------------------------

def expense_review(engine: Engine, entity: Any) -> tuple[list[dict], list[tuple[str, str]], list[tuple[str, str]]]:
    """The postings waiting for a person (with the reason), and the choices: the legal entity's TimeLog projects
    (a list, not a free-text field) and its usable expense types."""
    from tlsync.expenses import waiting
    from tlsync.expenses.reference import ExpenseReference

    rows = waiting(engine, entity.legal_entity_id)
    ref = ExpenseReference.from_staging(engine, entity)
    projects = sorted(((str(p.id), f"{p.no or ''} {p.name or ''}".strip()) for p in ref.projects_by_id.values()
                       if ref.project_by_number(p.no or "")[0] is p), key=lambda x: x[1])
    types = sorted(((str(t.expense_type_id), f"{t.expense_type_name or t.expense_type_id}"
                     + (f" ({t.account_no})" if t.account_no else ""))
                    for t in ref.types.values() if ref.usable_type(t.expense_type_id)), key=lambda x: x[1])
    for r in rows:
        suggested = ref.types_for_account(str(r.get("account") or ""))
        r["suggested_type"] = str(r.get("expense_type_id") or (suggested[0].expense_type_id if suggested else ""))
    return rows, projects, types


def decide_expenses(engine: Engine, entity: Any, form: Any, *, actor: str) -> str:
    """The review's decisions (import with type + project / ignore) carried out as ``tlsync expenses
    import-decisions`` does (``apply_decisions``); each choice checked against the reference data first."""
    from tlsync.connections import connection_fields, timelog_rest_client
    from tlsync.expenses import ExpenseImport
    from tlsync.expenses.decisions import apply_decisions
    from tlsync.expenses.excel import Decision
    from tlsync.ledger import Ledger

    keys = [str(k) for k in form.getlist("row")]
    action = str(form.get("action") or "")
    if action not in ("import", "ignore") or not keys:
        return "choose postings and import or ignore"
    ledger = Ledger(engine, actor=actor)
    with timelog_rest_client(connection_fields(entity.timelog_connection_id, airflow=True)) as rest:
        imp = ExpenseImport(engine, entity, rest, ledger=ledger)
        decisions, problems = [], []
        for i, key in enumerate(keys, 1):
            if action == "ignore":
                decisions.append(Decision(i, key, "ignore"))
                continue
            type_id, project_id = form.get(f"type.{key}"), form.get(f"project.{key}")
            t = imp.ref.usable_type(int(type_id)) if str(type_id or "").isdigit() else None
            p = imp.ref.projects_by_id.get(int(project_id)) if str(project_id or "").isdigit() else None
            if t is None or p is None:
                problems.append(f"posting {key}: choose an expense type and a project of legal entity "
                                f"{entity.legal_entity_id} (rule U4)")
                continue
            decisions.append(Decision(i, key, "import", t.expense_type_id, p.id, p.no))
        if problems:
            return "; ".join(problems[:5]) + " — nothing was applied"
        result = apply_decisions(imp, decisions, actor=actor)
    return "; ".join(f"{k} {v}" for k, v in result.counts.items() if v) or "nothing changed"
