"""``python -m tlsync.items`` — Uniconta items as TimeLog product numbers (rule U2).

    list [--all]                       Uniconta's active items (--all: blocked ones too) and whether each is an
                                       active TimeLog product number; then the rule-I3 warnings of the defaults
    activate ITEM [ITEM ...]           make the items active product numbers in TimeLog (created if new)
    deactivate ITEM [ITEM ...]         make the product numbers inactive (posted invoices keep them)
    export --out FILE.xlsx             the list as an Excel sheet with a Decision column (activate/deactivate/keep)
    import-decisions FILE.xlsx         carry out the decisions; a file with any bad row is refused as a whole
    sync                               follow Uniconta: rename product numbers of renamed items, deactivate blocked
                                       or renumbered ones (and activate the new number)
    todo [--out FILE.xlsx]             the item-number changes to make by hand in TimeLog (its public API has no
                                       product-number write): chosen, followed or needed by held invoices, checked
                                       against the product numbers the nightly sync staged (staging only)

Against the real TimeLog (not the simulator) activate, deactivate, import-decisions and sync write nothing to
TimeLog: each change is recorded as one to make by hand and `todo` lists it until TimeLog has it (rule U2).

``--dry-run`` (activate, deactivate, import-decisions, sync) lists the writes without making them. The Uniconta
items are read from staging (``--staging-url``, default ``TLSYNC_STAGING_URL``: run the nightly sync first); the
TimeLog product numbers are read live through the legal entity's TimeLog connection (Airflow Connection, e.g. the
environment variable ``AIRFLOW_CONN_TIMELOG_DEFAULT`` in Airflow's JSON form, with ``rest_token`` in its extra).

Exit code 0 = done, 1 = problems (nothing or not everything was written; each problem on its own line),
2 = usage or setup error.
"""

from __future__ import annotations

import argparse
import os
import sys

from tlsync import cli_common, connections
from tlsync.settings.models import LegalEntitySettings

from .excel import DecisionFileError, export_items, read_decisions
from .products import ItemNumbers, ItemProblem, Write


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tlsync.items", description=__doc__.split("\n\n")[0].replace("``", ""),
                                epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawTextHelpFormatter)
    cli_common.add_setup_arguments(p)
    sub = p.add_subparsers(dest="command", required=True)
    ls = sub.add_parser("list", help="Uniconta items and their TimeLog product state")
    ls.add_argument("--all", action="store_true", help="include items blocked in Uniconta")
    for name, what in (("activate", "activate as TimeLog product numbers"), ("deactivate", "deactivate in TimeLog")):
        s = sub.add_parser(name, help=f"{what}")
        s.add_argument("items", nargs="+", metavar="ITEM")
        s.add_argument("--dry-run", action="store_true", help="list the writes, make none")
    cli_common.add_review_commands(sub, export_help="write the review sheet (.xlsx)",
                                   dry_run_help="check the file and list the writes, make none")
    sy = sub.add_parser("sync", help="follow Uniconta's renames and blocks")
    sy.add_argument("--dry-run", action="store_true", help="list the writes, make none")
    td = sub.add_parser("todo", help="the item-number changes to make by hand in TimeLog")
    td.add_argument("--out", help="also write the list as an Excel file (.xlsx)")
    return cli_common.options_anywhere(p)


def _print_writes(writes: list[Write], dry_run: bool) -> None:
    if not writes:
        print("nothing to write: TimeLog already matches")
        return
    for w in writes:
        print(f"{'would ' if dry_run else ''}{w}")


def _apply(numbers: ItemNumbers, writes: list[Write], dry_run: bool) -> int:
    if dry_run or not writes:
        _print_writes(writes, dry_run)
        if writes:
            print(f"dry run: {len(writes)} write(s) listed, none made")
        return 0
    outcome = numbers.apply(writes)
    for line in outcome.done:
        print(f"done: {line}")
    for line in outcome.failed:
        print(f"FAILED: {line}")
    for line in outcome.by_hand:
        print(line)
    if outcome.by_hand:
        print(f"{len(outcome.by_hand)} change(s) to make by hand in TimeLog; `tlsync items todo` lists them until "
              f"TimeLog has them (rule U2)")
        return 0 if outcome.ok else 1
    print(f"{len(outcome.done)} write(s) made, {len(outcome.failed)} failed")
    return 0 if outcome.ok else 1


@cli_common.setup_errors_exit_2()
def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    le, engine = cli_common.entity_and_staging(args)
    if args.command == "todo":
        return _todo(le, engine, args.out)
    rest = connections.timelog_rest_client(
        connections.connection_fields(args.timelog_conn or le.timelog_connection_id, airflow=True))
    try:
        numbers = ItemNumbers(engine, le, rest, actor=os.environ.get("USER") or "cli")
    except ItemProblem as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    if not numbers.items:
        print(f"{le.label}: no Uniconta items are staged for company {le.tenant}; run the nightly sync first",
              file=sys.stderr)
        return 2
    try:
        with rest:
            return _run(args, le, engine, numbers)
    except ItemProblem as exc:
        for p in exc.problems:
            print(p)
        print("nothing was written")
        return 1
    except DecisionFileError as exc:
        print(str(exc))
        return 1


def _run(args, le: LegalEntitySettings, engine, numbers: ItemNumbers) -> int:
    if args.command == "list":
        rows = numbers.status(include_blocked=args.all)
        width = max([len(r.item) for r in rows] + [11])
        print(f"{'Item number':<{width}}  {'TimeLog':<12}  Name in Uniconta")
        for r in rows:
            flag = "  (blocked in Uniconta)" if r.blocked else ""
            print(f"{r.item:<{width}}  {r.state:<12}  {r.name}{flag}")
        active = sum(1 for r in rows if r.active)
        print(f"{len(rows)} item(s), {active} active in TimeLog ({le.label})")
        from .resolver import ItemResolver

        for w in ItemResolver.from_staging(engine, le).warnings():
            print(f"warning: {w}")
        return 0
    if args.command == "activate":
        return _apply(numbers, numbers.plan_activate(args.items), args.dry_run)
    if args.command == "deactivate":
        return _apply(numbers, numbers.plan_deactivate(args.items), args.dry_run)
    if args.command == "export":
        path = export_items(numbers.status(), args.out)
        print(f"wrote {path} ({len(numbers.status())} items); fill in the Decision column and run "
              f"'python -m tlsync.items import-decisions {path}'")
        return 0
    if args.command == "import-decisions":
        d = read_decisions(args.path, numbers)
        writes = numbers.plan_activate(d.activate) + numbers.plan_deactivate(d.deactivate)
        print(f"{args.path}: {len(d.activate)} to activate, {len(d.deactivate)} to deactivate, {d.keep} kept")
        return _apply(numbers, writes, args.dry_run)
    if args.command == "sync":
        return _apply(numbers, numbers.plan_sync(), args.dry_run)
    return 2  # pragma: no cover - argparse rejects unknown commands


def _todo(le: LegalEntitySettings, engine, out: str | None) -> int:
    """``todo``: staging and the ledger only — no TimeLog connection needed."""
    from .todo import export_todo, todo_rows

    if le.uniconta_company_id is None:
        print(f"{le.label}: no Uniconta company chosen, so there are no items to list (rule S1)", file=sys.stderr)
        return 2
    rows = todo_rows(engine, le)
    if not rows:
        print(f"nothing to do by hand: TimeLog has every item number wanted ({le.label})")
    else:
        width = max([len(r.item) for r in rows] + [11])
        print(f"{'Item number':<{width}}  {'TimeLog':<14}  To do in TimeLog / why")
        for r in rows:
            name = f" {r.name!r}" if r.name and r.todo != "rename" else ""
            print(f"{r.item:<{width}}  {r.timelog_state:<14}  {r.what}{name}: {r.why}")
        held = sum(r.held_invoices for r in rows)
        print(f"{len(rows)} change(s) to make by hand in TimeLog ({le.label})"
              + (f"; {held} invoice(s) wait for them" if held else ""))
    if out:
        path = export_todo(rows, out)
        print(f"wrote {path} ({len(rows)} row(s))")
    return 0
