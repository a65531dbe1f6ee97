"""Alembic environment of the staging database (docs/staging-migrations.md).

Run through :mod:`tlsync.staging.migrate` (``upgrade``: serialised across processes, adopts databases created
before the migrations; ``revision``: autogenerate the next numbered revision), or with the ``alembic`` command and
``include/tlsync/staging/alembic.ini``. The database is the connection handed over in ``config.attributes``, else
``-x url=…``, else ``sqlalchemy.url``, else ``TLSYNC_STAGING_URL`` / the embedded SQLite default.

``render_as_batch``: SQLite cannot alter most column properties in place; batch operations recreate the table
with its rows there and are plain ``ALTER TABLE`` on PostgreSQL.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from tlsync.staging.engine import create_staging_engine, default_url
from tlsync.staging.tables import metadata

config = context.config


def _configure_and_run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True,
                      compare_server_default=False)
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    return (context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
            or default_url())


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
elif config.attributes.get("connection") is not None:
    _configure_and_run(config.attributes["connection"])
else:
    engine = create_staging_engine(_url())
    try:
        with engine.connect() as connection:
            _configure_and_run(connection)
            connection.commit()
    finally:
        engine.dispose()
