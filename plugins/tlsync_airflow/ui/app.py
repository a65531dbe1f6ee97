"""The administrator's and finance's pages inside the Airflow UI: a FastAPI app the api-server mounts under
``/tlsync`` (plugin ``fastapi_apps``), shown in Airflow's navigation through ``external_views``.

Pages (server-rendered Jinja2, a few lines of JS, no build step):

- ``/tlsync/integration`` — one tab per TimeLog legal entity: connection *Test* (Connections from Airflow or
  ``AIRFLOW_CONN_*``), the Uniconta company from the companies the user can see (S1/S2), NULSTIL with a
  confirmation, customer master (S3), debtor defaults (S4), project category (S5), expense GL accounts (S6),
  project group (S7) and default items (I1–I4) as drop-downs of what the company holds (validated as
  ``tlsync settings validate`` does), and the activation checklist (S8) with the gate's live counts;
- ``/tlsync/linking`` — the four views of rule L2 as tabs with counts, Uniconta left / TimeLog right with the
  reasons, 200 rows a page (L5), select rows (or the whole page), one of the L3 actions, a preview of the
  fields each side gets before anything is written, un-ignore, filter, the next free number (L6);
- ``/tlsync/items`` — what an invoice line of each kind gets under the current rules (the transfer's resolver,
  I1–I5), Uniconta's items with their state in TimeLog and the rules that hand them out, activate/deactivate (U2),
  the warnings (I3) — see :mod:`.items`;
- ``/tlsync/invoices`` — the invoice ledger per legal entity (T2): pending / transferred / failed / ignored with
  the reason, retry and ignore; the backfill form (dry-run plan, then the run through Airflow's REST API);
- ``/tlsync/expenses`` — the review list (U4/S6) with a picker of the legal entity's TimeLog projects and the
  expense type; ``/tlsync/reports`` — the reconciliation reports (U3).

Decisions recorded here:

- **One code path**: every action calls the functions the command line calls (``Linker.apply_all``,
  ``settings.validate_entity`` / ``save`` / ``reset``, ``Ledger.transition``); the ledger's actor is the
  logged-in Airflow user.
- **Settings store**: the pages read and write the settings document the nightly, the transfer DAG and the CLIs
  read first — the file ``TLSYNC_SETTINGS`` (default ``config/integration.yaml``), written atomically. The
  Airflow Variable ``tlsync_integration_settings`` stays the fallback when no file exists; the YAML file is also
  the import/export format (``tlsync settings show``).
- **Security**: see :mod:`.security` (every route authenticated through the api-server's auth manager; writes
  need edit rights on Variables/Connections; CSRF token; no secret is ever rendered — Connections are shown by id
  and host only). Jinja2 autoescaping renders hostile names as text.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import (
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from fastapi.templating import Jinja2Templates

from . import i18n
from .security import PageUser, Writer, csrf_token, may_write

HERE = Path(__file__).resolve().parent
PREFIX = "/tlsync"
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters["money"] = i18n.money
templates.env.filters["day"] = i18n.day

VIEWS = ("one", "several", "none", "ignored")
PAGE_SIZE = 200


# ---- shared plumbing -------------------------------------------------------------------------------------------

def _engine():
    from tlsync.staging.engine import default_url as staging_url
    from tlsync.staging.engine import staging_engine
    return staging_engine(staging_url())


def _settings():
    from tlsync import settings as st

    return st.load()


def _lang(request: Request) -> str:
    return i18n.lang_of(request.query_params.get("lang") or request.cookies.get("tlsync_lang"))


def _render(request: Request, user: Any, name: str, **ctx: Any) -> HTMLResponse:
    lang = _lang(request)
    ctx.update(request=request, lang=lang, t=functools.partial(i18n.translate, lang), user=user.get_name(),
               can_write=may_write(user), csrf=csrf_token(request), prefix=PREFIX)
    response = templates.TemplateResponse(request, name, ctx)
    if request.query_params.get("lang") in i18n.LANGUAGES:
        response.set_cookie("tlsync_lang", lang, path=PREFIX, samesite="lax", httponly=True)
    return response


def _back(path: str, **params: Any) -> RedirectResponse:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return RedirectResponse(f"{PREFIX}{path}" + (f"?{query}" if query else ""), status_code=303)


def _entity(settings: Any, legal_entity_id: int | None):
    if not settings.legal_entities:
        raise HTTPException(404, "no legal entity in the settings; create them with `tlsync settings init`")
    if legal_entity_id is None:
        return settings.legal_entities[min(settings.legal_entities)]
    try:
        return settings.entity(legal_entity_id)
    except KeyError as exc:
        raise HTTPException(404, str(exc.args[0])) from None


def _settings_or_error(request: Request, user: Any) -> Any:
    from tlsync.settings import SettingsError

    try:
        return _settings()
    except SettingsError as exc:
        return _render(request, user, "problem.html", problems=exc.problems)


# ---- the app ---------------------------------------------------------------------------------------------------

def create_app() -> FastAPI:
    app = FastAPI(title="tlsync pages", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request, user: PageUser) -> Response:
        return _back("/integration")

    @app.get("/static/tlsync.css")
    def css(user: PageUser) -> Response:
        return Response((HERE / "static" / "tlsync.css").read_text(encoding="utf-8"), media_type="text/css")

    # -- customer linking (L1–L6) ---------------------------------------------------------------------------

    @app.get("/linking", response_class=HTMLResponse)
    def linking(request: Request, user: PageUser, le: int | None = None, view: str = "one", page: int = 1,
                q: str = "", msg: str = "") -> Response:
        from tlsync.linking import number_advice

        from .queries import linking_page, view_counts

        settings = _settings_or_error(request, user)
        if isinstance(settings, Response):
            return settings
        entity = _entity(settings, le)
        if view not in VIEWS:
            raise HTTPException(404, f"unknown view {view!r}; one of {', '.join(VIEWS)} (rule L2)")
        ctx: dict[str, Any] = {"entities": settings.legal_entities, "le": entity, "view": view, "q": q, "msg": msg}
        if entity.uniconta_company_id is None:
            return _render(request, user, "linking.html", counts=None, **ctx)
        engine = _engine()
        counts = view_counts(engine, entity.uniconta_company_id)
        result = linking_page(engine, entity.uniconta_company_id, view, page, PAGE_SIZE, q, total=counts[view])
        # rule L6: the next free number is shown after an import (it reads both number series in full, so it is
        # not part of every page of the None view — bench/linking_page.py)
        advice = number_advice(engine, entity.uniconta_company_id, entity.legal_entity_id) if (
            "(import)" in msg) else None
        return _render(request, user, "linking.html", counts=counts, result=result, advice=advice, **ctx)

    def _decisions(form: Any) -> tuple[str, list[Any]]:
        from tlsync.linking import Decision

        action = str(form.get("action") or "")
        if action not in ("link-timelog", "link-uniconta", "import", "ignore", "unignore"):
            raise HTTPException(400, "choose one of the actions (rule L3)")
        out = []
        for account in form.getlist("row"):
            customer = form.get(f"customer.{account}") or None
            if action.startswith("link-") and not customer:
                continue
            out.append(Decision(action, str(account), str(customer) if action.startswith("link-") else None))
        return action, out

    @app.post("/linking/preview", response_class=HTMLResponse)
    async def linking_preview(request: Request, user: Writer) -> Response:
        from .queries import preview

        form = await request.form()
        settings = _settings()
        entity = _entity(settings, int(form.get("le") or 0) or None)
        view, page, q = str(form.get("view") or "one"), int(form.get("page") or 1), str(form.get("q") or "")
        action, decisions = _decisions(form)
        if not decisions:
            return _back("/linking", le=entity.legal_entity_id, view=view, page=page, q=q,
                         msg=i18n.translate(_lang(request), "nothing_selected"))
        rows = preview(_engine(), entity.uniconta_company_id, decisions)
        return _render(request, user, "linking_preview.html", le=entity, view=view, page=page, q=q, action=action,
                       rows=rows)

    @app.post("/linking/apply")
    async def linking_apply(request: Request, user: Writer) -> Response:
        from tlsync.linking import Linker, Targets

        form = await request.form()
        settings = _settings()
        entity = _entity(settings, int(form.get("le") or 0) or None)
        view, page, q = str(form.get("view") or "one"), int(form.get("page") or 1), str(form.get("q") or "")
        action, decisions = _decisions(form)
        targets = Targets(entity.timelog_connection_id, entity.uniconta_connection_id, entity.uniconta_company_id)
        linker = Linker(_engine(), entity.legal_entity_id, entity.uniconta_company_id, targets=targets,
                        actor=user.get_name())
        try:
            outcomes = linker.apply_all(decisions)
        except Exception as exc:  # noqa: BLE001 - connection/quota problems: one line, no traceback, no secret
            return _back("/linking", le=entity.legal_entity_id, view=view, page=page, q=q, msg=f"✘ {exc}")
        finally:
            targets.close()
        changed = sum(o.changed for o in outcomes)
        refused = [o for o in outcomes if o.error]
        text = i18n.translate(_lang(request), "applied", changed=changed,
                              same=len(outcomes) - changed - len(refused), refused=len(refused))
        text += "".join(f" ✘ {o.message}" for o in refused[:5])
        if action == "import" and changed:
            text += " (import)"
        return _back("/linking", le=entity.legal_entity_id, view=view, page=page, q=q, msg=text)

    # -- integration (S1–S8, I1–I4) -------------------------------------------------------------------------

    def _integration(request: Request, user: Any, le: int | None, msg: str = "", problems: list[str] | None = None,
                     companies: list[Any] | None = None, test: dict[str, Any] | None = None) -> Response:
        from tlsync.linking import transfer_blockers, view_counts

        from .queries import choices

        settings = _settings_or_error(request, user)
        if isinstance(settings, Response):
            return settings
        entity = _entity(settings, le)
        engine = _engine()
        company = entity.uniconta_company_id
        return _render(request, user, "integration.html", entities=settings.legal_entities, le=entity, msg=msg,
                       problems=problems or [], companies=companies, test=test or {},
                       choices=choices(engine, company) if company else {},
                       counts=view_counts(engine, company) if company else None,
                       blockers=transfer_blockers(entity, engine), warnings=entity.item_numbers.warnings(),
                       connections=_connection_summary(entity))

    @app.get("/integration", response_class=HTMLResponse)
    def integration(request: Request, user: PageUser, le: int | None = None, msg: str = "") -> Response:
        return _integration(request, user, le, msg)

    @app.post("/integration/test", response_class=HTMLResponse)
    async def integration_test(request: Request, user: Writer) -> Response:
        from .queries import test_connections

        form = await request.form()
        le = int(form.get("le") or 0) or None
        entity = _entity(_settings(), le)
        test, companies = test_connections(entity)
        return _integration(request, user, le, test=test, companies=companies)

    @app.post("/integration/save", response_class=HTMLResponse)
    async def integration_save(request: Request, user: Writer) -> Response:
        from tlsync import settings as st

        from .queries import entity_from_form

        form = await request.form()
        settings = _settings()
        entity = _entity(settings, int(form.get("le") or 0) or None)
        try:
            updated = entity_from_form(entity, form)
            doc = settings.model_copy(deep=True)
            doc.legal_entities[entity.legal_entity_id] = updated
            doc = st.IntegrationSettings.model_validate(doc.model_dump())
        except (ValueError, st.SettingsError) as exc:
            return _integration(request, user, entity.legal_entity_id, problems=_problem_lines(exc))
        problems = st.validate_entity(updated, _engine()) if updated.uniconta_company_id else []
        if problems:
            return _integration(request, user, entity.legal_entity_id, problems=problems)
        st.save(doc)
        return _back("/integration", le=entity.legal_entity_id, msg=i18n.translate(_lang(request), "saved"))

    @app.post("/integration/activate", response_class=HTMLResponse)
    async def integration_activate(request: Request, user: Writer) -> Response:
        from tlsync import settings as st
        from tlsync.linking import transfer_blockers

        form = await request.form()
        settings = _settings()
        entity = _entity(settings, int(form.get("le") or 0) or None)
        ticks = {f: form.get(f) == "on" for f in ("configuration_complete", "customers_linked",
                                                   "item_numbers_imported")}
        confirm = all(ticks.values())
        checklist = st.ActivationChecklist(**ticks, confirmed_by=user.get_name() if confirm else None,
                                           confirmed_at=datetime.now(UTC).replace(microsecond=0)
                                           if confirm else None)
        candidate = entity.model_copy(update={"activation": checklist})
        engine = _engine()
        problems = transfer_blockers(candidate, engine) if confirm else []
        if confirm and ticks["item_numbers_imported"]:
            from .queries import active_items_missing

            problems += active_items_missing(engine, candidate)
        if confirm and problems:
            return _integration(request, user, entity.legal_entity_id, problems=problems)
        doc = settings.model_copy(deep=True)
        doc.legal_entities[entity.legal_entity_id] = candidate
        st.save(doc)
        return _back("/integration", le=entity.legal_entity_id,
                     msg=i18n.translate(_lang(request), "activated" if confirm else "checklist_saved"))

    @app.post("/integration/reset", response_class=HTMLResponse)
    async def integration_reset(request: Request, user: Writer) -> Response:
        from tlsync import settings as st

        form = await request.form()
        settings = _settings()
        entity = _entity(settings, int(form.get("le") or 0) or None)
        if form.get("confirm") != "yes":
            raise HTTPException(400, "NULSTIL needs the confirmation box ticked (rule S1)")
        st.save(st.reset(settings, entity.legal_entity_id, _engine()))
        return _back("/integration", le=entity.legal_entity_id, msg=i18n.translate(_lang(request), "reset_done"))

    # -- item numbers (U2, I1–I5) ---------------------------------------------------------------------------

    @app.get("/items", response_class=HTMLResponse)
    def items(request: Request, user: PageUser, le: int | None = None, msg: str = "") -> Response:
        from .items import item_page

        settings = _settings_or_error(request, user)
        if isinstance(settings, Response):
            return settings
        entity = _entity(settings, le)
        if entity.uniconta_company_id is None:
            return _render(request, user, "items.html", entities=settings.legal_entities, le=entity, msg=msg,
                           rows=None, cases=[], problems=[i18n.translate(_lang(request), "no_company")],
                           warnings=[])
        return _render(request, user, "items.html", entities=settings.legal_entities, le=entity, msg=msg,
                       **item_page(_engine(), entity))

    @app.post("/items/apply")
    async def items_apply(request: Request, user: Writer) -> Response:
        from .items import apply_items

        form = await request.form()
        entity = _entity(_settings(), int(form.get("le") or 0) or None)
        text = apply_items(_engine(), entity, str(form.get("move") or ""), [str(i) for i in form.getlist("row")],
                           actor=user.get_name())
        return _back("/items", le=entity.legal_entity_id, msg=text)

    # -- reconciliation (U3) ----------------------------------------------------------------------------------

    @app.get("/reports", response_class=HTMLResponse)
    def reports(request: Request, user: PageUser, le: int | None = None, msg: str = "") -> Response:
        from .queries import report_list

        settings = _settings_or_error(request, user)
        if isinstance(settings, Response):
            return settings
        entity = _entity(settings, le)
        return _render(request, user, "reports.html", entities=settings.legal_entities, le=entity, msg=msg,
                       reports=report_list(entity.legal_entity_id))

    @app.post("/reports/run")
    async def reports_run(request: Request, user: Writer) -> Response:
        from datetime import date

        from tlsync.reconcile.flow import run_report

        form = await request.form()
        entity = _entity(_settings(), int(form.get("le") or 0) or None)
        if entity.uniconta_company_id is None:
            raise HTTPException(400, f"{entity.label}: no Uniconta company chosen yet (rule S1)")
        try:
            start, end = date.fromisoformat(str(form.get("start"))), date.fromisoformat(str(form.get("end")))
        except ValueError:
            raise HTTPException(400, "the period needs a first and a last day (YYYY-MM-DD)") from None
        if end < start:
            raise HTTPException(400, "the period ends before it starts")
        result = run_report(entity.legal_entity_id, entity.uniconta_company_id, start, end)
        return _back("/reports", le=entity.legal_entity_id,
                     msg=i18n.translate(_lang(request), "report_written", name=Path(result["html"]).stem))

    @app.get("/reports/file/{name}")
    def report_file(name: str, user: PageUser) -> Response:
        from .queries import report_file as find

        found = find(name)
        if found is None:
            raise HTTPException(404, "no such report file")
        path, media_type, body = found
        headers = {} if media_type.startswith("text/html") else {
            "Content-Disposition": f'attachment; filename="{path.name}"'}
        return Response(body, media_type=media_type, headers=headers)

    # -- expenses (U4/S6) -------------------------------------------------------------------------------------

    @app.get("/expenses", response_class=HTMLResponse)
    def expenses(request: Request, user: PageUser, le: int | None = None, msg: str = "") -> Response:
        from .queries import expense_review

        settings = _settings_or_error(request, user)
        if isinstance(settings, Response):
            return settings
        entity = _entity(settings, le)
        rows, projects, types = expense_review(_engine(), entity)
        return _render(request, user, "expenses.html", entities=settings.legal_entities, le=entity, msg=msg,
                       rows=rows, projects=projects, types=types)

    @app.post("/expenses/decide")
    async def expenses_decide(request: Request, user: Writer) -> Response:
        from .queries import decide_expenses

        form = await request.form()
        entity = _entity(_settings(), int(form.get("le") or 0) or None)
        text = decide_expenses(_engine(), entity, form, actor=user.get_name())
        return _back("/expenses", le=entity.legal_entity_id, msg=text)

    # -- invoices (T2) --------------------------------------------------------------------------------------

    @app.get("/invoices", response_class=HTMLResponse)
    def invoices(request: Request, user: PageUser, le: int | None = None, state: str = "all",
                 msg: str = "") -> Response:
        from .queries import invoice_rows

        settings = _settings_or_error(request, user)
        if isinstance(settings, Response):
            return settings
        entity = _entity(settings, le)
        rows, counts = invoice_rows(_engine(), entity.legal_entity_id, None if state == "all" else state)
        return _render(request, user, "invoices.html", entities=settings.legal_entities, le=entity, rows=rows,
                       counts=counts, state=state, msg=msg)

    @app.post("/invoices/move")
    async def invoices_move(request: Request, user: Writer) -> Response:
        from .queries import move_invoices

        form = await request.form()
        le = int(form.get("le") or 0)
        text = move_invoices(_engine(), le, str(form.get("move") or ""), [str(k) for k in form.getlist("row")],
                             actor=user.get_name())
        return _back("/invoices", le=le, state=form.get("state") or "all", msg=text)

    @app.post("/invoices/backfill/plan", response_class=HTMLResponse)
    async def backfill_plan(request: Request, user: Writer) -> Response:
        from .queries import backfill_form
        from .queries import backfill_plan as plan

        form = await request.form()
        settings = _settings()
        entity = _entity(settings, int(form.get("le") or 0) or None)
        try:
            start, end, ids = backfill_form(form)
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None
        summary = plan(start, end, ids)
        rows, counts = _invoice_rows(entity)
        return _render(request, user, "invoices.html", entities=settings.legal_entities, le=entity, rows=rows,
                       counts=counts, state="all", msg="", plan=summary,
                       backfill={"start": form.get("start"), "end": form.get("end"), "ids": ids})

    @app.post("/invoices/backfill/start")
    async def backfill_start(request: Request, user: Writer) -> Response:
        from .queries import backfill_form, start_backfill

        form = await request.form()
        entity = _entity(_settings(), int(form.get("le") or 0) or None)
        try:
            start, end, ids = backfill_form(form)
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None
        text = await start_backfill(request, start, end, ids)
        return _back("/invoices", le=entity.legal_entity_id, msg=text)

    def _invoice_rows(entity: Any):
        from .queries import invoice_rows

        return invoice_rows(_engine(), entity.legal_entity_id, None)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        return PlainTextResponse(str(exc.detail), status_code=exc.status_code, headers=exc.headers)

    return app


def _problem_lines(exc: Exception) -> list[str]:
    problems = getattr(exc, "problems", None)
    if problems:
        return list(problems)
    errors: Callable[..., Any] | None = getattr(exc, "errors", None)
    if errors is not None:
        return [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors(include_input=False)]
    return [str(exc).splitlines()[0]]


def _connection_summary(entity: Any) -> list[dict[str, str]]:
    """Each Connection by id, where it is defined and its host — never a login or a secret."""
    from .queries import connection_summary

    return connection_summary(entity)


app = create_app()
