"""One batch with bad rows through the validate-and-stage step: the good rows are staged, each bad one is
quarantined with a specific reason and its raw payload, and the counts reconcile (issue 4)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from tlsync.nightly.steps import check_something_survived, invalid_path, line_sums, validate_and_stage, write_landing
from tlsync.quality import HardQualityFailure, QualityContext
from tlsync.staging import entities
from tlsync.staging.tables import STAGING, quarantine, run_entity_counts

INVOICES = entities.get("timelog.invoices")


def invoice(i: int, **over) -> dict:
    rec = {"ID": str(i), "InvoiceNumber": f"2026-{i:04d}", "InvoiceDate": "2026-10-01T00:00:00", "Status": "1",
           "Type": "1", "CustomerID": "7", "LegalEntityID": "1", "CurrencyAbb": "DKK", "NetAmount": "1000.0000",
           "VATIncluded": "250.0000", "Amount": "1250.0000"}
    rec.update(over)
    return rec


def context(landing_lines) -> QualityContext:
    return QualityContext(known_currencies=frozenset({"DKK", "EUR"}), date_min=date(2000, 1, 1),
                          date_max=date(2027, 12, 31), line_sums=line_sums(landing_lines, "InvoiceID", "Amount"))


def test_bad_rows_are_quarantined_each_with_its_reason(engine, tmp_path):
    landing = tmp_path / "timelog.invoices.jsonl"
    lines = tmp_path / "timelog.invoice_lines.jsonl"
    batch = [invoice(1), invoice(2), invoice(3, ID=""), invoice(4, CurrencyAbb="XYZ"),
             invoice(5, NetAmount="999.0000"), invoice(6, InvoiceDate="31-02-2026"), invoice(7)]
    write_landing(landing, batch)
    write_landing(lines, [{"ID": str(10 + i), "InvoiceID": str(i), "Amount": "1000.0000"} for i in range(1, 8)])
    write_landing(invalid_path(landing), [{"raw": {"ID": "8", "Amount": "abc"}, "error": "Amount: not a decimal"}])

    counts = validate_and_stage(engine, INVOICES, "SITE:1", "run-1", landing, context(lines))

    assert (counts.extracted, counts.unchanged, counts.staged, counts.quarantined) == (8, 0, 3, 5)
    with engine.connect() as conn:
        staged = sorted(conn.execute(select(STAGING[INVOICES.qualified].c.natural_key)).scalars())
        q = {r.rule: r for r in conn.execute(select(quarantine).where(quarantine.c.run_id == "run-1"))}
        recorded = conn.execute(select(run_entity_counts)).mappings().one()
    assert staged == ["1", "2", "7"]
    assert set(q) == {"key_missing", "currency_unknown", "header_lines_mismatch", "date_unparsable", "schema"}
    assert "CurrencyAbb 'XYZ' is not a currency known" in q["currency_unknown"].reason
    assert "differs from the sum of its lines" in q["header_lines_mismatch"].reason
    assert "'31-02-2026'" in q["date_unparsable"].reason
    assert "invoice in row 3: ID is blank" in q["key_missing"].reason and q["key_missing"].natural_key is None
    assert q["schema"].natural_key == "8" and "Amount: not a decimal" in q["schema"].reason
    assert json.loads(q["currency_unknown"].payload) == invoice(4, CurrencyAbb="XYZ"), "raw payload kept as is"
    assert (recorded["extracted"], recorded["staged"], recorded["quarantined"]) == (8, 3, 5)

    # The same file again (a retried task): nothing restaged, the quarantine not doubled.
    again = validate_and_stage(engine, INVOICES, "SITE:1", "run-1", landing, context(lines))
    assert (again.unchanged, again.staged, again.quarantined) == (3, 0, 5)
    with engine.connect() as conn:
        assert len(conn.execute(select(quarantine)).all()) == 5


def test_all_bad_is_a_hard_failure_only_for_a_real_feed(engine, tmp_path):
    ctx = QualityContext(known_currencies=frozenset({"DKK"}), date_min=date(2000, 1, 1), date_max=date(2027, 1, 1))
    few, many = tmp_path / "few.jsonl", tmp_path / "many.jsonl"
    write_landing(few, [invoice(1, CurrencyAbb="XYZ"), invoice(2, CurrencyAbb="ABC")])
    write_landing(many, [invoice(i, CurrencyAbb="XYZ") for i in range(10, 22)])
    small = validate_and_stage(engine, INVOICES, "A", "run-1", few, ctx)
    check_something_survived([small], "run-1")   # two bad invoices on a quiet night: quarantined, not fatal
    broken = validate_and_stage(engine, INVOICES, "B", "run-1", many, ctx)
    with pytest.raises(HardQualityFailure,
                       match=r"timelog.invoices@B: the API reported 12 records but we staged 0 \(12 quarantined\)"):
        check_something_survived([small, broken], "run-1")
    with engine.connect() as conn:
        assert len(conn.execute(select(quarantine)).all()) == 14, "the reasons are kept even when the task fails"


def test_line_sums_are_decimal(tmp_path):
    lines = tmp_path / "l.jsonl"
    write_landing(lines, [{"InvoiceID": "1", "Amount": "0.1000"}, {"InvoiceID": "1", "Amount": "0.2000"}])
    assert line_sums(lines, "InvoiceID", "Amount") == {"1": Decimal("0.3000")}
