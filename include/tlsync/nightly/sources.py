"""What the nightly sync reads from each system, per staged entity, as raw payload dicts.

A *source* wraps one system's typed clients (a :class:`tlsync.connections.Clients`, built from an Airflow
Connection by :func:`tlsync.connections.clients` or returned by the hooks' ``get_conn()``) and answers "give me
the records of this entity" with :class:`Extracted` items: the raw payload exactly as the API sent it (API field
names; strings for TimeLog's XML) plus, for a record the client's pydantic model refused, the reason — so a
malformed record is quarantined with its reason instead of failing the run (issue 4).

Shared by every task that reads: one :class:`~tlsync.clients._http.CallCounter` per source counts the calls spent,
which the run summary reports per system. :func:`timelog_source` and :func:`uniconta_source` build a source from a
Connection's fields in one call (the local runs and the tests).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from tlsync import config, connections
from tlsync.staging.entities import EntitySpec

BY_ID_LIMIT = 100
"""Invoices modified outside the read's window are read one by one up to this many, else by reading the history."""
HISTORY_FLOOR = date(1990, 1, 1)
"""The start of a read meant to cover a site's whole history."""


def read_windows(since: date, until: date, days: int) -> Iterator[tuple[date, date]]:
    """``[since, until]`` as consecutive windows of at most ``days`` days, each starting on the day the one before
    ends (``[since, until]`` itself when it is short, or reversed)."""
    lo = since
    while True:
        hi = min(lo + timedelta(days=days), until)
        yield lo, hi
        if hi >= until:
            return
        lo = hi


def spans_holding(dates: Iterable[date], days: int) -> list[tuple[date, date]]:
    """The fewest date spans of at most ``days`` days (3 at least) that hold every one of ``dates`` with a day to
    spare on either side (a read's end date may be exclusive, and a contract's date-time may be a day off in
    another time zone), in date order: where a read by date must find records whose dates are known."""
    width = timedelta(days=max(days, 3))
    spans: list[tuple[date, date]] = []
    for d in sorted(set(dates)):
        if spans and d + timedelta(days=1) < spans[-1][1]:
            continue
        lo = d - timedelta(days=1)
        spans.append((lo, lo + width))
    return spans


@dataclass(frozen=True)
class Extracted:
    raw: dict[str, Any]
    error: str | None = None


def _from_raw_records(items: Iterable[Any]) -> Iterator[Extracted]:
    """Adapt the clients' ``RawRecord`` (model, raw, error) to :class:`Extracted`."""
    for item in items:
        yield Extracted(dict(item.raw), getattr(item, "error", None))


def _from_models(items: Iterable[Any]) -> Iterator[Extracted]:
    for model in items:
        yield Extracted(model.model_dump(by_alias=True, exclude_unset=True, mode="json"))


class TimeLogSource:
    """TimeLog's three APIs for one site. Reporting for bulk reads, REST for product numbers, expense types and
    currencies, Transactional for "modified in period" (invoices touched after their date window)."""

    def __init__(self, clients: connections.Clients) -> None:
        self.clients = clients
        self.site = clients.site
        self.reporting = clients.reporting
        self.rest = clients.rest
        self.transactional = clients.transactional
        self.counter = clients.counter
        self._currencies: frozenset[str] | None = None
        self._legal_entities: list[str] | None = None

    def __enter__(self) -> TimeLogSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.clients.close()

    def calls(self) -> dict[str, int]:
        return self.counter.snapshot()

    def currencies(self) -> frozenset[str]:
        """ISO codes TimeLog knows (REST ``currency``), for the quality gate's "currency known" rule."""
        if self._currencies is None:
            self._currencies = frozenset(c.abbreviation for c in self.rest.currencies() if c.abbreviation is not None)
        return self._currencies

    def records(self, spec: EntitySpec, since: date | None = None, until: date | None = None) -> Iterator[Extracted]:
        """Every record of a site-wide entity (dated ones between ``since`` and ``until``)."""
        r = self.reporting
        readers: dict[str, Callable[[], Iterable[Any]]] = {
            "legal_entities": r.legal_entities_raw,
            "employees": r.employees_raw,
            "customers": r.customers_raw,
            "contacts": r.contacts_raw,
            "projects": r.projects_raw,
            "project_types": r.project_types_raw,
            "project_categories": r.project_categories_raw,
            "tasks": r.tasks_raw,
            "task_types": r.task_types_raw,
            "hourly_rates": r.hourly_rates_raw,
            "products": self.rest.products_raw,
            "expense_types": self.rest.expense_types_raw,
        }
        if spec.name in ("expenses", "mileage"):
            if since is None or until is None:
                raise ValueError(f"TimeLog source reads {spec.qualified} by date: since and until are needed")
            reader = r.expenses_raw if spec.name == "expenses" else r.mileage_raw
            return _from_raw_records(reader(since, until))
        if spec.name not in readers:
            raise KeyError(f"TimeLog source cannot read {spec.qualified}")
        return _from_raw_records(readers[spec.name]())

    # Above this many changed records one full read is cheaper than a read per record.
    FULL_READ_THRESHOLD = 25

    def changed(self, spec: EntitySpec, since: datetime, until: datetime) -> Iterator[Extracted]:
        """Customers / projects modified since ``since`` (issue 4: "modified since"): the Transactional API names
        what changed (one call when nothing did); the Reporting API then serves those records in the same shape
        as a full read — by id when few changed, in one full read when many did."""
        by_id: Callable[[int], Iterable[Any]]
        if spec.name == "customers":
            ids = sorted({c.id for c in self.transactional.customers_modified_since(
                since, include_suppliers=True, include_leads=True)})
            by_id = lambda i: self.reporting.customers_raw(customer_id=i)  # noqa: E731
        elif spec.name == "projects":
            ids = sorted({p.project_id for p in self.transactional.projects_modified_in_period(since, until)})
            by_id = lambda i: self.reporting.projects_raw(project_id=i)  # noqa: E731
        else:
            raise KeyError(f"TimeLog source has no modified-since read for {spec.qualified}")
        if len(ids) > self.FULL_READ_THRESHOLD:
            yield from self.records(spec)
            return
        for record_id in ids:
            yield from _from_raw_records(by_id(record_id))

    def invoices_with_lines(self, legal_entity_id: int, since: date, until: date, *, modified: bool = True,
                            modified_since: datetime | None = None
                            ) -> tuple[list[Extracted], list[Extracted], list[Extracted]]:
        """All of :meth:`invoice_windows` at once: ``(invoices, lines, details)`` — for reads known to be small
        (a night's look-back, the tests); the nightly lands the windows one by one."""
        out: tuple[list[Extracted], list[Extracted], list[Extracted]] = ([], [], [])
        for part in self.invoice_windows(legal_entity_id, since, until, modified=modified,
                                         modified_since=modified_since):
            for whole, piece in zip(out, part):
                whole.extend(piece)
        return out

    def invoice_windows(self, legal_entity_id: int, since: date, until: date, *, modified: bool = True,
                        modified_since: datetime | None = None
                        ) -> Iterator[tuple[list[Extracted], list[Extracted], list[Extracted]]]:
        """One legal entity's invoices and credit notes dated in ``[since, until]`` **plus**, with ``modified``,
        those TimeLog reports as modified in that period (Transactional ``Get…ModifiedInPeriodPaged``: e.g. booked
        or written back after their date), with their lines and line details, as ``(invoices, lines, details)``
        per date window of at most ``TLSYNC_TIMELOG_READ_WINDOW_DAYS`` (:func:`read_windows`), then one more for
        the modified ones. Rule S2: only this legal entity's documents.

        Windows, because a Reporting read is one XML answer with no paging: the first load of a five-year site
        asked for every invoice line and line detail in one answer — gigabytes of XML, parsed whole — and the
        process ran out of 24 GB (L, issue 13). A window's answers are parsed, handed out and dropped before the
        next window is read. Adjacent windows share their boundary day (a read's end date may be exclusive);
        an invoice read twice is handed out once.

        The first load reads from the history start, where nothing older is in scope, so it skips the
        modified-in-period read (on a large site that read is the slowest of all). ``modified_since`` (default:
        ``since``) is where the modified-in-period read starts: the previous successful run's start, not the dated
        read's look-back — an invoice modified before that was seen by that run, and one the write-back touched
        (rule T2) is then read once, not every night of the look-back window."""
        le = str(legal_entity_id)
        seen: set[str] = set()          # every invoice ID the dated reads returned, all legal entities
        yield from self._read_spans(le, read_windows(since, until, config.timelog_read_window_days()), seen)
        changed: dict[int, date | None] = {}     # invoice ID → its date, where the contract gives it
        start = modified_since or datetime.combine(since, datetime.min.time())
        end = datetime.combine(until, datetime.min.time()) + timedelta(days=1)
        getters = (self.transactional.invoices_modified_in_period,
                   self.transactional.credit_notes_modified_in_period) if modified else ()
        for getter in getters:
            for doc in getter(start, end):
                doc_id = _tx_id(doc)
                if doc_id is not None and str(doc_id) not in seen and _legal_entity(doc) in (None, le):
                    changed[doc_id] = changed.get(doc_id) or _tx_date(doc)
        if not changed:
            return
        yield from self._modified_outside(le, since, until, changed)

    def _modified_outside(self, le: str, since: date, until: date, changed: Mapping[int, date | None]
                          ) -> Iterator[tuple[list[Extracted], list[Extracted], list[Extracted]]]:
        """The invoices ``changed`` (modified, dated outside the read's window; ID → date) with their lines and
        details: one read by id each while they are few (≤ :data:`BY_ID_LIMIT`); else by date windows, as a first
        load reads, kept to those invoices — the night after a write-back that touched thousands of old invoices
        (a backfill's, rule T2) made three Reporting calls per invoice (35,000 after M's first night), and one
        read of the whole history is what exhausted 24 GB at L.

        The windows are those that hold the invoices' dates (:func:`spans_holding`), when the Transactional
        contracts gave every date; else every window of the history, from :data:`HISTORY_FLOOR` on — never one
        read of all the years before ``TLSYNC_HISTORY_START`` (on a site with a long past, that one answer was
        as large as the first load's that ran out of memory)."""
        if len(changed) <= BY_ID_LIMIT:
            far = until + timedelta(days=3650)
            invoices = {}
            for doc_id in sorted(changed):
                for x in _from_raw_records(self.reporting.invoices_raw(HISTORY_FLOOR, far, invoice_id=doc_id)):
                    if (mine := self._attributed(x, le)) is not None:
                        invoices[mine.raw.get("ID")] = mine
            ids = {i for i, x in invoices.items() if x.error is None}
            parts: list[list[Extracted]] = [list(invoices.values())]
            for reader in (self.reporting.invoice_lines_raw, self.reporting.invoice_line_details_raw):
                parts.append([x for doc_id in sorted(changed) if str(doc_id) in ids
                              for x in _from_raw_records(reader(HISTORY_FLOOR, far, invoice_id=doc_id))])
            yield parts[0], parts[1], parts[2]
            return
        days = config.timelog_read_window_days()
        dates = list(changed.values())
        if all(d is not None for d in dates):
            spans = spans_holding([d for d in dates if d is not None], days)
        else:
            spans = [*read_windows(HISTORY_FLOOR, until, days), (until, until + timedelta(days=3650))]
        yield from self._read_spans(le, spans, set(), wanted={str(i) for i in changed})

    def _read_spans(self, le: str, spans: Iterable[tuple[date, date]], seen: set[str], *,
                    wanted: set[str] | None = None
                    ) -> Iterator[tuple[list[Extracted], list[Extracted], list[Extracted]]]:
        """Per date span: legal entity ``le``'s invoices read in it (only the IDs ``wanted``, when given) that no
        earlier span handed out (``seen``, updated — with the other legal entities' invoices too, which the client
        skips unparsed), with their lines and line details read in the same span."""
        def first_sight(key: Any) -> bool:
            """Whether invoice ``key`` is wanted and no earlier span handed it out; marks it seen. Also told of
            the other legal entities' invoices, which the client skips unparsed."""
            if wanted is not None and str(key) not in wanted:
                return False
            if key in (None, ""):
                return True
            if str(key) in seen:
                return False
            seen.add(str(key))
            return True

        for lo, hi in spans:
            invoices: dict[Any, Extracted] = {}
            for x in _from_raw_records(self.reporting.invoices_raw(lo, hi, of_legal_entity=le,
                                                                   skipped=first_sight)):
                key = x.raw.get("ID")
                if not first_sight(key):
                    continue
                if (mine := self._attributed(x, le)) is not None:
                    invoices[key] = mine
            ids = {i for i, x in invoices.items() if x.error is None}   # a quarantined invoice brings no lines
            yield (list(invoices.values()), self._lines(self.reporting.invoice_lines_raw, lo, hi, ids),
                   self._lines(self.reporting.invoice_line_details_raw, lo, hi, ids))

    def site_legal_entities(self) -> list[str]:
        """The IDs of the site's legal entities (Reporting ``GetLegalEntitiesRaw``, read once per source)."""
        if self._legal_entities is None:
            self._legal_entities = sorted({str(x.raw.get("ID")) for x in
                                           _from_raw_records(self.reporting.legal_entities_raw())
                                           if x.raw.get("ID") not in (None, "")})
        return self._legal_entities

    def _attributed(self, x: Extracted, le: str) -> Extracted | None:
        """The invoice ``x`` if it belongs to legal entity ``le`` (rule S2), else ``None``.

        ``LegalEntityID`` is optional in the Reporting schema and a site without legal entities sends none: such an
        invoice belongs to the site's single legal entity (the payload gets that ``LegalEntityID``, so what is
        staged says whose it is). On a site with several legal entities it cannot be placed: it is returned with an
        error, so the validate step quarantines it with that reason in every legal entity's read — never dropped
        silently."""
        own = str(x.raw.get("LegalEntityID") or "")
        if own:
            return x if own == le else None
        entities = self.site_legal_entities()
        if not entities or entities == [le]:     # the site's one legal entity (or none listed): this read's
            return Extracted({**x.raw, "LegalEntityID": le}, x.error)
        if len(entities) == 1:                   # the single legal entity is another one, not this read's
            return None
        return Extracted(x.raw, f"TimeLog invoice {x.raw.get('ID')} has no LegalEntityID and site "
                                f"{self.site!r} has {len(entities)} legal entities ({', '.join(entities)}): "
                                "it cannot be placed in one Uniconta company (rule S2)")

    @staticmethod
    def _lines(reader, since: date, until: date, ids: set) -> list[Extracted]:
        # The read is site-wide: ``of_invoices`` lets the client skip the other legal entities' lines unparsed.
        if not ids:
            return []
        return [x for x in _from_raw_records(reader(since, until, of_invoices=ids)) if x.raw.get("InvoiceID") in ids]


def _legal_entity(doc: Any) -> str | None:
    """The legal entity a Transactional invoice/credit note belongs to, when the contract carries it."""
    for attr in ("legal_entity_id", "LegalEntityID", "LegalEntityId"):
        value = getattr(doc, attr, None)
        if value not in (None, "", 0):
            return str(value)
    return None


def _tx_date(doc: Any) -> date | None:
    """A Transactional invoice's or credit note's date (``InvoiceDate`` / ``CreditNoteDate``), when it has one."""
    for attr in ("invoice_date", "credit_note_date"):
        value = getattr(doc, attr, None)
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
    return None


def _tx_id(doc: Any) -> int | None:
    for attr in ("invoice_id", "InvoiceID", "id", "ID", "credit_note_id"):
        value = getattr(doc, attr, None)
        if value is not None:
            return int(value)
    return None


class UnicontaSource:
    """One Uniconta company through the OData reads (rule S2: one company per legal entity).

    Incremental reads of posted classes (invoices, their lines, GL postings) follow ``RowId``: ``$filter=RowId gt
    <highest RowId staged for this company>`` (see :mod:`tlsync.staging.cursors` and docs/staging-cursors.md), so
    an invoice posted today with an old date is read (rule U3) and so is a backdated supplier posting (U4/S6).
    ``staging`` is the staging engine the cursor is read from (default: the configured one)."""

    def __init__(self, client, company_id: int, *, staging=None) -> None:
        self.client = client            # the company's UnicontaClient (``Clients.uniconta``)
        self.company_id = company_id
        self._staging = staging
        self._project_module = True   # until a project class says otherwise (rule T3)

    @classmethod
    def of(cls, clients: connections.Clients, *, staging=None) -> UnicontaSource:
        """The source of the company ``clients`` work in (:class:`~tlsync.connections.ConnectionSettingError`,
        and the clients closed, when the Connection chose none)."""
        try:
            company = clients.uniconta_company()
        except connections.ConnectionSettingError:
            clients.close()
            raise
        return cls(clients.uniconta, company, staging=staging)

    def __enter__(self) -> UnicontaSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def calls(self) -> dict[str, int]:
        return self.client.counter.snapshot()

    @property
    def project_module(self) -> bool:
        return self._project_module

    @property
    def tenant(self) -> str:
        return str(self.company_id)

    def staging(self):
        if self._staging is None:
            from tlsync.staging.engine import staging_engine
            self._staging = staging_engine()
        return self._staging

    def cursor_filter(self, spec: EntitySpec, since: datetime | None, today: date | None = None):
        """The ``$filter`` of an incremental read (``None``: read everything).

        - date cursor: ``<cursor> ge since``;
        - ``RowId`` cursor: ``RowId gt <highest staged RowId − overlap>``; before anything is staged for the
          company (a first load), and on the configured full-read days, ``Date ge <history start>``.
        """
        from tlsync.clients.uniconta.odata import Field

        if since is None or not spec.cursor:
            return None
        if not spec.row_cursor:
            return Field(spec.cursor) >= since
        from tlsync import config
        from tlsync.staging import cursors
        mark = cursors.high_water(self.staging(), spec, self.tenant)
        every = cursors.full_read_every_days()
        today = today or date.today()
        if mark is None or (every and today.toordinal() % every == 0):
            return Field("Date") >= datetime.combine(config.history_start(), datetime.min.time())
        return Field(spec.cursor) > max(0, mark - cursors.overlap())

    def records(self, spec: EntitySpec, since: datetime | None = None) -> Iterator[Extracted]:
        """Every record of ``spec`` (``since`` given: only the increment, see :meth:`cursor_filter`)."""
        from tlsync.clients.errors import ProjectModuleMissingError

        if spec.name == "companies":
            yield from (Extracted(c) for c in self.client.companies_raw()
                        if int(c.get("CompanyId", -1)) == self.company_id)
            return
        flt = self.cursor_filter(spec, since)
        try:
            for row in self.client.read_raw(spec.source, filter=flt):
                yield Extracted(row)
        except ProjectModuleMissingError:
            # Rule T3: a company without the project module has no projects; that is a fact, not a failure.
            self._project_module = False
            return


def timelog_source(**fields: Any) -> TimeLogSource:
    """The :class:`TimeLogSource` of a ``timelog`` Connection's fields (``conn_id``, ``host``, ``login``,
    ``password``, ``extra``; further keywords go to the clients)."""
    return TimeLogSource(connections.timelog_source(**fields))


def uniconta_source(*, company_id: int | None = None, **fields: Any) -> UnicontaSource:
    """The :class:`UnicontaSource` of a ``uniconta`` Connection's fields for ``company_id`` (default: the
    Connection's extra ``company_id``; neither: :class:`~tlsync.connections.ConnectionSettingError`)."""
    conn = {k: v for k, v in fields.items() if k in connections.CONNECTION_FIELDS}
    kw = {k: v for k, v in fields.items() if k not in connections.CONNECTION_FIELDS}
    return UnicontaSource.of(connections.clients(uniconta=conn, company_id=company_id, **kw))
