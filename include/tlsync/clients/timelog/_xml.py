"""XML helpers shared by the Reporting (raw XML) and Transactional (SOAP 1.1) clients.

* A hardened lxml parser (no entity expansion, no network) — answers come from a remote system.
* Parse errors become :class:`MalformedResponseError` with ``where="<Method> line N"``; raised inside a
  ``ResilientClient`` ``parse`` callback they are retried, because a cut-off body is usually transient.
* Elements are read by *local name*: TimeLog's own samples mix namespaces (``GetMileageRaw.xml`` has
  un-namespaced children, ``GetInvoiceLineDetailsRaw.xml`` uses ``tlp/v5_0``), so the clients validate the
  namespace of the document root and then match children by name.
* SOAP 1.1 envelopes are built with lxml (values are escaped by construction, never string-formatted).
* **Characters XML forbids** (issue 17): a NUL or ``\x01`` in one customer's name — raw, or as ``&#1;`` — made the
  whole ``GetCustomersRaw`` document unparsable, so one record stopped every night. When a document does not
  parse and holds such characters, each is swapped for a private-use stand-in (U+E000 + its code, valid XML) and
  the document is parsed again; :func:`element_value` gives the original character back. The other records are
  read as usual; the one with the character reaches the quality gate as sent, which quarantines it by its ID
  (rule ``control_character``) with its raw payload. A document that still does not parse is malformed as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from lxml import etree

from ..errors import MalformedResponseError

TLP_NS = "http://www.timelog.com/XML/Schema/tlp/v4_4"
"""Namespace of every Reporting API answer (timelog-api.md, "Reporting API auth")."""
TLP_NS_FAMILY = "http://www.timelog.com/XML/Schema/tlp/"
"""Accepted namespace prefix: TimeLog versions the schema namespace (``v4_4``, ``v5_0`` in one official sample)."""
REPORTING_WS_NS = "http://www.timelog.com/ws/tlp/v4_4"
"""Namespace of the ASMX service itself (e.g. the ``<boolean>`` of ``ValidateCredentials``)."""
SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

# Elements whose children are always a list, even with one child (WCF arrays / Reporting repeating groups).
ARRAY_ELEMENTS = frozenset({
    "Return", "Messages", "InvoiceLines", "ExternalKeys", "CustomFields", "Contacts", "Parameters",
    "DataValues", "ExternalSystemContexts", "ImageUrlList", "Values",
})


_LOCALNAMES: dict[str, str] = {}
"""``{ns}Name`` → ``Name``, remembered: a document repeats a few dozen tags millions of times (issue 18)."""


def localname(tag: Any) -> str:
    """``{ns}Name`` → ``Name`` (comments and processing instructions have no string tag → ``""``)."""
    name = _LOCALNAMES.get(tag) if tag.__class__ is str else None
    if name is not None:
        return name
    if not isinstance(tag, str):
        return ""
    name = tag.rsplit("}", 1)[-1]
    if len(_LOCALNAMES) < 4096:      # bounded: tag names come from the remote system
        _LOCALNAMES[tag] = name
    return name


def namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def _parser() -> etree.XMLParser:
    # One parser per document: lxml parsers are not safe to share between threads.
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_comments=True,
                           remove_pis=True, load_dtd=False)


_BAD_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_BAD_REFS = re.compile(rb"&#(?:x0*([0-9a-fA-F]{1,2})|0*([0-9]{1,2}));")
_STANDIN = re.compile("[\ue000-\ue01f]")
_RESTORE = {0xE000 + code: code for code in range(0x20)}


def _swap_forbidden(body: bytes) -> bytes | None:
    """``body`` with every character XML 1.0 forbids (C0 controls but tab/LF/CR, raw or as a character
    reference) replaced by its private-use stand-in; ``None`` if there is none (or the body is not UTF-8)."""
    head = body[:200].lower()
    if b"encoding=" in head and b"utf-8" not in head and b"ascii" not in head:
        return None

    def ref(m: re.Match[bytes]) -> bytes:
        code = int(m.group(1), 16) if m.group(1) else int(m.group(2))
        if code >= 0x20 or code in (0x09, 0x0A, 0x0D):
            whole: bytes = m.group(0)
            return whole
        return f"&#x{0xE000 + code:X};".encode("ascii")

    swapped = _BAD_REFS.sub(ref, _BAD_BYTES.sub(lambda m: chr(0xE000 + m.group()[0]).encode("utf-8"), body))
    return swapped if swapped != body else None


def restore(text: str) -> str:
    """Give back the characters :func:`_swap_forbidden` stood in for."""
    if text.isascii():               # the common case, a flag check: no stand-in can be there
        return text
    return text.translate(_RESTORE) if _STANDIN.search(text) else text


def parse_document(body: bytes, *, system: str, where: str) -> etree._Element:
    """Parse a whole XML document or raise :class:`MalformedResponseError` naming ``where`` and the line.

    The whole answer is parsed before any record is handed out, so a body cut off by the network is retried
    as one unit and no record is ever yielded twice.
    """
    if not body or not body.strip():
        raise MalformedResponseError(system, "empty body", where=f"{where} line 1")
    try:
        return etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        swapped = _swap_forbidden(body)
        if swapped is not None:
            try:
                return etree.fromstring(swapped, _parser())
            except etree.XMLSyntaxError:
                pass
        line = exc.lineno or (exc.position[0] if getattr(exc, "position", None) else 0) or 1
        reason = str(exc.msg or exc).split(",")[0]
        raise MalformedResponseError(system, f"the XML does not parse ({reason})",
                                     where=f"{where} line {line}") from None


def parse_items_document(body: bytes, *, system: str, where: str) -> tuple[etree._Element, bool]:
    """:func:`parse_document`, and whether the document is *plain*: no ``nil`` attribute, no DOCTYPE (so no
    entity nodes), no character reference and no private-use stand-in (so no :func:`restore`), no forbidden
    character swapped and no element nested below an item's fields — then every item can be read by
    :func:`plain_item_dict`. Each test is one scan of the bytes in C (issue 18)."""
    if not body or not body.strip():
        raise MalformedResponseError(system, "empty body", where=f"{where} line 1")
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError:
        return parse_document(body, system=system, where=where), False   # swapped, or raises as before
    plain = not ((b"nil" in body and _NIL_ATTR.search(body) is not None) or b"<!DOCTYPE" in body
                 or b"&#" in body or b"\xee\x80" in body) and not _nested_below_fields(root)
    return root, plain


_XPATH_NODES = 4_000_000
"""Fields one XPath may gather: libxml2 refuses a node-set of more than 10,000,000 nodes ("unknown error"),
which a five-year first read of a site's invoice lines (1M items × ~25 fields) exceeds."""


def _nested_below_fields(root: etree._Element) -> bool:
    """Whether any item's field holds an element — ``*/*/*`` in C, over windows of items small enough that
    the fields gathered stay below libxml2's node-set limit (:data:`_XPATH_NODES`)."""
    n = len(root)
    width = len(root[0]) if n else 0
    window = max(1, _XPATH_NODES // max(1, 2 * width))
    if n <= window:
        return bool(root.xpath("boolean(*/*/*)"))
    return any(root.xpath(f"boolean(*[position() > {a} and position() <= {a + window}]/*/*)")
               for a in range(0, n, window))


_NIL_ATTR = re.compile(rb"nil\s*=")


class NameTable(dict[Any, str]):
    """``{ns}Name`` → ``Name`` for one document's tags, filled on first sight (a dict lookup per field)."""

    def __missing__(self, tag: Any) -> str:
        name = self[tag] = localname(tag)
        return name


def plain_item_dict(el: etree._Element, names: NameTable) -> dict[str, Any] | None:
    """:func:`element_to_dict` of an item of a *plain* document (:func:`parse_items_document`) in one
    comprehension — the same dict, keys in the same order — or ``None`` when this item needs the general reader
    (a namespaced attribute, a repeated or array field)."""
    out: dict[str, Any] = dict(el.items())
    for key in out:
        if key[0] == "{":
            return None
    children = {names[sub.tag]: sub.text or "" for sub in el}
    if len(children) != len(el) or not ARRAY_ELEMENTS.isdisjoint(children):
        return None
    if not out:
        return children
    out.update(children)
    return out


def is_nil(el: etree._Element) -> bool:
    return el.get(f"{{{XSI_NS}}}nil") in ("true", "1")


def element_value(el: etree._Element) -> Any:
    """An element as plain Python: text for a leaf, ``None`` for ``i:nil``, dict/list for structures."""
    if is_nil(el):
        return None
    children = [c for c in el if isinstance(c.tag, str)]
    if localname(el.tag) in ARRAY_ELEMENTS:
        return [element_value(c) for c in children]
    if not children:
        return restore(el.text) if el.text is not None else ""
    return element_to_dict(el)


def element_to_dict(el: etree._Element) -> dict[str, Any]:
    """Attributes (by local name, ``xsi:*`` left out) and child elements (by local name) of ``el``.

    This is the *raw payload* staging keeps for quarantine: values stay exactly as sent (strings).
    A repeated child name becomes a list.

    Runs once per record on the largest reads (≈ 20 child elements each, millions per night), so the common
    child — a leaf with text, no attributes to skip — is read inline; anything else goes through
    :func:`element_value` (issue 18: this function was half of the M first night's extraction time).
    """
    out: dict[str, Any] = {}
    if len(el.attrib):
        for key, value in el.attrib.items():
            if key.startswith(_XSI_PREFIX):
                continue
            out[localname(key)] = restore(value)
    children: dict[str, Any] = {}
    repeated: dict[str, list[Any]] | None = None
    names = _LOCALNAMES
    for sub in el:
        tag = sub.tag
        if tag.__class__ is not str:
            continue
        name = names.get(tag) or localname(tag)
        if sub.get(_XSI_NIL) in _NIL_VALUES:
            value = None
        elif not len(sub) and name not in ARRAY_ELEMENTS:
            text = sub.text
            value = "" if text is None else (text if text.isascii() else restore(text))
        else:
            value = element_value(sub)
        if name in children:
            if repeated is None:
                repeated = {}
            group = repeated.get(name)
            if group is None:
                group = repeated[name] = [children[name]]
            group.append(value)
        else:
            children[name] = value
    if repeated:
        children.update(repeated)
    if not out:
        return children
    out.update(children)
    return out


_XSI_PREFIX = f"{{{XSI_NS}}}"
_XSI_NIL = f"{{{XSI_NS}}}nil"
_NIL_VALUES = ("true", "1")


def child_text_in(name: str, values: Container[str] | None) -> Callable[[etree._Element], bool] | None:
    """A test of an item element: the text of its child ``name`` is in ``values`` (``None``: no test). An item
    without that child passes, so the quality gate still sees — and quarantines — a malformed one. Lets a client
    skip, unparsed, the records of a site-wide read that belong elsewhere — the Reporting client's ``of_invoices``
    on invoice lines and details (issue 18: each legal entity's read parsed every other entity's lines too)."""
    if values is None:
        return None

    names = _LOCALNAMES

    def keep(el: etree._Element) -> bool:
        for sub in el:
            tag = sub.tag
            found = names.get(tag) if tag.__class__ is str else None   # the remembered name: no call per field
            if (found if found is not None else localname(tag)) == name:
                return (sub.text or "") in values
        return True
    return keep


def owned_by(name: str, owner: str | None, skipped: Callable[[str | None], object] | None = None
             ) -> Callable[[etree._Element], bool] | None:
    """A test of an item element: its child ``name`` (the owner's ID, e.g. ``LegalEntityID``) is ``owner``, or
    empty, nil or missing (``None``: no test). An item owned by someone else is skipped unparsed and its ``ID``
    (a child, else the attribute, as :func:`element_to_dict` would give it) goes to ``skipped``; an item with no
    owner is kept for the caller to place. The Reporting client's ``of_legal_entity`` on invoices (issue 18: each
    legal entity's read of the site-wide invoices turned every other entity's invoice into a dict and a model)."""
    if owner is None:
        return None

    names = _LOCALNAMES

    def keep(el: etree._Element) -> bool:
        found = ident = None
        for sub in el:
            tag = sub.tag
            local = names.get(tag) if tag.__class__ is str else None
            if local is None:
                local = localname(tag)
            if local == name:
                found = sub
            elif local == "ID":
                ident = sub
        if found is None or not found.text or found.get(_XSI_NIL) in _NIL_VALUES or found.text == owner:
            return True
        if skipped is not None:
            if ident is None:
                skipped(el.get("ID"))
            else:
                skipped(None if ident.get(_XSI_NIL) in _NIL_VALUES else (ident.text or ""))
        return False
    return keep


def int_attr(el: etree._Element, name: str) -> int | None:
    """Attribute ``name`` of ``el`` as an int (``None`` when absent or not a number)."""
    value = el.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def child(el: etree._Element, name: str) -> etree._Element | None:
    """First child element with local name ``name``."""
    for c in el:
        if localname(c.tag) == name:
            return c
    return None


def child_text(el: etree._Element, name: str) -> str | None:
    c = child(el, name)
    if c is None or is_nil(c):
        return None
    text: str | None = c.text
    return text


def all_text(el: etree._Element) -> list[str]:
    """Every non-blank text node under ``el``, whitespace collapsed (for error answers of unknown shape)."""
    return [" ".join(node.text.split()) for node in el.iter()
            if isinstance(node.tag, str) and node.text and node.text.strip()]


# ----------------------------------------------------------------------------------------------------------
# SOAP 1.1
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SoapStruct:
    """A data-contract parameter: child elements in ``ns`` (WCF DataContractSerializer, members in order)."""

    ns: str
    fields: tuple[tuple[str, Any], ...]

    @classmethod
    def of(cls, ns: str, fields: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> SoapStruct:
        items = tuple(fields.items()) if isinstance(fields, Mapping) else tuple(fields)
        return cls(ns, items)


def soap_text(value: Any) -> str:
    """Serialise a scalar the way WCF expects it (``true``/``false``, ISO 8601 without zone, GUID text)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat() if value.tzinfo is None else value.isoformat()
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, (int, Decimal, UUID)):
        return str(value)
    return str(value)


def _append(parent: etree._Element, ns: str, name: str, value: Any) -> None:
    el = etree.SubElement(parent, f"{{{ns}}}{name}")
    if value is None:
        el.set(f"{{{XSI_NS}}}nil", "true")
    elif isinstance(value, SoapStruct):
        for field_name, field_value in value.fields:
            _append(el, value.ns, field_name, field_value)
    else:
        el.text = soap_text(value)


def soap_envelope(operation: str, ns: str, params: Iterable[tuple[str, Any]]) -> bytes:
    """``<s:Envelope><s:Body><{ns}operation>params…</…></s:Body></s:Envelope>`` as UTF-8 bytes.

    Parameters are elements in the operation's namespace (WCF wraps them in the service namespace); a
    :class:`SoapStruct` value nests its members in its own data-contract namespace, like the ``token``
    (``http://www.timelog.com/api/tlp/v1_3``) in timelog-api.md's "Transactional SOAP wire format".
    """
    nsmap = {"s": SOAP_ENV_NS, "i": XSI_NS}
    envelope = etree.Element(f"{{{SOAP_ENV_NS}}}Envelope", nsmap=nsmap)
    body = etree.SubElement(envelope, f"{{{SOAP_ENV_NS}}}Body")
    op = etree.SubElement(body, f"{{{ns}}}{operation}", nsmap={None: ns})
    for name, value in params:
        _append(op, ns, name, value)
    data: bytes = etree.tostring(envelope, xml_declaration=False, encoding="utf-8")
    return data


def soap_body(root: etree._Element) -> etree._Element | None:
    """The ``s:Body`` of a SOAP 1.1 envelope, or ``None`` if ``root`` is not one."""
    if root.tag != f"{{{SOAP_ENV_NS}}}Envelope":
        return None
    return child(root, "Body")


def soap_fault(body: etree._Element) -> tuple[str, str] | None:
    """``(faultcode, faultstring)`` when the body holds a SOAP Fault."""
    fault = child(body, "Fault")
    if fault is None:
        return None
    code = (child_text(fault, "faultcode") or "").strip()
    text = " ".join((child_text(fault, "faultstring") or "").split())
    return code, text
