"""Hostile input is quarantined, never fatal (issue 17): ≥ 40 kinds of bad record, each with its expected outcome.

Every kind is one record among good ones of its entity, written to a landing file and passed through the real
validate-and-stage step on SQLite and on PostgreSQL (where COPY used to fail on one amount of 1e20 or one NUL
byte and stop the whole night). Per kind: quarantined with the expected rule and its raw payload kept, or staged
(harmless oddities: tabs, HTML, formulas, emoji, a bad CVR checksum — a warning). Per entity: the invariant
extracted = unchanged + staged + quarantined, and the night goes on (no hard failure). Transfer-side kinds (a
shared invoice number, a negative "invoice") are held back with a reason: ``test_held_back_from_transfer``.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from tlsync.nightly.steps import check_something_survived, line_sums, validate_and_stage, write_landing
from tlsync.quality import QualityContext
from tlsync.staging import entities
from tlsync.staging.tables import STAGING, quarantine

STAGED = "staged"
BIG = "100000000000000000000"          # 1e20: "numeric field overflow" at PostgreSQL's COPY before issue 17

BASE = {
    "timelog.invoices": lambda i: {
        "ID": str(i), "InvoiceNumber": f"2026-{i:04d}", "InvoiceDate": "2026-10-01T00:00:00", "Status": "1",
        "Type": "1", "CustomerID": "7", "LegalEntityID": "1", "CurrencyAbb": "DKK", "NetAmount": "1000.0000",
        "VATIncluded": "250.0000", "Amount": "1250.0000", "ExternalInvoiceNo": ""},
    "timelog.invoice_lines": lambda i: {
        "ID": str(i), "InvoiceID": "1", "Quantity": "2.0000", "Rate": "500.0000", "Amount": "1000.0000",
        "ProductNo": "KONS"},
    "timelog.customers": lambda i: {
        "ID": str(i), "No": f"{10000 + i}", "Name": f"Kunde {i} ApS", "VATNo": "", "CreatedAt": "2025-01-01T00:00:00",
        "LastModifiedAt": "2026-10-01T00:00:00"},
    "uniconta.debtors": lambda i: {"Account": f"{20000 + i}", "Name": f"Debitor {i} A/S", "CompanyRegNo": "",
                                   "Phone": "12345678"},
    "uniconta.invoices": lambda i: {
        "InvoiceNumber": str(i), "Account": "20001", "Date": "2026-10-01", "NetAmount": 1000.0, "LineAmount": 1000.0,
        "TotalAmount": 1250.0, "Currency": "DKK", "RowId": i},
    "uniconta.invoice_lines": lambda i: {
        "InvoiceNumber": "1", "LineNumber": i, "Item": "KONS", "InvoiceQty": 2.0, "SalesPrice": 500.0,
        "InvoiceNetAmount": 1000.0, "RowId": i},
    "uniconta.gl_transactions": lambda i: {"RowId": i, "Account": "1010", "Date": "2026-10-01", "Amount": 125.5},
}

# (kind, entity, changes, expected: rule id or STAGED)
KINDS = [
    ("amount 1e20 in a TimeLog invoice", "timelog.invoices", {"NetAmount": BIG}, "schema"),
    ("amount that is not a number", "timelog.invoices", {"Amount": "abc"}, "schema"),
    ("amount NaN", "timelog.invoices", {"VATIncluded": "NaN"}, "schema"),
    ("amount Infinity", "timelog.invoices", {"Amount": "Infinity"}, "schema"),
    ("Danish decimal comma", "timelog.invoices", {"Amount": "1.250,00"}, "schema"),
    ("unknown currency (TimeLog)", "timelog.invoices", {"CurrencyAbb": "XYZ"}, "currency_unknown"),
    ("blank currency (TimeLog)", "timelog.invoices", {"CurrencyAbb": ""}, "currency_unknown"),
    ("impossible date", "timelog.invoices", {"InvoiceDate": "31-02-2026"}, "date_unparsable"),
    ("date in 1899", "timelog.invoices", {"InvoiceDate": "1899-01-01T00:00:00"}, "date_out_of_range"),
    ("date far in the future", "timelog.invoices", {"InvoiceDate": "2199-01-01T00:00:00"}, "date_out_of_range"),
    ("unknown status", "timelog.invoices", {"Status": "99"}, "enum_invalid"),
    ("unknown invoice type", "timelog.invoices", {"Type": "7"}, "enum_invalid"),
    ("header differs from its lines", "timelog.invoices", {"NetAmount": "999.0000"}, "header_lines_mismatch"),
    ("blank ID", "timelog.invoices", {"ID": ""}, "key_missing"),
    ("NUL in an invoice number", "timelog.invoices", {"InvoiceNumber": "2026-\x00"}, "control_character"),
    ("\\x01 in an external invoice number", "timelog.invoices", {"ExternalInvoiceNo": "U\x01"}, "control_character"),
    ("invoice number of 500 characters", "timelog.invoices", {"InvoiceNumber": "9" * 500}, "schema"),
    ("customer ID that is not an integer", "timelog.invoices", {"CustomerID": "12x"}, "schema"),
    ("customer ID beyond 32 bits", "timelog.invoices", {"CustomerID": "99999999999"}, "schema"),
    ("emoji in an invoice number", "timelog.invoices", {"InvoiceNumber": "2026-🧾"}, STAGED),
    ("amount 1e20 in a TimeLog invoice line", "timelog.invoice_lines", {"Amount": BIG}, "schema"),
    ("NUL in a line's product number", "timelog.invoice_lines", {"ProductNo": "K\x00NS"}, "control_character"),
    ("negative zero quantity", "timelog.invoice_lines", {"Quantity": "-0"}, STAGED),
    ("rate with 8 decimals", "timelog.invoice_lines", {"Rate": "500.12345678"}, STAGED),
    ("NUL in a TimeLog customer name", "timelog.customers", {"Name": "Bad\x00 ApS"}, "control_character"),
    ("\\x01 in a TimeLog customer name", "timelog.customers", {"Name": "Bad\x01 ApS"}, "control_character"),
    ("escape character in a customer number", "timelog.customers", {"No": "\x1b[31m1"}, "control_character"),
    ("DEL character in a name", "timelog.customers", {"Name": "Bad\x7f ApS"}, "control_character"),
    ("tab and newline in a name", "timelog.customers", {"Name": "Linje 1\tog\nlinje 2"}, STAGED),
    ("name of 401 characters", "timelog.customers", {"Name": "N" * 401}, "schema"),
    ("CVR with a bad checksum (warning)", "timelog.customers", {"VATNo": "12345678"}, STAGED),
    ("unparsable modified date", "timelog.customers", {"LastModifiedAt": "igår"}, "date_unparsable"),
    ("right-to-left override and zero-width space", "timelog.customers", {"Name": "\u202eSpA\u200b"}, STAGED),
    ("HTML in a name", "timelog.customers", {"Name": "<script>alert(1)</script>"}, STAGED),
    ("spreadsheet formula as a name", "timelog.customers", {"Name": "=HYPERLINK(\"x\")"}, STAGED),
    ("NUL in a Uniconta debtor name", "uniconta.debtors", {"Name": "Deb\x00itor"}, "control_character"),
    ("blank debtor account", "uniconta.debtors", {"Account": ""}, "key_missing"),
    ("phone of 1,000 characters", "uniconta.debtors", {"Phone": "1" * 1000}, "schema"),
    ("CVR with a bad checksum (debtor)", "uniconta.debtors", {"CompanyRegNo": "12345678"}, STAGED),
    ("amount 1e20 in a Uniconta invoice", "uniconta.invoices", {"NetAmount": 1e20}, "schema"),
    ("Uniconta invoice in an unknown currency", "uniconta.invoices", {"Currency": "XXX"}, "currency_unknown"),
    ("Uniconta invoice in the company currency (blank)", "uniconta.invoices", {"Currency": ""}, STAGED),
    ("Uniconta header differs from its lines", "uniconta.invoices", {"LineAmount": 900.0}, "header_lines_mismatch"),
    ("Uniconta invoice dated year 1", "uniconta.invoices", {"Date": "0001-01-01"}, "date_out_of_range"),
    ("amount 1e20 in a Uniconta invoice line", "uniconta.invoice_lines", {"SalesPrice": 1e20}, "schema"),
    ("NUL in a Uniconta line's item", "uniconta.invoice_lines", {"Item": "\x00"}, "control_character"),
    ("amount 1e20 in a GL transaction", "uniconta.gl_transactions", {"Amount": 1e20}, "schema"),
    ("amount −1e15 in a GL transaction", "uniconta.gl_transactions", {"Amount": -1e15}, "schema"),
    ("GL transaction without a date", "uniconta.gl_transactions", {"Date": None}, "date_missing"),
]


def test_the_fixture_has_at_least_40_distinct_kinds():
    assert len({k for k, *_ in KINDS}) == len(KINDS) >= 40


def _records(entity: str) -> tuple[list[dict], dict[str, tuple[str, str, dict]]]:
    """Good records 1–3 and one bad record per kind (IDs from 100), keyed by the bad record's ID."""
    make = BASE[entity]
    records = [make(i) for i in (1, 2, 3)]
    kinds = {}
    for n, (kind, ent, changes, expected) in enumerate(KINDS):
        if ent != entity:
            continue
        rec = {**make(100 + n), **changes}
        records.append(rec)
        kinds[str(100 + n)] = (kind, expected, rec)
    return records, kinds


def _key(entity: str, rec: dict) -> str | None:
    spec = entities.get(entity)
    return entities.natural_key(spec, rec)


@pytest.mark.parametrize("entity", sorted(BASE))
def test_each_kind_is_quarantined_with_its_rule_or_staged(engine, tmp_path, entity):
    spec = entities.get(entity)
    records, kinds = _records(entity)
    landing = tmp_path / f"{entity}.jsonl"
    write_landing(landing, records)
    sums = None
    if entity == "timelog.invoices":
        lines = tmp_path / "lines.jsonl"
        write_landing(lines, [{"ID": str(i), "InvoiceID": r["ID"], "Amount": "1000.0000"}
                              for i, r in enumerate(records)])
        sums = line_sums(lines, "InvoiceID", "Amount")
    if entity == "uniconta.invoices":
        sums = {str(r["InvoiceNumber"]): Decimal("1000") for r in records}
    ctx = QualityContext(known_currencies=frozenset({"DKK", "EUR"}), date_min=date(2000, 1, 1),
                         date_max=date(2027, 12, 31), line_sums=sums, lines_complete=entity.startswith("timelog"))
    counts = validate_and_stage(engine, spec, "T:1", "run-h", landing, ctx)
    check_something_survived([counts], "run-h")                       # the night goes on
    assert counts.extracted == counts.unchanged + counts.staged + counts.quarantined == len(records)
    with engine.connect() as conn:
        staged = set(conn.execute(select(STAGING[entity].c.natural_key)).scalars())
        q = {r.natural_key: r for r in conn.execute(select(quarantine).where(quarantine.c.entity == entity))}
    assert {_key(entity, r) for r in records[:3]} <= staged
    by_position = {id(rec): (kind, expected) for kind, expected, rec in kinds.values()}
    quarantined_rows = list(q.values())
    for kind, expected, rec in kinds.values():
        key = _key(entity, rec)
        if expected == STAGED:
            assert key in staged, f"{kind}: expected staged"
            continue
        row = q.get(key) if key is not None else next(
            (r for r in quarantined_rows if r.natural_key is None and json.loads(r.payload) == rec), None)
        assert row is not None and key not in staged, f"{kind}: expected quarantined ({expected})"
        assert row.rule == expected, f"{kind}: rule {row.rule}, expected {expected}: {row.reason}"
        assert json.loads(row.payload) == json.loads(json.dumps(rec)), f"{kind}: raw payload not kept as sent"
        assert "\x00" not in row.reason and row.reason.strip(), kind
    assert len(q) == sum(1 for _, e, _ in kinds.values() if e != STAGED)
    assert by_position


SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@SQLITE_ONLY
def test_held_back_from_transfer(world):
    """A second TimeLog invoice with an existing invoice number and an "invoice" of −1,000,000 are held back
    (``failed`` with a reason), never transferred as ordinary drafts; the other invoices go as usual."""
    from sqlalchemy import update

    from tlsync.invoicing import DOMAIN, transfer_invoices

    engine, ledger = world["engine"], world["ledger"]
    inv_t = STAGING["timelog.invoices"]
    with engine.connect() as conn:
        rows = [json.loads(p) for p in conn.execute(select(inv_t.c.payload).where(
            inv_t.c.tenant.like("%:1"), inv_t.c.status.in_((1, 2, 3)), inv_t.c.type == 1)).scalars()]
    rows = [r for r in rows if not r.get("ExternalInvoiceNo")]
    first, second, negative = rows[0], rows[1], rows[2]

    def edit(rec: dict, **changes) -> None:
        payload = {**rec, **{k: v for k, v in changes.items() if k[0].isupper()}}
        with engine.begin() as conn:
            conn.execute(update(inv_t).where(inv_t.c.natural_key == str(rec["ID"]), inv_t.c.tenant.like("%:1"))
                         .values(payload=json.dumps(payload), **{k: v for k, v in changes.items() if k[0].islower()}))

    edit(second, InvoiceNumber=first["InvoiceNumber"], invoice_number=first["InvoiceNumber"])
    edit(negative, NetAmount="-1000000.0000", Amount="-1250000.0000", net_amount=Decimal("-1000000"))
    res = transfer_invoices(engine, world["le"](1), world["uniconta"](10001), world["tx"], ledger=ledger,
                            dry_run=True)
    why = res["failures"]
    g = lambda r: r["GUID"].lower()  # noqa: E731
    planned = {p["guid"] for p in res["planned"] if p.get("write") == "insert DebtorOrderClient"}
    for rec in (first, second):
        assert g(rec) not in planned
        assert f"its invoice number {first['InvoiceNumber']} is also TimeLog invoice" in why[g(rec)]
    assert g(negative) not in planned
    assert "negative net amount" in why[g(negative)] and "credit note" in why[g(negative)]
    assert res["transferred"] > 0 and ledger.counts(DOMAIN, 1).get("done", 0) == 0   # a dry run writes nothing


def test_orphans_are_staged_with_a_warning_naming_the_missing_parent():
    from tlsync.quality import check_batch

    ctx = QualityContext(known_currencies=frozenset({"DKK"}), date_min=date(2000, 1, 1), date_max=date(2027, 1, 1),
                         parents=frozenset({"1"}))
    lines = [BASE["uniconta.invoice_lines"](1), {**BASE["uniconta.invoice_lines"](2), "InvoiceNumber": "404"}]
    res = check_batch(entities.get("uniconta.invoice_lines"), lines, ctx)
    assert len(res.good) == 2 and not res.quarantined
    assert [w.rule for w in res.warnings] == ["orphan"]
    assert "InvoiceNumber '404' is no invoice staged or read tonight" in res.warnings[0].reason
    contact = {"ID": "9", "CustomerID": "77", "Name": "Kontakt"}
    res = check_batch(entities.get("timelog.contacts"), [contact], ctx)
    assert res.good == [contact] and "CustomerID '77' is no customer staged or read tonight" in res.warnings[0].reason
