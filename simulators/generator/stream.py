"""Read a fixture file record by record, without loading it (the L fixture is gigabytes of JSON).

``stream_fixture(path)`` walks the layout :func:`~simulators.generator.write_fixture` writes (and any fixture
document of the same shape) and yields ``(path, value)`` pairs in file order:

- ``("timelog", "auth")`` → the auth dict; ``("timelog", "<Collection>")`` → an **iterator** of its records;
- ``("uniconta", "users")`` → the users list; ``("uniconta", "companies", i, "<attribute>")`` → one company
  attribute (they precede the company's classes); ``("uniconta", "companies", i, "<Class>")`` → an **iterator** of
  that class's records;
- any other top-level key (``("_meta",)``) → its value.

An iterator must be consumed (or abandoned) before the walk continues; what the consumer leaves is skipped.
Numbers with a fraction are ``Decimal`` (as :func:`~simulators.generator.load_fixture` reads them). Memory is one
read buffer plus one record.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

CHUNK = 1 << 22

_WS = " \t\r\n"


class _Reader:
    def __init__(self, fh, parse_float: Callable[[str], Any] = Decimal) -> None:
        self.fh = fh
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.decoder = json.JSONDecoder(parse_float=parse_float)

    def _more(self) -> bool:
        if self.eof:
            return False
        chunk = self.fh.read(CHUNK)
        if not chunk:
            self.eof = True
            return False
        if self.pos:
            self.buf = self.buf[self.pos:]
            self.pos = 0
        self.buf += chunk
        return True

    def peek(self) -> str:
        while True:
            buf, pos, n = self.buf, self.pos, len(self.buf)
            while pos < n and buf[pos] in _WS:
                pos += 1
            self.pos = pos
            if pos < n:
                return buf[pos]
            if not self._more():
                raise ValueError("fixture ends early")

    def expect(self, ch: str) -> None:
        if self.peek() != ch:
            raise ValueError(f"fixture: expected {ch!r} at offset {self.pos}, found {self.buf[self.pos]!r}")
        self.pos += 1

    def value(self) -> Any:
        self.peek()
        while True:
            try:
                val, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError:
                if self._more():
                    continue
                raise
            if end >= len(self.buf) and not self.eof and isinstance(val, (int, Decimal)):
                if self._more():                      # a number cut at the buffer's end: read on and decode again
                    continue
            self.pos = end
            return val


def _descend(path: tuple) -> bool:
    return path in ((), ("timelog",), ("uniconta",)) or (len(path) == 3 and path[:2] == ("uniconta", "companies"))


def _records(path: tuple) -> bool:
    return (len(path) == 2 and path[0] == "timelog" and path[1] != "auth") or \
        (len(path) == 4 and path[:2] == ("uniconta", "companies"))


def _members(r: _Reader, opening: str, closing: str) -> Iterator[None]:
    """Step through a JSON object or array: yields with the reader at the start of each member (the caller reads
    the member before resuming), skipping the commas; returns after the closing bracket."""
    r.expect(opening)
    while True:
        c = r.peek()
        if c == closing:
            r.pos += 1
            return
        if c == ",":
            r.pos += 1
            continue
        yield


_SKIP = frozenset(_WS + ",")


def _items(r: _Reader) -> Iterator[Any]:
    """The members of an array, as :func:`_members` + :meth:`_Reader.value` would give them, with the common case
    (an object) decoded inline: a simulator reads millions of records this way at start-up."""
    r.expect("[")
    decode = r.decoder.raw_decode
    while True:
        buf, pos = r.buf, r.pos
        n = len(buf)
        while pos < n and buf[pos] in _SKIP:
            pos += 1
        r.pos = pos
        if pos >= n:
            if not r._more():
                raise ValueError("fixture ends early")
            continue
        c = buf[pos]
        if c == "]":
            r.pos = pos + 1
            return
        if c != "{":
            yield r.value()
            continue
        try:
            val, end = decode(buf, pos)
        except json.JSONDecodeError:
            if r._more():                             # the object runs past the buffer: read on, decode again
                continue
            raise
        r.pos = end
        yield val


def _walk(r: _Reader, path: tuple) -> Iterator[tuple[tuple, Any]]:
    c = r.peek()
    if c == "{" and _descend(path):
        for _ in _members(r, "{", "}"):
            key = r.value()
            r.expect(":")
            yield from _walk(r, (*path, key))
    elif c == "[" and path == ("uniconta", "companies"):
        for i, _ in enumerate(_members(r, "[", "]")):
            yield from _walk(r, (*path, i))
    elif c == "[" and _records(path):
        it = _items(r)
        yield path, it
        for _ in it:                                   # skip what the consumer left
            pass
    else:
        yield path, r.value()


def stream_fixture(path: str | Path, parse_float: Callable[[str], Any] = Decimal) -> Iterator[tuple[tuple, Any]]:
    """Walk a fixture file; see the module docstring. ``parse_float`` turns a number's text with a fraction into
    its value (``Decimal``; a simulator passes one that gives the same object for the same text)."""
    with open(path, encoding="utf-8") as fh:
        yield from _walk(_Reader(fh, parse_float), ())
