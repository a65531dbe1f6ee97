"""How the ledger stores values: deterministic JSON (sorted keys; Decimals as strings, so no øre is lost) with
secret-looking keys blanked — the ledger can never become the place a password leaks to — and the content hash
of that JSON, the test for "unchanged, write nothing" (:mod:`tlsync.ledger.store`)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

_SECRET_KEY = re.compile(r"pass(word)?|secret|token|api[_-]?key|authori[sz]ation|pat$", re.IGNORECASE)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    raise TypeError(f"cannot store {type(value).__name__} in the ledger")


_PLAIN = frozenset({str, int, float, bool, type(None), Decimal})
"""Types :func:`_scrub` passes through as they are, told by ``type()`` alone: the ABC test of ``Mapping`` on every
scalar of a five-year backfill's ledger values was most of :func:`to_json`'s time."""
_SECRET_SEEN: dict[str, bool] = {}       # key → whether it looks secret: a ledger's keys are a few field names


def _secret(key: str) -> bool:
    seen = _SECRET_SEEN.get(key)
    if seen is None:
        seen = _SECRET_KEY.search(key) is not None
        if len(_SECRET_SEEN) < 10_000:
            _SECRET_SEEN[key] = seen
    return seen


def _scrub(value: Any) -> Any:
    if type(value) in _PLAIN:
        return value
    if isinstance(value, Mapping):
        return {k: ("***" if isinstance(k, str) and _secret(k) else _scrub(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v) for v in value]
    return value


def to_json(value: Any) -> str | None:
    """Deterministic JSON (sorted keys; Decimals as strings so no øre is lost), secrets blanked."""
    if value is None:
        return None
    return json.dumps(_scrub(value), sort_keys=True, ensure_ascii=False, default=_default, separators=(",", ":"))


def content_hash(value: Any) -> str:
    """SHA-256 of :func:`to_json` — equal hash, equal write: the test for "unchanged, write nothing"."""
    return hashlib.sha256((to_json(value) or "").encode("utf-8")).hexdigest()
