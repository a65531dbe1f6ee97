"""tlsync.items.todo without servers: the transfer's hold check and the Excel list's formula-injection safety."""

from __future__ import annotations

from openpyxl import load_workbook

from tlsync.items.todo import SHEET, TimeLogProducts, TodoRow, export_todo
from tlsync.settings.models import LegalEntitySettings

LE = LegalEntitySettings(legal_entity_id=1, uniconta_company_id=10001)


def test_only_items_that_are_not_product_numbers_hold_an_invoice_back():
    products = TimeLogProducts(LE, ["KONS-SR", "KURSUS"])        # KURSUS may be inactive: it exists
    assert products.missing(["KONS-SR", "", None, "HW-100", "KURSUS", "HW-100", " X "]) == ["HW-100", "X"]
    why = products.hold_reason("invoice 2025-0042", ["HW-100"])
    assert why.startswith("invoice 2025-0042: held back — item 'HW-100' is not a product number in TimeLog "
                          "(legal entity 1)") and why.endswith("(rule U2)") and "\n" not in why
    assert "held back — items 'A', 'B' are not product numbers in TimeLog" in products.hold_reason("x", ["A", "B"])


def test_the_excel_list_never_carries_a_formula(tmp_path):
    rows = [TodoRow("=1+1", "create", "=HYPERLINK(\"http://x\")", "not in TimeLog", None, 2, "@SUM(A1)"),
            TodoRow("1000", "rename", "Konsulent", "active", 7, 0, "renamed in Uniconta")]
    path = export_todo(rows, tmp_path / "todo.xlsx")
    ws = load_workbook(path)[SHEET]
    values = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    assert values[0][:3] == ["'=1+1", "'=HYPERLINK(\"http://x\")", "create the product number and make it active"]
    assert values[0][5:] == [2, "'@SUM(A1)"]
    assert values[1][0] == "1000" and values[1][2] == "rename the product number to 'Konsulent'"
    assert ws["A3"].number_format == "@" and ws.freeze_panes == "A2"
    assert not [c for r in ws.iter_rows() for c in r if c.data_type == "f"]
