"""What the pages read, on both databases: the linking page's SQL paging and counts give exactly what the domain's
``view_page`` / ``view_counts`` give (the S8 gate and the CLI read those), hostile names render as text, and money
and dates are Danish."""

from __future__ import annotations

import functools
import importlib.util
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import event, text

from tlsync.linking import view_counts as domain_counts
from tlsync.linking import view_page
from tlsync_airflow.ui import i18n
from tlsync_airflow.ui.queries import linking_page, view_counts

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("bench_linking_page", ROOT / "bench" / "linking_page.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


@pytest.fixture
def filled(engine):
    bench.fill(engine, 650)
    return engine


def test_linking_pages_and_counts_match_the_domain(filled):
    counts = view_counts(filled, bench.COMPANY)
    assert counts == domain_counts(filled, bench.COMPANY)
    for view in ("one", "several", "none", "ignored"):
        expected = view_page(filled, 1, bench.COMPANY, view, 1)
        for page in range(1, expected.pages + 1):
            want = view_page(filled, 1, bench.COMPANY, view, page)
            got = linking_page(filled, bench.COMPANY, view, page, 200)
            assert (got.page, got.pages, got.total) == (want.page, want.pages, want.total)
            assert [(r.debtor_account, r.debtor_name, r.debtor_cvr, [(c.customer_id, c.customer_no, c.score)
                                                                    for c in r.candidates]) for r in got.rows] == \
                   [(r.debtor_account, r.debtor_name, r.debtor_cvr, [(c.customer_id, c.customer_no, c.score)
                                                                    for c in r.candidates]) for r in want.rows]


def test_filter_by_name_number_and_cvr(filled):
    row = view_page(filled, 1, bench.COMPANY, "one", 2).rows[7]
    for q in (row.debtor_cvr, row.debtor_account, row.best.customer_no, row.debtor_name.split(" & ")[0].upper()):
        found = linking_page(filled, bench.COMPANY, "one", 1, 200, q)
        assert found.total >= 1 and (row.debtor_account in {r.debtor_account for r in found.rows}
                                     or found.total > 200), q
    assert linking_page(filled, bench.COMPANY, "one", 1, 200, "no such debtor anywhere").total == 0
    # a filter's size and page come from one scan; a page past the end is the last page, as without a filter
    wide = linking_page(filled, bench.COMPANY, "one", 1, 200, "a")
    assert wide.total > 200 and wide.pages == -(-wide.total // 200) and len(wide.rows) == 200
    last = linking_page(filled, bench.COMPANY, "one", 99, 200, "a")
    assert (last.page, last.total) == (wide.pages, wide.total) and len(last.rows) == wide.total - 200 * (wide.pages - 1)


def test_hostile_names_render_as_text(filled):
    from tlsync.linking.review import Candidate, ReviewRow
    from tlsync.settings import LegalEntitySettings
    from tlsync_airflow.ui.app import templates
    from tlsync_airflow.ui.queries import LinkingPage

    evil = ReviewRow("1", "<script>alert(1)</script>", "=HYPERLINK(\"http://x\")", None, None, "one",
                     [Candidate(1, "7", "<b>7</b>", "<img src=x onerror=alert(1)>", None, None, 70, ["<i>"])])
    le = LegalEntitySettings(legal_entity_id=1, uniconta_company_id=bench.COMPANY)
    html = templates.get_template("linking.html").render(
        request=bench._Request({}), lang="da", t=functools.partial(i18n.translate, "da"), user="<u>", can_write=True,
        csrf="c", prefix="/tlsync", entities={1: le}, le=le, view="one", q="\"><script>", msg="<script>x</script>",
        counts=view_counts(filled, bench.COMPANY), result=LinkingPage([evil], 1, 1, 1), advice=None)
    assert "<script>alert" not in html and "<script>x" not in html and "\"><script>" not in html
    assert "<img" not in html and "<b>7" not in html and "<u>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_danish_money_and_dates():
    assert i18n.money(Decimal("1234.565")) == "1.234,57" and i18n.money("-0.5") == "-0,50" and i18n.money(None) == ""
    assert i18n.day("2026-12-02") == "02-12-2026" and i18n.day("2026-12-02T08:15:00") == "02-12-2026 08:15"
    assert i18n.translate("en", "view.one") == "One suggestion" and i18n.translate("da", "view.one") == "Ét forslag"


def test_the_page_is_read_in_index_order(filled):
    """Migration 0004: ``ix_link_suggestions_page`` exists on both databases, and on PostgreSQL the page's query
    (captured as sent) is an index scan of it in page order, without sorting the view — also when the planner would
    rather not use an index on so small a table (sequential scans and sorts discouraged for the EXPLAIN)."""
    sent: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "ORDER BY" in statement and "LIMIT" in statement:
            sent.append((statement, parameters))

    event.listen(filled, "before_cursor_execute", capture)
    try:
        linking_page(filled, bench.COMPANY, "one", 2, 200)
    finally:
        event.remove(filled, "before_cursor_execute", capture)
    with filled.connect() as conn:
        if filled.dialect.name == "sqlite":
            names = set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'")).scalars())
            assert "ix_link_suggestions_page" in names
            return
        conn.exec_driver_sql("SET enable_seqscan = off")
        conn.exec_driver_sql("SET enable_sort = off")
        (statement, parameters), = sent
        plan = "\n".join(conn.exec_driver_sql("EXPLAIN " + statement, parameters).scalars())
    assert "ix_link_suggestions_page" in plan and "Sort" not in plan, plan
