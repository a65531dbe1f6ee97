"""The TimeLog simulator's look-up indexes (GUID → invoice, invoice → lines) answer exactly what a scan of the
collections answers, also after inserts, updates, replaces and a reset — they make ``UpdateExternalData`` O(1)
for the five-year L backfill (issue 6, rule T2) without changing what the simulator serves."""

from __future__ import annotations

from simulators.timelog.store import TimelogStore


def _fixture() -> dict:
    invoices = [{"ID": i, "GUID": f"AAAA{i:04d}-0000-0000-0000-000000000000", "CustomerID": 1, "InvoiceNumber": f"N{i}"}
                for i in range(1, 6)]
    lines = [{"ID": 10 * i + j, "InvoiceID": i, "Quantity": 1, "Rate": 100} for i in range(1, 6) for j in (2, 1)]
    return {"timelog": {"Customers": [{"ID": 1, "Name": "C"}], "Invoices": invoices, "InvoiceLines": lines}}


def _scan_find(st: TimelogStore, coll: str, field: str, value) -> dict | None:
    return next((r for r in st.data[coll] if str(r.get(field, "")).lower() == str(value).lower()), None)


def _scan_children(st: TimelogStore, inv_id: int) -> list[dict]:
    return [r for r in st.data["InvoiceLines"] if int(r["InvoiceID"]) == inv_id]


def _agree(st: TimelogStore) -> None:
    for inv in st.data["Invoices"]:
        assert st.find("Invoices", "GUID", inv["GUID"].lower()) is _scan_find(st, "Invoices", "GUID", inv["GUID"])
        assert st.children("InvoiceLines", "InvoiceID", inv["ID"]) == _scan_children(st, inv["ID"])
    assert st.find("Invoices", "GUID", "nope") is None and st.children("InvoiceLines", "InvoiceID", 999) == []


def test_indexes_follow_every_write():
    st = TimelogStore(_fixture())
    _agree(st)                                                   # builds the indexes
    guid = st.data["Invoices"][2]["GUID"]
    new = st.update("Invoices", 3, {"ExternalInvoiceNo": "5001"})
    assert st.find("Invoices", "GUID", guid) is new and new["ExternalInvoiceNo"] == "5001"
    assert st.data["Invoices"][2] is new and st.by_id["Invoices"][3] is new   # replaced in place, same position
    st.update("InvoiceLines", 31, {"Quantity": 3})
    st.update("InvoiceLines", 22, {"InvoiceID": 4})              # a line moves to another invoice
    st.insert("InvoiceLines", {"InvoiceID": 5, "Quantity": 1, "Rate": 1})
    st.insert("Invoices", {"GUID": guid.upper(), "CustomerID": 1})   # a duplicate GUID: the first one still wins
    st.update("Invoices", 1, {"GUID": "BBBB0001-0000-0000-0000-000000000000"})   # a key changes
    _agree(st)
    assert st.find("Invoices", "GUID", guid)["ID"] == 3
    st.reset()
    _agree(st)
    assert "ExternalInvoiceNo" not in st.find("Invoices", "GUID", guid)
