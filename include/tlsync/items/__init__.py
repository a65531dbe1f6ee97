"""Item numbers: which Uniconta item each TimeLog invoice line gets (rules I1–I5, :mod:`.resolver`) and which
Uniconta items are active as TimeLog product numbers (rule U2, :mod:`.products`, CLI ``python -m tlsync.items``).
"""

from __future__ import annotations

from .resolver import LINE_KINDS, ItemResolver, LineItem

__all__ = ["LINE_KINDS", "ItemResolver", "LineItem"]
