"""The staging schema is owned by Alembic migrations (tlsync.staging.migrate; docs/staging-migrations.md), on
SQLite and a real PostgreSQL database created for each test:

- four first tasks starting at once (separate processes, each ``upgrade`` + a first staging write) on a fresh
  database: no failure (before, three of four concurrent ``create_all`` failed on PostgreSQL's catalog);
- a database created by the schema code of before the migrations (its rendered DDL, kept as a fixture) with rows
  is adopted: rows intact, indexes added, revision at head;
- ``upgrade`` a second time only reads the revision; opening an engine creates nothing;
- an un-migrated database gives the one-line error (library, the nightly's ``begin``, the commands: exit 2);
- Alembic's autogenerate finds no difference between the metadata and a migrated database (no drift).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import event, insert, inspect, select, text

from tlsync.staging.engine import create_staging_engine, display_url
from tlsync.staging.migrate import StagingSchemaError, current, differences, head, require_current, upgrade
from tlsync.staging.tables import STAGING, customer_links, run_entity_counts, sync_ledger, sync_runs

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
INDEXES = {"ix_tlsync_inv_tenant_date", "ix_tlsync_invline_invoice", "ix_tlsync_invdetail_invoice"}

FIRST_TASK = r"""
import sys, time
url, run_id, start = sys.argv[1], sys.argv[2], float(sys.argv[3])
from tlsync.staging.migrate import upgrade
from tlsync import config
from tlsync.staging.engine import staging_engine
from tlsync.nightly import runs
time.sleep(max(0.0, start - time.time()))          # all four begin at the same instant
print(upgrade(url))
runs.start_run(staging_engine(url), run_id)   # the task's first staging write
"""


def run_script(engine, path: Path) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        body = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("--"))
        for statement in filter(None, (s.strip() for s in body.split(";\n"))):
            cur.execute(statement)
        raw.commit()
    finally:
        raw.close()


def test_four_concurrent_first_tasks_on_a_fresh_database_all_succeed(db_url):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "include"), str(ROOT)])}
    start = time.time() + 4
    procs = [subprocess.Popen([sys.executable, "-c", FIRST_TASK, db_url, f"first-{n}", str(start)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in range(4)]
    results = [(p.wait(timeout=240), *p.communicate()) for p in procs]
    failures = [err[-1500:] for rc, _out, err in results if rc != 0]
    assert failures == [], failures
    assert [out.strip() for _rc, out, _err in results] == [head()] * 4
    engine = create_staging_engine(db_url)
    try:
        assert current(engine) == head()
        with engine.connect() as conn:
            assert sorted(conn.execute(select(sync_runs.c.run_id)).scalars()) == [f"first-{n}" for n in range(4)]
        assert differences(engine) == []
    finally:
        engine.dispose()


def test_a_database_created_before_the_migrations_is_adopted_without_loss(db_url):
    dialect = "postgresql" if db_url.startswith("postgresql") else "sqlite"
    engine = create_staging_engine(db_url)
    try:
        run_script(engine, FIXTURES / f"staging_before_migrations.{dialect}.sql")
        assert not INDEXES & {i["name"] for i in inspect(engine).get_indexes("stg_timelog_invoices")}
        now = datetime(2026, 11, 30, 23, 0)
        invoices, gl = STAGING["timelog.invoices"], STAGING["uniconta.gl_transactions"]
        rows = {
            sync_runs: [{"run_id": "old-night", "started_at": now, "status": "success", "calls": {"timelog": 12}}],
            run_entity_counts: [{"run_id": "old-night", "entity": "timelog.invoices", "tenant": "S:1", "extracted": 1,
                                 "unchanged": 0, "staged": 1, "quarantined": 0, "warnings": 0, "removed": 0}],
            invoices: [{"source_system": "timelog", "tenant": "S:1", "natural_key": "GUID-1", "content_hash": "h1",
                        "run_id": "old-night", "staged_at": now, "payload": json.dumps({"InvoiceNo": "1001"}),
                        "invoice_date": now.date(), "amount": Decimal("1234.5600")}],
            gl: [{"source_system": "uniconta", "tenant": "10001", "natural_key": "77", "content_hash": "h2",
                  "run_id": "old-night", "staged_at": now, "payload": json.dumps({"RowId": 77}), "row_id": 77}],
            sync_ledger: [{"domain": "invoice", "legal_entity_id": 1, "source_key": "GUID-1", "state": "done",
                           "target_key": "5001", "attempts": 1, "created_at": now, "updated_at": now}],
            customer_links: [{"legal_entity_id": 1, "debtor_account": "D100", "company_id": "10001",
                              "customer_id": "C7", "state": "linked", "action": "timelog_wins", "updated_at": now}],
        }
        rows[invoices][0] = {k: v for k, v in rows[invoices][0].items() if k in invoices.c}
        with engine.begin() as conn:
            for table, values in rows.items():
                conn.execute(insert(table), values)
        kept = {t.name: {c["name"] for c in inspect(engine).get_columns(t.name)} for t in rows}  # later ones are new
        before = {t.name: _dump(engine, t, kept[t.name]) for t in rows}
        assert current(engine) is None

        assert upgrade(engine) == head()

        assert current(engine) == head()
        assert {t.name: _dump(engine, t, kept[t.name]) for t in rows} == before, "every row kept as it was"
        names = {i["name"] for t in ("stg_timelog_invoices", "stg_timelog_invoice_lines",
                                     "stg_timelog_invoice_line_details") for i in inspect(engine).get_indexes(t)}
        assert INDEXES <= names, "the invoice transfer's indexes are part of the schema now"
        assert differences(engine) == []
    finally:
        engine.dispose()


def _dump(engine, table, columns: set[str]) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(*[c for c in table.c if c.name in columns])
                                               .order_by(*table.primary_key.columns))]


def test_upgrade_at_head_only_reads_the_revision_and_opening_an_engine_creates_nothing(db_url):
    from tlsync.staging.engine import staging_engine
    engine = create_staging_engine(db_url)
    try:
        staging_engine.cache_clear()
        staging_engine(db_url).dispose()
        assert inspect(engine).get_table_names() == [], "opening an engine is not a migration"
        staging_engine.cache_clear()

        assert upgrade(engine) == head()
        statements: list[str] = []
        event.listen(engine, "before_cursor_execute", lambda _c, _cur, sql, *_a: statements.append(sql))
        assert upgrade(engine) == head()
        assert require_current(engine) == head()
        writes = [s for s in statements if not s.lstrip().upper().startswith(("SELECT", "PRAGMA"))]
        assert writes == [], writes
        assert differences(engine) == []
    finally:
        engine.dispose()


def test_an_unmigrated_database_is_one_clear_line_everywhere(db_url, tmp_path, monkeypatch, capsys):
    from tlsync.nightly import pipeline
    from tlsync.staging import deletions, migrate
    from tlsync.staging.engine import staging_engine
    line = (f"staging database {display_url(db_url)} is at revision none (never migrated), the code needs "
            f"{head()}: run `tlsync deploy init`")
    with pytest.raises(StagingSchemaError) as caught:
        require_current(db_url)
    assert str(caught.value) == line and "\n" not in line

    monkeypatch.setenv("TLSYNC_STAGING_URL", db_url)
    monkeypatch.setenv("TLSYNC_OUT_DIR", str(tmp_path / "out"))
    staging_engine.cache_clear()
    try:
        with pytest.raises(StagingSchemaError, match="run `tlsync deploy init`"):
            pipeline.begin("night-1")                  # a task of the nightly never migrates
        engine = staging_engine()
        assert not inspect(engine).has_table("sync_runs")
        assert migrate.main(["current"]) == 2
        assert deletions.main([]) == 2
        from tlsync.reconcile.cli import main as reconcile_main

        assert reconcile_main(["--legal-entity", "1", "--company", "10001"]) == 2
        from tlsync import cli_common

        with pytest.raises(cli_common.SetupError, match="never migrated"):   # linking, customers, items, …: exit 2
            cli_common.staging(db_url)
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [line, line, f"error: {line}"]
    finally:
        staging_engine().dispose()
        staging_engine.cache_clear()

    assert migrate.main(["upgrade"]) == 0
    assert capsys.readouterr().out.strip() == f"staging database {display_url(db_url)} at revision {head()}"
    assert migrate.main(["current"]) == 0


def test_the_display_url_never_shows_the_password():
    shown = display_url("postgresql+psycopg2://tlsync:s3cret-pw@db.example:5432/tlsync")
    assert "s3cret" not in shown and shown == "postgresql+psycopg2://tlsync@db.example:5432/tlsync"


def test_a_database_at_an_older_revision_is_named_with_both_revisions(engine):
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    with pytest.raises(StagingSchemaError, match=rf"is at revision 0000, the code needs {head()}: run"):
        require_current(engine)
