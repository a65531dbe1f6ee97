"""The DDL under sql/ is the metadata rendered for each dialect, and it really creates the schema the migrations
create (indexes included), stamped with their head revision."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, inspect

from tlsync.staging.ddl import DIALECTS, render
from tlsync.staging.migrate import differences, head, require_current
from tlsync.staging.tables import metadata

SQL = Path(__file__).resolve().parents[2] / "sql"


def test_sql_files_match_the_metadata():
    for name in DIALECTS:
        assert (SQL / name / "staging.sql").read_text(encoding="utf-8") == render(name), (
            f"sql/{name}/staging.sql is stale: run `make ddl`")


def test_ddl_files_create_every_table(db_url):
    dialect = "postgresql" if db_url.startswith("postgresql") else "sqlite"
    engine = create_engine(db_url)
    script = (SQL / dialect / "staging.sql").read_text(encoding="utf-8")
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        without_comments = "\n".join(line for line in script.splitlines() if not line.startswith("--"))
        for statement in filter(None, (s.strip() for s in without_comments.split(";\n"))):
            cur.execute(statement)
        raw.commit()
    finally:
        raw.close()
    assert set(inspect(engine).get_table_names()) == set(metadata.tables) | {"alembic_version"}
    # the file's schema is the migrations' schema: the database counts as migrated and nothing differs
    assert require_current(engine) == head()
    assert differences(engine) == []
    engine.dispose()
