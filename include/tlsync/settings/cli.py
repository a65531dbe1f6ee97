"""``python -m tlsync.settings`` — look at, check, create and reset the integration settings.

    show                         print the settings (as stored, normalised) and what blocks invoice transfer
                                 (reads staging to know which companies lack the project module)
    validate                     check the file, then every value against the staged Uniconta data
                                 (``TLSYNC_STAGING_URL``); one problem per line
    init [--pair LE=COMPANY ...] write a starter file (refuses to overwrite without --force)
    reset --legal-entity N       NULSTIL (rule S1): forget the Uniconta login and company, un-confirm the
                                 activation checklist and delete that entity's customer links

``--file PATH`` overrides ``TLSYNC_SETTINGS``. Exit code 0 = fine, 1 = problems found, 2 = usage error.
Warnings (rule I3) are printed but do not fail ``validate``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tlsync import cli_common

from .checks import project_module, reset, validate_against_staging
from .models import IntegrationSettings, LegalEntitySettings
from .store import SettingsError, dumps_yaml, load, save, settings_path


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tlsync.settings", description=__doc__.split("\n\n")[0])
    p.add_argument("--settings", "--file", dest="file", type=Path,
                   help="settings file (default: $TLSYNC_SETTINGS or config/integration.yaml)")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("show", help="print the settings and what blocks invoice transfer")
    sub.add_parser("validate", help="check the settings against the staged Uniconta data")
    init = sub.add_parser("init", help="write a starter settings file")
    init.add_argument("--pair", action="append", default=[], metavar="LE=COMPANY",
                      help="TimeLog legal entity id = Uniconta company id (repeatable; rule S2)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    r = sub.add_parser("reset", help="NULSTIL: disconnect one legal entity from Uniconta (rule S1)")
    r.add_argument("--legal-entity", type=int, required=True, metavar="N")
    return cli_common.options_anywhere(p)


def _problems(lines: list[str]) -> int:
    for line in lines:
        print(line)
    return 1 if lines else 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    path = args.file or settings_path()
    try:
        if args.command == "init":
            return _init(path, args.pair, args.force)
        settings = load(path)
    except SettingsError as exc:     # show/validate inspect the file: its problems are their finding (1);
        if args.command in ("show", "validate"):       # an action (reset) cannot start without it: set-up error (2)
            return _problems(exc.problems)
        print("\n".join(exc.problems), file=sys.stderr)
        return cli_common.EXIT_SETUP

    if args.command == "show":
        sys.stdout.write(dumps_yaml(settings))
        for w in settings.warnings():
            print(f"# warning: {w}")
        modules = _project_modules(settings)
        for le_id, le in sorted(settings.legal_entities.items()):
            for b in le.invoice_transfer_blockers(project_module=modules.get(le_id, True)):
                print(f"# {b}")
        return 0
    if args.command == "validate":
        from tlsync.cli_common import SetupError, staging

        try:
            engine = staging(None)
        except SetupError as exc:   # a staging database nobody migrated: one line, exit 2
            print(exc, file=sys.stderr)
            return 2
        problems = validate_against_staging(settings, engine)
        for w in settings.warnings():
            print(f"warning: {w}")
        if not problems:
            n = len(settings.legal_entities)
            print(f"{path}: {n} legal entit{'y' if n == 1 else 'ies'}, no problems")
        return _problems(problems)
    if args.command == "reset":
        from tlsync.cli_common import SetupError, staging

        try:
            le = settings.entity(args.legal_entity)
        except KeyError as exc:
            print(exc.args[0], file=sys.stderr)
            return cli_common.EXIT_SETUP
        try:
            engine = staging(None)
        except SetupError as exc:   # a staging database nobody migrated: one line, exit 2
            print(exc, file=sys.stderr)
            return 2
        conn_id = le.uniconta_connection_id
        save(reset(settings, args.legal_entity, engine), path)
        print(f"legal entity {args.legal_entity}: Uniconta login and company cleared, activation unconfirmed, "
              f"customer links deleted (rule S1)")
        if conn_id:
            print(f"the password is stored in Airflow Connection {conn_id!r}; delete it there if it is no longer "
                  f"used: airflow connections delete {conn_id}")
        return 0
    return 2  # pragma: no cover - argparse rejects unknown commands


def _project_modules(settings: IntegrationSettings) -> dict[int, bool]:
    """Which companies have the project module, where their reference data is staged (else unknown: assumed)."""
    from sqlalchemy.exc import SQLAlchemyError

    from tlsync.staging.engine import default_url as staging_url
    from tlsync.staging.engine import staging_engine

    from .checks import staged_company

    try:
        engine = staging_engine(staging_url())
        return {le_id: project_module(engine, le.uniconta_company_id)
                for le_id, le in settings.legal_entities.items()
                if le.uniconta_company_id is not None and staged_company(engine, le.uniconta_company_id)}
    except SQLAlchemyError:
        return {}


def _init(path: Path, pairs: list[str], force: bool) -> int:
    if path.exists() and not force:
        return _problems([f"{path} exists already; use --force to overwrite it"])
    entities: dict[int, LegalEntitySettings] = {}
    try:
        for pair in pairs or ["1="]:
            le_id, _, company = pair.partition("=")
            entities[int(le_id)] = LegalEntitySettings(legal_entity_id=int(le_id),
                                                        uniconta_company_id=int(company) if company else None)
        settings = IntegrationSettings(legal_entities=entities)
    except ValueError as exc:
        return _problems([f"--pair must be LE=COMPANY with numbers, each company once (rule S2): {exc}"])
    save(settings, path)
    print(f"wrote {path}; fill in the defaults, then run `python -m tlsync.settings validate`")
    return 0
