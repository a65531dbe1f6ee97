"""Uniconta reads: the OData feed ``GET /odata/{CompanyId}/{ClassName}``.

One concern per piece:

- the query options — :class:`Field` / :class:`Filter` (``$filter``, safely quoted) and :func:`render_orderby` —
  live in :mod:`.query` and are re-exported here (``from tlsync.clients.uniconta.odata import Field`` is how the
  write steps import them).
- :func:`parse_page` / :func:`validate_rows` read one page off the wire and turn its rows into models.
- :class:`ODataReader` streams models page by page, following ``@odata.nextLink`` (server-driven paging) and —
  when a client ``page_size`` is asked for — ``$top``/``$skip`` (client-driven paging). Nothing is held beyond
  one page, so a history of any length reads in bounded memory.

Every page is one HTTP call through the shared :class:`~tlsync.clients._http.ResilientClient`: counted against
the daily quota, retried on 429/5xx/truncated bodies. Why the body is parsed inside ``parse``: a truncated page
raises :class:`~tlsync.clients.errors.MalformedResponseError` there, which the resilient client retries (a cut
body is usually transient) and surfaces with ``where=`` naming the class and page when retries run out.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, urljoin, urlsplit

import httpx
from pydantic import ValidationError

from ..errors import MalformedResponseError, RecordRejectedError
from .fields import ROW_ID, MissingRowIdError, canonical, mentions_row_id, row_id_name, to_wire
from .models import UnicontaEntity, loads, model_for
from .query import Field, Filter, FilterLike, OrderLike, check_name, literal, render_filter, render_orderby

if TYPE_CHECKING:
    from .session import UnicontaSession

__all__ = [
    "Field", "Filter", "FilterLike", "ODataReader", "OrderLike", "Page", "literal", "parse_page", "render_filter",
    "render_orderby", "validate_rows",
]

log = logging.getLogger(__name__)
E = TypeVar("E", bound=UnicontaEntity)


# ----------------------------------------------------------------------------------------------- reading


@dataclass
class Page:
    """One OData page as parsed from the wire."""

    rows: list[dict[str, Any]]
    next_link: str | None


def parse_page(resp: httpx.Response, where: str) -> Page:
    """Parse ``{"value": [...], "@odata.nextLink": "..."}``; anything else is a :class:`MalformedResponseError`
    (raised here, inside the resilient client's ``parse``, so a truncated page is retried)."""
    try:
        body = loads(resp.content)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise MalformedResponseError("Uniconta", f"body is not JSON ({exc.__class__.__name__}: {exc})",
                                     where=where) from None
    if isinstance(body, list):  # some proxies/versions answer a bare array
        return Page(rows=body, next_link=None)
    if not isinstance(body, dict) or not isinstance(body.get("value"), list):
        raise MalformedResponseError("Uniconta", 'expected an object with a "value" array', where=where)
    rows = body["value"]
    if not all(isinstance(r, dict) for r in rows):
        raise MalformedResponseError("Uniconta", '"value" holds something other than objects', where=where)
    nxt = body.get("@odata.nextLink") or body.get("odata.nextLink")
    if nxt is not None and not isinstance(nxt, str):
        raise MalformedResponseError("Uniconta", "@odata.nextLink is not a string", where=where)
    return Page(rows=rows, next_link=nxt or None)


def validate_rows(model: type[E], rows: Sequence[dict[str, Any]], where: str) -> list[E]:
    """Turn raw rows into models; a row of the wrong shape is a :class:`MalformedResponseError` naming it (not
    retried: the same bytes would come back)."""
    out = []
    for i, row in enumerate(rows):
        try:
            out.append(model.model_validate(row))
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first.get("loc", ()))
            raise MalformedResponseError(
                "Uniconta", f"row {i} (RowId={row.get('RowId')}) field {loc}: {first.get('msg')}", where=where
            ) from None
    return out


class ODataReader:
    """Streams a class of one company as models. Use through :meth:`UnicontaClient.read`."""

    def __init__(self, session: UnicontaSession) -> None:
        self.session = session

    def path(self, class_name: str, company_id: int | None = None) -> str:
        cid = self.session.require_company(company_id)
        return f"/odata/{cid}/{check_name(class_name)}"

    def raw_pages(self, cls: type[UnicontaEntity] | str, **kwargs: Any) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """Yield ``(where, rows)`` per HTTP page — see :meth:`_raw_pages` for the arguments.

        A read that filters or orders on ``RowId`` before the server's row-id name is known is sent with ``RowId``
        (no extra call on a server that has it). If the server refuses the name (400 naming ``RowId``), one
        ``$top=1`` read finds the name it uses (``PrimaryKeyId``) and the read is sent again with it.
        """
        guessing = self.session.row_id_field is None
        pages = self._raw_pages(cls, **kwargs)
        try:
            first = next(pages)
        except StopIteration:
            return
        except RecordRejectedError as exc:
            if not (guessing and exc.status == 400 and ROW_ID in str(exc) and self.session.row_id_field is None):
                raise
            class_name, _ = model_for(cls)
            name = self._detect_row_id(class_name, self.path(class_name, kwargs.get("company_id")))
            if name is None:
                return
            if name == ROW_ID:
                raise
            yield from self._raw_pages(cls, **kwargs)
            return
        yield first
        yield from pages

    def _raw_pages(
        self,
        cls: type[UnicontaEntity] | str,
        *,
        filter: FilterLike = None,
        orderby: OrderLike = None,
        top: int | None = None,
        skip: int | None = None,
        page_size: int | None = None,
        company_id: int | None = None,
    ) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """Yield ``(where, rows)`` per HTTP page, rows as parsed JSON (money already Decimal), not validated.

        - ``top``: at most this many records in total; ``skip``: start after this many.
        - ``page_size``: ask for pages of this size with ``$top``/``$skip`` (client-driven paging; a stable
          ``orderby`` is advised, ``RowId`` is used when none is given). Without it the server's own page size
          applies and ``@odata.nextLink`` is followed.
        """
        class_name, _ = model_for(cls)
        path = self.path(class_name, company_id)
        base: dict[str, str] = {}
        if (f := render_filter(filter)) is not None:
            base["$filter"] = f
        order = render_orderby(orderby)
        if order is None and page_size is not None:
            order = "RowId asc"
        if page_size is not None and page_size < 1:
            raise ValueError("page_size must be >= 1")
        by_row_id = mentions_row_id(base.get("$filter")) or mentions_row_id(order)
        wire = self.session.row_id_field  # None: not known yet — sent as RowId (see raw_pages)
        if "$filter" in base:
            base["$filter"] = to_wire(base["$filter"], wire) or ""
        if order is not None:
            base["$orderby"] = to_wire(order, wire) or order
        companies = class_name == "CompanyClient"

        delivered = 0
        offset = skip or 0
        page_no = 0
        while True:
            want = page_size
            if top is not None:
                remaining = top - delivered
                if remaining <= 0:
                    return
                want = remaining if want is None else min(want, remaining)
            params = dict(base)
            if want is not None:
                params["$top"] = str(want)
            if offset:
                params["$skip"] = str(offset)
            url: str | None = path
            got_in_window = 0
            query: dict[str, str] | None = params
            while url is not None:
                page_no += 1
                where = f"GET {path} page {page_no}"
                page: Page = self.session.call("GET", url, params=query, parse=partial(parse_page, where=where))
                rows = page.rows
                if rows and not companies:
                    self.session.learn_row_id(rows)
                    wire = wire or self.session.row_id_field
                    for row in rows:
                        canonical(class_name, row, wire)
                    if by_row_id and any(row.get(ROW_ID) is None for row in rows):
                        raise MissingRowIdError(
                            "Uniconta", f"{class_name} rows without a row id (neither RowId nor PrimaryKeyId) in a "
                            "read that resumes by row id; set the Uniconta connection's extra 'row_id_field' to the "
                            "field the server uses", where=where)
                elif rows:
                    for row in rows:
                        canonical(class_name, row, None)
                if top is not None and delivered + len(rows) > top:
                    rows = rows[: top - delivered]
                delivered += len(rows)
                got_in_window += len(page.rows)
                if rows:
                    yield where, rows
                if top is not None and delivered >= top:
                    return
                url, query = self._follow(page.next_link, url)
            # the server's nextLink chain for this window is exhausted
            if page_size is None or want is None or got_in_window < want:
                return
            offset += got_in_window

    def pages(self, cls: type[E] | str, **kwargs: Any) -> Iterator[list[E]]:
        """Yield one list of models per HTTP page (arguments as :meth:`raw_pages`). A row that does not fit its
        model raises :class:`MalformedResponseError` naming class, page and row; use :meth:`iter_raw` to take
        rows as they come and judge them later (quarantine)."""
        _, model = model_for(cls)
        for where, rows in self.raw_pages(cls, **kwargs):
            yield validate_rows(model, rows, where)  # type: ignore[arg-type]

    def iter_raw(self, cls: type[UnicontaEntity] | str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Stream every matching record as a dict with Uniconta's field names (see :meth:`raw_pages`)."""
        for _, rows in self.raw_pages(cls, **kwargs):
            yield from rows

    def iter(self, cls: type[E] | str, **kwargs: Any) -> Iterator[E]:
        """Stream every matching record (see :meth:`pages` for the arguments)."""
        for rows in self.pages(cls, **kwargs):
            yield from rows

    def _detect_row_id(self, class_name: str, path: str) -> str | None:
        """One ``$top=1`` read to learn the row-id name before a read that filters or orders on it. ``None`` when
        the class has no rows; :class:`MissingRowIdError` when its rows carry no known row-id field."""
        where = f"GET {path} (row id detection)"
        page: Page = self.session.call("GET", path, params={"$top": "1"}, parse=lambda r: parse_page(r, where))
        if not page.rows:
            return None
        name = row_id_name(page.rows[0])
        if name is None:
            raise MissingRowIdError(
                "Uniconta", f"{class_name} rows carry neither RowId nor PrimaryKeyId (fields: "
                f"{', '.join(sorted(page.rows[0])[:12])}); set the Uniconta connection's extra 'row_id_field'",
                where=where)
        self.session.detected.remember_row_id(name)
        return name

    def _follow(self, next_link: str | None, current: str) -> tuple[str | None, dict[str, str] | None]:
        """Turn ``@odata.nextLink`` into a request against *our* base URL.

        The link's path and query are kept (they carry the filter and skip), its scheme and host are not: a server
        behind a proxy may advertise a host we cannot reach, and credentials must only ever go to the configured
        host. A relative link is resolved against the page it came from.
        """
        if not next_link:
            return None, None
        parts = urlsplit(urljoin("http://base" + current, next_link))
        path = parts.path
        prefix = self.session.base_path
        if prefix and path.startswith(prefix + "/"):
            path = path[len(prefix):]
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        return path, query
