"""The ``RowId`` cursor of Uniconta's posted classes (docs/staging-cursors.md): read from staging per company, and
added to (and filled in) a staging database created before it existed. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Column, MetaData, Table, create_engine, insert, inspect, select

from tlsync.staging.cursors import high_water
from tlsync.staging.entities import ENTITIES, get
from tlsync.staging.loader import StagingLoader
from tlsync.staging.migrate import current as current_revision
from tlsync.staging.migrate import head, upgrade
from tlsync.staging.tables import STAGING


def test_posted_uniconta_classes_have_a_row_id_cursor_and_nothing_else_does():
    assert {s.qualified for s in ENTITIES if s.row_cursor} == {
        "uniconta.invoices", "uniconta.invoice_lines", "uniconta.gl_transactions"}
    for spec in ENTITIES:
        if spec.row_cursor:
            assert spec.mode == "incremental" and spec.columns["RowId"] == "int"
            assert "row_id" in STAGING[spec.qualified].c


def test_high_water_is_the_highest_staged_row_id_of_the_company(engine):
    spec = get("uniconta.invoice_lines")
    assert high_water(engine, spec, "10001") is None
    loader = StagingLoader(engine)
    loader.load(spec, "10001", "r1", [{"InvoiceNumber": 1, "LineNumber": n, "RowId": 10 + n} for n in (1, 2, 3)])
    loader.load(spec, "10002", "r1", [{"InvoiceNumber": 1, "LineNumber": 1, "RowId": 999}])
    assert high_water(engine, spec, "10001") == 13
    loader.load(spec, "10001", "r2", [{"InvoiceNumber": 9, "LineNumber": 1, "RowId": 120}])
    assert high_water(engine, spec, "10001") == 120
    assert high_water(engine, spec, "10002") == 999


def test_a_database_staged_before_the_cursor_gets_the_column_filled_from_the_payloads(db_url):
    spec = get("uniconta.gl_transactions")
    current = STAGING[spec.qualified]
    old = Table(current.name, MetaData(), *[Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
                                           for c in current.columns if c.name != "row_id"])
    eng = create_engine(db_url)
    try:
        old.create(eng)
        rows = [{"source_system": "uniconta", "tenant": "10001", "natural_key": str(rid), "content_hash": "x",
                 "run_id": "old", "staged_at": datetime(2026, 1, 1), "payload": json.dumps({"RowId": rid})}
                for rid in (5, 77, 41)]
        with eng.begin() as conn:
            conn.execute(insert(old), rows)
        upgrade(eng)                          # the set-up step adopts the database (revision 0001)
        assert "row_id" in {c["name"] for c in inspect(eng).get_columns(current.name)}
        with eng.connect() as conn:
            assert sorted(conn.execute(select(current.c.row_id)).scalars()) == [5, 41, 77]
        assert high_water(eng, spec, "10001") == 77
        assert upgrade(eng) == head() == current_revision(eng), "idempotent"
        with eng.connect() as conn:
            assert sorted(conn.execute(select(current.c.row_id)).scalars()) == [5, 41, 77]
    finally:
        eng.dispose()
