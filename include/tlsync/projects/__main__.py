"""``python -m tlsync.projects transfer --legal-entity N [--dry-run]`` — rule T3 for one legal entity."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack

from tlsync import cli_common


@cli_common.setup_errors_exit_2()
def main(argv: list[str] | None = None, out=None) -> int:
    from tlsync.ledger import Ledger

    from .transfer import transfer_projects

    out = out or sys.stdout
    ap = argparse.ArgumentParser(prog="python -m tlsync.projects",
                                 description="Transfer TimeLog projects to the configured Uniconta project group "
                                             "(rules T3, S7); unchanged projects are not written again.")
    sub = ap.add_subparsers(dest="command", required=True)
    tr = sub.add_parser("transfer", help="create new and update changed projects of a legal entity")
    cli_common.add_setup_arguments(tr, timelog_conn=False)
    tr.add_argument("--dry-run", action="store_true", help="list the writes it would make; write nothing")
    try:
        args = ap.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) and 2
    le, engine = cli_common.entity_and_staging(args)
    from tlsync.ledger.lease import LeaseHeld

    with ExitStack() as stack:
        uc, _ = cli_common.write_clients(le, stack)
        try:
            res = transfer_projects(uc, engine, le, ledger=Ledger(engine, run_id="cli_projects", actor="cli"),
                                    dry_run=args.dry_run)
        except LeaseHeld as exc:       # another writer has the legal entity's projects now: nothing written
            out.write(f"stopped: {exc.message}\n")
            return 1
    for w in res.planned:
        out.write("would " + ", ".join(f"{k}={v}" for k, v in w.items()) + "\n")
    for msg in res.messages:
        out.write(f"note: {msg}\n")
    for why in res.failures.values():
        out.write(f"failed: {why}\n")
    c = res.counts()
    out.write(f"created {c['created']}, updated {c['updated']}, unchanged {c['unchanged']}, failed {c['failed']}\n")
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main())
