"""What the administrators' commands (``python -m tlsync.items``, ``.expenses``, ``.customers``, ``.linking`` …)
do before their own work: read the integration's settings file, pick the TimeLog legal entity (rules S1/S2),
open the staging database — and stop with exit code 2 and one line per problem when any of that is not usable.

    @cli_common.setup_errors_exit_2()
    def main(argv: list[str] | None = None) -> int:
        args = _parser().parse_args(argv)                      # cli_common.add_setup_arguments(parser)
        le, engine = cli_common.entity_and_staging(args)      # --file, --legal-entity, --staging-url
        ...

No message here ever holds a secret: settings hold none, and Connections are read by
:func:`tlsync.connections.connection_fields`.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from tlsync.clients.errors import SyncAPIError
from tlsync.connections import ConnectionSettingError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from tlsync.settings.models import IntegrationSettings, LegalEntitySettings

EXIT_SETUP = 2
EXIT_BUSY = 3
"""Another writer holds the legal entity's write lease (:class:`tlsync.ledger.lease.LeaseHeld`): nothing written."""
EXIT_GAVE_UP = 1
"""A system stayed unreachable through the client's retries (:class:`tlsync.clients.errors.SyncAPIError`)."""


class SetupError(Exception):
    """The settings, the legal entity, the staging database or a Connection is not usable: exit code 2. The
    message may have several lines (one per problem in the settings file)."""


def add_setup_arguments(parser: argparse.ArgumentParser, *, legal_entity: bool = True,
                        timelog_conn: bool = True) -> None:
    """``--file``, ``--staging-url`` and (optionally) ``--legal-entity``, ``--timelog-conn`` on ``parser``."""
    parser.add_argument("--file", type=Path,
                        help="settings file (default: $TLSYNC_SETTINGS or config/integration.yaml)")
    parser.add_argument("--staging-url", help="staging database URL (default: $TLSYNC_STAGING_URL, else the "
                                                   "embedded SQLite database)")
    if legal_entity:
        parser.add_argument("--legal-entity", type=int, metavar="N",
                            help="TimeLog legal entity (needed when the settings have several)")
    if timelog_conn:
        parser.add_argument("--timelog-conn", metavar="ID", help="Airflow Connection id of TimeLog (default: the "
                                                                 "legal entity's timelog_connection_id)")


def add_review_commands(sub: argparse._SubParsersAction, *, export_help: str, dry_run_help: str) -> None:
    """The Excel round trip of a review: ``export --out FILE.xlsx`` and ``import-decisions FILE.xlsx [--dry-run]``
    (a file with any bad row is refused as a whole, see :mod:`tlsync.excel`)."""
    ex = sub.add_parser("export", help=export_help)
    ex.add_argument("--out", type=Path, required=True)
    im = sub.add_parser("import-decisions", help="apply the Decision column of a review sheet")
    im.add_argument("path", type=Path)
    im.add_argument("--dry-run", action="store_true", help=dry_run_help)


def load_settings(path: str | Path | None) -> IntegrationSettings:
    """The settings file (``path``, else ``$TLSYNC_SETTINGS`` or ``config/integration.yaml``), validated."""
    from tlsync.settings import SettingsError, load, settings_path

    try:
        return load(path or settings_path())
    except SettingsError as exc:
        raise SetupError("\n".join(exc.problems)) from None


def choose_entity(settings: IntegrationSettings, legal_entity_id: int | None) -> LegalEntitySettings:
    """Legal entity ``legal_entity_id`` of the settings; when none is given, the only one there is."""
    if legal_entity_id is not None:
        try:
            return settings.entity(legal_entity_id)
        except KeyError as exc:
            raise SetupError(str(exc.args[0])) from None
    if len(settings.legal_entities) != 1:
        known = ", ".join(str(k) for k in sorted(settings.legal_entities)) or "none"
        raise SetupError(f"the settings have several legal entities ({known}); choose one with --legal-entity N")
    return next(iter(settings.legal_entities.values()))


def legal_entity(path: str | Path | None, legal_entity_id: int | None) -> LegalEntitySettings:
    """:func:`load_settings` then :func:`choose_entity`."""
    return choose_entity(load_settings(path), legal_entity_id)


def staging(url: str | None) -> Engine:
    """The staging database (``url``, else ``$TLSYNC_STAGING_URL`` or the embedded SQLite), checked to be at the
    code's schema revision: a database nobody migrated is a :class:`SetupError` naming it and ``tlsync deploy
    init`` (the commands open an existing database; they never create or alter tables)."""
    from tlsync.staging.migrate import StagingSchemaError, require_current
    from tlsync.sync.config import staging_engine, staging_url

    engine = staging_engine(url or staging_url())
    try:
        require_current(engine)
    except StagingSchemaError as exc:
        raise SetupError(str(exc)) from None
    return engine


def entity_and_staging(args: argparse.Namespace) -> tuple[LegalEntitySettings, Engine]:
    """The legal entity and the staging engine from the options of :func:`add_setup_arguments`."""
    le = legal_entity(args.file, getattr(args, "legal_entity", None))
    return le, staging(args.staging_url)


def setup_failed(exc: BaseException, *, file: TextIO | None = None, prefix: str = "") -> int:
    """Print the problem (to stderr unless ``file`` is given) and return :data:`EXIT_SETUP`."""
    print(f"{prefix}{exc}", file=file or sys.stderr)
    return EXIT_SETUP


def setup_errors_exit_2(*, stdout: bool = False,
                        prefix: str = "") -> Callable[[Callable[..., int]], Callable[..., int]]:
    """Decorate a command's ``main``: a :class:`SetupError` or a
    :class:`~tlsync.connections.ConnectionSettingError` raised in it is printed (stderr, or stdout with
    ``stdout=True``; after ``prefix``) and the exit code is 2; a :class:`~tlsync.ledger.lease.LeaseHeld` (another
    writer has the legal entity) is printed the same way with exit code 3."""
    def decorate(main: Callable[..., int]) -> Callable[..., int]:
        @functools.wraps(main)
        def run(*args, **kwargs) -> int:
            from tlsync.ledger.lease import LeaseHeld

            try:
                return main(*args, **kwargs)
            except (SetupError, ConnectionSettingError) as exc:
                return setup_failed(exc, file=sys.stdout if stdout else None, prefix=prefix)
            except LeaseHeld as exc:   # a second writer of the same legal entity: one line, nothing written
                print(f"{prefix}{exc.message}", file=sys.stdout if stdout else sys.stderr)
                return EXIT_BUSY
            except SyncAPIError as exc:   # a give-up after the client's retries: one line, exit 1
                print(f"{prefix}{give_up_line(exc)}", file=sys.stdout if stdout else sys.stderr)
                return EXIT_GAVE_UP
        return run
    return decorate


def give_up_line(exc: SyncAPIError) -> str:
    """The one line of a command that gave up on a system (unreachable, throttled through every retry, an answer
    lost): what the client said, and that nothing is lost — what was in flight is settled by looking it up on the
    next run, never re-sent blindly (docs/reliability.md)."""
    text = " ".join(str(exc).split())
    return f"stopped: {text} — run the command again later; what was in flight is looked up, not sent twice"
