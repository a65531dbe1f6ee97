"""Neutralise spreadsheet formula injection: a text that a spreadsheet would run as a formula gets a leading ``'``.

Customer names, invoice texts and reasons come from users of either system. A name like ``=HYPERLINK(…)`` or
``@SUM(…)`` opened in Excel or LibreOffice from our workbook or CSV would be evaluated; prefixing ``'`` makes it
plain text (OWASP's advice for CSV injection). ``=``, ``+``, ``-``, ``@`` and the tab/carriage-return variants
are covered. Numbers are never touched (they are written as numbers, not text). HTML is escaped separately, by
Jinja2's autoescape.
"""

from __future__ import annotations

from typing import Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Text starting with a formula trigger → the same text with a leading ``'``; anything else unchanged."""
    if isinstance(value, str) and value.startswith(TRIGGERS):
        return "'" + value
    return value
