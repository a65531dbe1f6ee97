"""Benchmark: a full invoice backfill (rule T2) on generated data — lines/s, peak RSS, Uniconta calls per invoice.

    .venv/bin/python bench/invoice_backfill.py --size M            # ~27k invoices, ~100k lines, 3 years
    .venv/bin/python bench/invoice_backfill.py --size L            # >1M lines, 5 years (long: generation + transfer)
    .venv/bin/python bench/invoice_backfill.py --size M --db postgresql+psycopg2://postgres@127.0.0.1:5432/bench

How it is measured, and why:

1. **Prepare** (not timed): the generator writes the fixture (``write_fixture``, streamed); the records are staged
   **straight from the fixture** into the staging tables with the product's own loader — exactly the payloads the
   nightly sync would stage, without hours of API extraction that this benchmark is not about. Customer linking
   is finished the way an administrator would (debtors whose account is a TimeLog customer number are linked,
   the rest ignored) and legal entity 1's settings are activated (S8).
2. **Simulators** run as **separate processes** loaded with the same fixture, so the peak RSS reported is the
   transfer's own, not the simulators' (which hold every record in memory).
3. **Transfer** runs in a fresh child process: ``backfill`` month by month over the whole history of legal
   entity 1, with the write-back to TimeLog — the real path end to end. It prints invoices, lines, seconds,
   lines/s, peak RSS (``ru_maxrss``) and Uniconta calls (client counter) per transferred invoice.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "include"), str(ROOT)]

TL_ENTITIES = {"LegalEntities": "legal_entities", "Employees": "employees", "Contacts": "contacts",
               "ProjectTypes": "project_types", "ProjectCategories": "project_categories", "Tasks": "tasks",
               "TaskTypes": "task_types", "HourlyRates": "hourly_rates", "Products": "products",
               "ExpenseTypes": "expense_types", "Customers": "customers", "Projects": "projects",
               "Expenses": "expenses", "Mileages": "mileage"}
UC_NEEDED = ("DebtorClient", "DebtorGroupClient", "PaymentTermClient", "DebtorLayoutGroupClient", "GLVatClient",
             "EmployeeClient", "InvItemClient", "ProjectGroupClient", "ProjectClient", "PrCategoryClient",
             "GLAccountClient")   # the master data the transfer reads; history classes are not needed here
PER_LE = {"Invoices": "invoices", "InvoiceLines": "invoice_lines", "InvoiceLineDetails": "invoice_line_details"}


def stage_fixture(doc: dict, engine) -> None:
    """Stage a fixture's records as the nightly sync would (site-wide, per legal entity, per company)."""
    from tlsync.staging import entities
    from tlsync.staging.loader import StagingLoader
    from tlsync.staging.tables import create_all

    create_all(engine)
    loader = StagingLoader(engine)
    tl, run = doc["timelog"], "bench"
    site = tl["auth"]["SiteCode"]
    for key, name in TL_ENTITIES.items():
        loader.load(entities.get(f"timelog.{name}"), site, run, tl.get(key, []))
    le_of = {}
    for inv in tl["Invoices"]:
        le_of[inv["ID"]] = inv["LegalEntityID"]
    for le in {inv["LegalEntityID"] for inv in tl["Invoices"]}:
        tenant = f"{site}:{le}"
        loader.load(entities.get("timelog.invoices"), tenant, run,
                    (i for i in tl["Invoices"] if i["LegalEntityID"] == le))
        for key in ("InvoiceLines", "InvoiceLineDetails"):
            loader.load(entities.get(f"timelog.{PER_LE[key]}"), tenant, run,
                        (r for r in tl[key] if le_of.get(r["InvoiceID"]) == le))
    by_source = {s.source: s for s in entities.ENTITIES if s.system == "uniconta"}
    for company in doc["uniconta"]["companies"]:
        cid = str(company["CompanyId"])
        loader.load(by_source["CompanyClient"], cid, run,
                    [{k: v for k, v in company.items() if not isinstance(v, list)}])
        for cls, spec in by_source.items():
            if cls in UC_NEEDED and isinstance(company.get(cls), list):
                loader.load(spec, cid, run, company[cls])


def link_all(engine, le_id: int, company: int) -> None:
    """Customer linking finished as an administrator would (L2 views empty): debtors whose account is a TimeLog
    customer number are linked to it, every other debtor is ignored."""
    from datetime import datetime

    from sqlalchemy import insert, select

    from tlsync.staging.tables import STAGING, customer_links

    customers, debtors = STAGING["timelog.customers"], STAGING["uniconta.debtors"]
    with engine.begin() as conn:
        by_no = {str(json.loads(p).get("No")): k for k, p in conn.execute(
            select(customers.c.natural_key, customers.c.payload))}
        for acc in conn.execute(select(debtors.c.natural_key).where(debtors.c.tenant == str(company))).scalars():
            cid = by_no.get(acc)
            conn.execute(insert(customer_links).values(
                legal_entity_id=le_id, debtor_account=acc, company_id=str(company), customer_id=cid,
                state="linked" if cid else "ignored", action="timelog_wins" if cid else "ignored", run_id="bench",
                actor="bench", updated_at=datetime.now().replace(microsecond=0)))


def settings_le1():
    from tlsync.settings.models import LegalEntitySettings

    return LegalEntitySettings.model_validate({
        "legal_entity_id": 1, "uniconta_company_id": 10001, "customer_master": "automatic",   # S3b: first invoice creates the debtor
        "debtor_defaults": {"debtor_group": "DK", "payment_terms": "N30", "layout_group": "Standard"},
        "invoice_project_category": "FAKT", "project_group": "KUNDE",
        # I1-I4 defaults an administrator would set: lines without an item get these, lines with one keep theirs
        "item_numbers": {"time": {"mode": "specific_item", "item": "KONS-JR"},
                         "fixed_price": {"mode": "specific_item", "item": "FAST"},
                         "expenses": {"mode": "specific_item", "item": "UDL"},
                         "mileage": {"mode": "specific_item", "item": "KM"}},
        "activation": {"configuration_complete": True, "customers_linked": True, "item_numbers_imported": True,
                       "confirmed_by": "bench", "confirmed_at": "2026-11-01T10:00:00"}})


def prepare(size: str, seed: int, workdir: Path, db: str) -> Path:
    from sqlalchemy import create_engine

    from simulators.generator import load_fixture, write_fixture

    path = workdir / f"fixture_{size}.json"
    t0 = time.perf_counter()
    write_fixture(path, size=size, seed=seed)
    print(f"generated {size} fixture in {time.perf_counter() - t0:.0f} s ({path.stat().st_size / 1e6:.0f} MB)",
          flush=True)
    t0 = time.perf_counter()
    doc = load_fixture(path)
    engine = create_engine(db)
    stage_fixture(doc, engine)
    del doc
    link_all(engine, 1, 10001)
    engine.dispose()
    print(f"staged straight from the fixture in {time.perf_counter() - t0:.0f} s", flush=True)
    return path


def serve(module: str, port: int, fixture: Path, *extra: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", module, "--port", str(port), "--fixture", str(fixture), *extra],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import httpx

    for _ in range(600):
        try:
            httpx.get(f"http://127.0.0.1:{port}/_sim/counters", timeout=2)
            return proc
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit(f"simulator {module} did not start")


def _peak_rss_mb() -> int:
    """Peak RSS of this process since it started (``VmHWM``; ``ru_maxrss`` would include the parent's peak,
    which is inherited across fork/exec — the parent held the whole fixture)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def transfer_phase(db: str, tl_port: int, uc_port: int) -> dict:
    """The measured part (runs in its own process)."""
    from datetime import date

    from sqlalchemy import create_engine

    from tlsync import connections
    from tlsync.invoicing.backfill import backfill
    from tlsync.invoicing.source import invoice_tenant, staged_period
    from tlsync.ledger import Ledger

    engine = create_engine(db)
    le = settings_le1()
    tl_fields = {"conn_id": "timelog_default", "host": f"http://127.0.0.1:{tl_port}/tlsim", "login": "integration",
                 "password": "integration-pw",
                 "extra": {"reporting_site_code": "SIMSITE", "reporting_api_id": "apiuser",
                           "reporting_api_password": "apipass", "rest_token": "sim-pat-token"}}
    uc_fields = {"conn_id": "uniconta_default", "host": f"http://127.0.0.1:{uc_port}", "login": "integration",
                 "password": "uniconta-pw", "extra": {"daily_call_budget": 75000}}
    os.environ["TLSYNC_UNICONTA_DAILY_CALLS"] = "75000"
    start, end = staged_period(engine, invoice_tenant(engine, 1))
    trace = os.environ.get("TLSYNC_BENCH_TRACE") == "1"
    if trace:
        import tracemalloc

        tracemalloc.start(8)
    t0 = time.perf_counter()
    with connections.timelog_source(**tl_fields) as tl, \
            connections.uniconta_client(company_id=10001, **uc_fields) as uc:
        real_wb, wb_time = tl.transactional.update_external_data, [0.0]

        def timed_wb(*a, **kw):              # bench-only: how much of the wall time is TimeLog's write-back
            t = time.perf_counter()
            try:
                return real_wb(*a, **kw)
            finally:
                wb_time[0] += time.perf_counter() - t

        tl.transactional.update_external_data = timed_wb
        res = backfill(engine, le, uc, tl.transactional, ledger=Ledger(engine, run_id="bench"),
                       start=date(start.year, start.month, 1), end=end)
    seconds = time.perf_counter() - t0
    if trace:
        snap = tracemalloc.take_snapshot()
        _, peak = tracemalloc.get_traced_memory()
        print(f"tracemalloc peak {peak / 1e6:.0f} MB; largest live allocations:", file=sys.stderr)
        for stat in snap.statistics("traceback")[:6]:
            print(f"  {stat.size / 1e6:.1f} MB", *stat.traceback.format()[-6:], sep="\n    ", file=sys.stderr)
    return {"invoices_transferred": res["transferred"], "failed": res["failed"], "elsewhere": res["elsewhere"],
            "ignored": res["ignored"], "lines": res["lines"], "months": res["months"], "seconds": round(seconds, 1),
            "lines_per_s": round(res["lines"] / seconds), "uniconta_calls": res["calls"],
            "calls_per_invoice": round(res["calls"] / max(1, res["transferred"]), 4),
            "peak_rss_mb": _peak_rss_mb(), "writeback_call_seconds": round(wb_time[0], 1),
            "stopped": res["stopped"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="M", type=str.upper, choices=("S", "M", "L"))
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--db", help="staging DB URL (default: a SQLite file in a temporary folder)")
    ap.add_argument("--pg", action="store_true",
                    help="stage in a throw-away PostgreSQL database on 127.0.0.1:5432 (user postgres), dropped after")
    ap.add_argument("--phase", choices=("all", "transfer"), default="all", help=argparse.SUPPRESS)
    ap.add_argument("--ports", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase == "transfer":
        tl_port, uc_port = (int(p) for p in args.ports.split(","))
        print(json.dumps(transfer_phase(args.db, tl_port, uc_port)))
        return

    pg_name = None
    if args.pg:
        import uuid

        from sqlalchemy import create_engine, text

        pg_name = f"tlsync_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine("postgresql+psycopg2://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{pg_name}"'))
        args.db = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{pg_name}"
    try:
        _run(args)
    finally:
        if pg_name:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))


def _run(args) -> None:
    from simulators._common import free_port

    with tempfile.TemporaryDirectory(prefix="tlsync-bench-") as tmp:
        work = Path(tmp)
        db = args.db or f"sqlite:///{work / 'staging.db'}"
        fixture = prepare(args.size, args.seed, work, db)
        tl_port, uc_port = free_port(), free_port()
        procs = [serve("simulators.timelog", tl_port, fixture),
                 serve("simulators.uniconta", uc_port, fixture, "--daily-quota", "75000")]
        try:
            out = subprocess.run([sys.executable, __file__, "--phase", "transfer", "--db", db,
                                  "--ports", f"{tl_port},{uc_port}", "--size", args.size],
                                 cwd=ROOT, capture_output=True, text=True)
            if out.returncode:
                raise SystemExit(out.stderr[-4000:])
            if os.environ.get("TLSYNC_BENCH_TRACE") == "1":
                print(out.stderr[-6000:])
            r = json.loads(out.stdout.strip().splitlines()[-1])
        finally:
            for p in procs:
                p.terminate()
                p.wait(timeout=30)
    print(f"invoice backfill, size {args.size}, legal entity 1, {r['months']} months, "
          f"{'SQLite' if db.startswith('sqlite') else 'PostgreSQL'} staging:")
    print(f"  transferred {r['invoices_transferred']:,} invoices/credit notes ({r['lines']:,} lines read); "
          f"elsewhere {r['elsewhere']:,}, ignored {r['ignored']:,}, failed {r['failed']:,}")
    print(f"  {r['seconds']} s  →  {r['lines_per_s']:,} lines/s  (TimeLog write-back calls, 8 in parallel: "
          f"{r['writeback_call_seconds']} s summed over threads)")
    print(f"  peak RSS of the transfer process: {r['peak_rss_mb']} MB")
    print(f"  Uniconta calls: {r['uniconta_calls']:,}  →  {r['calls_per_invoice']} per transferred invoice "
          f"(target ≤ 0.05)")
    if r["stopped"]:
        print(f"  stopped: {r['stopped']}")


if __name__ == "__main__":
    main()
