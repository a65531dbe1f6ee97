"""The PostgreSQL COPY path's fast typed columns (issue 18) stage exactly what the per-field converters stage:
every odd value takes the slow path and ends up as on SQLite; the content hash is the canonical JSON's."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from tlsync.staging import entities
from tlsync.staging.loader import StagingLoader, canonical_json, content_hash, to_copy_text, to_rows
from tlsync.staging.tables import STAGING

LINES = entities.get("timelog.invoice_lines")
STAGED_AT = datetime(2026, 12, 1, 3, 0, 0)


def _line(i: int, **over) -> dict:
    return {"ID": str(i), "InvoiceID": "42", "Quantity": "7.5000", "Rate": "950.0000", "Amount": "7125.0000",
            "ProductNo": "TIME-1", "Text": "Konsulentbistand", **over}


ODD = [
    _line(1),                                             # the common record: fast path
    _line(2, InvoiceID=42, Quantity=7.5),                 # numbers, not strings
    _line(3, ProductNo=""),                               # empty → NULL
    _line(4, ProductNo="x" * 450),                        # longer than the column: cut to 400
    _line(5, ProductNo="a\tb\\c\nd"),                     # needs COPY escapes
    _line(6, InvoiceID="12345678901"),                    # beyond the fast int form, still an int
    _line(7, Amount="n/a", Rate="1e3"),                   # unparsable → NULL, exponent → parsed
    _line(8, Quantity="-3"),                              # negative whole number
    {k: v for k, v in _line(9).items() if k != "Rate"},   # a field missing
    _line(10, ProductNo=None, InvoiceID=None),            # explicit nulls
    _line(11, ProductNo="  spaced  ", Text="tab\there"),  # payload text with a tab; column kept as is
    {**_line(12), "ID": " 12 "},                          # key trimmed
    {**_line(13), "ID": 13},                              # key as a number
    _line(14, ProductNo="ÆØÅ-æøå €"),                     # non-ASCII
]


def test_copy_text_has_one_line_per_record_with_the_canonical_hash():
    text, n = to_copy_text(LINES, "SITE:1", "run-1", STAGED_AT, ODD)
    assert n == len(ODD) and text.count("\n") == len(ODD)
    rows = to_rows(LINES, "SITE:1", "run-1", STAGED_AT, ODD)
    for line, row, payload in zip(text.splitlines(), rows, ODD):
        fields = line.split("\t")
        assert fields[2] == row["natural_key"]
        assert fields[3] == row["content_hash"] == content_hash(canonical_json(payload))


def test_fast_and_slow_typed_columns_stage_the_same_values(engine):
    loader = StagingLoader(engine, chunk_size=5)
    assert loader.load(LINES, "SITE:1", "run-1", ODD, staged_at=STAGED_AT) == len(ODD)
    table = STAGING[LINES.qualified]
    columns = [c for c in ("invoice_id", "quantity", "rate", "amount", "product_no")]
    with engine.connect() as conn:
        staged = {r.natural_key: r for r in conn.execute(select(table).where(table.c.tenant == "SITE:1"))}
    expected = to_rows(LINES, "SITE:1", "run-1", STAGED_AT, ODD)
    assert len(staged) == len(expected)
    for row in expected:
        got = staged[row["natural_key"]]
        assert got.content_hash == row["content_hash"]
        for column in columns:
            assert getattr(got, column) == row[column], (row["natural_key"], column, getattr(got, column))
    assert staged["5"].product_no == "a\tb\\c\nd"
    assert staged["4"].product_no == "x" * 400
    assert staged["3"].product_no is None and staged["7"].amount is None
    assert staged["6"].invoice_id is None, "beyond the INTEGER column: NULL on both databases (payload keeps it)"
