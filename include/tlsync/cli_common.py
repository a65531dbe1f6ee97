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
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

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
    parser.add_argument("--settings", "--file", dest="file", type=Path,
                        help="settings file (default: $TLSYNC_SETTINGS or config/integration.yaml)")
    parser.add_argument("--staging-url", "--db", dest="staging_url",
                        help="staging database URL (default: $TLSYNC_STAGING_URL, else the embedded SQLite database)")
    if legal_entity:
        parser.add_argument("--legal-entity", type=int, metavar="N",
                            help="TimeLog legal entity (needed when the settings have several)")
    if timelog_conn:
        parser.add_argument("--timelog-conn", metavar="ID", help="Airflow Connection id of TimeLog (default: the "
                                                                 "legal entity's timelog_connection_id)")


def options_anywhere(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Let every verb of ``parser`` take the parser's own options after the verb too — ``tlsync items list
    --legal-entity 1`` and ``tlsync items --legal-entity 1 list`` mean the same (issue 12: one dialect). Call it
    once the verbs are added. A copy given after the verb wins; one not given leaves the value before the verb."""
    import copy

    shared = [a for a in parser._actions if a.option_strings and not isinstance(a, argparse._HelpAction)]
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for verb in {id(p): p for p in action.choices.values()}.values():
            taken = {o for a in verb._actions for o in a.option_strings}
            for option in shared:
                if taken.isdisjoint(option.option_strings):
                    twin = copy.copy(option)
                    twin.default, twin.required, twin.help = argparse.SUPPRESS, False, argparse.SUPPRESS
                    verb._add_action(twin)
    return parser


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
    from tlsync.staging.engine import default_url as staging_url
    from tlsync.staging.engine import staging_engine
    from tlsync.staging.migrate import StagingSchemaError, require_current
    engine = staging_engine(url or staging_url())
    try:
        require_current(engine)
    except StagingSchemaError as exc:
        raise SetupError(str(exc)) from None
    return engine


def write_clients(le: LegalEntitySettings, stack: ExitStack) -> tuple[Any, Any]:
    """The clients a write command needs for legal entity ``le``: Uniconta (its chosen company) and TimeLog's
    Transactional API, from the Connections the settings name (:func:`tlsync.connections.connection_fields`);
    closed by ``stack``. No Uniconta connection (reset with NULSTIL) is a :class:`SetupError` (rule S1)."""
    from tlsync import connections

    if not le.uniconta_connection_id or le.uniconta_company_id is None:
        raise SetupError(f"{le.label}: no Uniconta connection or company chosen (reset with NULSTIL?) (rule S1)")
    tl = stack.enter_context(connections.timelog_source(**connections.connection_fields(le.timelog_connection_id)))
    uc = connections.uniconta_client(company_id=le.uniconta_company_id,
                                     **connections.connection_fields(le.uniconta_connection_id))
    stack.callback(uc.close)
    return uc, tl.transactional


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
