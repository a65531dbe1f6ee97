"""The staging schema's migrations (Alembic): apply them once at set-up, check them when a run starts.

The schema of the staging database — staging tables, run bookkeeping, quarantine, deletions audit, customer links
and the sync ledger — is owned by the revisions in ``tlsync/staging/migrations/versions`` and changes only through
:func:`upgrade`, which the set-up step runs (``tlsync deploy init``; ``make run``, ``tlsync.nightly.local``, the
benchmarks and the tests' fixtures call it too). Nothing else creates or alters a staging table: a task of a DAG
only checks the revision (:func:`require_current`), so that a night on a database nobody migrated fails at once
with one line instead of somewhere in the middle.

Decisions (issue 11 item 4, issue 12 item 1):

- **Serialised across processes.** PostgreSQL: the upgrade runs inside a session-level ``pg_advisory_lock`` on
  :data:`LOCK_KEY`; SQLite: inside an exclusive ``flock`` on ``<database file>.migrate.lock``. Four first tasks
  that start the same second therefore wait for each other, and the later ones find the schema at head; before
  this, three of four concurrent ``CREATE TABLE``\\ s failed on PostgreSQL's catalog
  (``UniqueViolation … pg_type_typname_nsp_index``).
- **Fast at head.** The revision is read first without the lock (one ``SELECT`` of ``alembic_version``).
- **Adoption.** A database created before the migrations existed (by ``create_all`` and the removed add-missing-
  column helpers; no ``alembic_version`` table) is brought to revision 0001's shape without losing a row:
  revision 0001 creates only the tables that are missing, adds the ``row_id`` cursor column (filled from the
  stored payloads) and ``run_entity_counts.removed`` where they are missing, and creates the indexes that are
  missing; then Alembic stamps it. Later revisions are ordinary ones.
- **One metadata.** :mod:`tlsync.staging.tables` declares the schema (indexes included); the test suite compares
  it with a migrated database (Alembic's autogenerate) on SQLite and PostgreSQL, so the two cannot drift. How to
  add a revision: docs/staging-migrations.md.

Command line: ``python -m tlsync.staging.migrate upgrade|current [--staging-url URL]`` and
``revision -m "what changes"`` (autogenerates the next numbered revision from the metadata).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from .engine import create_staging_engine, default_url, display_url

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
LOCK_KEY = 0x746C73796E63   # "tlsync" in ASCII: the advisory-lock key of staging migrations on PostgreSQL
EXIT_SETUP = 2


class StagingSchemaError(RuntimeError):
    """The staging database is not at the revision the code needs (one line: which database, which revisions,
    what to run)."""


def alembic_config(connection: Connection | None = None) -> Config:
    """The package's Alembic configuration (no ``alembic.ini`` needed); ``connection``: run on that one."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    """The revision the code needs (the newest one in ``migrations/versions``)."""
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None, "no staging migration found"
    return revision


@contextlib.contextmanager
def _engine(engine_or_url: Engine | str | None) -> Iterator[Engine]:
    if isinstance(engine_or_url, Engine):
        yield engine_or_url
        return
    engine = create_staging_engine(engine_or_url or default_url())
    try:
        yield engine
    finally:
        engine.dispose()


def _revision_of(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _missing_sqlite_file(engine: Engine) -> bool:
    """A SQLite file that does not exist (checking must not create it)."""
    db = engine.url.database
    return engine.dialect.name == "sqlite" and db not in (None, "", ":memory:") and not Path(db).exists()


def current(engine_or_url: Engine | str | None = None) -> str | None:
    """The staging database's revision; ``None`` when it was never migrated (empty, or created before the
    migrations existed)."""
    with _engine(engine_or_url) as engine:
        if _missing_sqlite_file(engine):
            return None
        with engine.connect() as conn:
            return _revision_of(conn)


def require_current(engine_or_url: Engine | str | None = None) -> str:
    """The revision, when it is the code's; else :class:`StagingSchemaError` with the one line an operator needs."""
    with _engine(engine_or_url) as engine:
        try:
            found = current(engine)
        except Exception as exc:  # noqa: BLE001 - unreachable server, bad URL: the same one line
            raise StagingSchemaError(f"staging database {display_url(engine)} cannot be read "
                                     f"({str(exc).splitlines()[0]})") from None
        needed = head()
        if found != needed:
            raise StagingSchemaError(
                f"staging database {display_url(engine)} is at revision {found or 'none (never migrated)'}, the "
                f"code needs {needed}: run `tlsync deploy init`")
        return found


def differences(engine_or_url: Engine | str | None = None) -> list[Any]:
    """What Alembic's autogenerate would change to make the database match :mod:`tlsync.staging.tables` (tables,
    columns, types, server defaults, indexes); ``[]`` when the schema is exactly the metadata's."""
    from alembic.autogenerate import compare_metadata

    from .tables import EXPRESSION_INDEXES, metadata

    def comparable(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        return not (type_ == "index" and name in EXPRESSION_INDEXES)   # see tables.EXPRESSION_INDEXES

    with _engine(engine_or_url) as engine, engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True,
                                                     "include_object": comparable})
        found: list[Any] = compare_metadata(ctx, metadata)
        return found


@contextlib.contextmanager
def _serialised(engine: Engine, conn: Connection) -> Iterator[None]:
    """Hold the migration lock of this database (see the module docstring) for the block."""
    if engine.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": LOCK_KEY})
        conn.commit()
        try:
            yield
        finally:
            conn.rollback()
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
            conn.commit()
    elif engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        import fcntl

        lock_path = Path(str(engine.url.database) + ".migrate.lock")
        with open(lock_path, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    else:  # an in-memory SQLite database belongs to one process
        yield


def upgrade(engine_or_url: Engine | str | None = None) -> str:
    """Bring the staging database to the code's revision and return it. Idempotent; one ``SELECT`` when already
    there; serialised across processes; adopts a database created before the migrations (module docstring)."""
    needed = head()
    with _engine(engine_or_url) as engine:
        with engine.connect() as conn:
            if _revision_of(conn) == needed:
                return needed
        with engine.connect() as conn, _serialised(engine, conn):
            found = _revision_of(conn)
            conn.commit()
            if found != needed:
                log.info("staging database %s: migrating from revision %s to %s", display_url(engine),
                         found or "none", needed)
                command.upgrade(alembic_config(conn), "head")
                conn.commit()
            found = _revision_of(conn)
            conn.commit()
        return found or ""


def revision(message: str, url: str | None = None) -> Path:
    """Autogenerate the next numbered revision (``0002_…``) from the difference between
    :mod:`tlsync.staging.tables` and a database at head (``url``; default a throw-away SQLite file). Review the
    file before committing it (docs/staging-migrations.md)."""
    import tempfile

    script = ScriptDirectory.from_config(alembic_config())
    numbers = [int(r.revision) for r in script.walk_revisions() if r.revision.isdigit()]
    rev_id = f"{max(numbers, default=0) + 1:04d}"
    with contextlib.ExitStack() as stack:
        if url is None:
            folder = stack.enter_context(tempfile.TemporaryDirectory())
            url = f"sqlite:///{folder}/head.db"
        engine = stack.enter_context(_engine(url))
        upgrade(engine)
        with engine.connect() as conn:
            made = command.revision(alembic_config(conn), message=message, autogenerate=True, rev_id=rev_id)
    scripts = made if isinstance(made, list) else [made]
    if scripts[0] is None:
        raise RuntimeError(f"alembic wrote no revision for {message!r}")
    return Path(scripts[0].path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tlsync.staging.migrate",
                                     description="Migrations of the staging database (docs/staging-migrations.md).")
    parser.add_argument("--staging-url", help="staging database URL (default: $TLSYNC_STAGING_URL, else the "
                                              "embedded SQLite database)")
    sub = parser.add_subparsers(dest="verb", required=True)
    sub.add_parser("upgrade", help="create or upgrade the schema to the code's revision (safe to run concurrently)")
    sub.add_parser("current", help="show the database's revision and the code's; exit 2 when they differ")
    rev = sub.add_parser("revision", help="autogenerate the next revision from the tables' metadata")
    rev.add_argument("-m", "--message", required=True)
    args = parser.parse_args(argv)
    url = args.staging_url or default_url()
    try:
        if args.verb == "upgrade":
            print(f"staging database {display_url(url)} at revision {upgrade(url)}")
        elif args.verb == "current":
            print(f"staging database {display_url(url)} at revision {require_current(url)} (the code's)")
        else:
            print(revision(args.message, args.staging_url))
    except StagingSchemaError as exc:
        print(exc, file=sys.stderr)
        return EXIT_SETUP
    return 0


if __name__ == "__main__":
    sys.exit(main())
