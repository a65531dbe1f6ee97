"""The item numbers page (rules U2, I1–I5): what it reads and the one write it makes.

- **What a line gets**: :func:`tlsync.items.preview.rule_cases` on the resolver the transfer builds
  (``ItemResolver.from_staging`` with the legal entity's current settings) — each kind of invoice line, each mapped
  dimension value and the unmapped rest, with the item (or GL account) it gets, the rule, and why it would not be
  transferred. No second implementation of the rules: the page only shapes the outcomes.
- **Uniconta's items** with their state in TimeLog (one REST read, ``ItemNumbers.status``) and the kinds of line
  whose rules hand each out (from the same cases).
- **Warnings**: the settings' own (``ItemNumberDefaults.warnings``) and the resolver's (one item on several expense
  types, rule I3).
- **Activate / deactivate** in TimeLog: ``ItemNumbers.plan_*`` and ``apply``, as ``tlsync items`` does; the
  ledger's actor is the logged-in user.

The rules table does not need TimeLog to answer (it is read from staging); when the REST read fails, the table of
items says so in one line and the rules are still shown.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine


def item_page(engine: Engine, entity: Any) -> dict[str, Any]:
    """``{"cases", "rows", "warnings", "problems"}`` for the items template (module docstring)."""
    from tlsync.connections import connection_fields, timelog_rest_client
    from tlsync.items import ItemResolver
    from tlsync.items.preview import items_in_use, rule_cases
    from tlsync.items.products import ItemNumbers

    warnings = list(entity.item_numbers.warnings())
    problems: list[str] = []
    cases: list[Any] = []
    try:
        resolver = ItemResolver.from_staging(engine, entity)
        cases = rule_cases(resolver)
        warnings += [w for w in resolver.warnings() if w not in warnings]
    except Exception as exc:  # noqa: BLE001 - staging unreadable: one line, the list below still shows
        problems.append(f"{entity.label}: the item rules could not be read from staging: {exc} (rules I1–I4)")
    uses = items_in_use(cases)
    rows: list[dict[str, Any]] = []
    try:
        with timelog_rest_client(connection_fields(entity.timelog_connection_id, airflow=True)) as rest:
            status = ItemNumbers(engine, entity, rest).status(include_blocked=True)
        rows = [{"item": s.item, "name": s.name, "blocked": s.blocked, "state": s.state, "active": s.active,
                 "uses": uses.get(s.item, [])} for s in status]
    except Exception as exc:  # noqa: BLE001 - connection or API problem: one line, no traceback
        problems.append(f"{entity.label}: TimeLog's product numbers could not be read: {exc} (rule U2)")
    inactive = {r["item"] for r in rows if not r["active"]}
    for item in uses:
        if item in inactive:
            warnings.append(f"item {item!r} is handed out by the rules but is not active in TimeLog yet; activate "
                            f"it below (rule U2)")
    return {"cases": cases, "rows": rows, "warnings": warnings, "problems": problems}


def apply_items(engine: Engine, entity: Any, move: str, numbers: list[str], *, actor: str) -> str:
    """Activate / deactivate item numbers in TimeLog: the plans and writes of ``tlsync items activate|deactivate``
    (rule U2; an unknown or blocked item refuses the whole batch)."""
    from tlsync.connections import connection_fields, timelog_rest_client
    from tlsync.items.products import ItemNumbers, ItemProblem

    if move not in ("activate", "deactivate") or not numbers:
        return "choose items and activate or deactivate"
    with timelog_rest_client(connection_fields(entity.timelog_connection_id, airflow=True)) as rest:
        items = ItemNumbers(engine, entity, rest, actor=actor)
        try:
            writes = items.plan_activate(numbers) if move == "activate" else items.plan_deactivate(numbers)
        except ItemProblem as exc:
            return "; ".join(exc.problems) + " — nothing was written"
        if not writes:
            return "nothing to write: TimeLog already matches"
        outcome = items.apply(writes)
    return f"{len(outcome.done)} write(s) made, {len(outcome.failed)} failed" + (
        ": " + "; ".join(outcome.failed[:3]) if outcome.failed else "")
