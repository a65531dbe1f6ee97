"""``python -m tlsync.invoicing`` — the invoice transfer page for administrators (rule T2).

    list      [--legal-entity N] [--state S …]       states of the invoices (pending, in_flight, done, failed, …)
    retry     --legal-entity N GUID …                 failed → pending (the next transfer sends them)
    ignore    --legal-entity N GUID …                 never transfer these (until un-ignored)
    unignore  --legal-entity N GUID …                 ignored → pending
    transfer  --legal-entity N [--from D --to D] [--dry-run] [--progress]
    backfill  --legal-entity N --from 2021-01 --to 2025-12 [--dry-run]   month by month, with a progress bar

Connections come from ``AIRFLOW_CONN_<ID>`` (the ids in the settings file, default ``timelog_default`` and
``uniconta_default``); settings from ``config/integration.yaml`` (``TLSYNC_SETTINGS``); the staging DB from
``--db`` / ``TLSYNC_STAGING_URL``. Exit codes: 0 done, 1 something failed/refused/stopped, 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from datetime import date
from typing import TextIO

from sqlalchemy import Engine

from tlsync import cli_common
from tlsync.clients.errors import SyncAPIError
from tlsync.ledger import FAILED, IGNORED, PENDING, Ledger, LedgerConflict

from .run import DOMAIN, TransferResult

SHOWN_STATES = ("pending", "in_flight", "done", "failed", "ignored", "elsewhere")
LABELS = {"done": "transferred", "elsewhere": "transferred elsewhere"}


def _parser() -> argparse.ArgumentParser:
    from tlsync.staging.engine import default_url as staging_url
    p = argparse.ArgumentParser(prog="python -m tlsync.invoicing",
                                description="Transfer booked TimeLog invoices and credit notes to Uniconta drafts "
                                            "(rule T2), list their states, retry or ignore them.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--staging-url", "--db", dest="db", default=None,
                        help=f"staging database URL (default: TLSYNC_STAGING_URL or {staging_url()})")
    common.add_argument("--settings", "--file", dest="settings", default=None,
                        help="settings file (default: $TLSYNC_SETTINGS or config/integration.yaml)")
    sub = p.add_subparsers(dest="command", required=True)

    def add(name: str, help: str) -> argparse.ArgumentParser:   # the common options after the command too
        return sub.add_parser(name, help=help, parents=[common])

    ls = add("list", help="list invoices and their transfer state")
    ls.add_argument("--legal-entity", type=int)
    ls.add_argument("--state", action="append", choices=SHOWN_STATES, help="only these states (repeatable)")
    for name, text in (("retry", "failed → pending: the next transfer sends them again"),
                       ("ignore", "never transfer these invoices (an administrator's choice)"),
                       ("unignore", "ignored → pending")):
        sp = add(name, help=text)
        sp.add_argument("--legal-entity", type=int, required=True)
        sp.add_argument("guids", nargs="+", metavar="INVOICE", help="TimeLog invoice GUIDs or invoice numbers")
    tr = add("transfer", help="transfer the legal entity's booked invoices now")
    tr.add_argument("--legal-entity", type=int, required=True)
    tr.add_argument("--from", dest="start", type=date.fromisoformat, help="first invoice date (YYYY-MM-DD)")
    tr.add_argument("--to", dest="end", type=date.fromisoformat, help="last invoice date (YYYY-MM-DD)")
    tr.add_argument("--dry-run", action="store_true", help="list the writes it would make; write nothing")
    tr.add_argument("--progress", action="store_true", help="show a progress bar")
    bf = add("backfill", help="transfer historical invoices month by month (idempotent)")
    bf.add_argument("--legal-entity", type=int, required=True)
    bf.add_argument("--from", dest="start", required=True, help="first month, YYYY-MM")
    bf.add_argument("--to", dest="end", required=True, help="last month, YYYY-MM")
    bf.add_argument("--dry-run", action="store_true", help="list the writes it would make; write nothing")
    return p


def cmd_list(engine: Engine, args: argparse.Namespace, out: TextIO) -> int:
    ledger = Ledger(engine)
    entries = ledger.entries(DOMAIN, args.legal_entity, states=args.state)
    out.write(f"{'legal entity':>12}  {'invoice':<12} {'kind':<11} {'date':<10} {'total':>14} {'state':<22} "
              f"{'Uniconta':<9} reason / GUID\n")
    for e in sorted(entries, key=lambda e: (e.legal_entity_id, str(e.details.get("date")), e.source_key)):
        d = e.details
        out.write(f"{e.legal_entity_id:>12}  {str(d.get('invoice_no') or ''):<12} "
                  f"{str(d.get('kind') or '').replace('_', ' '):<11} {str(d.get('date') or ''):<10} "
                  f"{str(d.get('total') or ''):>14} {LABELS.get(e.state, e.state):<22} {e.target_key or '':<9} "
                  f"{e.reason or ''}{'  ' if e.reason else ''}{e.source_key}\n")
    counts = ledger.counts(DOMAIN, args.legal_entity)
    out.write("total: " + ", ".join(f"{LABELS.get(k, k)} {v}" for k, v in sorted(counts.items())) + "\n")
    if args.legal_entity is not None and not args.state:
        booked = _count_booked(engine, args.legal_entity, None, None) or 0
        unseen = max(0, booked - sum(counts.values()))
        if unseen:
            out.write(f"not attempted yet (pending, not listed above): {unseen} booked invoice(s)\n")
    return 0


def cmd_move(engine: Engine, args: argparse.Namespace, out: TextIO) -> int:
    ledger = Ledger(engine, actor="cli")
    moves = {"retry": ((FAILED,), PENDING, "retry", None),
             "ignore": ((None, PENDING, FAILED), IGNORED, "ignore", "ignored by an administrator"),
             "unignore": ((IGNORED,), PENDING, "unignore", None)}
    expect, state, action, reason = moves[args.command]
    entries = ledger.entries(DOMAIN, args.legal_entity)
    by_key = {e.source_key for e in entries}
    by_number: dict[str, list[str]] = {}
    for e in entries:
        by_number.setdefault(str(e.details.get("invoice_no") or ""), []).append(e.source_key)
    bad = 0
    for given in args.guids:
        key = given.strip()
        if key not in by_key and key.lower() in by_key:          # GUIDs are kept in lower case
            key = key.lower()
        if key not in by_key and len(by_number.get(key, [])) == 1:   # an invoice number: its one ledger entry
            key = by_number[key][0]
        elif key not in by_key and len(by_number.get(key, [])) > 1:
            bad += 1
            out.write(f"{given}: not changed — invoice number {given} names {len(by_number[key])} invoices in "
                      f"legal entity {args.legal_entity}; give the GUID: {', '.join(sorted(by_number[key]))}\n")
            continue
        try:
            ledger.transition(DOMAIN, args.legal_entity, key, state, action=action, reason=reason, expect=expect)
            out.write(f"{key}: {LABELS.get(state, state)}\n")
        except LedgerConflict as exc:
            bad += 1
            out.write(f"{key}: not changed — {exc}\n")
    return 1 if bad else 0


class _Bar:
    """A tqdm progress bar on stderr (invoices handled)."""

    def __init__(self, enabled: bool, total: int | None, desc: str) -> None:
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="invoice", desc=desc, file=sys.stderr)

    def __call__(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _count_booked(engine: Engine, le_id: int, start: date | None, end: date | None) -> int | None:
    from datetime import datetime, timedelta

    from sqlalchemy import func, select

    from .source import BOOKED, INVOICES, TRANSFERRED_TYPES, invoice_tenant

    tenant = invoice_tenant(engine, le_id)
    if tenant is None:
        return None
    q = select(func.count()).select_from(INVOICES).where(INVOICES.c.tenant == tenant,
                                                          INVOICES.c.status.in_(BOOKED),
                                                          INVOICES.c.type.in_(TRANSFERRED_TYPES))
    if start:
        q = q.where(INVOICES.c.invoice_date >= datetime.combine(start, datetime.min.time()))
    if end:
        q = q.where(INVOICES.c.invoice_date < datetime.combine(end + timedelta(days=1), datetime.min.time()))
    with engine.connect() as conn:
        return int(conn.execute(q).scalar() or 0)


def report(res: TransferResult, out: TextIO, *, dry_run: bool) -> int:
    for line in res.get("refused") or []:
        out.write(f"refused: {line}\n")
    if res.get("refused"):
        return 1
    if dry_run:
        for w in res.get("planned", []):
            out.write("would " + ", ".join(f"{k}={v}" for k, v in w.items()) + "\n")
    for why in (res.get("failures") or {}).values():
        out.write(f"failed: {why}\n")
    for msg in res.get("messages") or []:
        out.write(f"note: {msg}\n")
    verb = "would transfer" if dry_run else "transferred"
    out.write(f"{verb} {res['transferred']}, failed {res['failed']}, pending {res['pending']}, "
              f"transferred elsewhere {res['elsewhere']}, ignored {res['ignored']}, unchanged {res['unchanged']}; "
              f"Uniconta calls {res['calls']}"
              + (f" ({res['calls'] / res['transferred']:.3f} per transferred invoice)" if res['transferred'] else "")
              + "\n")
    if res.get("stopped"):
        out.write(f"stopped: {res['stopped']}\n")
    return 1 if (res["failed"] or res.get("stopped")) else 0


def cmd_transfer(engine: Engine, args: argparse.Namespace, out: TextIO) -> int:
    from .backfill import backfill, month_range
    from .transfer import transfer_invoices

    le = cli_common.legal_entity(args.settings, args.legal_entity)
    with ExitStack() as stack:
        uc, tx = cli_common.write_clients(le, stack)
        ledger = Ledger(engine, run_id=f"cli_{args.command}", actor="cli")
        if args.command == "backfill":
            start, end = month_range(args.start, args.end)
            bar = _Bar(True, _count_booked(engine, le.legal_entity_id, start, end), "backfill")
            try:
                res = backfill(engine, le, uc, tx, ledger=ledger, start=start, end=end, dry_run=args.dry_run,
                               progress=bar)
            finally:
                bar.close()
        else:
            period = None
            if args.start or args.end:
                period = (args.start or date(2000, 1, 1), args.end or date.today())
            bar = _Bar(args.progress, _count_booked(engine, le.legal_entity_id, args.start, args.end), "transfer")
            try:
                res = transfer_invoices(engine, le, uc, tx, ledger=ledger, period=period, dry_run=args.dry_run,
                                        progress=bar)
            finally:
                bar.close()
    return report(res, out, dry_run=args.dry_run)


@cli_common.setup_errors_exit_2()
def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) and 2
    engine = cli_common.staging(args.db)
    if args.legal_entity is not None:      # a legal entity the settings do not have is a mistake, not an empty list
        cli_common.legal_entity(args.settings, args.legal_entity)
    try:
        if args.command == "list":
            return cmd_list(engine, args, out)
        if args.command in ("retry", "ignore", "unignore"):
            return cmd_move(engine, args, out)
        return cmd_transfer(engine, args, out)
    except SystemExit as exc:
        if isinstance(exc.code, str):
            out.write(f"error: {exc.code}\n")
            return 1
        raise
    except SyncAPIError as exc:        # a give-up after the client's retries: one line, no traceback
        print(cli_common.give_up_line(exc), file=sys.stderr)
        return cli_common.EXIT_GAVE_UP
