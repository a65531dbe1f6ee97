"""tlsync's pages in a real Airflow api-server (SimpleAuthManager, plugins folder of this project), against both
simulators and a staging database filled by the nightly pipeline (see ``pages_env.py``).

- anonymous requests to every plugin endpoint are refused (401/403); a viewer may read but not write, and a
  cookie-authenticated POST without the form's CSRF token is refused;
- the administrator's set-up in headless Chromium (Debian's ``chromium`` through Playwright): log in, open the
  pages from Airflow's navigation, choose the company, set the defaults, link 3 suggested pairs with "TimeLog
  wins", ignore one and un-ignore it, finish the linking, tick the checklist and see the gate open; after the next
  transfer the invoices page lists the drafts. Screenshots under ``out/screenshots/``.
"""

from __future__ import annotations

import re

import httpx
import pytest
from pages_env import ROOT, pages_server

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
    from tlsync_airflow.ui.app import app

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
    from playwright.sync_api import sync_playwright

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

            # item numbers: Uniconta's items, their state in TimeLog, which defaults use them
            page.goto(server.url + "/tlsync/items?le=1")
            page.wait_for_selector("table.grid")
            assert "FAST" in page.inner_text("table.grid")
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
    from sqlalchemy import select
    from tlsync.staging.tables import customer_links, ledger_events

    with server.engine.connect() as conn:
        events = set(conn.execute(select(ledger_events.c.actor).where(ledger_events.c.domain == domain)).scalars())
        links = set(conn.execute(select(customer_links.c.actor)).scalars())
    return events | links


def _transfer(server) -> None:
    from tlsync import settings as st
    from tlsync.sync.local import run_write_back

    run_write_back(server.sims["timelog"], server.sims["uniconta"], {"1": 10001},
                   settings=st.load(server.settings_file), engine=server.engine)
