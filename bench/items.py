"""Default-item resolver benchmark (issue 6, rules I1–I5): resolved invoice lines per second and peak RSS.

    .venv/bin/python bench/items.py [--size S|M] [--lines 1000000] [--seed 42]

The generator's data (``--size``) is staged into a temporary SQLite staging database with the product's loader
(TimeLog reference data and the Uniconta items of company 10001), :meth:`ItemResolver.from_staging` reads it, and
the legal entity's invoice lines — with their line details attached, as the invoice transfer does — are resolved
over and over until ``--lines`` lines have been resolved, under three settings: no defaults (I5), time by task type
+ expenses by expense type (I1/I3), and time by hourly rate (the inferred dimension, the slowest path).
Prints one row per setting: lines, seconds, lines/s, blocked lines; then the peak RSS of the process.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "include"), str(ROOT)]

from simulators.generator import FIXED_TODAY, generate  # noqa: E402
from tlsync.items.reference import attach_details  # noqa: E402
from tlsync.items.resolver import ItemResolver  # noqa: E402
from tlsync.settings.models import LegalEntitySettings  # noqa: E402
from tlsync.staging.engine import create_staging_engine  # noqa: E402
from tlsync.staging.entities import get  # noqa: E402
from tlsync.staging.loader import StagingLoader  # noqa: E402
from tlsync.staging.migrate import upgrade  # noqa: E402

SITE = {"Projects": "projects", "ProjectTypes": "project_types", "ProjectCategories": "project_categories",
        "Tasks": "tasks", "TaskTypes": "task_types", "HourlyRates": "hourly_rates", "Expenses": "expenses",
        "ExpenseTypes": "expense_types"}

SETTINGS = {
    "no defaults (I5)": {},
    "task type + expense type (I1/I3)": {
        "time": {"mode": "by_dimension", "dimension": "task_type", "mapping": {"1": "KONS-SR", "3": "KONS-JR"}},
        "expenses": {"mode": "by_dimension", "mapping": {"7": "UDL"}}},
    "hourly rate (I1, inferred)": {
        "time": {"mode": "by_dimension", "dimension": "hourly_rate", "mapping": {"1": "KONS-SR", "2": "KONS-JR"}}},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="S", choices=("S", "M"))
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--lines", type=int, default=1_000_000)
    args = ap.parse_args()

    doc = generate(args.size, args.seed, today=FIXED_TODAY)   # the same data whatever the date
    tl, uc = doc["timelog"], next(c for c in doc["uniconta"]["companies"] if c["CompanyId"] == 10001)
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_staging_engine(f"sqlite:///{tmp}/staging.db")
        upgrade(engine)
        loader = StagingLoader(engine)
        for coll, name in SITE.items():
            loader.load(get(f"timelog.{name}"), "SIMSITE", "bench", tl.get(coll, []))
        loader.load(get("uniconta.items"), "10001", "bench", uc.get("InvItemClient", []))
        loader.load(get("uniconta.gl_accounts"), "10001", "bench", uc.get("GLAccountClient", []))
        invoices = {i["ID"]: i for i in tl["Invoices"] if i.get("LegalEntityID") == 1}
        lines = [dict(ln) for ln in tl["InvoiceLines"] if ln["InvoiceID"] in invoices]
        attach_details(lines, tl["InvoiceLineDetails"])
        print(f"size {args.size}: {len(lines)} invoice lines of legal entity 1, resolved {args.lines:,} times each "
              f"setting")
        print(f"{'setting':<36} {'lines':>10} {'seconds':>8} {'lines/s':>10} {'blocked':>8}")
        for label, defaults in SETTINGS.items():
            resolver = ItemResolver.from_staging(engine, LegalEntitySettings(
                legal_entity_id=1, uniconta_company_id=10001, item_numbers=defaults))
            done = blocked = 0
            start = time.perf_counter()
            while done < args.lines:
                for ln in lines:
                    if resolver.resolve(ln, invoices[ln["InvoiceID"]]).blocked:
                        blocked += 1
                    done += 1
                    if done >= args.lines:
                        break
            seconds = time.perf_counter() - start
            print(f"{label:<36} {done:>10,} {seconds:>8.2f} {done / seconds:>10,.0f} {blocked:>8,}")
        engine.dispose()
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
