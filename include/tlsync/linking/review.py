"""The review of rule L2/L5: one view, 200 debtors a page, the Uniconta debtor on the left and its TimeLog
candidate(s) on the right, each with its score and reasons.

Read from ``link_suggestions`` (kept current by the refresh after every staging and every batch of actions) and
enriched from the staged payloads (CVR, phone, city, customer number). Rendered as a text table for the terminal
(long names shortened for the layout only), as JSON (every value exactly as stored) and as an HTML page (every
value escaped: a debtor named ``<script>`` is shown, never run).
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass, field

from sqlalchemy import Engine, select

from tlsync.staging.tables import link_suggestions

from .gate import VIEW_LABELS
from .store import staged_customers, staged_debtors

PAGE_SIZE = 200
VIEWS = ("one", "several", "none", "ignored")


@dataclass
class Candidate:
    """The right side: a TimeLog customer suggested for the debtor."""

    rank: int
    customer_id: str
    customer_no: str | None
    customer_name: str | None
    customer_vat: str | None
    customer_phone: str | None
    score: int | None
    reasons: list[str]


@dataclass
class ReviewRow:
    """The left side: one Uniconta debtor, with its candidates best first (none in the No suggestion view)."""

    debtor_account: str
    debtor_name: str | None
    debtor_cvr: str | None
    debtor_phone: str | None
    debtor_city: str | None
    view: str
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


@dataclass
class Page:
    legal_entity_id: int
    company_id: int
    view: str
    page: int
    pages: int
    total: int
    rows: list[ReviewRow]

    def as_dict(self) -> dict:
        return asdict(self)


def _str(v: object) -> str | None:
    return None if v in (None, "") else str(v)


def review_rows(suggestions: list[dict], debtors: dict[str, dict], customers: dict[str, dict],
                view: str) -> dict[str, ReviewRow]:
    """``link_suggestions`` rows (ordered by debtor and rank) with the staged debtor and customer payloads they
    name, as one :class:`ReviewRow` per debtor with its candidates — for the CLI's views and the UI's pages."""
    rows: dict[str, ReviewRow] = {}
    for r in suggestions:
        account = r["debtor_account"]
        row = rows.get(account)
        if row is None:
            d = debtors.get(account, {})
            row = rows[account] = ReviewRow(account, d.get("Name", r["debtor_name"]), _str(d.get("CompanyRegNo")),
                                            _str(d.get("Phone")), _str(d.get("City")), view)
        if r["customer_id"] is not None:
            c = customers.get(r["customer_id"], {})
            row.candidates.append(Candidate(r["rank"], r["customer_id"], _str(c.get("No")),
                                            c.get("Name", r["customer_name"]), _str(c.get("VATNo")),
                                            _str(c.get("Phone")), r["score"], json.loads(r["reasons"] or "[]")))
    return rows


def view_rows(engine: Engine, company_id: int | str, view: str) -> list[ReviewRow]:
    """Every debtor of one view, by account (numeric accounts in numeric order)."""
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}; choose one of {', '.join(VIEWS)} (rule L2)")
    q = (select(link_suggestions).where(link_suggestions.c.company_id == str(company_id),
                                        link_suggestions.c.view == view)
         .order_by(link_suggestions.c.debtor_account, link_suggestions.c.rank))
    with engine.connect() as conn:
        found = [dict(r._mapping) for r in conn.execute(q)]
    debtors = staged_debtors(engine, company_id) if found else {}
    customers = staged_customers(engine) if any(r["customer_id"] for r in found) else {}
    rows = review_rows(found, debtors, customers, view)
    return sorted(rows.values(), key=lambda row: (not row.debtor_account.isdigit(),
                                                  int(row.debtor_account) if row.debtor_account.isdigit() else 0,
                                                  row.debtor_account))


def view_page(engine: Engine, legal_entity_id: int, company_id: int, view: str, page: int = 1,
              page_size: int = PAGE_SIZE) -> Page:
    """Page ``page`` (1-based) of a view: at most ``page_size`` debtors (rule L5: 200)."""
    rows = view_rows(engine, company_id, view)
    pages = max(1, -(-len(rows) // page_size))
    if page < 1 or page > pages:
        raise ValueError(f"page {page} does not exist; the {VIEW_LABELS[view]} view has {pages} page(s) "
                         f"of {page_size} debtors")
    start = (page - 1) * page_size
    return Page(int(legal_entity_id), int(company_id), view, page, pages, len(rows), rows[start:start + page_size])


# ---- rendering -------------------------------------------------------------------------------------------------

def _cut(text: str | None, width: int) -> str:
    text = " ".join((text or "").split())          # a newline inside a name must not break the table
    return text if len(text) <= width else text[: width - 1] + "…"


def render_text(page: Page) -> str:
    """The page as a terminal table (names shortened to fit; JSON/HTML show them whole)."""
    head = (f"{VIEW_LABELS[page.view]} — legal entity {page.legal_entity_id} (Uniconta company {page.company_id}) — "
            f"page {page.page} of {page.pages}, {page.total} debtor(s)")
    if not page.rows:
        return head + "\n(nothing in this view)"
    lines = [head, f"{'Uniconta debtor':<48} │ {'TimeLog customer':<44} │ {'score':>5} │ reasons",
             f"{'─' * 48}─┼─{'─' * 44}─┼─{'─' * 5}─┼─{'─' * 30}"]
    for row in page.rows:
        left = f"{_cut(row.debtor_account, 10):<10} {_cut(row.debtor_name, 26):<26} {_cut(row.debtor_cvr, 10):<10}"
        if not row.candidates:
            lines.append(f"{left} │ {'(no candidate)':<44} │ {'':>5} │")
        for i, c in enumerate(row.candidates):
            right = f"#{c.customer_id:<6} no. {_cut(c.customer_no, 8):<8} {_cut(c.customer_name, 24):<24}"
            lines.append(f"{left if i == 0 else '':<48} │ {right:<44} │ {c.score if c.score is not None else '':>5} │ "
                         f"{', '.join(c.reasons)}")
    return "\n".join(lines)


def render_json(page: Page) -> str:
    return json.dumps(page.as_dict(), ensure_ascii=False, indent=2)


def render_html(page: Page) -> str:
    """A standalone HTML page of the view; every value is escaped."""
    e = html.escape
    out = ["<!doctype html><html><head><meta charset='utf-8'>",
           f"<title>{e(VIEW_LABELS[page.view])} — legal entity {page.legal_entity_id}</title>",
           "<style>td,th{border:1px solid #ccc;padding:2px 6px;vertical-align:top}table{border-collapse:collapse}"
           "</style></head><body>",
           f"<h1>{e(VIEW_LABELS[page.view])}</h1><p>Legal entity {page.legal_entity_id}, Uniconta company "
           f"{page.company_id}: page {page.page} of {page.pages}, {page.total} debtor(s).</p>",
           "<table><tr><th>Debtor</th><th>Name</th><th>CVR</th><th>Customer</th><th>No.</th><th>Name</th>"
           "<th>Score</th><th>Reasons</th></tr>"]
    for row in page.rows:
        left = (f"<td>{e(row.debtor_account)}</td><td>{e(row.debtor_name or '')}</td>"
                f"<td>{e(row.debtor_cvr or '')}</td>")
        for c in row.candidates or (None,):
            right = ("<td></td><td></td><td></td><td></td><td></td>" if c is None else
                     f"<td>{e(c.customer_id)}</td><td>{e(c.customer_no or '')}</td><td>{e(c.customer_name or '')}</td>"
                     f"<td>{'' if c.score is None else c.score}</td><td>{e(', '.join(c.reasons))}</td>")
            out.append(f"<tr>{left}{right}</tr>")
    out.append("</table></body></html>")
    return "\n".join(out)
