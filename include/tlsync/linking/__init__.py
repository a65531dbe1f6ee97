"""Customer linking before activation (rules L2–L6, S8): act on the matching's suggestions, review them 200 at a
time in the terminal or in Excel, advise the number series, and hold the invoice transfer until linking is done.

Public API::

    Linker(engine, legal_entity_id, company_id, *, targets=Targets(...), run_id=None, actor=...)
        .link(account, customer_id, wins="timelog"|"uniconta") / .import_customer(account)
        .ignore(account) / .unignore(account) / .apply(Decision) / .apply_all([Decision], refresh=True)
    Decision(action, debtor_account, customer_id=None)      # action in ACTIONS
    Targets(timelog_fields_or_conn_id, uniconta_fields_or_conn_id, company_id)   # lazy API clients
    transfer_blockers(le: LegalEntitySettings, engine) -> list[str]                # the S8 gate
    view_page(engine, legal_entity_id, company_id, view, page=1) -> Page           # the L5 review, 200 a page
    export_views(engine, legal_entity_id, company_id, path) / read_decisions(engine, path, le_id, company_id)
    number_advice(engine, company_id, legal_entity_id=None) -> NumberAdvice        # rule L6

Ledger domain ``customer_link`` (key = debtor account per legal entity); links in table ``customer_links``.
CLI: ``python -m tlsync.linking --help``.
"""

from __future__ import annotations

from .actions import Linker
from .decisions import ACTIONS, Decision, LinkError, Outcome
from .excel import DecisionFile, DecisionFileError, export_views, neutralise, read_decisions, restore
from .gate import linking_blocker, transfer_blockers, view_counts
from .numbers import NumberAdvice, number_advice
from .review import PAGE_SIZE, Page, ReviewRow, render_html, render_json, render_text, view_page, view_rows
from .targets import Targets, connection_fields

__all__ = ["ACTIONS", "PAGE_SIZE", "Decision", "DecisionFile", "DecisionFileError", "LinkError", "Linker",
           "NumberAdvice", "Outcome", "Page", "ReviewRow", "Targets", "connection_fields", "export_views",
           "linking_blocker", "neutralise", "number_advice", "read_decisions", "render_html", "render_json",
           "render_text", "restore", "transfer_blockers", "view_counts", "view_page", "view_rows"]
