"""Benchmark: the Uniconta calls of a **first** night (nightly sync + set-up + write-back) on generated data.

    .venv/bin/python bench/uniconta_first_night.py --size M          # 3,000 customers, ~3,500 projects, ~100k lines
    .venv/bin/python bench/uniconta_first_night.py --size S
    .venv/bin/python bench/uniconta_first_night.py --size L --workdir /tmp/fn-L  # L end to end (≈ 1–2 h)
    .venv/bin/python bench/uniconta_first_night.py --computed FIXTURE.json    # L: the invoice calls, computed

What ``make run`` does, in one process and without Airflow (the DAGs' own step functions): both simulators on
loopback with one generated fixture; a fresh SQLite staging database; the nightly sync (``tlsync.nightly.local``);
the administrator's set-up of legal entity 1 (accept the matcher's one-suggestions, ignore the rest, confirm the
activation checklist — legal entity 2 stays unconfirmed, so its invoices are refused by the S8 gate; ``--set-up
1,2`` sets up both); then every write-back step of both legal entities (``tlsync.writeback.run_step``, the transfer DAG's tasks).

The figure is the **simulator's own count** of authenticated Uniconta calls (``/_sim/quota``: every call the
server answered, reads included), per phase, printed next to issue 13's target (≤ 1,500 for M's first night) and
as a share of Uniconta's 5,000 daily calls — the baseline the quota is measured against. A second night (nothing
changed) is measured too: what every ordinary night costs. The tally tlsync books (``uniconta_call_tally``) is
printed beside it: the two must agree. The night's plan (:mod:`tlsync.quota.plan`) is printed per legal entity.

``--workdir DIR`` (any size; what L needs): the fixture is written to a file there (streamed, reused when present)
and each simulator runs as its own process from it (``python -m simulators.timelog --fixture …``), so this process
holds neither the generated data nor the simulators' stores; the staging database is ``DIR/staging.db`` (or
``--db URL``). Without it, S and M are generated in memory and served in threads of this process.

``--computed FIXTURE``: L does not fit in this process's memory (a generated L fixture is 1.9 GB of JSON), so its
invoice transfer — the bulk of a first night, the whole history of both legal entities — is **computed** instead of
measured: the fixture file is streamed (:func:`simulators.generator.stream.stream_fixture`), the invoices a first
transfer sends are picked as the transfer picks them (booked invoices and credit notes, neither transferred
elsewhere nor marked "ignore"), ordered as it orders them (month, date, ID), cut into batches of
``TLSYNC_UNICONTA_ORDER_BATCH`` and their lines into ``InsertList`` calls of ``TLSYNC_UNICONTA_LINE_BATCH``: one
order call per batch plus ``ceil(lines of the batch / line batch)``. Exact for orders and lines; the master data
the invoices create on the way (debtors, employees, projects, once per month) is not in it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "include"), str(ROOT)]

QUOTA = 5000
TARGET = {"M": 1500, "L": QUOTA}


def computed(fixture: Path, sizes: list[tuple[int, int]]) -> int:
    """The invoice transfer's order and line calls of a first night, computed from ``fixture`` (see the module
    docstring) for each ``(order batch, line batch)`` of ``sizes``."""
    import math
    from collections import defaultdict

    from simulators.generator.stream import stream_fixture

    booked, kinds = (1, 2, 3), (1, 2)        # InvoiceStatus booked/overdue/paid; InvoiceType invoice/credit note
    sent: dict[int, list[tuple[str, int]]] = defaultdict(list)
    skipped: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    lines: dict[int, int] = defaultdict(int)
    for key, value in stream_fixture(fixture):
        if key == ("timelog", "Invoices"):
            for r in value:
                le = int(r.get("LegalEntityID") or 0)
                if int(r.get("Status") or 0) not in booked or int(r.get("Type") or 0) not in kinds:
                    skipped[le]["not booked / not an invoice or credit note"] += 1
                elif (r.get("ExternalInvoiceNo") or "").strip():
                    skipped[le]["transferred elsewhere"] += 1
                elif r.get("IsIgnoredWhenTransfer"):
                    skipped[le]["ignored"] += 1
                else:
                    sent[le].append((str(r.get("InvoiceDate"))[:10], int(r["ID"])))
        elif key == ("timelog", "InvoiceLines"):
            for r in value:
                lines[int(r["InvoiceID"])] += 1
            break
    for le in sorted(sent):
        sent[le].sort()
        print(f"legal entity {le}: {len(sent[le]):,} invoices to send, "
              f"{sum(lines[i] for _, i in sent[le]):,} lines; not sent: {dict(skipped[le])}")
    last = 0
    for order_batch, line_batch in sizes:
        total = 0
        for le, todo in sorted(sent.items()):
            orders = math.ceil(len(todo) / order_batch)
            line_calls = sum(math.ceil(sum(lines[i] for _, i in todo[k:k + order_batch]) / line_batch)
                             for k in range(0, len(todo), order_batch))
            total += orders + line_calls
            print(f"  order batch {order_batch:>5,}, line batch {line_batch:>6,}: legal entity {le}: {orders:,} "
                  f"order + {line_calls:,} line calls")
        print(f"  order batch {order_batch:>5,}, line batch {line_batch:>6,}: {total:,} calls "
              f"({total / QUOTA:.2f} × the 5,000 daily calls)", flush=True)
        last = total
    return last


def simulator_processes(stack: ExitStack, size: str, seed: int, work: Path) -> tuple[str, str]:
    """Both simulators as processes of their own, serving the fixture file ``work/fixture_<size>.json`` (written
    streamed when absent); stopped when ``stack`` closes. Returns their base URLs."""
    from simulators._common import free_port, serve_process
    from simulators.generator import write_fixture

    path = work / f"fixture_{size}_{seed}.json"
    if not path.exists():
        t0 = time.perf_counter()
        write_fixture(path, size=size, seed=seed)
        print(f"generated {size} (seed {seed}) in {time.perf_counter() - t0:.0f} s "
              f"({path.stat().st_size / 1e6:,.0f} MB)", flush=True)
    urls = []
    for module, extra in (("simulators.timelog", []), ("simulators.uniconta", ["--quota-mode", "throttle"])):
        port, t0 = free_port(), time.perf_counter()
        proc = serve_process(module, port, path, *extra, cwd=ROOT, wait_s=3600,
                             stderr=stack.enter_context(open(work / f"{module}.log", "w")))
        stack.callback(proc.wait, 30)
        stack.callback(proc.terminate)
        print(f"{module} serving {path.name} after {time.perf_counter() - t0:.0f} s", flush=True)
        urls.append(f"http://127.0.0.1:{port}")
    return urls[0], urls[1]


def uniconta_used(url: str) -> int:
    return sum(httpx.get(f"{url}/_sim/quota").json()["used"].values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="M", choices=["S", "M", "L"])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, help="write the fixture here and run the simulators as processes")
    parser.add_argument("--set-up", type=lambda v: [int(x) for x in v.split(",")], default=[1], metavar="1[,2]",
                        help="the legal entities the administrator sets up on the first night (default 1: legal "
                             "entity 2's invoices are then refused by the S8 gate)")
    parser.add_argument("--db", help="the staging database's URL (default: a fresh SQLite file)")
    parser.add_argument("--computed", type=Path, metavar="FIXTURE",
                        help="compute the invoice transfer's calls from a fixture file instead of running a night")
    args = parser.parse_args()
    if args.computed:
        from tlsync.invoicing.run import LINE_BATCH, ORDER_BATCH

        computed(args.computed, [(100, 500), (ORDER_BATCH, LINE_BATCH)])
        return 0

    import simulators.timelog as timelog_sim
    import simulators.uniconta as uniconta_sim
    from simulators._common import serve_in_thread
    from simulators.generator import generate

    work = args.workdir or Path(tempfile.mkdtemp(prefix="tlsync-first-night-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ["TLSYNC_OUT_DIR"] = str(work / "out")
    url = args.db or f"sqlite:///{work / 'staging.db'}"
    if not args.db and (work / "staging.db").exists():
        (work / "staging.db").unlink()          # a first night starts from an empty staging database
    os.environ["TLSYNC_STAGING_URL"] = url

    from tlsync import settings as settings_mod
    from tlsync import writeback
    from tlsync.linking import Decision, Linker, Targets, view_rows
    from tlsync.matching.refresh import refresh_suggestions
    from tlsync.nightly.local import run_once
    from tlsync.staging.engine import staging_engine
    from tlsync.staging.migrate import upgrade

    upgrade(url)
    staging_engine.cache_clear()
    engine = staging_engine()

    started = time.perf_counter()
    with ExitStack() as stack:
        if args.workdir:
            tl, uc = simulator_processes(stack, args.size, args.seed, work)
        else:
            fixture = generate(size=args.size, seed=args.seed)
            print(f"generated {args.size} (seed {args.seed}) in {time.perf_counter() - started:.1f} s", flush=True)
            tl = stack.enter_context(serve_in_thread(timelog_sim.create_app(fixture)))
            uc = stack.enter_context(serve_in_thread(uniconta_sim.create_app(fixture, quota_mode="throttle")))
            del fixture
        tl_fields = {"conn_id": "timelog_default", "host": f"{tl}/tlsim", "login": "integration",
                     "password": "integration-pw",
                     "extra": {"reporting_site_code": "SIMSITE", "reporting_api_id": "apiuser",
                               "reporting_api_password": "apipass", "rest_token": "sim-pat-token"}}
        uc_fields = {"conn_id": "uniconta_default", "host": uc, "login": "integration", "password": "uniconta-pw",
                     "extra": {}}
        example = settings_mod.load(ROOT / "config" / "integration.example.yaml")
        pairs = {str(le.legal_entity_id): le.uniconta_company_id for le in example.legal_entities.values()}
        phases: list[tuple[str, int, float]] = []

        def phase(name: str, fn) -> object:
            before, t0 = uniconta_used(uc), time.perf_counter()
            out = fn()
            phases.append((name, uniconta_used(uc) - before, time.perf_counter() - t0))
            what = f"  {writeback.summarise(out)[:110]}" if isinstance(out, writeback.StepResult) else ""
            if isinstance(out, writeback.StepResult) and out.plan:
                what += f"\n  {'':<34} plan: {out.plan}"
            print(f"  {name:<34} {phases[-1][1]:>6,} Uniconta calls  {phases[-1][2]:7.1f} s{what}", flush=True)
            return out

        print("first night:")
        phase("nightly sync", lambda: run_once(tl_fields, uc_fields, pairs, "night-1"))

        def setup(le_id: int) -> None:
            le = example.entity(le_id)
            company = le.uniconta_company_id
            refresh_suggestions(engine, [company])
            linker = Linker(engine, le_id, company, targets=Targets(tl_fields, uc_fields, company), actor="bench")
            try:   # as an administrator works: until no debtor is left to decide (linking some can make another
                for _ in range(5):   # debtor's suggestion a One when the views are computed again, rule L5)
                    linker.apply_all([Decision("link-timelog", r.debtor_account, r.best.customer_id)
                                      for r in view_rows(engine, company, "one")])
                    rest = [r.debtor_account for v in ("several", "none") for r in view_rows(engine, company, v)]
                    linker.apply_all([Decision("ignore", a) for a in rest])
                    if not any(view_rows(engine, company, v) for v in ("one", "several", "none")):
                        break
            finally:
                linker.targets.close()
            le.activation = settings_mod.ActivationChecklist(
                configuration_complete=True, customers_linked=True, item_numbers_imported=True,
                confirmed_by="bench", confirmed_at=datetime.now().replace(microsecond=0))
            settings_file = work / "integration.yaml"
            settings_mod.save(example, settings_file)
            os.environ["TLSYNC_SETTINGS"] = str(settings_file)

        for le_id in args.set_up:
            phase(f"set-up (linking LE {le_id})", lambda le_id=le_id: setup(le_id))
        settings = writeback.load_settings()
        results = {}
        for le in settings.legal_entities.values():
            for step in writeback.STEPS:
                results[(le.legal_entity_id, step)] = phase(
                    f"write-back LE {le.legal_entity_id} {step}",
                    lambda le=le, step=step: writeback.run_step(
                        step, le.legal_entity_id, run_id="transfer-1", timelog_fields=tl_fields,
                        uniconta_fields=uc_fields, settings=settings, engine=engine))
        first = sum(n for _, n, _ in phases)
        set_up = sum(n for name, n, _ in phases if name.startswith("set-up"))
        print(f"first night: {first:,} Uniconta calls ({first - set_up:,} without the administrator's set-up)",
              flush=True)
        print("second night (nothing changed):")
        mark = len(phases)
        phase("nightly sync", lambda: run_once(tl_fields, uc_fields, pairs, "night-2"))
        for le in settings.legal_entities.values():
            for step in writeback.STEPS:
                phase(f"write-back LE {le.legal_entity_id} {step}",
                      lambda le=le, step=step: writeback.run_step(
                          step, le.legal_entity_id, run_id="transfer-2", timelog_fields=tl_fields,
                          uniconta_fields=uc_fields, settings=settings, engine=engine))
        second = sum(n for _, n, _ in phases[mark:])
        try:
            from tlsync.quota import tally_report
            tally = tally_report(engine)
        except ImportError:
            tally = "(no tally)"
    stopped = [f"LE {le} {step}: {r.get('stopped')}" for (le, step), r in results.items()
               if isinstance(r, dict) and r.get("stopped")]
    target = TARGET.get(args.size)
    print(f"\nfirst night ({args.size}): {first:,} Uniconta calls = {first / QUOTA:.2f} × the 5,000 daily quota"
          + (f"; target ≤ {target:,}: {'met' if first <= target else 'NOT met'} ({first / target:.2f} × target)"
             if target else ""))
    print(f"second night ({args.size}): {second:,} Uniconta calls = {second / QUOTA:.3f} × the daily quota; "
          f"first/second = {first / max(second, 1):.1f}×")
    print(f"tlsync's own tally: {tally}")
    if stopped:
        print("steps that stopped early: " + "; ".join(stopped))
    return 0 if target is None or first <= target else 1


if __name__ == "__main__":
    raise SystemExit(main())
