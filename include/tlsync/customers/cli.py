"""``python -m tlsync.customers`` — run the customer sync of one legal entity by hand (the nightly DAG runs the
same function after staging).

    sync --legal-entity N [--dry-run]   T1 + U1 + contacts for the entity's linked customers; --dry-run counts
                                        what would be written and writes nothing

Reads the settings file (``--file`` or ``$TLSYNC_SETTINGS``), the staging database (``--staging-url`` or
``$TLSYNC_STAGING_URL``; stage first with ``python -m tlsync.nightly.local``) and the two connections named in the
entity's settings from the environment, in Airflow's JSON form (``AIRFLOW_CONN_TIMELOG_DEFAULT``,
``AIRFLOW_CONN_UNICONTA_DEFAULT``). Exit code 0 = done, 1 = some customers could not be written (see the
ledger), 2 = usage or configuration error.
"""

from __future__ import annotations

import argparse

from tlsync import cli_common

LABELS = (
    ("linked", "linked customers"),
    ("debtors_updated", "Uniconta debtors updated from TimeLog (T1)"),
    ("customers_updated", "TimeLog customers updated from Uniconta (U1)"),
    ("conflicts", "customers changed on both sides (TimeLog won)"),
    ("unchanged", "customers unchanged"),
    ("not_staged", "links whose customer or debtor is not staged yet"),
    ("contacts_created", "Uniconta contacts created"),
    ("contacts_updated", "Uniconta contacts updated"),
    ("contacts_unchanged", "contacts unchanged"),
    ("failed", "refused by Uniconta or TimeLog (reasons in the ledger)"),
)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tlsync.customers", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    cli_common.add_setup_arguments(p, legal_entity=False, timelog_conn=False)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sync", help="synchronise the linked customers of one legal entity (rules T1, U1)")
    s.add_argument("--legal-entity", type=int, required=True, metavar="N", help="TimeLog legal entity id (rule S2)")
    s.add_argument("--dry-run", action="store_true", help="count what would be written; write nothing")
    return cli_common.options_anywhere(p)


@cli_common.setup_errors_exit_2(stdout=True)
def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from tlsync import connections
    from tlsync.ledger import Ledger

    from .nightly import sync_customers

    le = cli_common.legal_entity(args.file, args.legal_entity)
    if not le.uniconta_connection_id or le.uniconta_company_id is None:
        raise cli_common.SetupError(f"{le.label}: no Uniconta connection/company chosen (rule S1)")
    timelog = connections.connection_fields(le.timelog_connection_id)
    uniconta = connections.connection_fields(le.uniconta_connection_id)
    engine = cli_common.staging(args.staging_url)
    ledger = Ledger(engine, actor="tlsync.customers cli")
    with connections.uniconta_client(company_id=le.uniconta_company_id, **uniconta) as uc, \
            connections.timelog_source(**timelog) as tl:
        counts = sync_customers(engine, le, uc, tl.rest, ledger=ledger, dry_run=args.dry_run)
    title = f"Customer sync, {le.label}" + (" — dry run, nothing written" if args.dry_run else "")
    print(title)
    print("-" * len(title))
    width = max(len(label) for _, label in LABELS)
    for key, label in LABELS:
        print(f"{label:<{width}}  {counts.get(key, 0):>7,}")
    return 1 if counts.get("failed") else 0
