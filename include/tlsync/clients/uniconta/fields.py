"""Field names Uniconta's public material leaves open — found on the wire or configured, never assumed.

Three names the pipeline depends on are not published in any API reference (issue 13, evidence items 2, 3, 5):

* **the row id** every stored row carries: the .NET API pages with ``RowId``; public OData consumers (Uniconta's
  Power BI scripts) see ``PrimaryKeyId``. The incremental reads of posted classes filter and order on it
  (``$filter=RowId gt N``, docs/staging-cursors.md). The connection extra ``row_id_field`` fixes the name;
  without it the client *detects* it from the first rows it sees (or with one ``$top=1`` read of the class it is
  about to filter) and fails loudly (:class:`MissingRowIdError`) when rows carry neither name — a cursor read that
  silently skipped such rows would lose postings;
* **the company listing**: public clients read ``GET /api/Entities/CompanyClient`` with ``PrimaryKeyId`` (the
  company id) and ``CompanyName``; the project module is the .NET ``Company.Project`` property;
* **the customer of a posted invoice line**: ``DebtorInvoiceLines.DCAccount`` (Uniconta-Pages
  ``DebtorInvoiceLinesPage.xaml``), not ``Account``.

Inside the pipeline one name is used for each (``RowId``; ``CompanyId``/``Name``/``ProjectModule``; ``Account``
and ``DCAccount`` both), so staging, cursors and the ledger do not change with the server: :func:`canonical` adds
the pipeline's name next to the server's (the server's field stays, so a payload shows what was really sent), and
:func:`to_wire` translates ``RowId`` in a ``$filter``/``$orderby`` or a written record to the server's name.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from ..errors import MalformedResponseError

ROW_ID = "RowId"
ROW_ID_CANDIDATES = ("RowId", "PrimaryKeyId")
"""The names a row id is known under, in the order they are tried."""

ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "CompanyClient": {"CompanyId": ("PrimaryKeyId", "CompanyId"), "Name": ("CompanyName", "Name"),
                      "ProjectModule": ("Project", "ProjectModule")},
    "DebtorInvoiceLines": {"Account": ("DCAccount",), "DCAccount": ("Account",)},
}
"""Per class: the pipeline's field name → the server names it may arrive under (first present wins)."""

class MissingRowIdError(MalformedResponseError):
    """Rows of a class carry no row id under any known name: an incremental read cannot go on safely."""


class Detected:
    """What a client learned about its server's field names; shared by a client and its :meth:`for_company`
    siblings (one server), never across clients — a new client detects afresh."""

    def __init__(self) -> None:
        self.row_id: str | None = None
        self._lock = threading.Lock()

    def remember_row_id(self, name: str) -> None:
        with self._lock:
            if self.row_id is None:
                self.row_id = name


def row_id_name(row: dict[str, Any]) -> str | None:
    """Which known row-id name ``row`` carries (``None``: neither)."""
    for name in ROW_ID_CANDIDATES:
        if row.get(name) is not None:
            return name
    return None


def canonical(class_name: str, row: dict[str, Any], row_id_field: str | None) -> dict[str, Any]:
    """Add the pipeline's names to ``row`` (in place; returned for chaining). ``row_id_field``: the server's
    row-id name when it is not ``RowId``. The company listing's ``PrimaryKeyId`` is the company id, not a row id."""
    for ours, theirs in ALIASES.get(class_name, {}).items():
        if row.get(ours) is None:
            for name in theirs:
                if row.get(name) is not None:
                    row[ours] = row[name]
                    break
    if class_name != "CompanyClient" and row_id_field and row_id_field != ROW_ID and row.get(ROW_ID) is None \
            and row.get(row_id_field) is not None:
        row[ROW_ID] = row[row_id_field]
    return row


_QUOTED = re.compile(r"('(?:[^']|'')*')")
_ROW_ID_WORD = re.compile(r"\bRowId\b")


def to_wire(expression: str | None, row_id_field: str | None) -> str | None:
    """``$filter``/``$orderby`` text with ``RowId`` renamed to the server's name (quoted text untouched)."""
    if expression is None or not row_id_field or row_id_field == ROW_ID:
        return expression
    parts = _QUOTED.split(expression)
    return "".join(p if i % 2 else _ROW_ID_WORD.sub(row_id_field, p) for i, p in enumerate(parts))


def payload_to_wire(payload: Any, row_id_field: str | None) -> Any:
    """A written record (or list of them) with ``RowId`` sent under the server's name."""
    if not row_id_field or row_id_field == ROW_ID:
        return payload
    if isinstance(payload, list):
        return [payload_to_wire(p, row_id_field) for p in payload]
    if isinstance(payload, dict) and ROW_ID in payload:
        return {(row_id_field if k == ROW_ID else k): v for k, v in payload.items()}
    return payload


def mentions_row_id(expression: str | None) -> bool:
    if not expression:
        return False
    return any(_ROW_ID_WORD.search(p) for i, p in enumerate(_QUOTED.split(expression)) if not i % 2)
