"""How one Reporting API call travels: the settings, the form POST, reading the XML answer and mapping refusals to
typed errors — the base of :class:`~.reporting.ReportingClient`, which holds the typed methods.

Wire facts are in :mod:`.reporting`. In short: credentials go in the form body (never the URL); the answer's root
must be in the ``tlp`` schema namespace family and have the expected plural name; an ``Errors`` root (HTTP 200,
401 or 500) is a refusal, mapped by its words to :class:`AuthenticationError` (naming the setting to check),
:class:`UnknownMethodError` or :class:`RecordRejectedError`, with the API password scrubbed from any quoted text.
Items are handed out one by one and each element is freed once handed out; a whole answer is parsed first, so a
truncated body is retried as a unit (:mod:`._common`). A *plain* answer (no ``nil``, character reference,
DOCTYPE or nested field: :func:`._xml.parse_items_document`, the Reporting API's usual answer) has each item read by
one dict comprehension instead of the general reader — the same dict, key order included — and the model's
validator is called directly; an item's position is looked up only to name a refused one (issue 18).

Split from :mod:`.reporting` (issue 12), which re-exports :class:`ReportingSettings` and :data:`SYSTEM`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from typing import Any, TypeVar

import httpx
from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from .._http import CallCounter, ResilientClient, RetryPolicy
from ..errors import (
    AuthenticationError,
    MalformedResponseError,
    RecordRejectedError,
    SyncAPIError,
    UnknownMethodError,
)
from . import _xml
from ._common import (
    ClientLifecycle,
    RawRecord,
    call,
    describe_validation_error,
    models_only,
    raise_for_server_error,
    retry_without_500,
    scrub,
)

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)

SYSTEM = "TimeLog Reporting API"

SETTING_SITE_CODE = "Reporting API site code (ReportingSettings.site_code)"
SETTING_API_ID = "Reporting API ID (ReportingSettings.api_id)"
SETTING_API_PASSWORD = "Reporting API password (ReportingSettings.api_password)"
SETTING_URL = "TimeLog site URL (ReportingSettings.base_url)"


class ReportingSettings(BaseModel):
    """Connection settings for the Reporting API (System Administration › Integrations and API › Reporting API).

    ``base_url`` is the site URL, e.g. ``https://app5.timelog.com/myaccount`` (or the simulator's
    ``http://127.0.0.1:8081/tlsim``); the client appends ``/service.asmx/<Method>``.
    """

    model_config = ConfigDict(frozen=True)

    base_url: str
    site_code: str
    api_id: str
    api_password: SecretStr
    work_units_page_size: int = Field(500, ge=1, le=10_000)
    timeout: float = Field(120.0, gt=0, description="seconds; bulk answers can be large")

    @field_validator("base_url")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value.lower().endswith("/service.asmx"):
            value = value[: -len("/service.asmx")]
        if not value.startswith(("http://", "https://")):
            raise ValueError("base_url must be the TimeLog site URL, starting with http:// or https://")
        return value


class ReportingWire(ClientLifecycle):
    """Sends Reporting methods and reads their answers (see the module doc); subclassed by
    :class:`~.reporting.ReportingClient`. Use as a context manager or call :meth:`close`."""

    system = SYSTEM

    def __init__(
        self,
        settings: ReportingSettings,
        *,
        counter: CallCounter | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self._http = ResilientClient(
            SYSTEM,
            f"{settings.base_url}/service.asmx/",
            headers={"Accept": "text/xml, application/xml"},
            timeout=httpx.Timeout(settings.timeout, connect=10.0),
            retry=retry_without_500(retry),
            counter=counter,
            classify=self._classify,
            transport=transport,
            sleep=sleep,
        )

    # -- machinery -------------------------------------------------------------------------------------------

    def _call(self, method: str, params: Mapping[str, Any]) -> etree._Element:
        """POST one method; returns the parsed document root (an ``Errors`` root has already been raised)."""
        return self._call_items(method, params)[0]

    def _call_items(self, method: str, params: Mapping[str, Any]) -> tuple[etree._Element, bool]:
        """:meth:`_call`, and whether the answer is plain (:func:`._xml.parse_items_document`)."""
        secret = self.settings.api_password.get_secret_value()
        form = {"siteCode": self.settings.site_code, "apiID": self.settings.api_id, "apiPassword": secret}
        form.update({k: _form_value(v) for k, v in params.items()})
        return call(self._http, "POST", method, data=form, record=method, idempotent=True,   # reads only
                    parse=lambda resp: self._parse(resp, method))

    def _parse(self, resp: httpx.Response, method: str) -> tuple[etree._Element, bool]:
        raise_for_server_error(resp, SYSTEM, f"{method} (HTTP {resp.status_code})")
        root, plain = _xml.parse_items_document(resp.content, system=SYSTEM, where=method)
        if _xml.localname(root.tag) == "Errors":
            raise self._errors_answer(root, method)
        return root, plain

    def _check_root(self, root: etree._Element, method: str, root_name: str) -> None:
        ns, name = _xml.namespace(root.tag), _xml.localname(root.tag)
        if not ns.startswith(_xml.TLP_NS_FAMILY):
            raise MalformedResponseError(
                SYSTEM, f"root <{name}> is in namespace {ns or '(none)'!r}, expected {_xml.TLP_NS!r}",
                where=f"{method} line {root.sourceline or 1}")
        if name != root_name:
            raise MalformedResponseError(SYSTEM, f"root element is <{name}>, expected <{root_name}>",
                                         where=f"{method} line {root.sourceline or 1}")
        if ns != _xml.TLP_NS:
            log.info("%s: %s answered schema namespace %s (expected %s); reading it by element names",
                     SYSTEM, method, ns, _xml.TLP_NS)

    def _records(self, method: str, params: Mapping[str, Any], root_name: str, item_name: str,
                 model: type[M], keep: Callable[[etree._Element], bool] | None = None) -> Iterator[RawRecord[M]]:
        root, plain = self._call_items(method, params)
        self._check_root(root, method, root_name)
        yield from self._items(root, method, item_name, model, keep, plain)

    def _items(self, root: etree._Element, method: str, item_name: str, model: type[M],
               keep: Callable[[etree._Element], bool] | None = None, plain: bool = False
               ) -> Iterator[RawRecord[M]]:
        # Per item: one dict comprehension when the document is plain (issue 18), the model's validator called
        # directly, and the item's position (``sourceline`` is slow on a large document) only for a refusal.
        # Each item's content is freed as soon as it is read, by ``clear()``: ``remove()`` also moved the item to
        # a document of its own, copying the namespace declarations it uses — ~4 µs an item, ~10 % of the
        # extraction's CPU (issue 18); the emptied item elements stay until the document goes.
        names = _xml.NameTable()
        validate = model.__pydantic_validator__.validate_python
        for el in list(root):
            tag = el.tag
            if tag.__class__ is not str:
                continue
            if names[tag] != item_name:
                raise MalformedResponseError(
                    SYSTEM, f"unexpected element <{_xml.localname(tag)}> in <{_xml.localname(root.tag)}>",
                    where=f"{method} line {el.sourceline}")
            if keep is not None and not keep(el):
                el.clear()
                continue
            raw = _xml.plain_item_dict(el, names) if plain else None
            if raw is None:
                raw = _xml.element_to_dict(el)
            try:
                record: RawRecord[M] = RawRecord(validate(raw), raw)
            except ValidationError as exc:
                record = RawRecord(None, raw, describe_validation_error(exc),
                                   f"{method} {item_name} ID={raw.get('ID', '?')} (line {el.sourceline})")
            el.clear()  # free each item's content as soon as it is handed out
            yield record

    def _paged(self, method: str, params: Mapping[str, Any], root_name: str, item_name: str, model: type[M],
               page_size: int) -> Iterator[RawRecord[M]]:
        page, total_pages = 1, None
        while True:
            root, plain = self._call_items(method, {**params, "page": page, "pageSize": page_size})
            self._check_root(root, method, root_name)
            if total_pages is None:
                total_pages = _xml.int_attr(root, "TotalPages")
            count = sum(1 for el in root if isinstance(el.tag, str))
            yield from self._items(root, method, item_name, model, None, plain)
            if total_pages is not None:
                if page >= total_pages:
                    return
            elif count < page_size:
                return
            if count == 0:
                return
            page += 1

    @staticmethod
    def _models(records: Iterator[RawRecord[M]]) -> Iterator[M]:
        return models_only(records, SYSTEM)

    # -- errors ----------------------------------------------------------------------------------------------

    def _classify(self, resp: httpx.Response, record: str | None) -> SyncAPIError | None:
        if resp.is_success:
            return None
        method = record or "?"
        text = self._scrub(resp.text[:500])
        if resp.status_code in (401, 403):
            return AuthenticationError(SYSTEM, f"{method} refused the credentials (HTTP {resp.status_code})",
                                       setting=f"{SETTING_SITE_CODE} / {SETTING_API_ID} / {SETTING_API_PASSWORD}")
        if resp.status_code == 404:
            # Every Reporting call is service.asmx/<Method>: a 404 means the method (or the site path) is unknown.
            return UnknownMethodError(SYSTEM, f"the Reporting API has no method {method!r} (HTTP 404); "
                                              f"check {SETTING_URL} and the TimeLog version")
        if resp.status_code == 500 and _looks_like_unknown_method(text):
            return UnknownMethodError(SYSTEM, f"the Reporting API does not know the method {method!r}: "
                                              f"{_first_line(text)}")
        if resp.status_code == 500 and text.lstrip().startswith("System."):
            # An ASP.NET protocol error ("System.InvalidOperationException: Missing parameter: x."): the request
            # itself is wrong, retrying cannot help.
            return RecordRejectedError(SYSTEM, f"{method} was refused by the service: {_first_line(text)}",
                                       record=method, status=500)
        if resp.status_code == 500:
            if resp.content.lstrip().startswith(b"<"):
                try:
                    root = etree.fromstring(resp.content, _xml._parser())
                except etree.XMLSyntaxError:
                    return None
                if _xml.localname(root.tag) == "Errors":
                    return self._errors_answer(root, method)
            return None  # retried by raise_for_server_error in _parse
        if 400 <= resp.status_code < 500:
            return RecordRejectedError(SYSTEM, f"{method} was rejected: {_first_line(text) or resp.reason_phrase}",
                                       record=method, status=resp.status_code)
        return None

    def _errors_answer(self, root: etree._Element, method: str) -> SyncAPIError:
        """Map an ``Errors`` root to a typed error. Its child names are undocumented, so read all its text."""
        messages = [self._scrub(t) for t in _xml.all_text(root)]
        text = "; ".join(dict.fromkeys(messages)) or "an Errors answer without a message"
        lowered = text.lower()
        if _looks_like_unknown_method(lowered):
            return UnknownMethodError(SYSTEM, f"the Reporting API does not know the method {method!r}: {text}")
        settings = _credential_settings(lowered)
        if settings:
            return AuthenticationError(SYSTEM, f"{method} refused the credentials: {text}", setting=settings)
        return RecordRejectedError(SYSTEM, f"{method} answered Errors: {text}", record=method)

    def _scrub(self, text: str) -> str:
        return scrub(text, self.settings.api_password.get_secret_value())


# ----------------------------------------------------------------------------------------------------------


def date_filter(value: date | datetime) -> str:
    """Reporting date filters are strings (``yyyy-MM-dd``) in most signatures and ``DateTime`` in a few;
    ASMX binds the same text to both."""
    if isinstance(value, datetime):
        value = value.date()
    return value.isoformat()


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (date, datetime)):
        return date_filter(value)
    return str(int(value)) if hasattr(value, "__index__") else str(value)


def _first_line(text: str) -> str:
    for line in text.splitlines():
        line = " ".join(line.split())
        if line and not line.startswith("<?xml"):
            return line[:300]
    return ""


_UNKNOWN_METHOD_MARKERS = ("request format is unrecognized", "method name is not valid", "unknown method",
                           "no such method", "is not a valid method", "method not found", "unknown web method",
                           "invalid method")


def _looks_like_unknown_method(text: str) -> bool:
    lowered = text.lower()
    return any(marker in lowered for marker in _UNKNOWN_METHOD_MARKERS)


def _credential_settings(lowered: str) -> str | None:
    """Which settings an error text points at ("invalid site code" → the site code) or ``None``.

    TimeLog's wording is undocumented, so this matches the parameter names (``siteCode``, ``apiID``,
    ``apiPassword``) and common phrasings; a generic credential complaint names all three.
    """
    compact = lowered.replace(" ", "").replace("_", "")
    named = []
    if "sitecode" in compact or "site" in lowered:
        named.append(SETTING_SITE_CODE)
    if "apiid" in compact or "apiuser" in compact or "username" in compact:
        named.append(SETTING_API_ID)
    if "password" in compact:
        named.append(SETTING_API_PASSWORD)
    generic = any(word in lowered for word in ("credential", "authenticat", "access denied", "not authori",
                                               "unauthori", "login", "log in", "permission"))
    if named and (generic or "invalid" in lowered or "wrong" in lowered or "incorrect" in lowered
                  or "unknown" in lowered or "not" in lowered):
        return " / ".join(named)
    if generic:
        return f"{SETTING_SITE_CODE} / {SETTING_API_ID} / {SETTING_API_PASSWORD}"
    return None
