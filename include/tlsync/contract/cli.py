"""``tlsync contract probe|diff`` — record what the real APIs answer, and compare it with the simulators.

    tlsync contract probe --out contract.json            # the real services, from the Airflow Connections
    tlsync contract diff contract.json                   # the same probes against both simulators; one line each
    tlsync contract diff contract.json --against other.json

``--write-probe --company N --test-company`` also learns InsertList's partial-failure semantics by inserting two
debtors (one bad) into that test company and deleting them (:mod:`tlsync.contract.write_probe`); refused without
both options. ``diff`` runs the write probe against the simulator too when the snapshot has one.

``probe`` reads the Connections ``timelog_default`` / ``uniconta_default`` (``--timelog-conn``/``--uniconta-conn``;
from ``AIRFLOW_CONN_*`` or, with ``--airflow``, Airflow's own lookup), makes at most 50 read-only calls per system
and writes the redacted snapshot (see :mod:`tlsync.contract`). ``diff`` starts both simulators in this process
(generated S data, seed 42, dated 2026-11-01 — the snapshot committed in ``tests/contract/``), probes them and
prints every difference; exit 1 when there is one, 0 when none, 2 on a usage or set-up error.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from tlsync.contract import SNAPSHOT_VERSION, diff, probe_timelog, probe_uniconta

SIM_TODAY = date(2026, 11, 1)
SIM_TEST_COMPANY = 10001


def probe_fields(timelog: dict[str, Any] | None, uniconta: dict[str, Any] | None, *,
                 today: date | None = None, company_id: int | None = None,
                 write_probe_company: int | None = None) -> dict[str, Any]:
    """A snapshot from Connection fields (either system may be ``None``: not probed). ``write_probe_company``: also
    run the InsertList write probe in that (test) company (:mod:`tlsync.contract.write_probe`)."""
    snap: dict[str, Any] = {"tlsync_contract": SNAPSHOT_VERSION,
                            "probed_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat()}
    if uniconta is not None:
        extra = uniconta.get("extra") or {}
        snap["uniconta"] = probe_uniconta(uniconta.get("host") or "https://odata.uniconta.com",
                                          uniconta["login"], uniconta["password"],
                                          company_id or extra.get("company_id") or None)
        if write_probe_company is not None:
            from tlsync.contract.write_probe import write_probe_uniconta

            snap["uniconta"]["write probe"] = write_probe_uniconta(
                uniconta.get("host") or "https://odata.uniconta.com", uniconta["login"], uniconta["password"],
                write_probe_company)
    if timelog is not None:
        extra = timelog.get("extra") or {}
        snap["timelog"] = probe_timelog(timelog["host"], site_code=extra["reporting_site_code"],
                                        api_id=extra["reporting_api_id"],
                                        api_password=extra["reporting_api_password"],
                                        rest_token=extra.get("rest_token"), today=today)
    return snap


def probe_simulators(*, write_probe: bool = False) -> dict[str, Any]:
    """Start both simulators (S, seed 42, dated :data:`SIM_TODAY`) on loopback and probe them (``write_probe``:
    also the InsertList write probe, in company :data:`SIM_TEST_COMPANY`)."""
    try:
        import simulators.timelog as timelog_sim
        import simulators.uniconta as uniconta_sim
        from simulators._common import serve_in_thread
        from simulators.generator import generate
    except ImportError as exc:
        raise SystemExit(f"tlsync contract diff: the simulators are not importable here ({exc}); run it from the "
                         "project's checkout") from None
    fixture = generate(size="S", seed=42, today=SIM_TODAY)
    with ExitStack() as stack:
        tl = stack.enter_context(serve_in_thread(timelog_sim.create_app(fixture)))
        uc = stack.enter_context(serve_in_thread(uniconta_sim.create_app(fixture)))
        return probe_fields(
            {"host": f"{tl}/tlsim", "extra": {"reporting_site_code": "SIMSITE", "reporting_api_id": "apiuser",
                                              "reporting_api_password": "apipass", "rest_token": "sim-pat-token"}},
            {"host": uc, "login": "integration", "password": "uniconta-pw", "extra": {}},
            today=SIM_TODAY, write_probe_company=SIM_TEST_COMPANY if write_probe else None)


def _load(path: str) -> dict[str, Any]:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SystemExit(f"tlsync contract: cannot read snapshot {path}: {exc}") from None
    if not isinstance(doc, dict) or doc.get("tlsync_contract") != SNAPSHOT_VERSION:
        raise SystemExit(f"tlsync contract: {path} is not a contract snapshot (version {SNAPSHOT_VERSION})")
    return doc


def _write_probe_refusal(args: argparse.Namespace) -> str | None:
    """Why ``--write-probe`` may not run (``None``: it may): it writes, so only into a company the operator names
    and confirms to be a test company; never with ``--only timelog``."""
    if not args.write_probe:
        return None
    if args.only == "timelog":
        return "--write-probe writes to Uniconta; it cannot go with --only timelog"
    if args.simulators:
        return None                              # the simulators' company is a test company by definition
    if args.company is None:
        return ("--write-probe inserts two debtors into a Uniconta company and deletes them: name the test company "
                "with --company N")
    if not args.test_company:
        return (f"--write-probe would write to Uniconta company {args.company}: confirm that it is a test company "
                f"with --test-company (never a production company)")
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tlsync contract", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("probe", help="probe the real services (read-only, ≤ 50 calls per system)")
    p.add_argument("--out", default="-", help="snapshot file (default: stdout)")
    p.add_argument("--timelog-conn", default="timelog_default")
    p.add_argument("--uniconta-conn", default="uniconta_default")
    p.add_argument("--company", type=int, help="Uniconta company to probe (default: the connection's, else the first)")
    p.add_argument("--only", choices=("timelog", "uniconta"), help="probe one system")
    p.add_argument("--airflow", action="store_true", help="read the Connections through Airflow")
    p.add_argument("--simulators", action="store_true",
                   help="probe the simulators instead (for the committed snapshot)")
    p.add_argument("--write-probe", action="store_true",
                   help="also learn InsertList's partial-failure semantics: insert two debtors (one bad) into the "
                        "company named by --company and delete them; needs --test-company")
    p.add_argument("--test-company", action="store_true",
                   help="confirm that the company named by --company is a test company (required by --write-probe)")
    d = sub.add_parser("diff", help="compare a snapshot with the simulators (or --against another snapshot)")
    d.add_argument("snapshot")
    d.add_argument("--against", help="a second snapshot instead of probing the simulators")
    args = parser.parse_args(argv)

    if args.command == "probe":
        refusal = _write_probe_refusal(args)
        if refusal:
            print(f"tlsync contract probe: {refusal}", file=sys.stderr)
            return 2
        if args.simulators:
            snap = probe_simulators(write_probe=args.write_probe)
        else:
            from tlsync.connections import ConnectionSettingError, connection_fields

            try:
                tl = None if args.only == "uniconta" else connection_fields(args.timelog_conn, airflow=args.airflow)
                uc = None if args.only == "timelog" else connection_fields(args.uniconta_conn, airflow=args.airflow)
            except ConnectionSettingError as exc:
                print(f"tlsync contract probe: {exc}", file=sys.stderr)
                return 2
            snap = probe_fields(tl, uc, company_id=args.company,
                                write_probe_company=args.company if args.write_probe else None)
        text = json.dumps(snap, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        if args.out == "-":
            sys.stdout.write(text)
        else:
            Path(args.out).write_text(text, encoding="utf-8")
            calls = ", ".join(f"{s}: {snap[s].get('calls', 0)} calls" for s in ("timelog", "uniconta") if s in snap)
            print(f"contract snapshot written to {args.out} ({calls})")
        return 0

    expected = _load(args.snapshot)
    actual = _load(args.against) if args.against else \
        probe_simulators(write_probe="write probe" in (expected.get("uniconta") or {}))
    lines = diff(expected, actual)
    for line in lines:
        print(line)
    other = args.against or "the simulators"
    print(f"{len(lines)} difference(s) between {args.snapshot} and {other}" if lines
          else f"no differences between {args.snapshot} and {other}")
    return 1 if lines else 0
