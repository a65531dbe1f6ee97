"""tlsync's pages in a real Airflow api-server (SimpleAuthManager, plugins folder of this project), against both
simulators and a staging database filled by the nightly pipeline (see ``pages_env.py``).

- anonymous requests to every plugin endpoint are refused (401/403); a viewer may read but not write, and a
  cookie-authenticated POST without the form's CSRF token is refused;
- the administrator's set-up in headless Chromium (Debian's ``chromium`` through Playwright): log in, open the
  pages from Airflow's navigation, choose the company, set the defaults, link 3 suggested pairs with "TimeLog
  wins", ignore one and un-ignore it, finish the linking, tick the checklist and see the gate open; after the next
  transfer the invoices page lists the drafts. Screenshots under ``out/screenshots/``;
- the items page shows what a line of each kind gets under the current rules (the transfer's resolver);
- the invoices page's backfill form shows the dry-run plan, then starts the run through Airflow's REST API: the
  backfill's dag runs exist with the conf that makes them write;
- the expenses page's review: a project from the list of TimeLog projects (a drop-down, not free text) and the
  expense type; the posting is imported and the ledger names the logged-in user.
"""

from __future__ import annotations

import re

import httpx
import pytest
from pages_env import ROOT, pages_server
from playwright.sync_api import sync_playwright
from sqlalchemy import select

from tlsync import settings as st
from tlsync.connections import timelog_rest_client
from tlsync.expenses import DOMAIN as EXPENSE
from tlsync.expenses import import_expenses, waiting
from tlsync.items import ItemResolver
from tlsync.items.preview import rule_cases
from tlsync.ledger import Ledger
from tlsync.nightly.local import run_write_back
from tlsync.staging.tables import customer_links, ledger_events
from tlsync_airflow.ui.app import app

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]   # one api-server start for the module
SHOTS = ROOT / "out" / "screenshots"
ROUTES = [("GET", "/tlsync/"), ("GET", "/tlsync/static/tlsync.css"), ("GET", "/tlsync/linking"),
          ("POST", "/tlsync/linking/preview"), ("POST", "/tlsync/linking/apply"), ("GET", "/tlsync/integration"),
          ("POST", "/tlsync/integration/test"), ("POST", "/tlsync/integration/save"),
          ("POST", "/tlsync/integration/activate"), ("POST", "/tlsync/integration/reset"),
          ("GET", "/tlsync/items"), ("POST", "/tlsync/items/apply"),
          ("GET", "/tlsync/expenses"), ("POST", "/tlsync/expenses/decide"),
          ("GET", "/tlsync/reports"), ("POST", "/tlsync/reports/run"), ("GET", "/tlsync/reports/file/{name}"),
          ("GET", "/tlsync/invoices"), ("POST", "/tlsync/invoices/move"),
          ("POST", "/tlsync/invoices/backfill/plan"), ("POST", "/tlsync/invoices/backfill/start")]
WRITES = [r for r in ROUTES if r[0] == "POST"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with pages_server(tmp_path_factory.mktemp("pages")) as srv:
        yield srv


def test_every_route_is_covered(server):
    served = {(m, "/tlsync" + r.path) for r in app.routes for m in getattr(r, "methods", ()) if m != "HEAD"}
    assert served == set(ROUTES)


def test_anonymous_is_refused_everywhere(server):
    for method, path in ROUTES:
        path = path.replace("{name}", "reconciliation-le1-2026-01-01-2026-12-31.html")
        r = httpx.request(method, server.url + path, data={"le": "1"}, timeout=30)
        assert r.status_code in (401, 403), (method, path, r.status_code)
        assert "Nordlys" not in r.text
    bad = httpx.get(server.url + "/tlsync/linking", headers={"Authorization": "Bearer not-a-token"}, timeout=30)
    assert bad.status_code in (401, 403)


def test_viewer_reads_but_cannot_write(server):
    viewer = {"Authorization": f"Bearer {server.token('viewer')}"}
    page = httpx.get(server.url + "/tlsync/linking?le=2", headers=viewer, timeout=30)
    assert page.status_code == 200 and "Ét forslag" in page.text
    assert "kun læseadgang" in page.text           # the page says so, and the buttons are disabled
    before = server.settings_file.read_text()
    for _, path in WRITES:
        r = httpx.post(server.url + path, headers=viewer, data={"le": "2", "action": "ignore", "row": "1",
                                                                "confirm": "yes", "move": "ignore"}, timeout=30)
        assert r.status_code == 403, (path, r.status_code, r.text[:200])
    assert server.settings_file.read_text() == before


def test_cookie_post_needs_the_csrf_token(server):
    admin_cookie = {"_token": server.token("admin")}
    r = httpx.post(server.url + "/tlsync/integration/reset", cookies=admin_cookie,
                   data={"le": "2", "confirm": "yes"}, timeout=30)
    assert r.status_code == 403 and "CSRF" in r.text
    r = httpx.post(server.url + "/tlsync/integration/reset", cookies=admin_cookie,
                   headers={"Origin": "https://evil.example"}, data={"le": "2", "confirm": "yes"}, timeout=30)
    assert r.status_code == 403
    assert "uniconta_company_id: 10002" in server.settings_file.read_text()


def _count(page, view: str) -> int:
    return int(page.locator(f"a[data-view={view}] .count").inner_text())


def _act(page, action: str, rows: int | None = None) -> None:
    """Select ``rows`` rows (None = select all on the page), choose ``action``, preview, then OK."""
    assert page.locator("table.grid").count(), page.inner_text("body")[:1500]
    if rows is None:
        page.check("input[data-select-all]")
    else:
        boxes = page.locator("input[name=row]")
        for i in range(rows):
            boxes.nth(i).check()
    page.select_option("#action", action)
    page.click("text=Vis ændringer")
    page.wait_for_selector("text=Det her bliver skrevet")


def test_administrator_sets_up_legal_entity_1_in_the_browser(server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="da-DK")
            page.set_default_timeout(60_000)
            page.goto(server.url + "/")
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", server.passwords["admin"])
            page.click("button[type=submit]")
            page.wait_for_url(lambda u: "/auth/login" not in u)

            # the pages are in Airflow's own navigation (Plugins menu), rendered in its frame
            page.goto(server.url + "/plugin/tlsync-integration")
            frame = page.frame_locator("iframe").first
            frame.locator("h1").wait_for()
            assert "Integration" in frame.locator("h1").inner_text()
            page.screenshot(path=str(SHOTS / "01-airflow-navigation.png"))

            # Integration: Test lists the companies the user can see; choose 10001 and the defaults
            page.goto(server.url + "/tlsync/integration?le=1")
            page.click("button:has-text('Test')")
            page.wait_for_selector("text=company(ies) visible")
            page.select_option("#uniconta_company_id", "10001")
            page.click("button:has-text('Gem')")
            page.wait_for_selector(".msg")
            for field, value in (("debtor_group", "DK"), ("payment_terms", "N14"), ("layout_group", "Standard"),
                                 ("invoice_project_category", "FAKT"), ("project_group", "KUNDE")):
                page.select_option(f"#{field}", value)
            page.select_option("#expense_gl_accounts", ["2200", "2210"])
            page.click("button:has-text('Gem')")
            page.wait_for_selector(".msg")
            assert "Gemt" in page.inner_text(".msg"), page.inner_text("main")
            page.screenshot(path=str(SHOTS / "02-integration-defaults.png"), full_page=True)
            text = server.settings_file.read_text()
            assert "uniconta_company_id: 10001" in text and "debtor_group: DK" in text
            assert "item: FAST" in text and "account: '2220'" in text      # defaults not offered earlier are kept

            # a value the company does not have is refused with the valid choices, as `settings validate` does
            r = httpx.post(server.url + "/tlsync/integration/save", timeout=60,
                           headers={"Authorization": f"Bearer {server.token('admin')}"},
                           data={"le": "1", "uniconta_company_id": "10001", "debtor_group": "NOPE",
                                 "payment_terms": "N14", "layout_group": "Standard"})
            assert r.status_code == 200 and "debtor group &#39;NOPE&#39; does not exist in Uniconta" in r.text
            assert "choose one of: DK" in r.text and server.settings_file.read_text() == text

            # Customer linking: link 3 suggested pairs, TimeLog wins, after a preview
            page.goto(server.url + "/tlsync/linking?le=1&view=one")
            one = _count(page, "one")
            assert one >= 5
            page.screenshot(path=str(SHOTS / "03-linking-one.png"), full_page=True)
            _act(page, "link-timelog", rows=3)
            page.screenshot(path=str(SHOTS / "04-linking-preview.png"), full_page=True)
            page.click("button:has-text('OK')")
            page.wait_for_selector(".msg")
            assert page.inner_text(".msg").startswith("3 handling(er) udført"), page.inner_text(".msg")
            assert _count(page, "one") == one - 3

            # ignore one, then un-ignore it from the Ignored view
            _act(page, "ignore", rows=1)
            page.click("button:has-text('OK')")
            page.wait_for_selector(".msg")
            assert _count(page, "ignored") == 1 and _count(page, "one") == one - 4
            page.click("a[data-view=ignored]")
            page.wait_for_selector("input[name=row]")
            _act(page, "unignore", rows=1)
            page.click("button:has-text('OK')")
            page.wait_for_selector(".msg")
            assert _count(page, "ignored") == 0 and _count(page, "one") == one - 3
            page.screenshot(path=str(SHOTS / "05-linking-unignored.png"), full_page=True)

            # finish linking: the rest of One linked (TimeLog wins), Several and None ignored
            page.goto(server.url + "/tlsync/linking?le=1&view=one")
            _act(page, "link-timelog")
            page.click("button:has-text('OK')")
            page.wait_for_selector(".msg")
            for view in ("several", "none"):
                page.goto(server.url + f"/tlsync/linking?le=1&view={view}")
                if _count(page, view):
                    _act(page, "ignore")
                    page.click("button:has-text('OK')")
                    page.wait_for_selector(".msg")
            assert [_count(page, v) for v in ("one", "several", "none")] == [0, 0, 0]
            assert _actors(server, "customer_link") == {"admin"}          # the ledger names the Airflow user
            page.screenshot(path=str(SHOTS / "06-linking-done.png"), full_page=True)

            # the checklist: tick the three boxes, AKTIVÉR, the gate opens
            page.goto(server.url + "/tlsync/integration?le=1")
            assert "LUKKET" in page.inner_text("#gate")
            for box in ("configuration_complete", "customers_linked", "item_numbers_imported"):
                page.check(f"input[name={box}]")
            page.click("button:has-text('AKTIVÉR')")
            page.wait_for_selector("#gate")
            gate = page.inner_text("#gate")
            page.screenshot(path=str(SHOTS / "07-integration-activated.png"), full_page=True)
            assert "ÅBEN" in gate, page.inner_text("main")
            assert "Aktiveret af admin" in page.inner_text("main")

            # item numbers: what a line of each kind gets under the current rules; Uniconta's items, their state
            page.goto(server.url + "/tlsync/items?le=1")
            page.wait_for_selector("table#items")
            assert "FAST" in page.inner_text("table#items")
            _check_item_rules(page, server, 1)
            page.screenshot(path=str(SHOTS / "08-items.png"), full_page=True)

            # the next transfer writes the drafts; the invoices page lists them
            _transfer(server)
            page.goto(server.url + "/tlsync/invoices?le=1&state=done")
            rows = page.locator("table.grid tbody tr")
            assert rows.count() > 0
            assert re.search(r"\d{2}-\d{2}-\d{4}", rows.first.inner_text())        # Danish dates
            assert re.search(r"\d,\d{2}\b", rows.first.inner_text())                 # Danish money
            page.screenshot(path=str(SHOTS / "09-invoices.png"), full_page=True)

            # expenses waiting for a person: a project picker and the expense type per posting
            page.goto(server.url + "/tlsync/expenses?le=1")
            assert "Udgifter" in page.inner_text("h1")
            page.screenshot(path=str(SHOTS / "10-expenses.png"), full_page=True)

            # reconciliation: make the report for the year, open it in the page, the downloads are there
            page.goto(server.url + "/tlsync/reports?le=1")
            page.fill("input[name=start]", "2020-01-01")
            page.fill("input[name=end]", "2030-12-31")
            page.click("button:has-text('Lav rapport')")
            page.wait_for_selector("table.grid")
            page.screenshot(path=str(SHOTS / "11-reports.png"), full_page=True)
            for link in ("xlsx", "pdf", "csv (zip)"):
                href = page.get_attribute(f"a:has-text('{link}')", "href")
                r = page.request.get(server.url + href)
                assert r.status == 200 and len(r.body()) > 100, (link, r.status)
            with page.expect_popup() as opened:
                page.click("a:has-text('Åbn')")
            report = opened.value
            report.wait_for_load_state()
            report.screenshot(path=str(SHOTS / "12-report.png"))
            assert report.url.endswith(".html") and "TimeLog" in report.inner_text("body")
        finally:
            browser.close()


def _actors(server, domain: str) -> set[str]:
    with server.engine.connect() as conn:
        events = set(conn.execute(select(ledger_events.c.actor).where(ledger_events.c.domain == domain)).scalars())
        links = set(conn.execute(select(customer_links.c.actor)).scalars())
    return events | links


def _transfer(server) -> None:
    run_write_back(server.sims["timelog"], server.sims["uniconta"], {"1": 10001},
                   settings=st.load(server.settings_file), engine=server.engine)


def _check_item_rules(page, server, legal_entity_id: int) -> None:
    """The rules table is the transfer's resolver's decisions, one row per case, in the page's language."""
    entity = st.load(server.settings_file).entity(legal_entity_id)
    cases = rule_cases(ItemResolver.from_staging(server.engine, entity))
    rows = page.locator("table#item-rules tbody tr")
    assert rows.count() == len(cases) > 6
    for i, case in enumerate(cases):
        row = rows.nth(i)
        assert row.get_attribute("data-kind") == case.kind and row.get_attribute("data-case") == case.case
        item, account = case.outcome.item, case.outcome.gl_account
        expected = item if item else f"finanskonto {account}" if account else "intet varenummer"
        assert row.locator("td").nth(3).inner_text() == expected, (i, case)
        assert row.locator("td").nth(4).inner_text() == case.rule
    text = page.inner_text("table#item-rules")
    assert "Tid" in text and "Fastpris" in text and "overføres" in text


def _logged_in(p, server):
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="da-DK")
    page.set_default_timeout(60_000)
    page.goto(server.url + "/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", server.passwords["admin"])
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/auth/login" not in u)
    return browser, page


def test_items_page_in_english(server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser, page = _logged_in(p, server)
        try:
            page.goto(server.url + "/tlsync/items?le=2&lang=en")
            page.wait_for_selector("table#item-rules")
            text = page.inner_text("table#item-rules")
            # LE 2 (example settings): time → one specific item KONS-JR; fixed price by project type 2 → FAST, 3 → ABON
            assert "One specific item" in text and "By project type" in text and "KONS-JR" in text, text
            fixed = page.locator("table#item-rules tr[data-kind=fixed_price][data-case=value]")
            assert fixed.count() == 2 and "FAST" in fixed.nth(0).inner_text() and "ABON" in fixed.nth(1).inner_text()
            mileage = page.locator("table#item-rules tr[data-kind=mileage]").inner_text()
            assert "GL account 2250" in mileage and "transferred" in mileage
            page.screenshot(path=str(SHOTS / "13-items-rules-en.png"), full_page=True)
        finally:
            browser.close()


def test_backfill_shows_the_plan_then_starts_the_run_with_its_conf(server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser, page = _logged_in(p, server)
        try:
            page.goto(server.url + "/tlsync/invoices?le=2")
            page.fill("input[name=start]", "2026-01")
            page.fill("input[name=end]", "2026-02")
            assert page.is_checked("input[name=legal_entities][value='2']")
            assert not page.is_checked("input[name=legal_entities][value='1']")
            page.click("button:has-text('Vis plan')")
            page.wait_for_selector("table.plan")
            plan = page.inner_text("table.plan")
            assert "Juridisk enhed 2" in plan and "Juridisk enhed 1" not in plan, plan
            assert _backfill_runs(server) == []                      # the plan is a dry run: nothing started
            page.screenshot(path=str(SHOTS / "14-backfill-plan.png"), full_page=True)
            page.click("button:has-text('Start backfill')")
            page.wait_for_selector(".msg")
            msg = page.inner_text(".msg")
            page.screenshot(path=str(SHOTS / "15-backfill-started.png"), full_page=True)
            assert "started" in msg and "2026-01-01 – 2026-02-28" in msg, msg
        finally:
            browser.close()
    runs = _backfill_runs(server)
    assert runs and {r["run_type"] for r in runs} == {"backfill"}, runs
    assert all(r["conf"] == {"legal_entities": [2], "dry_run": False} for r in runs), runs
    assert {r["logical_date"][:7] for r in runs} <= {"2026-01", "2026-02"}


def _backfill_runs(server) -> list[dict]:
    r = httpx.get(f"{server.url}/api/v2/dags/tlsync_invoice_backfill/dagRuns", timeout=30,
                  headers={"Authorization": f"Bearer {server.token('admin')}"})
    r.raise_for_status()
    return r.json()["dag_runs"]


def test_expense_review_with_the_project_picker(server):
    entity = st.load(server.settings_file).entity(2)
    with timelog_rest_client(server.sims["timelog"]) as rest:          # the nightly's expense step, for LE 2
        import_expenses(server.engine, entity, rest, ledger=Ledger(server.engine))
    rows = waiting(server.engine, 2)
    assert rows, "the S data leaves postings for the review"
    key = rows[0]["posting_key"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser, page = _logged_in(p, server)
        try:
            page.goto(server.url + "/tlsync/expenses?le=2")
            page.wait_for_selector("table.grid")
            project = page.locator(f"select[name='project.{key}']")
            options = project.locator("option")
            assert options.count() > 2 and project.evaluate("e => e.tagName") == "SELECT"   # a list, not free text
            chosen = options.nth(1).get_attribute("value")
            project.select_option(chosen)
            kind = page.locator(f"select[name='type.{key}']")
            if not kind.input_value():
                kind.select_option(kind.locator("option").nth(1).get_attribute("value"))
            expense_type = kind.input_value()
            page.check(f"input[name=row][value='{key}']")
            page.screenshot(path=str(SHOTS / "16-expenses-review.png"), full_page=True)
            page.click("button:has-text('Importér som projektudgift')")
            page.wait_for_selector(".msg")
            page.screenshot(path=str(SHOTS / "17-expenses-decided.png"), full_page=True)
            msg = page.inner_text(".msg")
        finally:
            browser.close()
    entry = Ledger(server.engine).get(EXPENSE, 2, key)
    assert entry.state == "done", (msg, entry)
    assert str(entry.details.get("project_id")) == chosen and str(entry.details.get("expense_type_id")) == \
        expense_type, entry.details
    with server.engine.connect() as conn:
        actors = list(conn.execute(select(ledger_events.c.actor).where(
            ledger_events.c.domain == EXPENSE, ledger_events.c.legal_entity_id == 2, ledger_events.c.source_key == key)
            .order_by(ledger_events.c.id)).scalars())
    assert actors[-1] == "admin" and "admin" not in actors[:1], actors     # the review's writes name the user
    assert key not in {r["posting_key"] for r in waiting(server.engine, 2)}
