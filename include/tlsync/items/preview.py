"""What an invoice line would get under the current item rules (rules I1–I5), per kind of line — the items page's
table, and the items each rule hands out.

Nothing is decided here: every outcome is :meth:`tlsync.items.resolver.ItemResolver.decide`, the decision the
transfer's :meth:`~tlsync.items.resolver.ItemResolver.resolve` makes for a real line (same code, same cache), asked
for each case a line of that kind can be in:

- **on the line** / **one specific item** / **GL account** (I1–I4): one case, a line that carries no item of its own
  (the specific item or GL account, or — on the line — "no item: chosen by hand", rule I5). A line that does carry
  an item keeps it under every principle except a dimension mapping and a GL account (see the resolver);
- **by a dimension** (project type, project category, task type, hourly rate, expense type): one case per mapped
  value (its TimeLog name from staging), then one case for the values without a mapping, counted, which fall back
  to the line's own item (I1) — one example value is decided for them, they all decide alike.

Decision recorded: the cases are the settings' sections in the order of TimeLog's setup page (time, fixed price,
expenses, mileage, per diem, accommodation); a mapped value TimeLog no longer has is still listed (by its id), so a
stale mapping is visible.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tlsync.settings.models import (
    ExpenseByDimension,
    FixedPriceByDimension,
    TimeByDimension,
)

from .resolver import LINE_KINDS, RULE_OF_KIND, SETTING_OF_KIND, ItemResolver, LineItem

_BY_DIMENSION = (TimeByDimension, FixedPriceByDimension, ExpenseByDimension)


@dataclass(frozen=True)
class RuleCase:
    """One case of one kind of invoice line and what such a line gets."""

    kind: str                       # the settings' section: time, fixed_price, expenses, mileage, per_diem, …
    rule: str                       # I1 … I4
    mode: str                       # on_line, by_dimension, specific_item, gl_account
    case: str                       # "no_item" | "value" (a mapped dimension value) | "unmapped" (the others)
    outcome: LineItem
    dimension: str | None = None    # project_type, project_category, task_type, hourly_rate, expense_type
    value: str | None = None        # the mapped TimeLog id ("value")
    value_name: str = ""            # its TimeLog name, '' when not staged
    others: int = 0                 # "unmapped": how many values of the dimension have no mapping
    examples: list[str] = field(default_factory=list)   # "unmapped": up to five of their names

    @property
    def transferable(self) -> bool:
        return self.outcome.transferable


def rule_cases(resolver: ItemResolver) -> list[RuleCase]:
    """Every case of every kind of invoice line, decided by ``resolver`` (module docstring)."""
    out: list[RuleCase] = []
    for kind in LINE_KINDS:
        section = SETTING_OF_KIND[kind]
        default = getattr(resolver.defaults, section)
        rule = RULE_OF_KIND[kind]
        if not isinstance(default, _BY_DIMENSION):
            out.append(RuleCase(section, rule, default.mode, "no_item", resolver.decide(kind)))
            continue
        names = resolver.ref.names.get(default.dimension, {})
        for value in sorted(default.mapping, key=lambda v: (len(v), v)):
            out.append(RuleCase(section, rule, default.mode, "value", resolver.decide(kind, value),
                                default.dimension, value, names.get(value, "")))
        unmapped = sorted((v for v in names if v not in default.mapping), key=lambda v: (len(v), v))
        if unmapped or not names:        # every value mapped: no such case; nothing staged: an unknown value
            out.append(RuleCase(section, rule, default.mode, "unmapped",
                                resolver.decide(kind, unmapped[0] if unmapped else None), default.dimension,
                                others=len(unmapped), examples=[names[v] or v for v in unmapped[:5]]))
    return out


def items_in_use(cases: list[RuleCase]) -> dict[str, list[str]]:
    """Item number → the kinds of line (settings sections) whose rules hand it out, in the order of ``cases``."""
    out: dict[str, list[str]] = {}
    for c in cases:
        item = c.outcome.item
        if item and c.kind not in out.setdefault(item, []):
            out[item].append(c.kind)
    return out
