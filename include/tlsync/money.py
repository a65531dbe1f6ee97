"""Money to the øre: every amount of an invoice draft is a :class:`~decimal.Decimal`, rounded half-up to 2 places.

Why half-up: TimeLog and Uniconta both round an amount of 0.005 away from zero (Danish practice, and what the
simulator's ``line_net`` does), so the draft's line totals equal what Uniconta computes from Qty, Price and
DiscountPct — and their sum equals TimeLog's invoice net amount (rule T2, checked per invoice).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import overload

CENT = Decimal("0.01")
ZERO = Decimal(0)
HUNDRED = Decimal(100)


@overload
def dec(value: object) -> Decimal: ...
@overload
def dec(value: object, default: Decimal) -> Decimal: ...
@overload
def dec(value: object, default: None) -> Decimal | None: ...


def dec(value: object, default: Decimal | None = ZERO) -> Decimal | None:
    """An exact Decimal of a staged value (strings, ints, Decimals; a float goes through its shortest repr).
    Blank (``None`` or ``""``) is ``default``: zero unless another is given, so ``dec(x)`` is always a Decimal."""
    if value is None or value == "":
        return default
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None


def q2(value: Decimal) -> Decimal:
    """Round to the øre, half-up."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def line_total(qty: Decimal, price: Decimal, discount_pct: Decimal) -> Decimal:
    """``qty × price × (1 − discount%)`` rounded half-up to 2 decimals — Uniconta's order-line ``Total``."""
    return q2(qty * price * (HUNDRED - discount_pct) / HUNDRED)


def show(amount: Decimal | None) -> str:
    """An amount as a finance person reads it in a message: ``-1,234.50``."""
    return "?" if amount is None else f"{amount:,.2f}"
