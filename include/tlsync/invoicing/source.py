"""Reading a legal entity's booked invoices from staging, month by month, with bounded memory.

The nightly sync stages TimeLog's invoices, lines and line details per legal entity under the tenant
``<site code>:<legal entity id>`` (payloads with the Reporting API's field names). The transfer never loads all
of them: :func:`months` cuts a period into calendar months, :func:`invoices_in` streams one month's invoices in
date order, and :func:`lines_for` fetches the lines (with their details attached, for the item resolver) of one
batch of invoices. Indexes on ``(tenant, invoice_date)`` of the invoices and ``(tenant, invoice_id)`` of the lines
and line details make those reads cheap on a five-year history; they are declared on the staging tables
(:mod:`tlsync.staging.tables`) and created by the staging migrations, like every other part of the schema.

Decisions recorded (issue 12, item 5): the tenant is found and taken apart with :class:`~tlsync.staging.read.Tenant`
and every payload is parsed by :func:`tlsync.staging.read.loads` (exact Decimals; ``text_numbers``: TimeLog serves
its amounts as text, so ``orjson`` parses them — issue 18: the stdlib decoder was 7 of M's 80 s), but the three
payload readers (the backfill's hot path) keep their own statements. :func:`invoices_in` filters on the typed date,
status and type columns in SQL (``rows`` selects by tenant and one key column only); :func:`invoices_by_guid` looks
for the GUIDs in the payload text before parsing it (``rows`` would parse every invoice of the tenant);
:func:`lines_for` was ported to ``rows(..., by="invoice_id")`` and measured slower: ``rows`` orders by
``natural_key, tenant``, and SQLite then answers ``tenant = ? AND invoice_id IN (…)`` from the primary key (the
whole tenant, in order) instead of ``ix_tlsync_invline_invoice`` — 20,000 lines, 40,000 details, 40 batches of 100
invoices: 0.8–1.3 s before, 1.8–2.9 s ported (``EXPLAIN QUERY PLAN``: ``SEARCH … USING INDEX sqlite_autoindex_…
(tenant=?)``), and the scan grows with the history. The S backfill benchmark (185 lines) does not show it:
2.3/2.5/3.1 s before, 2.6/2.1 s ported.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select, text

from tlsync.clients.timelog.models import Invoice, InvoiceStatus, InvoiceType
from tlsync.staging.read import IN_CHUNK, Tenant, tenants
from tlsync.staging.read import loads as loads  # the one payload parser, also for the drafting's own reads
from tlsync.staging.tables import STAGING

INVOICES_ENTITY, LINES_ENTITY = "timelog.invoices", "timelog.invoice_lines"
DETAILS_ENTITY = "timelog.invoice_line_details"
INVOICES, LINES, DETAILS = STAGING[INVOICES_ENTITY], STAGING[LINES_ENTITY], STAGING[DETAILS_ENTITY]

Payload = dict[str, Any]
"""A staged payload: the API's JSON object (its field names), numbers exact (:func:`loads`)."""
Staged = tuple[Invoice, Payload]
"""A staged invoice: its parsed model and its raw payload."""

BOOKED = (int(InvoiceStatus.BOOKED), int(InvoiceStatus.OVERDUE), int(InvoiceStatus.PAID))
"""Rule T2: only booked invoices travel; overdue and paid ones are booked too (status 0 is a draft)."""
TRANSFERRED_TYPES = (int(InvoiceType.INVOICE), int(InvoiceType.CREDIT_NOTE))
"""Invoices and credit notes; reminders and vouchers are not accounting documents for Uniconta."""

def analyze(engine: Engine, tables: Sequence[str], *, only_if_never: bool = False) -> None:
    """PostgreSQL: refresh the planner's statistics of ``tables`` (``ANALYZE``; samples, a fraction of a second).

    Without statistics — a freshly staged database, a ledger that grew by 100,000 rows in one backfill, a server
    whose autovacuum is off or has not come round yet — the planner believes the tables are nearly empty and reads
    a whole legal entity's ledger range for every 100-key look-up, which makes a five-year backfill quadratic.
    ``only_if_never``: only tables that were never analyzed. Nothing on other databases; a refusal (not the
    owner) is logged and ignored — it costs speed, never correctness."""
    if engine.dialect.name != "postgresql" or not tables:
        return
    import logging

    try:
        with engine.connect() as conn:
            if only_if_never:
                rows = conn.execute(text(
                    "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(:t) "
                    "AND last_analyze IS NULL AND last_autoanalyze IS NULL"), {"t": list(tables)})
                tables = [r[0] for r in rows]
            for name in tables:
                conn.execute(text(f'ANALYZE "{name}"'))
            conn.commit()
    except Exception as exc:  # noqa: BLE001 - statistics are an optimisation
        logging.getLogger(__name__).warning("could not ANALYZE %s: %s", ", ".join(tables), exc)


def invoice_tenant(engine: Engine, legal_entity_id: int) -> str | None:
    """The staging tenant of one legal entity's invoices (``"<site>:<id>"``), or ``None`` if nothing is staged
    (of several sites' tenants, the first in text order)."""
    found = tenants(engine, INVOICES_ENTITY, Tenant.of_legal_entity(legal_entity_id))
    return str(found[0]) if found else None


def site_of(tenant: str) -> str:
    """The site code of a staging tenant (``"SIMSITE:1"`` → ``"SIMSITE"``)."""
    return Tenant.parse(tenant).site.code


def months(start: date, end: date) -> Iterator[tuple[date, date]]:
    """Calendar months covering ``start..end`` (inclusive), clipped to the period."""
    cur = date(start.year, start.month, 1)
    while cur <= end:
        nxt = date(cur.year + (cur.month == 12), cur.month % 12 + 1, 1)
        yield max(cur, start), min(nxt - timedelta(days=1), end)
        cur = nxt


def staged_period(engine: Engine, tenant: str) -> tuple[date, date] | None:
    """First and last invoice date staged for a tenant."""
    from sqlalchemy import func

    with engine.connect() as conn:
        lo, hi = conn.execute(select(func.min(INVOICES.c.invoice_date), func.max(INVOICES.c.invoice_date))
                              .where(INVOICES.c.tenant == tenant)).one()
    if lo is None:
        return None
    return (lo.date() if isinstance(lo, datetime) else lo), (hi.date() if isinstance(hi, datetime) else hi)


def invoices_in(engine: Engine, tenant: str, start: date, end: date) -> list[Staged]:
    """The booked invoices and credit notes dated ``start..end``: ``(parsed model, raw payload)`` in date/ID
    order. One month of a large site is a few thousand rows — small enough to hold."""
    q = (select(INVOICES.c.payload)
         .where(INVOICES.c.tenant == tenant,
                INVOICES.c.invoice_date >= datetime.combine(start, datetime.min.time()),
                INVOICES.c.invoice_date < datetime.combine(end + timedelta(days=1), datetime.min.time()),
                INVOICES.c.status.in_(BOOKED), INVOICES.c.type.in_(TRANSFERRED_TYPES))
         .order_by(INVOICES.c.invoice_date, INVOICES.c.natural_key))
    out: list[Staged] = []
    with engine.connect() as conn:
        for (payload,) in conn.execute(q):
            raw = loads(payload, text_numbers=True)
            out.append((Invoice.model_validate(raw), raw))
    out.sort(key=lambda pair: (pair[0].invoice_date, pair[0].id))
    return out


def invoices_by_guid(engine: Engine, tenant: str, guids: Sequence[str]) -> dict[str, Staged]:
    """Staged invoices by GUID (for recovery and the CLI; scans the tenant's invoices once, streaming)."""
    wanted = {g.lower() for g in guids}
    found: dict[str, Staged] = {}
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=2000).execute(
            select(INVOICES.c.payload).where(INVOICES.c.tenant == tenant))
        for (payload,) in result:
            if not any(g in payload.lower() for g in wanted):
                continue
            raw = loads(payload, text_numbers=True)
            guid = str(raw.get("GUID") or "").lower()
            if guid in wanted:
                found[guid] = (Invoice.model_validate(raw), raw)
    return found


def lines_for(engine: Engine, tenant: str, invoice_ids: Sequence[int]) -> dict[int, list[Payload]]:
    """Invoice ID → its staged line payloads in line-ID order, each with ``_Details`` (its line details) attached
    for the item resolver (rules I1–I5 read the registration type and task from them). One statement per
    :data:`~tlsync.staging.read.IN_CHUNK` invoices, without ``ORDER BY`` (see the module docstring)."""
    by_invoice: dict[int, list[Payload]] = defaultdict(list)
    if not invoice_ids:
        return by_invoice
    details: dict[int, list[Payload]] = defaultdict(list)
    ids = list(invoice_ids)
    with engine.connect() as conn:
        for chunk in (ids[i:i + IN_CHUNK] for i in range(0, len(ids), IN_CHUNK)):
            for (payload,) in conn.execute(select(DETAILS.c.payload).where(
                    DETAILS.c.tenant == tenant, DETAILS.c.invoice_id.in_(chunk))):
                d = loads(payload, text_numbers=True)
                details[int(d.get("InvoiceLineID") or 0)].append(d)
            for (payload,) in conn.execute(select(LINES.c.payload).where(
                    LINES.c.tenant == tenant, LINES.c.invoice_id.in_(chunk))):
                line = loads(payload, text_numbers=True)
                line["_Details"] = details.get(int(line.get("ID") or 0), [])
                by_invoice[int(line["InvoiceID"])].append(line)
    for lines in by_invoice.values():
        lines.sort(key=lambda ln: int(ln.get("ID") or 0))
    return by_invoice
