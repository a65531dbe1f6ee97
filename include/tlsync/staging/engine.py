"""The one factory of staging engines: a SQLAlchemy URL in, an :class:`~sqlalchemy.Engine` out — and no DDL.

Opening a staging database never creates or alters a table: the schema is owned by the Alembic migrations in
``tlsync/staging/migrations`` and applied once by the set-up step (:func:`tlsync.staging.migrate.upgrade`,
``tlsync deploy init``). Decision (issue 11): creating tables as a side effect of opening an engine made the
first tasks of a night under the CeleryExecutor race each other on PostgreSQL's catalog
(``UniqueViolation … pg_type_typname_nsp_index``).

- **SQLite** (the embedded default): WAL journal, ``synchronous=NORMAL`` and a 60 s busy timeout, so that the
  parallel tasks of a local run wait for each other's write locks instead of failing.
- **PostgreSQL** (production): ``pool_pre_ping`` so that a connection the server closed overnight is replaced
  instead of failing the first query of a task.

:func:`staging_engine` keeps one engine per URL and process on top of :func:`create_staging_engine`; the URL is
``TLSYNC_STAGING_URL`` (:mod:`tlsync.config`, the one reader of the environment).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

from tlsync import config

SQLITE_BUSY_TIMEOUT_S = 60


def default_url() -> str:
    """``TLSYNC_STAGING_URL``, else the embedded SQLite database ``staging.db`` in ``TLSYNC_OUT_DIR`` (default
    ``<project>/out``, created when missing) — both read through :mod:`tlsync.config`."""
    url: str = config.value("TLSYNC_STAGING_URL")
    return url or f"sqlite:///{config.out_dir() / 'staging.db'}"


@lru_cache(maxsize=8)
def staging_engine(url: str | None = None) -> Engine:
    """One engine per URL and process (:func:`create_staging_engine`: SQLite WAL and busy timeout, PostgreSQL
    pre-ping). Creates no table: the schema is migrated by the set-up step (:func:`tlsync.staging.migrate.upgrade`,
    docs/staging-migrations.md). Tests that change ``TLSYNC_STAGING_URL`` call ``staging_engine.cache_clear()``."""
    return create_staging_engine(url or default_url())


def create_staging_engine(url: str) -> Engine:
    """A new engine on the staging database at ``url`` with the dialect's settings above (no tables touched)."""
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def display_url(url: str | Engine) -> str:
    """``url`` without its password, for messages and logs."""
    u = url.url if isinstance(url, Engine) else make_url(url)
    bare = URL.create(u.drivername, username=u.username, host=u.host, port=u.port, database=u.database, query=u.query)
    return bare.render_as_string(hide_password=False)
