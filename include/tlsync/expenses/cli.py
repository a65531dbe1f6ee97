"""``python -m tlsync.expenses`` — supplier postings from Uniconta as TimeLog project expenses (rules U4, S6).

    list [--state STATE]               every posting the import has seen: imported, waiting, ignored
    review                             the postings waiting for a person, each with the reason
    import [--since YYYY-MM-DD]        import the staged supplier postings on the expense accounts (S6)
    export --out FILE.xlsx             the review list as an Excel sheet with a Decision column
    import-decisions FILE.xlsx         carry out the decisions (import with type + project / ignore / wait);
                                       a file with any bad row is refused as a whole

``--dry-run`` (import, import-decisions) lists what would happen and writes nothing — neither to TimeLog nor to
the ledger. The Uniconta postings and TimeLog's expense types and projects are read from staging
(``--staging-url``, default ``TLSYNC_STAGING_URL``: run the nightly sync first); expenses are written through the
legal entity's TimeLog connection (Airflow Connection, e.g. ``AIRFLOW_CONN_TIMELOG_DEFAULT`` in Airflow's JSON
form, with ``rest_token`` in its extra).

Exit code 0 = done, 1 = problems (a refused file, a refused expense; each on its own line), 2 = usage or setup
error.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date

from tlsync import cli_common
from tlsync.ledger import Ledger
from tlsync.settings.models import LegalEntitySettings

from .decisions import apply_decisions
from .excel import DecisionFileError, export_review, read_decisions
from .importer import ExpenseImport, RunResult, summarise
from .report import WAITING, imported_expenses, waiting


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tlsync.expenses", description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawTextHelpFormatter)
    cli_common.add_setup_arguments(p)
    sub = p.add_subparsers(dest="command", required=True)
    ls = sub.add_parser("list", help="every posting the import has seen")
    ls.add_argument("--state", help="only this state (done, review, failed, ignored, pending, in_flight)")
    sub.add_parser("review", help="the postings waiting for a person, with the reason")
    im = sub.add_parser("import", help="import the staged supplier postings")
    im.add_argument("--since", type=date.fromisoformat, metavar="YYYY-MM-DD", help="only postings dated from then")
    im.add_argument("--dry-run", action="store_true", help="list what would happen, write nothing")
    cli_common.add_review_commands(sub, export_help="write the review list (.xlsx)",
                                   dry_run_help="check the file and list what would happen")
    return cli_common.options_anywhere(p)


def _money(value) -> str:
    return "" if value is None else f"{value:,.2f}"


def _print_rows(rows: list[dict], *, with_reason: bool) -> None:
    print(f"{'Posting':<14} {'Date':<10} {'Account':<8} {'Amount incl. VAT':>17} {'Cur':<4} {'State':<9} "
          f"{'Type':<20} {'Project':<12} TimeLog expense")
    for r in rows:
        print(f"{r['posting_key']:<14} {r['date'] or '':<10} {r['account'] or '':<8} "
              f"{_money(r['amount_incl_vat']):>17} {r['currency'] or r['posting_currency'] or '':<4} "
              f"{r['state']:<9} {(r['expense_type'] or '')[:20]:<20} {(r['project'] or '')[:12]:<12} "
              f"{r['timelog_expense_id'] or ''}")
        if with_reason and r["reason"]:
            print(f"    {r['reason']}")


def _report(result: RunResult, le: LegalEntitySettings, dry_run: bool) -> int:
    for line in result.lines:
        print(line)
    print(f"{le.label}: {summarise(result.counts)}" + (" (dry run: nothing written)" if dry_run else ""))
    return 1 if result.counts["failed"] else 0


@cli_common.setup_errors_exit_2()
def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    le, engine = cli_common.entity_and_staging(args)
    if args.command == "list":
        rows = imported_expenses(engine, le.legal_entity_id, states=[args.state] if args.state else None)
        _print_rows(rows, with_reason=False)
        print(f"{len(rows)} posting(s) ({le.label})")
        return 0
    if args.command == "review":
        rows = waiting(engine, le.legal_entity_id)
        _print_rows(rows, with_reason=True)
        print(f"{len(rows)} posting(s) waiting for review ({le.label}); decide them with 'export' and "
              f"'import-decisions'")
        return 0
    if args.command == "export":
        rows = waiting(engine, le.legal_entity_id)
        path = export_review(rows, args.out)
        print(f"wrote {path} ({len(rows)} posting(s) waiting); fill in the Decision column and run "
              f"'python -m tlsync.expenses import-decisions {path}'")
        return 0
    if not le.expense_gl_accounts:
        print(f"{le.label}: no expense GL accounts are configured (rule S6: expense_gl_accounts); nothing to import",
              file=sys.stderr)
        return 2
    from tlsync import connections

    rest = connections.timelog_rest_client(
        connections.connection_fields(args.timelog_conn or le.timelog_connection_id, airflow=True))
    actor = os.environ.get("USER") or "cli"
    with rest:
        imp = ExpenseImport(engine, le, rest, ledger=Ledger(engine, run_id=f"cli-{args.command}", actor=actor))
        if args.command == "import":
            return _report(imp.run(since=args.since, dry_run=args.dry_run), le, args.dry_run)
        keys = {e.source_key for e in imp.ledger.entries("expense", le.legal_entity_id, states=WAITING)}
        try:
            decisions = read_decisions(args.path, keys, imp.ref)
        except DecisionFileError as exc:
            print(str(exc))
            return 1
        result = apply_decisions(imp, decisions, actor=actor, dry_run=args.dry_run)
        waits = sum(1 for d in decisions if d.action == "wait")
        print(f"{args.path}: {len(decisions)} row(s) read, {waits} left waiting")
        return _report(result, le, args.dry_run)
