"""Benchmark: a full invoice backfill (rule T2) on generated data — lines/s, peak RSS, Uniconta calls per invoice.

    .venv/bin/python bench/invoice_backfill.py --size M --pg       # ~27k invoices, ~100k lines, 3 years
    .venv/bin/python bench/invoice_backfill.py --size L --pg       # ~1.3M lines, 5 years (generation ~3 min)
    .venv/bin/python bench/invoice_backfill.py --size L --workdir /tmp/tlb --db postgresql+psycopg2://postgres@127.0.0.1:5432/x
    .venv/bin/python bench/invoice_backfill.py --size L --workdir /tmp/tlb --db ... --staged   # transfer only

How it is measured, and why:

1. **Prepare** (not timed): the generator writes the fixture (``write_fixture``, streamed; reused from
   ``--workdir``); the records are staged **straight from the fixture** into the staging tables with the product's
   own loader — exactly the payloads the nightly sync would stage, without hours of API extraction that this
   benchmark is not about. The fixture is read record by record (``stream_fixture``), so preparing L needs no
   more memory than preparing S. Customer linking is finished the way an administrator would (debtors whose
   account is a TimeLog customer number are linked, the rest ignored) and the legal entities' settings are
   activated (S8). ``--staged`` skips all of this for a database an earlier run of the same ``--workdir`` staged
   (copy it with ``CREATE DATABASE … TEMPLATE …`` first: a backfill changes the ledger).
2. **Simulators** run as **separate processes**, so the peak RSS reported is the transfer's own. Each is given
   only what the transfer asks it for (written during the same pass): TimeLog gets everything but the line
   details, work units, expenses and mileage (the transfer reads those from staging; at L they are gigabytes the
   simulator would hold for nothing); Uniconta gets the master data and the existing drafts, not the history.
3. **Transfer** runs in a fresh child process: ``backfill`` month by month over the whole history of each legal
   entity (default both: 1 → company 10001 with the project module, 2 → 10002 without), one after the other, with
   the write-back to TimeLog — the real path end to end. It prints invoices, lines, seconds, lines/s, peak RSS
   (``VmHWM``) and Uniconta calls (client counter) per transferred invoice. ``TLSYNC_BENCH_PROFILE=file`` writes
   a cProfile of the transfer's main thread there.
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
from collections.abc import Iterator
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


TL_SIM_SKIP = ("InvoiceLineDetails", "WorkUnits", "Expenses", "Mileages")
"""Collections the TimeLog simulator is not given: the transfer never asks TimeLog for them (it reads them from
staging), and at L they are gigabytes the simulator would hold for nothing."""
UC_SIM_KEEP = (*UC_NEEDED, "DebtorOrderClient", "DebtorOrderLineClient")
"""What the Uniconta simulator is given: the master data and the drafts already there (no history classes)."""


class _Batches:
    """Per-tenant buffers for records that arrive interleaved (both legal entities' invoices in one array)."""

    def __init__(self, loader, spec, run: str, size: int = 20_000) -> None:
        self.loader, self.spec, self.run, self.size, self.buf = loader, spec, run, size, {}

    def add(self, tenant: str, rec: dict) -> None:
        buf = self.buf.setdefault(tenant, [])
        buf.append(rec)
        if len(buf) >= self.size:
            self.flush(tenant)

    def flush(self, tenant: str | None = None) -> None:
        for t in [tenant] if tenant else list(self.buf):
            if self.buf.get(t):
                self.loader.load(self.spec, t, self.run, self.buf[t])
                self.buf[t] = []


def stage_fixture(path: Path, engine, sim_dir: Path | None = None) -> tuple[Path, Path] | None:
    """Stage a fixture file's records as the nightly sync would (site-wide, per legal entity, per company) in one
    streamed pass (:func:`simulators.generator.stream_fixture`: one record in memory, also for L), and — when
    ``sim_dir`` is given — write the two simulators' fixtures on the way (see :data:`TL_SIM_SKIP`,
    :data:`UC_SIM_KEEP`). Returns their paths."""
    from simulators.generator import dumps, stream_fixture
    from tlsync.staging import entities
    from tlsync.staging.loader import StagingLoader
    from tlsync.staging.migrate import upgrade

    upgrade(engine)
    loader = StagingLoader(engine)
    run, site = "bench", None
    by_source = {s.source: s for s in entities.ENTITIES if s.system == "uniconta"}
    le_of: dict[int, int] = {}
    tl_path = uc_path = None
    tl = uc = None
    if sim_dir is not None:
        tl_path, uc_path = sim_dir / "sim_timelog.json", sim_dir / "sim_uniconta.json"
        tl = open(tl_path, "w", encoding="utf-8", buffering=1 << 20)
        uc = open(uc_path, "w", encoding="utf-8", buffering=1 << 20)
        tl.write('{"timelog":{')
        uc.write('{"uniconta":{')
    company: dict | None = None
    company_no = -1
    tl_first = uc_first = True

    def tee(out, name: str, records, first_sep: str):
        if out is None:
            yield from records
            return
        out.write(f'{first_sep}"{name}":[')
        for i, rec in enumerate(records):
            out.write(("," if i else "") + dumps(rec))
            yield rec
        out.write("]")

    def open_company() -> None:
        nonlocal company
        if company is not None and company.get("_open") is None:
            attrs = {k: v for k, v in company.items() if not k.startswith("_")}
            cid = str(attrs["CompanyId"])
            loader.load(by_source["CompanyClient"], cid, run, [attrs])
            if uc is not None:
                uc.write(("," if company["_n"] else "") + dumps(attrs)[:-1])
            company["_open"] = True

    def close_company() -> None:
        if company is not None and uc is not None:
            open_company()
            uc.write("}")

    try:
        for where, value in stream_fixture(path):
            if where[0] == "timelog":
                key = where[1]
                if key == "auth":
                    site = value["SiteCode"]
                    if tl is not None:
                        tl.write('"auth":' + dumps(value))
                        tl_first = False
                    continue
                out = tl if key not in TL_SIM_SKIP else None
                records = tee(out, key, value, "" if tl_first else ",")
                if out is not None:
                    tl_first = False
                if key in TL_ENTITIES:
                    loader.load(entities.get(f"timelog.{TL_ENTITIES[key]}"), site, run, records)
                elif key == "Invoices" or key in PER_LE:
                    batches = _Batches(loader, entities.get(f"timelog.{PER_LE[key]}"), run)
                    for rec in records:
                        if key == "Invoices":
                            le_of[rec["ID"]] = rec["LegalEntityID"]
                            le = rec["LegalEntityID"]
                        else:
                            le = le_of.get(rec["InvoiceID"])
                        if le is not None:
                            batches.add(f"{site}:{le}", rec)
                    batches.flush()
                else:
                    for _ in records:
                        pass
            elif where[0] == "uniconta" and where[1] == "users":
                if uc is not None:
                    uc.write('"users":' + dumps(value) + ',"companies":[')
                    uc_first = False
            elif where[0] == "uniconta" and where[1] == "companies":
                i, key = where[2], where[3]
                if i != company_no:
                    close_company()
                    company, company_no = {"_n": i}, i
                if not isinstance(value, Iterator):
                    company[key] = value
                    continue
                open_company()
                cid = str(company["CompanyId"])
                records = tee(uc if key in UC_SIM_KEEP else None, key, value, ",")
                if key in UC_NEEDED:
                    loader.load(by_source[key], cid, run, records)
                else:
                    for _ in records:
                        pass
        close_company()
    finally:
        if tl is not None:
            tl.write("}}\n")
            tl.close()
        if uc is not None:
            uc.write("]}}\n" if not uc_first else '"users":[],"companies":[]}}\n')
            uc.close()
    return (tl_path, uc_path) if sim_dir is not None else None


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


COMPANY_OF = {1: 10001, 2: 10002}


def settings_for(le_id: int):
    """Legal entity ``le_id``'s settings as an administrator would activate them (S8)."""
    from tlsync.settings.models import LegalEntitySettings

    return LegalEntitySettings.model_validate({
        "legal_entity_id": le_id, "uniconta_company_id": COMPANY_OF[le_id],
        "customer_master": "automatic",   # S3b: first invoice creates the debtor
        "debtor_defaults": {"debtor_group": "DK", "payment_terms": "N30", "layout_group": "Standard"},
        "invoice_project_category": "FAKT", "project_group": "KUNDE",
        # I1-I4 defaults an administrator would set: lines without an item get these, lines with one keep theirs
        "item_numbers": {"time": {"mode": "specific_item", "item": "KONS-JR"},
                         "fixed_price": {"mode": "specific_item", "item": "FAST"},
                         "expenses": {"mode": "specific_item", "item": "UDL"},
                         "mileage": {"mode": "specific_item", "item": "KM"}},
        "activation": {"configuration_complete": True, "customers_linked": True, "item_numbers_imported": True,
                       "confirmed_by": "bench", "confirmed_at": "2026-11-01T10:00:00"}})


def settings_le1():
    return settings_for(1)


def prepare(size: str, seed: int, workdir: Path, db: str, les: list[int], stage: bool = True) -> tuple[Path, Path]:
    """Generate the fixture (reused when ``workdir`` already holds it), stage it and write the simulators'
    fixtures (streamed, bounded memory at any size). Returns the TimeLog and Uniconta simulator fixtures."""
    from simulators.generator import FIXED_TODAY, write_fixture
    from tlsync.staging.engine import create_staging_engine

    path = workdir / f"fixture_{size}.json"
    if not path.exists():
        t0 = time.perf_counter()
        write_fixture(path, size=size, seed=seed, today=FIXED_TODAY)   # the documented figures' data
        print(f"generated {size} fixture in {time.perf_counter() - t0:.0f} s ({path.stat().st_size / 1e6:.0f} MB)",
              flush=True)
    sims = workdir / f"sim_{size}"
    sims.mkdir(exist_ok=True)
    tl_sim, uc_sim = sims / "sim_timelog.json", sims / "sim_uniconta.json"
    if not stage:
        if not (tl_sim.exists() and uc_sim.exists()):
            raise SystemExit(f"--staged needs the simulator fixtures of an earlier run in {sims}")
        return tl_sim, uc_sim
    t0 = time.perf_counter()
    engine = create_staging_engine(db)
    tl_sim, uc_sim = stage_fixture(path, engine, sims)
    for le in les:
        link_all(engine, le, COMPANY_OF[le])
    engine.dispose()
    print(f"staged straight from the fixture in {time.perf_counter() - t0:.0f} s", flush=True)
    return tl_sim, uc_sim


def serve(module: str, port: int, fixture: Path, *extra: str) -> subprocess.Popen:
    from simulators._common import serve_process

    return serve_process(module, port, fixture, *extra, cwd=ROOT, wait_s=1800)


def _rss_mb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024)
    except OSError:
        pass
    return 0


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


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


def transfer_phase(db: str, tl_port: int, uc_port: int, les: list[int]) -> dict:
    """The measured part (runs in its own process): the backfill of each legal entity over its whole staged
    history, one after the other (each legal entity has its own Uniconta company)."""
    from datetime import date

    from sqlalchemy import func, select

    from tlsync import connections
    from tlsync.invoicing.backfill import backfill
    from tlsync.invoicing.source import LINES, invoice_tenant, staged_period
    from tlsync.ledger import Ledger
    from tlsync.staging.engine import create_staging_engine

    engine = create_staging_engine(db)
    tl_fields = {"conn_id": "timelog_default", "host": f"http://127.0.0.1:{tl_port}/tlsim", "login": "integration",
                 "password": "integration-pw",
                 "extra": {"reporting_site_code": "SIMSITE", "reporting_api_id": "apiuser",
                           "reporting_api_password": "apipass", "rest_token": "sim-pat-token"}}
    uc_fields = {"conn_id": "uniconta_default", "host": f"http://127.0.0.1:{uc_port}", "login": "integration",
                 "password": "uniconta-pw", "extra": {"daily_call_budget": 75000}}
    os.environ["TLSYNC_UNICONTA_DAILY_CALLS"] = "75000"
    trace = os.environ.get("TLSYNC_BENCH_TRACE") == "1"
    profile = os.environ.get("TLSYNC_BENCH_PROFILE")
    if trace:
        import tracemalloc

        tracemalloc.start(8)
    plan = []
    dataset_lines = 0
    for le_id in les:
        tenant = invoice_tenant(engine, le_id)
        if tenant is None:
            continue
        with engine.connect() as conn:
            dataset_lines += conn.execute(select(func.count()).select_from(LINES)
                                          .where(LINES.c.tenant == tenant)).scalar_one()
        plan.append((le_id, staged_period(engine, tenant)))
    total: dict = {"transferred": 0, "failed": 0, "elsewhere": 0, "ignored": 0, "lines": 0, "months": 0, "calls": 0,
                   "stopped": None}
    per_le = {}
    wb_time = [0.0]
    profiler = None
    if profile:                                        # TLSYNC_BENCH_PROFILE=file: cProfile of the main thread
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    t0 = time.perf_counter()
    for le_id, (start, end) in plan:
        le = settings_for(le_id)
        t_le = time.perf_counter()
        with connections.timelog_source(**tl_fields) as tl, \
                connections.uniconta_client(company_id=le.uniconta_company_id, **uc_fields) as uc:
            real_wb = tl.transactional.update_external_data

            def timed_wb(*a, _real=real_wb, **kw):     # bench-only: how much of the time is TimeLog's write-back
                t = time.perf_counter()
                try:
                    return _real(*a, **kw)
                finally:
                    wb_time[0] += time.perf_counter() - t

            tl.transactional.update_external_data = timed_wb
            res = backfill(engine, le, uc, tl.transactional, ledger=Ledger(engine, run_id="bench"),
                           start=date(start.year, start.month, 1), end=end)
        per_le[le_id] = {"transferred": res["transferred"], "lines": res["lines"], "calls": res["calls"],
                         "elsewhere": res["elsewhere"], "failed": res["failed"], "months": res["months"],
                         "seconds": round(time.perf_counter() - t_le, 1)}
        for k in ("transferred", "failed", "elsewhere", "ignored", "lines", "months", "calls"):
            total[k] += res[k]
        total["stopped"] = total["stopped"] or res["stopped"]
    seconds = time.perf_counter() - t0
    if profiler is not None:
        import io
        import pstats

        profiler.disable()
        buf = io.StringIO()
        stats = pstats.Stats(profiler, stream=buf)
        stats.sort_stats("cumulative").print_stats(70)
        stats.sort_stats("tottime").print_stats(40)
        Path(profile).write_text(buf.getvalue())
    if trace:
        snap = tracemalloc.take_snapshot()
        _, peak = tracemalloc.get_traced_memory()
        print(f"tracemalloc peak {peak / 1e6:.0f} MB; largest live allocations:", file=sys.stderr)
        for stat in snap.statistics("traceback")[:6]:
            print(f"  {stat.size / 1e6:.1f} MB", *stat.traceback.format()[-6:], sep="\n    ", file=sys.stderr)
    return {"invoices_transferred": total["transferred"], "failed": total["failed"], "elsewhere": total["elsewhere"],
            "ignored": total["ignored"], "lines": total["lines"], "dataset_lines": dataset_lines,
            "months": total["months"], "seconds": round(seconds, 1), "lines_per_s": round(total["lines"] / seconds),
            "uniconta_calls": total["calls"],
            "calls_per_invoice": round(total["calls"] / max(1, total["transferred"]), 4),
            "peak_rss_mb": _peak_rss_mb(), "writeback_call_seconds": round(wb_time[0], 1),
            "cpu_s": round(_cpu_s(os.getpid())),
            "stopped": total["stopped"], "per_le": per_le}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="M", type=str.upper, choices=("S", "M", "L"))
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--db", help="staging DB URL (default: a SQLite file in a temporary folder)")
    ap.add_argument("--pg", action="store_true",
                    help="stage in a throw-away PostgreSQL database on 127.0.0.1:5432 (user postgres), dropped after")
    ap.add_argument("--legal-entities", default="1,2",
                    help="legal entities to backfill, one after the other (default 1,2: the whole data set)")
    ap.add_argument("--workdir", help="keep the fixture and the simulators' fixtures here (reused when present)")
    ap.add_argument("--staged", action="store_true",
                    help="--db is already staged by an earlier run with the same --workdir: only transfer")
    ap.add_argument("--phase", choices=("all", "transfer"), default="all", help=argparse.SUPPRESS)
    ap.add_argument("--ports", help=argparse.SUPPRESS)
    args = ap.parse_args()
    les = [int(x) for x in args.legal_entities.split(",") if x.strip()]
    if args.phase == "transfer":
        tl_port, uc_port = (int(p) for p in args.ports.split(","))
        print(json.dumps(transfer_phase(args.db, tl_port, uc_port, les)))
        return
    if args.staged and not (args.db and args.workdir):
        raise SystemExit("--staged needs --db and --workdir")

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
        _run(args, les)
    finally:
        if pg_name:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))


def _run(args, les: list[int]) -> None:
    from contextlib import nullcontext

    from simulators._common import free_port

    keep = Path(args.workdir) if args.workdir else None
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
    with (nullcontext(str(keep)) if keep else tempfile.TemporaryDirectory(prefix="tlsync-bench-")) as tmp:
        work = Path(tmp)
        db = args.db or f"sqlite:///{work / 'staging.db'}"
        tl_fixture, uc_fixture = prepare(args.size, args.seed, work, db, les, stage=not args.staged)
        tl_port, uc_port = free_port(), free_port()
        t0 = time.perf_counter()
        procs = [serve("simulators.timelog", tl_port, tl_fixture),
                 serve("simulators.uniconta", uc_port, uc_fixture, "--daily-quota", "150000")]
        print(f"simulators up in {time.perf_counter() - t0:.0f} s (RSS TimeLog {_rss_mb(procs[0].pid)} MB, "
              f"Uniconta {_rss_mb(procs[1].pid)} MB)", flush=True)
        cpu0 = [_cpu_s(p.pid) for p in procs]
        try:
            out = subprocess.run([sys.executable, __file__, "--phase", "transfer", "--db", db,
                                  "--ports", f"{tl_port},{uc_port}", "--size", args.size,
                                  "--legal-entities", ",".join(map(str, les))],
                                 cwd=ROOT, capture_output=True, text=True)
            if out.returncode:
                raise SystemExit(out.stderr[-4000:])
            if os.environ.get("TLSYNC_BENCH_TRACE") == "1":
                print(out.stderr[-6000:])
            r = json.loads(out.stdout.strip().splitlines()[-1])
            sim_rss = (_rss_mb(procs[0].pid), _rss_mb(procs[1].pid))
            sim_cpu = [round(_cpu_s(p.pid) - c0) for p, c0 in zip(procs, cpu0)]
        finally:
            for p in procs:
                p.terminate()
                p.wait(timeout=60)
    print(f"invoice backfill, size {args.size}, legal entities {', '.join(map(str, les))}, {r['months']} months, "
          f"{'SQLite' if db.startswith('sqlite') else 'PostgreSQL'} staging:")
    print(f"  data set: {r['dataset_lines']:,} invoice lines staged for these legal entities")
    print(f"  transferred {r['invoices_transferred']:,} invoices/credit notes ({r['lines']:,} lines read); "
          f"elsewhere {r['elsewhere']:,}, ignored {r['ignored']:,}, failed {r['failed']:,}")
    for le_id, x in r["per_le"].items():
        print(f"    legal entity {le_id}: {x['transferred']:,} drafts, {x['lines']:,} lines, {x['calls']:,} calls, "
              f"{x['seconds']} s")
    print(f"  {r['seconds']} s  →  {r['lines_per_s']:,} lines/s  (TimeLog write-back calls: "
          f"{r['writeback_call_seconds']} s summed over threads)")
    print(f"  peak RSS of the transfer process: {r['peak_rss_mb']} MB  (simulators: TimeLog {sim_rss[0]} MB, "
          f"Uniconta {sim_rss[1]} MB; CPU during the transfer: TimeLog {sim_cpu[0]} s, Uniconta {sim_cpu[1]} s, "
          f"transfer {r['cpu_s']} s)")
    print(f"  Uniconta calls: {r['uniconta_calls']:,}  →  {r['calls_per_invoice']} per transferred invoice "
          f"(target ≤ 0.05)")
    if r["stopped"]:
        print(f"  stopped: {r['stopped']}")


if __name__ == "__main__":
    main()
