"""Issue 18: the Reporting client's faster item reader gives exactly what the general reader gives — same dicts, key
order included (the landing files' bytes)."""

from __future__ import annotations

import pytest
from lxml import etree

from tlsync.clients.timelog import _xml

NS = 'xmlns:tlp="http://www.timelog.com/XML/Schema/tlp/v4_4" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'


def doc(items: str, root: str = "InvoiceLines") -> bytes:
    return f'<?xml version="1.0" encoding="utf-8"?>\n<tlp:{root} {NS}>\n{items}\n</tlp:{root}>'.encode()


LINE = ('<tlp:InvoiceLine ID="{id}" GUID="g-{id}">\n    <tlp:InvoiceID>{inv}</tlp:InvoiceID>\n'
        '    <tlp:Text>Rådgivning {id}</tlp:Text>\n    <tlp:Quantity>2.0000</tlp:Quantity>\n'
        '    <tlp:Rate>950.0000</tlp:Rate>\n    <tlp:Amount>1900.0000</tlp:Amount>\n    <tlp:ProductNo></tlp:ProductNo>\n'
        '    <tlp:UnitType>1</tlp:UnitType>\n  </tlp:InvoiceLine>')


def lines(*ids: int, inv: int = 7) -> str:
    return "\n".join(LINE.format(id=i, inv=inv) for i in ids)


@pytest.mark.parametrize(("body", "plain"), [
    (doc(lines(1, 2, 3)), True),
    (doc(lines(1).replace("<tlp:ProductNo></tlp:ProductNo>", '<tlp:ProductNo xsi:nil="true"/>')), False),
    (doc(lines(1).replace("Rådgivning", "R&#229;dgivning")), False),
    (doc(lines(1).replace("Rådgivning", "Råd\x01givning")), False),            # forbidden: swapped, restored
    (doc(lines(1).replace("Rådgivning", "Råd\ue001givning")), False),          # a stand-in sent as such
    (doc(lines(1).replace("<tlp:UnitType>1</tlp:UnitType>",
                          "<tlp:CustomFields><tlp:F>x</tlp:F></tlp:CustomFields>")), False),
])
def test_plain_documents_are_recognised_and_read_like_the_general_reader(body, plain):
    root, is_plain = _xml.parse_items_document(body, system="TimeLog", where="GetInvoiceLinesRaw")
    assert is_plain is plain
    reference = _xml.parse_document(body, system="TimeLog", where="GetInvoiceLinesRaw")
    names = _xml.NameTable()
    for el, ref in zip(root, reference, strict=True):
        expected = _xml.element_to_dict(ref)
        if is_plain:                       # only a plain document is read by the comprehension
            fast = _xml.plain_item_dict(el, names)
            assert fast is not None
            assert list(fast.items()) == list(expected.items())   # same values, same key order (landing bytes)
        else:
            assert expected == _xml.element_to_dict(el)


@pytest.mark.parametrize("item", [
    LINE.format(id=1, inv=7).replace("<tlp:UnitType>1</tlp:UnitType>",
                                     "<tlp:UnitType>1</tlp:UnitType><tlp:UnitType>2</tlp:UnitType>"),
    LINE.format(id=1, inv=7).replace(' GUID="g-1"', ' xsi:type="x"'),
    LINE.format(id=1, inv=7).replace("<tlp:UnitType>1</tlp:UnitType>", "<tlp:Messages></tlp:Messages>"),
])
def test_items_the_comprehension_cannot_read_go_to_the_general_reader(item):
    el = etree.fromstring(doc(item))[0]
    assert _xml.plain_item_dict(el, _xml.NameTable()) is None


@pytest.mark.parametrize("nested_in", [None, 0, 7, 19])
def test_a_field_below_a_field_is_found_in_documents_larger_than_one_xpath_may_gather(monkeypatch, nested_in):
    """libxml2 refuses a node-set over 10M nodes ("XPathEvalError: unknown error" on L's first read of five
    years of invoices); the check then goes over windows of items. Here the window is shrunk to 3 items."""
    monkeypatch.setattr(_xml, "_XPATH_NODES", 12)             # 2 fields an item → a window of 3 items
    items = [f"<Item><ID>{i}</ID><Name>n{i}</Name></Item>" for i in range(20)]
    if nested_in is not None:
        items[nested_in] = f"<Item><ID>{nested_in}</ID><Name><Sub>x</Sub></Name></Item>"
    body = f"<Root>{''.join(items)}</Root>".encode()
    root, plain = _xml.parse_items_document(body, system="TimeLog", where="GetInvoicesRaw")
    assert plain is (nested_in is None)
    assert len(root) == 20
