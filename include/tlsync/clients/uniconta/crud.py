"""Uniconta writes and key look-ups: the JSON CRUD API under ``/api/Entities``.

=============================  =====================================================  ==========================
operation                      call                                                   body
=============================  =====================================================  ==========================
:meth:`CrudAPI.insert`          ``POST /api/Entities/Insert/{Class}``                   one JSON object
:meth:`CrudAPI.insert_list`     ``POST /api/Entities/InsertList/{Class}`` per batch     JSON array
:meth:`CrudAPI.update`          ``PUT /api/Entities/Update/{Class}``                    the **full** object
:meth:`CrudAPI.update_list`     ``PUT /api/Entities/UpdateList/{Class}`` per batch      JSON array of full objects
:meth:`CrudAPI.delete`          ``DELETE /api/Entities/Delete/{Class}``                 the object
:meth:`CrudAPI.get_by`          ``GET /api/Entities/{Class}?Name=<field>&Value=<v>``    —
=============================  =====================================================  ==========================

``update_list`` (issue 13): the .NET ``CrudAPI.Update`` takes a list of entities in one server call (as the public
REST wrapper ``rmja/unicontarest``, ``Controllers/CrudController.cs``, uses it); the JSON path is taken to mirror
``InsertList``. That path is not confirmed for the real service, so a server that does not know it (404 unknown
path) is remembered for the session and the batch is sent as one ``Update`` per record instead — correct, only
dearer. An update sends full objects, so repeating it is harmless: it is retried like any ``PUT``.

The company is chosen by the Basic-auth user name ``00<CompanyId>/<user>`` (see :mod:`.session`).

Why ``insert_list`` batches: every call counts against the 5,000-calls-a-day quota, so many records go in one
call, but not so many that one bad record or a timeout costs a huge batch (Uniconta's own advice: "don't insert
too many records, batch"). The default batch is 100.

Why a write whose ``2xx`` body cannot be read is *not* retried: the write has taken effect; repeating it would
insert a duplicate. The record as sent is returned instead and a warning is logged. (A timeout or 5xx *is*
retried by the resilient client; if the server had in fact stored the record, the retry is refused as
``KeyExists`` for keyed classes — the sync ledger, not this client, decides what that means.) A 4xx becomes
:class:`~tlsync.clients.errors.RecordRejectedError` naming the record (class + key) so the caller can quarantine
that one record and go on. ``Update`` sends the whole object because Uniconta replaces the record: read it, change
it, send it back — fields the model does not know are kept (``extra="allow"``) and so survive the round trip.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from ..errors import (
    MalformedResponseError,
    NotFoundError,
    RecordRejectedError,
    RetriesExhaustedError,
    SyncAPIError,
    UnknownMethodError,
)
from .fields import canonical, payload_to_wire
from .models import GenericEntity, UnicontaEntity, dumps, loads, model_for
from .odata import validate_rows

if TYPE_CHECKING:
    from .session import UnicontaSession

log = logging.getLogger(__name__)
E = TypeVar("E", bound=UnicontaEntity)

JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}
DEFAULT_BATCH_SIZE = 100


def _class_of(obj: UnicontaEntity, class_name: str | None) -> str:
    if class_name:
        return class_name
    if isinstance(obj, GenericEntity) or not type(obj).CLASS_NAME:
        raise ValueError("a GenericEntity needs class_name= (the Uniconta class to write to)")
    return type(obj).class_name()


def _describe(objs: Sequence[UnicontaEntity], class_name: str) -> str:
    names = [o.describe().split(" ", 1)[1] for o in objs[:5]]
    more = f" … (+{len(objs) - 5} more)" if len(objs) > 5 else ""
    return f"{class_name} batch of {len(objs)}: " + ", ".join(names) + more


#: what a web server says of a body over its limit (IIS/ASP.NET "Maximum request length exceeded", 413's reason
#: phrases); not a field's "value too large", which is about one record
_TOO_LARGE = ("maximum request length", "request entity too large", "payload too large", "request body too large")


class ListTooLargeError(SyncAPIError):
    """Uniconta refused a list as too large (HTTP 413, or an answer that says so). Not a refused record: splitting
    or retrying record by record would only spend the day's calls, so the step stops with one line naming the
    setting to lower (``UnicontaSettings.list_settings``). Uniconta's list limits are not published (issue 13,
    evidence 7)."""


def _too_large(exc: SyncAPIError, op: str, cls: str, size: int, setting: str | None) -> ListTooLargeError | None:
    status = getattr(exc, "status", None)
    if status != 413 and not any(w in str(exc).lower() for w in _TOO_LARGE):
        return None
    fix = (f"lower {setting} (now {size:,}) and run again" if setting else
           f"lists of {cls} go {size:,} per call and have no setting: report it with this line")
    return ListTooLargeError("Uniconta", f"refused an {op} of {size:,} {cls} records as too large ({exc.message}); "
                             f"{fix} — the next run continues where this one stopped (docs/going-live.md §5)")


class Unverified(list[Any]):
    """The records as *sent*, returned by a write whose 2xx answer did not show them as stored (204, an empty or
    unreadable body, or something else than the expected array — e.g. an ErrorCodes value). The write is not
    repeated; a caller that must know verifies by reading back (issue 13: InsertList's answer is not published)."""


def _parse_written(model: type[E], sent: Sequence[E], where: str, class_name: str = "",
                   row_id_field: str | None = None) -> Any:
    """Parser for a write's answer: the entity/entities as the server stored them (200 + JSON), or what we sent
    (204, empty or unreadable body — see the module docstring for why that is not retried)."""

    def parse(resp: httpx.Response) -> list[E]:
        if resp.status_code == 204 or not resp.content.strip():
            return Unverified(sent)
        try:
            body = loads(resp.content)
        except ValueError:
            log.warning("Uniconta: %s succeeded but its answer could not be read; keeping the records as sent", where)
            return Unverified(sent)
        if isinstance(body, dict) and isinstance(body.get("value"), list):
            body = body["value"]
        if isinstance(body, dict):
            body = [body]
        if not isinstance(body, list) or not all(isinstance(r, dict) for r in body) or len(body) != len(sent):
            log.warning("Uniconta: %s answered 2xx without the stored records (%s); not verified", where,
                        type(body).__name__)
            return Unverified(sent)  # e.g. an ErrorCodes number or a status object: verify by reading back
        for row in body:
            canonical(class_name, row, row_id_field)
        try:
            return validate_rows(model, body, where)
        except MalformedResponseError as exc:  # raising here would make the resilient client repeat the write
            log.warning("Uniconta: %s succeeded but the stored record could not be read back (%s)", where, exc)
            return Unverified(sent)

    return parse


class CrudAPI:
    """Insert / InsertList / Update / Delete / lookup by field for one session (= one user + company)."""

    def __init__(self, session: UnicontaSession) -> None:
        self.session = session
        self.no_update_list = False      # learnt: the server does not know UpdateList (one Update per record)

    def _write(self, method: str, op: str, class_name: str, payload: Any, model: type[E], sent: Sequence[E],
               record: str, batch: Sequence[str] | None = None) -> list[E]:
        self.session.require_company()
        where = f"{op} {class_name}"
        wire = self.session.row_id_field
        if wire and wire != "RowId":
            payload = payload_to_wire(loads(dumps(payload)), wire)
        stored: list[E] = self.session.call(
            method,
            f"/api/Entities/{op}/{class_name}",
            content=dumps(payload),
            headers=JSON_HEADERS,
            record=record,
            batch=batch,
            parse=_parse_written(model, sent, where, class_name, wire),
        )
        return stored

    def insert(self, obj: E, *, class_name: str | None = None) -> E:
        """Insert one record; returns it as stored (with ``RowId`` and server defaults when the server says)."""
        cls = _class_of(obj, class_name)
        return self._write("POST", "Insert", cls, obj, type(obj), [obj], obj.describe())[0]

    def insert_list(self, objs: Iterable[E], *, batch_size: int = DEFAULT_BATCH_SIZE,
                    class_name: str | None = None) -> list[E]:
        """Insert many records, ``batch_size`` per call (all of one class). Returns them as stored, in order.

        A rejected batch raises :class:`RecordRejectedError` naming the failing record when the server says which
        (its ``index``), else the batch; Uniconta's InsertList is all or nothing, so nothing of that batch is stored,
        while batches before it are (the caller's ledger knows which: :meth:`iter_insert_list` yields them).
        """
        batches = list(self.iter_insert_list(objs, batch_size=batch_size, class_name=class_name))
        out = [o for batch in batches for o in batch]
        return Unverified(out) if any(isinstance(b, Unverified) for b in batches) else out

    def iter_insert_list(self, objs: Iterable[E], *, batch_size: int = DEFAULT_BATCH_SIZE,
                         class_name: str | None = None) -> Iterator[list[E]]:
        """Like :meth:`insert_list` but yields each stored batch as soon as it is written (for the ledger)."""
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        batch: list[E] = []
        for obj in objs:
            batch.append(obj)
            if len(batch) == batch_size:
                yield self._insert_batch(batch, class_name)
                batch = []
        if batch:
            yield self._insert_batch(batch, class_name)

    def _too_large(self, exc: SyncAPIError, op: str, cls: str, size: int) -> ListTooLargeError | None:
        return _too_large(exc, op, cls, size, self.session.settings.list_settings.get(cls))

    def _insert_batch(self, batch: list[E], class_name: str | None) -> list[E]:
        cls = _class_of(batch[0], class_name)
        if any(_class_of(o, class_name) != cls for o in batch):
            raise ValueError("insert_list: all records of one call must be of one class")
        names = [o.describe() if o.class_name() == cls else f"{cls} {o.describe().split(' ', 1)[1]}" for o in batch]
        try:
            return self._write("POST", "InsertList", cls, batch, type(batch[0]), batch, _describe(batch, cls), names)
        except (RecordRejectedError, RetriesExhaustedError) as exc:
            if len(batch) > 1 and (big := self._too_large(exc, "InsertList", cls, len(batch))) is not None:
                raise big from exc
            raise

    def update(self, obj: E, *, class_name: str | None = None) -> E:
        """Replace a record with ``obj`` (the full object — read it first; see the module docstring)."""
        cls = _class_of(obj, class_name)
        return self._write("PUT", "Update", cls, obj, type(obj), [obj], obj.describe())[0]

    def update_list(self, objs: Iterable[E], *, batch_size: int = DEFAULT_BATCH_SIZE,
                    class_name: str | None = None) -> list[E]:
        """Replace many records (full objects, all of one class), ``batch_size`` per ``UpdateList`` call; returns
        them as stored, in order. A rejected batch raises :class:`RecordRejectedError` (or
        :class:`~tlsync.clients.errors.NotFoundError` for a record that is gone) naming the failing record when the
        server says which; nothing of that batch is stored, batches before it are. Falls back to one ``Update`` per
        record on a server without ``UpdateList`` (see the module docstring)."""
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        items = list(objs)
        out: list[E] = []
        unverified = False
        for start in range(0, len(items), batch_size):
            batch = items[start:start + batch_size]
            stored = self._update_batch(batch, class_name)
            unverified = unverified or isinstance(stored, Unverified)
            out.extend(stored)
        return Unverified(out) if unverified else out

    def _update_batch(self, batch: list[E], class_name: str | None) -> list[E]:
        cls = _class_of(batch[0], class_name)
        if any(_class_of(o, class_name) != cls for o in batch):
            raise ValueError("update_list: all records of one call must be of one class")
        if len(batch) > 1 and not self.no_update_list:
            names = [o.describe() if o.class_name() == cls else f"{cls} {o.describe().split(' ', 1)[1]}"
                     for o in batch]
            try:
                return self._write("PUT", "UpdateList", cls, batch, type(batch[0]), batch, _describe(batch, cls),
                                   names)
            except UnknownMethodError:
                log.warning("Uniconta: the server does not know UpdateList; updating %s one record per call", cls)
                self.no_update_list = True
            except (RecordRejectedError, RetriesExhaustedError) as exc:
                if (big := self._too_large(exc, "UpdateList", cls, len(batch))) is not None:
                    raise big from exc
                raise
        return [self.update(o, class_name=class_name) for o in batch]

    def delete(self, obj: E, *, class_name: str | None = None) -> None:
        """Delete a record; the body is the record itself (its key and ``RowId`` identify it)."""
        cls = _class_of(obj, class_name)
        self._write("DELETE", "Delete", cls, obj, type(obj), [obj], obj.describe())

    def get_by(self, cls: type[E] | str, name: str, value: Any) -> list[E]:
        """Records of ``cls`` whose field ``name`` equals ``value`` (``GET /api/Entities/{Class}?Name=&Value=``)."""
        class_name, model = model_for(cls)
        self.session.require_company()
        where = f"GET /api/Entities/{class_name}?Name={name}"

        def parse(resp: httpx.Response) -> list[dict[str, Any]]:
            try:
                body = loads(resp.content) if resp.content.strip() else []
            except ValueError as exc:
                raise MalformedResponseError("Uniconta", f"body is not JSON ({exc})", where=where) from None
            if isinstance(body, dict) and isinstance(body.get("value"), list):
                body = body["value"]
            if isinstance(body, dict):
                body = [body]
            if not isinstance(body, list) or not all(isinstance(r, dict) for r in body):
                raise MalformedResponseError("Uniconta", "expected a JSON array of objects", where=where)
            return body

        wire = self.session.row_id_field
        if name == "RowId" and wire:
            name = wire
        try:
            rows = self.session.call(
                "GET", f"/api/Entities/{class_name}", params={"Name": name, "Value": _value_str(value)},
                record=f"{class_name} {name}={value}", parse=parse,
            )
        except NotFoundError:  # "no such record" is an empty answer, not an error, for a look-up
            return []
        self.session.learn_row_id(rows)
        wire = self.session.row_id_field
        for row in rows:
            canonical(class_name, row, wire)
        return validate_rows(model, rows, where)  # type: ignore[arg-type]


def _value_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
