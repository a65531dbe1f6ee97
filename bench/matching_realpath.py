"""Customer matching on the real path (issue 15, rules L1/L2): simulators → nightly staging → ``linking refresh``.

    .venv/bin/python bench/matching_realpath.py                      # the M demo data
    .venv/bin/python bench/matching_realpath.py --add 100000          # M + a 100k × 100k labelled linkage set
    .venv/bin/python bench/matching_realpath.py --add 20000 --profile hard --seed 9

What an administrator's night does, without Airflow: the generator's fixture (``--size``, plus with ``--add N``
the debtors and customers of :func:`simulators.generator.linkage.linkage` — N debtors × N customers with their
truth — added to legal entity 1's Uniconta company and to the TimeLog site) is served by both simulators on
loopback; the nightly sync (``tlsync.nightly.local.run_once``, the DAG's own steps) stages it into a fresh SQLite
staging database over real HTTP (with ``--add`` the fixture's projects, time and invoices are left out:
``--lean``, the nightly then stages master data only, which is all the matcher reads); then ``python -m tlsync.linking refresh --legal-entity 1`` runs as its own
process — exactly the command an administrator types — and its process wall time (start-up, imports, reading the
staged payloads, matching, writing ``link_suggestions``) and peak RSS are measured. The One/Several/None counts
and precision(One), recall(One), recall(One ∪ Several) are read back from ``link_suggestions`` against the truth
of legal entity 1's company. ``--work DIR`` keeps the staging database and the truth there; run again with the
same ``--work`` to repeat only the refresh (the nightly of M takes minutes on a busy machine).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "include"), str(ROOT)]

ID_OFFSET = 1_000_000        # linkage customer IDs, clear of the fixture's own
# what --lean leaves out: transactions and projects (the matcher reads staged customers and debtors only)
LEAN_TIMELOG = ("Projects", "Tasks", "HourlyRates", "Invoices", "InvoiceLines", "InvoiceLineDetails", "Expenses",
                "Mileages", "WorkUnits")
LEAN_UNICONTA = ("ProjectClient", "DebtorOrderClient", "DebtorOrderLineClient", "DebtorInvoiceClient",
                 "DebtorInvoiceLines", "GLTransClient")


def add_linkage(fixture: dict, company: int, n: int, seed: int, profile: str) -> list[dict]:
    """Add a linkage set to ``fixture`` (customers site-wide, debtors in ``company``); returns its truth rows."""
    from simulators.generator.linkage import linkage
    debtors, customers, truth = linkage(n, seed, profile)
    tl = fixture["timelog"]["Customers"]
    comp = next(c for c in fixture["uniconta"]["companies"] if c["CompanyId"] == company)
    c_template, d_template = tl[0], comp["DebtorClient"][0]
    # the template's other fields (dates, status, groups) keep the records valid for the nightly's checks; the
    # fields the matcher reads all come from the linkage record
    for c in customers:
        row = {**c_template, "Address1": "", "WebPage": "", **c}
        row["ID"] = c["ID"] + ID_OFFSET
        row["GUID"] = f"00000000-0000-4000-8000-{row['ID']:012d}"
        tl.append(row)
    for d in debtors:
        comp["DebtorClient"].append({**d_template, "Address1": "", "InvoiceEmail": "", **d})
    return [{"company_id": company, "timelog_customer_id": int(t["timelog_customer_id"]) + ID_OFFSET,
             "uniconta_debtor_account": str(t["uniconta_debtor_account"]), "kind": t["kind"]} for t in truth]


def read_views(engine, company: int) -> dict[str, tuple[str, list[str]]]:
    """{debtor account: (view, [customer ids by rank])} from ``link_suggestions``."""
    from sqlalchemy import select

    from tlsync.staging.tables import link_suggestions as ls
    out: dict[str, tuple[str, list[str]]] = {}
    q = select(ls.c.debtor_account, ls.c.view, ls.c.rank, ls.c.customer_id).where(
        ls.c.company_id == str(company)).order_by(ls.c.debtor_account, ls.c.rank)
    with engine.connect() as conn:
        for account, view, _rank, customer in conn.execute(q):
            v, ids = out.setdefault(str(account), (view, []))
            if customer is not None:
                ids.append(str(customer))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="M", choices=["S", "M"])
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--add", type=int, default=0, help="add a linkage set of N debtors × N customers")
    ap.add_argument("--profile", default="default", help="linkage profile: default or hard")
    ap.add_argument("--lean", action="store_true", help="master data only (the default with --add)")
    ap.add_argument("--work", type=Path, help="keep (or reuse) the staging database and truth in this directory")
    a = ap.parse_args()

    work = a.work or Path(tempfile.mkdtemp(prefix="tlsync-matching-realpath-"))
    work.mkdir(parents=True, exist_ok=True)
    reuse = (work / "truth.json").exists()
    os.environ["TLSYNC_OUT_DIR"] = str(work / "out")
    url = f"sqlite:///{work / 'staging.db'}"
    os.environ["TLSYNC_STAGING_URL"] = url
    settings_file = ROOT / "config" / "integration.example.yaml"
    os.environ["TLSYNC_SETTINGS"] = str(settings_file)

    from tlsync import settings as settings_mod
    from tlsync.staging.engine import staging_engine
    from tlsync.staging.migrate import upgrade
    upgrade(url)                  # (again when reused: a newer revision of the code may have come meanwhile)
    staging_engine.cache_clear()
    engine = staging_engine()
    example = settings_mod.load(settings_file)
    company = example.entity(1).uniconta_company_id
    pairs = {str(le.legal_entity_id): le.uniconta_company_id for le in example.legal_entities.values()}

    if reuse:
        rows = json.loads((work / "truth.json").read_text())
        print(f"reusing {work}: {len(rows):,} true pairs")
    else:
        rows = stage(a, company, pairs, work)
    return refresh(engine, company, rows)


def stage(a: argparse.Namespace, company: int, pairs: dict, work: Path) -> list[dict]:
    """Generate the fixture, serve it and run the nightly into the staging database; returns the truth rows."""
    import simulators.timelog as timelog_sim
    import simulators.uniconta as uniconta_sim
    from simulators._common import serve_in_thread
    from simulators.generator import FIXED_TODAY, generate, truth
    from tlsync.nightly.local import run_once

    t0 = time.perf_counter()
    fixture = generate(size=a.size, seed=a.seed, today=FIXED_TODAY)
    rows = [t for t in truth(a.size, a.seed, today=FIXED_TODAY) if t["company_id"] == company]
    if a.add:
        rows += add_linkage(fixture, company, a.add, a.seed, a.profile)
    if a.lean or a.add:
        for k in LEAN_TIMELOG:
            fixture["timelog"][k] = []
        for comp in fixture["uniconta"]["companies"]:
            for k in LEAN_UNICONTA:
                comp[k] = []
    label = f"{a.size}" + (f" + linkage {a.add:,} ({a.profile}, seed {a.seed})" if a.add else f" (seed {a.seed})") \
        + (" lean" if a.lean or a.add else "")
    n_cust = len(fixture["timelog"]["Customers"])
    n_debt = len(next(c for c in fixture["uniconta"]["companies"] if c["CompanyId"] == company)["DebtorClient"])
    print(f"data {label}: {n_debt:,} debtors of company {company} × {n_cust:,} TimeLog customers, "
          f"{len(rows):,} true pairs ({time.perf_counter() - t0:.1f} s to generate)", flush=True)
    with serve_in_thread(timelog_sim.create_app(fixture)) as tl, \
            serve_in_thread(uniconta_sim.create_app(fixture, daily_quota=10**7)) as uc:
        tl_fields = {"conn_id": "timelog_default", "host": f"{tl}/tlsim", "login": "integration",
                     "password": "integration-pw",
                     "extra": {"reporting_site_code": "SIMSITE", "reporting_api_id": "apiuser",
                               "reporting_api_password": "apipass", "rest_token": "sim-pat-token"}}
        uc_fields = {"conn_id": "uniconta_default", "host": uc, "login": "integration", "password": "uniconta-pw",
                     "extra": {}}
        t0 = time.perf_counter()
        run_once(tl_fields, uc_fields, pairs, "night-1")
        nightly = time.perf_counter() - t0
    print(f"nightly sync (simulators → staging): {nightly:.1f} s", flush=True)
    (work / "truth.json").write_text(json.dumps(rows, default=str))
    return rows


def refresh(engine, company: int, rows: list[dict]) -> int:
    """Run ``python -m tlsync.linking refresh --legal-entity 1`` as its own process; print its figures."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "include"), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "tlsync.linking", "refresh", "--legal-entity", "1"]
    # posix_spawn (vfork-like), not fork: a forked child's peak RSS would start at this process's size (it held
    # the whole fixture), so wait4's ru_maxrss would not be the refresh's own
    with tempfile.TemporaryDirectory() as tmp:
        out_file, err_file = f"{tmp}/out", f"{tmp}/err"
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        t0 = time.perf_counter()
        pid = os.posix_spawn(sys.executable, cmd, env, file_actions=[
            (os.POSIX_SPAWN_OPEN, 1, out_file, flags, 0o600), (os.POSIX_SPAWN_OPEN, 2, err_file, flags, 0o600)])
        _, status, usage = os.wait4(pid, 0)
        wall = time.perf_counter() - t0
        out, err = Path(out_file).read_text(), Path(err_file).read_text()
    if os.waitstatus_to_exitcode(status):
        print(f"refresh failed:\n{out}\n{err[-3000:]}", file=sys.stderr)
        return 1
    print(f"$ {' '.join(cmd[1:])}\n  {out.strip()}")

    views = read_views(engine, company)
    want = {str(t["uniconta_debtor_account"]): str(t["timelog_customer_id"]) for t in rows}
    counts = {v: 0 for v in ("one", "several", "none", "ignored")}
    n_one = tp = found = 0
    for account, (view, ids) in views.items():
        counts[view] = counts.get(view, 0) + 1
        if view == "one":
            n_one += 1
            tp += want.get(account) == ids[0]
        if account in want and view in ("one", "several") and want[account] in ids:
            found += 1
    print(f"refresh process wall {wall:.2f} s, peak RSS {usage.ru_maxrss / 1024:.0f} MB; "
          f"One {counts['one']:,} · Several {counts['several']:,} · None {counts['none']:,} · "
          f"Ignored {counts['ignored']:,}")
    print(f"precision(One) {tp / max(n_one, 1):.4f}  recall(One) {tp / max(len(want), 1):.4f}  "
          f"recall(One ∪ Several) {found / max(len(want), 1):.4f}  ({len(want):,} true pairs)")
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
