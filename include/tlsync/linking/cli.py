"""``python -m tlsync.linking`` — the customer-linking review for administrators (rules L1–L6, S8).

    status      [--legal-entity N]          debtors per view and whether invoices may be transferred (S8)
    show        --legal-entity N --view one|several|none|ignored [--page P] [--format text|json|html] [--out F]
                                            one view, 200 debtors a page: Uniconta left, TimeLog right, reasons
    apply link      --legal-entity N --debtor D --customer C --wins timelog|uniconta
    apply import    --legal-entity N --debtor D      create the debtor as a new TimeLog customer and link it
    apply ignore    --legal-entity N --debtor D
    apply unignore  --legal-entity N --debtor D
    accept-one  --legal-entity N --wins timelog|uniconta [--page P]
                                            link every row of a One-suggestion page to its suggestion
    export      --legal-entity N --out FILE.xlsx       the four views with a decision column
    import-decisions FILE.xlsx --legal-entity N [--dry-run]
                                            validate the whole file; apply it only when every row is valid
    next-number --legal-entity N            the next customer number free in both systems (rule L6)
    refresh     [--legal-entity N]          recompute the suggestions from staging

Settings (legal entity → Uniconta company, Connection ids) come from ``--settings`` / ``TLSYNC_SETTINGS``; the
staging database from ``--db`` / ``TLSYNC_STAGING_URL``; the write actions use the Airflow Connections named in
the settings, read from ``AIRFLOW_CONN_<ID>`` (Airflow's JSON form). After each batch of actions the suggestions
are recomputed (rule L5). Exit codes: 0 done, 1 refused (each problem printed; a refused file applies nothing),
2 usage or setup error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tlsync import cli_common
from tlsync.cli_common import SetupError
from tlsync.clients.errors import SyncAPIError
from tlsync.ledger import LedgerConflict

from .actions import Linker
from .decisions import Decision, LinkError, Outcome
from .excel import DecisionFileError, export_views, read_decisions
from .gate import VIEW_LABELS, transfer_blockers, view_counts
from .numbers import number_advice
from .review import render_html, render_json, render_text, view_page
from .targets import Targets


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tlsync.linking",
                                description=__doc__.split("\n\n")[0].replace("``", ""),
                                epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--staging-url", "--db", dest="db", help="staging database URL (default: $TLSYNC_STAGING_URL)")
    p.add_argument("--settings", "--file", dest="settings", type=Path,
                   help="settings file (default: $TLSYNC_SETTINGS or config/integration.yaml)")
    p.add_argument("--actor", default=None, help="who acts, recorded in the ledger (default: $USER)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def le(sp: argparse.ArgumentParser, required: bool = True) -> None:
        sp.add_argument("--legal-entity", type=int, required=required, metavar="N", help="TimeLog legal entity id")

    s = sub.add_parser("status", help="debtors per view and whether the S8 gate is open")
    le(s, required=False)
    s = sub.add_parser("show", help="show one view, 200 debtors a page")
    le(s)
    s.add_argument("--view", required=True, choices=("one", "several", "none", "ignored"))
    s.add_argument("--page", type=int, default=1)
    s.add_argument("--format", choices=("text", "json", "html"), default="text")
    s.add_argument("--out", type=Path, help="write to this file instead of the terminal")
    a = sub.add_parser("apply", help="apply one action to one debtor (rule L3)")
    asub = a.add_subparsers(dest="action", required=True, metavar="ACTION")
    s = asub.add_parser("link", help="link the debtor to a TimeLog customer")
    le(s)
    s.add_argument("--debtor", required=True, help="Uniconta debtor account")
    s.add_argument("--customer", required=True, help="TimeLog customer id")
    s.add_argument("--wins", required=True, choices=("timelog", "uniconta"),
                   help="whose non-empty fields overwrite the other's")
    for name, text in (("import", "create the debtor as a new TimeLog customer and link it"),
                       ("ignore", "move the debtor to Ignored"), ("unignore", "bring an ignored debtor back")):
        s = asub.add_parser(name, help=text)
        le(s)
        s.add_argument("--debtor", required=True, help="Uniconta debtor account")
    s = sub.add_parser("accept-one", help="link every row of a One-suggestion page to its suggestion")
    le(s)
    s.add_argument("--wins", required=True, choices=("timelog", "uniconta"))
    s.add_argument("--page", type=int, default=1)
    s = sub.add_parser("export", help="write the views to an Excel file with a decision column")
    le(s)
    s.add_argument("--out", type=Path, required=True)
    s = sub.add_parser("import-decisions", help="validate and apply a filled-in Excel file")
    s.add_argument("file", type=Path)
    le(s)
    s.add_argument("--dry-run", action="store_true", help="validate only; apply nothing")
    s = sub.add_parser("next-number", help="next customer number free in both systems (rule L6)")
    le(s)
    s = sub.add_parser("refresh", help="recompute the suggestions from staging")
    le(s, required=False)
    return cli_common.options_anywhere(p)


class _Context:
    def __init__(self, args: argparse.Namespace) -> None:
        self.settings = cli_common.load_settings(args.settings)
        self.engine = cli_common.staging(args.db)
        import getpass

        self.actor = args.actor or getpass.getuser()

    def entity(self, legal_entity_id: int):
        le = cli_common.choose_entity(self.settings, legal_entity_id)
        if le.uniconta_company_id is None:
            raise SetupError(f"{le.label}: no Uniconta company chosen yet (rule S1); set it with "
                             f"`python -m tlsync.settings`")
        return le

    def entities(self, legal_entity_id: int | None):
        if legal_entity_id is not None:
            return [self.entity(legal_entity_id)]
        return [le for le in self.settings.legal_entities.values() if le.uniconta_company_id is not None]

    def linker(self, le) -> Linker:
        targets = Targets(le.timelog_connection_id, le.uniconta_connection_id, le.uniconta_company_id)
        return Linker(self.engine, le.legal_entity_id, le.uniconta_company_id, targets=targets, actor=self.actor)


def _print_outcomes(outcomes: list[Outcome]) -> int:
    """Print one line per action and a total; returns the exit code (1 when any action was refused)."""
    for o in outcomes:
        print(("✘ " if o.error else "✔ " if o.changed else "· ") + o.message)
    changed = sum(o.changed for o in outcomes)
    refused = sum(1 for o in outcomes if o.error)
    print(f"{changed} action(s) applied, {len(outcomes) - changed - refused} already in place"
          + (f", {refused} refused." if refused else "."))
    return 1 if refused else 0


def _print_counts(ctx: _Context, le) -> None:
    c = view_counts(ctx.engine, le.uniconta_company_id)
    print(f"{le.label}: One suggestion {c['one']}, Several {c['several']}, No suggestion {c['none']}, "
          f"Ignored {c['ignored']}, linked {c['linked']}" + (f", not matched yet {c['unmatched']}"
                                                              if c["unmatched"] else ""))


def _run(args: argparse.Namespace) -> int:
    ctx = _Context(args)
    cmd = args.command
    if cmd == "status":
        for le in ctx.entities(args.legal_entity):
            _print_counts(ctx, le)
            blockers = transfer_blockers(le, ctx.engine)
            if blockers:
                print("  invoice transfer: CLOSED (rule S8)")
                for b in blockers:
                    print(f"    - {b}")
            else:
                print("  invoice transfer: OPEN (rule S8)")
        return 0
    if cmd == "refresh":
        for le in ctx.entities(args.legal_entity):
            ctx.linker(le).refresh()
            _print_counts(ctx, le)
        return 0
    le = ctx.entity(args.legal_entity)
    company = le.uniconta_company_id
    if cmd == "show":
        try:
            page = view_page(ctx.engine, le.legal_entity_id, company, args.view, args.page)
        except ValueError as exc:
            raise SetupError(str(exc)) from None
        text = {"text": render_text, "json": render_json, "html": render_html}[args.format](page)
        if args.out:
            args.out.write_text(text + "\n", encoding="utf-8")
            print(f"{VIEW_LABELS[args.view]}: page {page.page} of {page.pages} written to {args.out}")
        else:
            print(text)
        return 0
    if cmd == "next-number":
        for line in number_advice(ctx.engine, company, le.legal_entity_id).lines():
            print(line)
        return 0
    if cmd == "export":
        counts = export_views(ctx.engine, le.legal_entity_id, company, args.out)
        print(f"{args.out}: " + ", ".join(f"{VIEW_LABELS[v]} {n} row(s)" for v, n in counts.items()))
        return 0
    linker = ctx.linker(le)
    outcomes: list[Outcome] = []
    try:
        if cmd == "apply":
            if args.action == "link":
                decision = Decision(f"link-{args.wins}", args.debtor, args.customer)
            else:
                decision = Decision(args.action, args.debtor)
            outcomes = linker.apply_all([decision])
        elif cmd == "accept-one":
            page = view_page(ctx.engine, le.legal_entity_id, company, "one", args.page)
            decisions = [Decision(f"link-{args.wins}", r.debtor_account, r.best.customer_id)
                         for r in page.rows if r.best]
            if not decisions:
                print("The One suggestion view is empty; nothing to accept.")
                return 0
            outcomes = linker.apply_all(decisions)
        elif cmd == "import-decisions":
            found = read_decisions(ctx.engine, args.file, le.legal_entity_id, company)
            if found.problems:
                raise DecisionFileError(str(args.file), found.problems)
            if args.dry_run:
                print(f"{args.file}: {found.rows_read} row(s) read, {len(found.decisions)} decision(s), no problems "
                      f"(dry run: nothing applied)")
                return 0
            if not found.decisions:
                print(f"{args.file}: no decisions filled in; nothing to apply")
                return 0
            outcomes = linker.apply_all(found.decisions)
    finally:
        if linker.targets is not None:
            linker.targets.close()
    code = _print_outcomes(outcomes)
    _print_counts(ctx, le)
    if any(o.changed and o.decision.action == "import" for o in outcomes):
        for line in number_advice(ctx.engine, company, le.legal_entity_id).lines():   # rule L6, after importing
            print(line)
    return code


@cli_common.setup_errors_exit_2(prefix="error: ")
def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except DecisionFileError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except (LinkError, LedgerConflict, SyncAPIError) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
