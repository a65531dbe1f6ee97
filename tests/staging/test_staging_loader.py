"""The bulk loader: upsert on (tenant, natural key), unchanged rows never rewritten, same on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tlsync.staging import entities
from tlsync.staging.loader import StagingLoader
from tlsync.staging.tables import STAGING

INVOICES = entities.get("timelog.invoices")


def _invoice(i: int, amount: str = "1250.0000") -> dict:
    return {"ID": str(i), "InvoiceNumber": f"2024-{i:04d}", "InvoiceDate": "2024-03-01T00:00:00", "Status": "1",
            "Type": "1", "CustomerID": "7", "CurrencyAbb": "DKK", "NetAmount": "1000.0000",
            "VATIncluded": "250.0000", "Amount": amount}


def _count(engine, spec=INVOICES) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(STAGING[spec.qualified])).scalar_one()


def test_load_then_reload_writes_nothing(engine):
    loader = StagingLoader(engine, chunk_size=7)
    records = [_invoice(i) for i in range(1, 51)]
    assert loader.load(INVOICES, "SITE", "run-1", records) == 50
    assert _count(engine) == 50
    assert loader.load(INVOICES, "SITE", "run-2", records) == 0, "unchanged rows must not be rewritten"
    with engine.connect() as conn:
        runs = {r for (r,) in conn.execute(select(STAGING[INVOICES.qualified].c.run_id))}
    assert runs == {"run-1"}


def test_changed_rows_only_are_restaged(engine):
    loader = StagingLoader(engine)
    loader.load(INVOICES, "SITE", "run-1", [_invoice(i) for i in range(1, 21)])
    changed = [_invoice(i, "1300.0000" if i in (3, 9) else "1250.0000") for i in range(1, 21)]
    assert loader.load(INVOICES, "SITE", "run-2", changed) == 2
    table = STAGING[INVOICES.qualified]
    with engine.connect() as conn:
        rows = conn.execute(select(table.c.natural_key, table.c.amount, table.c.run_id)
                            .where(table.c.run_id == "run-2")).all()
    assert sorted((k, a) for k, a, _ in rows) == [("3", Decimal("1300.0000")), ("9", Decimal("1300.0000"))]
    assert _count(engine) == 20


def test_tenants_are_separate_and_hashes_listed(engine):
    loader = StagingLoader(engine)
    loader.load(INVOICES, "A", "r", [_invoice(1)])
    loader.load(INVOICES, "B", "r", [_invoice(1)])
    assert _count(engine) == 2
    hashes = loader.existing_hashes(INVOICES, "A")
    assert list(hashes) == ["1"] and len(hashes["1"]) == 64


def test_record_without_key_is_refused_with_a_clear_error(engine):
    bad = _invoice(1)
    bad["ID"] = ""
    with pytest.raises(ValueError, match="timelog.invoices: record without natural key"):
        StagingLoader(engine).load(INVOICES, "SITE", "r", [bad])


@pytest.mark.parametrize("first_load", [True, False], ids=["first-load", "reload"])
def test_a_key_repeated_in_later_chunks_ends_as_its_last_record(engine, first_load):
    """PostgreSQL loads two chunks at once (``COPY_STREAMS``); a chunk holding a key of one still in flight waits
    for it, so a repeated key ends as the later record exactly as when the chunks go one by one."""
    loader = StagingLoader(engine, chunk_size=5)
    if not first_load:
        loader.load(INVOICES, "SITE", "run-0", [_invoice(i, "1.0000") for i in range(1, 41)])
    records = [_invoice(i) for i in range(1, 41)]
    records[17] = _invoice(3, "3333.0000")      # chunk 4 repeats a key of chunk 1,
    records[33] = _invoice(3, "4444.0000")      # chunk 7 repeats it again,
    records[6] = _invoice(12, "1212.0000")      # chunk 2 repeats a key chunk 3 also holds
    for _ in range(3):
        loader.load(INVOICES, "SITE", "run-1", records)
        table = STAGING[INVOICES.qualified]
        with engine.connect() as conn:
            amounts = dict(conn.execute(select(table.c.natural_key, table.c.amount)).all())
        assert amounts["3"] == Decimal("4444.0000") and amounts["12"] == Decimal("1250.0000")
        assert len(amounts) == (37 if first_load else 40)     # 7, 18 and 34 were replaced by repeats
