"""``python -m tlsync.reconcile``: reconcile one legal entity for a period and write the finance report.

Exit codes: 0 the report was written (differences are findings, not failures); 1 it could not be produced (no
Uniconta company for the legal entity, unreadable database, …) — the message says what to fix; 2 bad arguments.
The report for people is Danish unless ``--language en`` (or ``TLSYNC_REPORT_LANGUAGE=en``) says otherwise.
"""

from __future__ import annotations

import argparse
import calendar
import os
import sys
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

DESCRIPTION = """\
Reconcile TimeLog's booked invoices and credit notes with Uniconta's drafts and posted invoices for one legal
entity and period (rule U3), and write the finance report: an HTML page (opens offline), a PDF, an Excel workbook
and CSV files. Reads the staging database only (run the nightly sync first); spends no API calls.
"""

EPILOG = """\
examples:
  python -m tlsync.reconcile --legal-entity 1 --from 2026-01-01 --to 2026-03-31 --out out/reports
  python -m tlsync.reconcile --legal-entity 2 --month 2026-10          # one calendar month
  python -m tlsync.reconcile --legal-entity 1                          # the last closed month

The Uniconta company comes from the integration settings (python -m tlsync.settings) or the Airflow Variable
tlsync_entity_pairs (env AIRFLOW_VAR_TLSYNC_ENTITY_PAIRS); --company overrides it. How to read the report:
docs/reconciliation.md.
"""


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _month(value: str) -> tuple[date, date]:
    try:
        y, m = (int(x) for x in value.split("-"))
        return date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1])
    except (ValueError, TypeError):
        raise argparse.ArgumentTypeError(f"{value!r} is not a month (YYYY-MM)") from None


def _tolerance(value: str) -> Decimal:
    try:
        d = Decimal(value)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{value!r} is not an amount") from None
    if d < 0:
        raise argparse.ArgumentTypeError("the tolerance cannot be negative")
    return d


def last_closed_month(today: date | None = None) -> tuple[date, date]:
    """The calendar month before the current one — the period a monthly close reconciles."""
    first = (today or date.today()).replace(day=1)
    end = first - timedelta(days=1)
    return end.replace(day=1), end


def company_for(legal_entity_id: int) -> int:
    """The legal entity's Uniconta company (rule S2) from the settings file or the Variable."""
    from tlsync.nightly import pipeline
    pairs = pipeline.entity_pairs(os.environ.get("AIRFLOW_VAR_TLSYNC_ENTITY_PAIRS"))
    for p in pairs:
        if p["legal_entity_id"] == int(legal_entity_id):
            return int(p["company_id"])
    raise ValueError(f"legal entity {legal_entity_id} has no Uniconta company in the entity pairs "
                     f"({', '.join(str(p['legal_entity_id']) for p in pairs)} have one); pass --company (rule S2)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tlsync.reconcile", description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--legal-entity", type=int, required=True, help="TimeLog legal entity id")
    p.add_argument("--company", type=int, help="Uniconta company id (default: from the entity pairs, rule S2)")
    p.add_argument("--from", dest="start", type=_date, help="first invoice date (YYYY-MM-DD)")
    p.add_argument("--to", dest="end", type=_date, help="last invoice date, inclusive (YYYY-MM-DD)")
    p.add_argument("--month", type=_month, help="a calendar month YYYY-MM instead of --from/--to")
    p.add_argument("--out", type=Path, default=None,
                   help="folder for the report files (default: <TLSYNC_OUT_DIR>/reports)")
    p.add_argument("--tolerance", type=_tolerance, default=Decimal("0.01"),
                   help="largest difference still counted as equal, in the invoice currency (default 0.01)")
    p.add_argument("--as-of", type=_date, default=None, help="date the ageing is computed at (default today)")
    p.add_argument("--language", choices=("da", "en"), default=None,
                   help="language of the report for people (default: TLSYNC_REPORT_LANGUAGE, else da — Danish); "
                        "the machine CSV files are the same in both")
    p.add_argument("--staging-url", default=None,
                   help="staging database URL (default: TLSYNC_STAGING_URL, "
                        "else SQLite at <TLSYNC_OUT_DIR>/staging.db)")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.month and (args.start or args.end):
        parser.error("give either --month or --from/--to, not both")
    if args.month:
        start, end = args.month
    elif args.start or args.end:
        if not (args.start and args.end):
            parser.error("--from and --to go together")
        start, end = args.start, args.end
        if end < start:
            parser.error(f"--to {end} is before --from {start}")
    else:
        start, end = last_closed_month()

    from tlsync import config
    from tlsync.reconcile import reconcile
    from tlsync.reconcile.report import format_headline, write_report
    from tlsync.staging.engine import default_url, staging_engine
    from tlsync.staging.migrate import StagingSchemaError, require_current
    try:
        company = args.company if args.company is not None else company_for(args.legal_entity)
        engine = staging_engine(args.staging_url or default_url())
        require_current(engine)
        recon = reconcile(engine, args.legal_entity, start, end, company_id=company, tolerance=args.tolerance,
                          as_of=args.as_of)
        files = write_report(recon, args.out or (config.out_dir() / "reports"), args.language)
    except StagingSchemaError as exc:   # a database nobody migrated: one line, exit 2
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(format_headline(recon, files))
    return 0
