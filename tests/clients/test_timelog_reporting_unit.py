"""Reporting API client on canned answers (bodies taken from TimeLog's official XML samples, see
TimeLog's API docs (api.timelog.com, TimeLogApiSdk) "Reporting API response schemas"), via ``httpx.MockTransport``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from urllib.parse import parse_qs

import httpx
import pytest

from tlsync.clients._http import CallCounter, RetryPolicy
from tlsync.clients.errors import (
    AuthenticationError,
    MalformedResponseError,
    RecordRejectedError,
    RetriesExhaustedError,
    UnknownMethodError,
)
from tlsync.clients.timelog import ReportingClient, ReportingSettings
from tlsync.clients.timelog.models import InvoiceLineUnitType, InvoiceStatus, InvoiceType

PASSWORD = "s3cret-api-pw"
FAST = RetryPolicy(max_attempts=4, base_delay=0.0, max_delay=0.0)

NS = 'xmlns:tlp="http://www.timelog.com/XML/Schema/tlp/v4_4" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'

CUSTOMERS = f"""<?xml version="1.0" encoding="utf-8" ?>
<tlp:Customers {NS}>
  <tlp:Customer ID="1933" GUID="b86f7c33-f6a8-41a3-a5db-05422ae34e43">
    <tlp:Name>Microsoft</tlp:Name>
    <tlp:NickName>Microsoft</tlp:NickName>
    <tlp:No>05.1309</tlp:No>
    <tlp:CustomerStatusID>12</tlp:CustomerStatusID>
    <tlp:CustomerStatus>New lead</tlp:CustomerStatus>
    <tlp:Address1>One Microsoft Way</tlp:Address1>
    <tlp:Address2></tlp:Address2>
    <tlp:ZipCode>WA 98052-6399</tlp:ZipCode>
    <tlp:City>Redmond</tlp:City>
    <tlp:CountryID>218</tlp:CountryID>
    <tlp:Country>USA</tlp:Country>
    <tlp:EanNo>0234567890123</tlp:EanNo>
    <tlp:VATNo>812780570</tlp:VATNo>
    <tlp:AccountManagerID>10</tlp:AccountManagerID>
    <tlp:CustomerSince>2011-08-12</tlp:CustomerSince>
    <tlp:CreatedAt>2010-04-16T09:35:59</tlp:CreatedAt>
    <tlp:CreatedByEmployeeId>417</tlp:CreatedByEmployeeId>
    <tlp:LastModifiedAt>2010-04-16T09:35:59</tlp:LastModifiedAt>
  </tlp:Customer>
  <tlp:Customer ID="1934" GUID="c86f7c33-f6a8-41a3-a5db-05422ae34e44">
    <tlp:Name>Æblegrød ApS</tlp:Name>
    <tlp:NickName>Æblegrød</tlp:NickName>
    <tlp:CustomerStatusID>1</tlp:CustomerStatusID>
    <tlp:CustomerStatus>Customer</tlp:CustomerStatus>
    <tlp:CreatedAt>2010-04-16T09:35:59</tlp:CreatedAt>
    <tlp:CreatedByEmployeeId>417</tlp:CreatedByEmployeeId>
    <tlp:CreatedBy>Peter Nielsen</tlp:CreatedBy>
    <tlp:LastModifiedAt>2010-04-16T09:35:59</tlp:LastModifiedAt>
    <tlp:LastModifiedByEmployeeId>417</tlp:LastModifiedByEmployeeId>
    <tlp:LastModifiedBy>Peter Nielsen</tlp:LastModifiedBy>
  </tlp:Customer>
</tlp:Customers>"""

INVOICES = f"""<?xml version="1.0" encoding="utf-8"?>
<tlp:Invoices {NS}>
  <tlp:Invoice ID="277" GUID="795A4082-66A9-E511-80DA-005056B220E2">
    <tlp:InvoiceNumber>2004-0206</tlp:InvoiceNumber>
    <tlp:Header>Invoice layout</tlp:Header>
    <tlp:Text></tlp:Text>
    <tlp:InvoiceDate>2004-12-03T00:00:00</tlp:InvoiceDate>
    <tlp:DueDate>2004-12-17T00:00:00</tlp:DueDate>
    <tlp:Amount>39037.5000</tlp:Amount>
    <tlp:AmountSystemCurrency>245920.6350</tlp:AmountSystemCurrency>
    <tlp:Status>1</tlp:Status>
    <tlp:Type>2</tlp:Type>
    <tlp:CustomerID>333</tlp:CustomerID>
    <tlp:CustomerName>Microsoft</tlp:CustomerName>
    <tlp:CustomerCountryID>156</tlp:CustomerCountryID>
    <tlp:PaymentTermID>1</tlp:PaymentTermID>
    <tlp:CurrencyAbb>USD</tlp:CurrencyAbb>
    <tlp:CurrencyRate>629.9600</tlp:CurrencyRate>
    <tlp:DefaultVAT>25.0000</tlp:DefaultVAT>
    <tlp:AddVAT>1</tlp:AddVAT>
    <tlp:NetAmount>31230.0000</tlp:NetAmount>
    <tlp:VATIncluded>7807.5000</tlp:VATIncluded>
    <tlp:ProjectID>73</tlp:ProjectID>
    <tlp:ProjectNo>0069</tlp:ProjectNo>
    <tlp:ExternalInvoiceStatus>Draft</tlp:ExternalInvoiceStatus>
    <tlp:RelatesToInvoiceID>276</tlp:RelatesToInvoiceID>
    <tlp:LegalEntityID>1</tlp:LegalEntityID>
    <tlp:IsIgnoredWhenTransfer>0</tlp:IsIgnoredWhenTransfer>
    <tlp:IsReadyForInvoicing>0</tlp:IsReadyForInvoicing>
  </tlp:Invoice>
  <tlp:Invoice ID="278">
    <tlp:InvoiceDate>2004-12-04T00:00:00</tlp:InvoiceDate>
    <tlp:Amount>1.0000</tlp:Amount>
    <tlp:Status>0</tlp:Status>
    <tlp:Type>0</tlp:Type>
    <tlp:CustomerID>333</tlp:CustomerID>
  </tlp:Invoice>
</tlp:Invoices>"""

INVOICE_LINES = f"""<?xml version="1.0" encoding="utf-8"?>
<tlp:InvoiceLines {NS}>
  <tlp:InvoiceLine ID="1096">
    <tlp:InvoiceID>131</tlp:InvoiceID>
    <tlp:InvoiceNo>2003-0067</tlp:InvoiceNo>
    <tlp:Date>2003-08-28T00:00:00</tlp:Date>
    <tlp:Text>Brochure</tlp:Text>
    <tlp:Quantity>3.5000</tlp:Quantity>
    <tlp:Rate>350.0000</tlp:Rate>
    <tlp:Amount>1225.0000</tlp:Amount>
    <tlp:VAT>18.0000</tlp:VAT>
    <tlp:Discount>0.0000</tlp:Discount>
    <tlp:UnitType>6</tlp:UnitType>
    <tlp:ProductNo></tlp:ProductNo>
  </tlp:InvoiceLine>
</tlp:InvoiceLines>"""


def work_units_page(page: int, total_pages: int, ids: list[int]) -> str:
    items = "".join(
        f"""<tlp:WorkUnit ID="{i}"><tlp:TimeRegistrationGuid>2668E774-8393-484C-8ECE-B62876EDABE5</tlp:TimeRegistrationGuid>
        <tlp:EmployeeID>390</tlp:EmployeeID><tlp:CustomerId>668</tlp:CustomerId><tlp:Date>2020-04-17T00:00:00</tlp:Date>
        <tlp:RegHours>2.0000</tlp:RegHours><tlp:IsBillable>1</tlp:IsBillable>
        <tlp:CreatedAt>2020-04-17T17:50:57.9000000</tlp:CreatedAt></tlp:WorkUnit>"""
        for i in ids)
    return (f'<?xml version="1.0" encoding="utf-8"?><tlp:WorkUnits {NS} Page="{page}" PageSize="2" '
            f'TotalPages="{total_pages}" TotalRecords="5">{items}</tlp:WorkUnits>')


ERRORS = f"""<?xml version="1.0" encoding="utf-8"?>
<tlp:Errors {NS}>
  <tlp:Error>Access denied. Check siteCode, apiID, apiPassword and SSL settings</tlp:Error>
</tlp:Errors>"""


def make_client(handler, *, sleep=None, counter=None, retry=FAST) -> ReportingClient:
    settings = ReportingSettings(base_url="https://app5.timelog.com/myaccount/", site_code="SITE",
                                 api_id="apiuser", api_password=PASSWORD, work_units_page_size=2)
    return ReportingClient(settings, transport=httpx.MockTransport(handler), retry=retry, counter=counter,
                           sleep=sleep or (lambda s: None))


def xml(body: str, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=body.encode("utf-8"), headers={"Content-Type": "text/xml; charset=utf-8"})


def test_customers_parse_namespace_dates_and_keep_raw_payload():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return xml(CUSTOMERS)

    with make_client(handler) as client:
        customers = list(client.customers())
        raw = list(client.customers_raw())
    first = customers[0]
    assert (first.id, first.guid, first.name, first.no) == (1933, "b86f7c33-f6a8-41a3-a5db-05422ae34e43",
                                                            "Microsoft", "05.1309")
    assert first.address2 is None  # empty element
    assert first.ean_no == "0234567890123"  # an identifier keeps its leading zero
    assert first.customer_since == date(2011, 8, 12)
    assert first.created_at == datetime(2010, 4, 16, 9, 35, 59)
    assert first.created_by_employee_id == 417
    assert customers[1].name == "Æblegrød ApS"
    model, payload = raw[0]
    assert payload["ID"] == "1933" and payload["Name"] == "Microsoft" and payload["Address2"] == ""
    assert model == first
    # credentials travel in the POST form, never in the URL
    request = seen[0]
    assert request.method == "POST"
    assert request.url.path == "/myaccount/service.asmx/GetCustomersRaw"
    assert request.url.query == b""
    form = parse_qs(request.content.decode())
    assert form["siteCode"] == ["SITE"] and form["apiID"] == ["apiuser"] and form["apiPassword"] == [PASSWORD]
    assert form["customerID"] == ["0"] and form["customerStatusID"] == ["-1"]
    assert list(form)[:3] == ["siteCode", "apiID", "apiPassword"]


def test_invoices_decimals_enums_and_filters():
    forms = []

    def handler(request: httpx.Request) -> httpx.Response:
        forms.append(parse_qs(request.content.decode(), keep_blank_values=True))
        return xml(INVOICES)

    with make_client(handler) as client:
        invoices = list(client.invoices(date(2004, 12, 1), date(2004, 12, 31), status=InvoiceStatus.BOOKED))
    inv = invoices[0]
    assert inv.amount == Decimal("39037.5000") and isinstance(inv.amount, Decimal)
    assert inv.currency_rate == Decimal("629.96")
    # rates are per 100 units
    assert (inv.amount * inv.currency_rate / 100).quantize(Decimal("0.0001")) == Decimal("245920.6350")
    assert inv.net_amount + inv.vat_included == inv.amount
    assert inv.status is InvoiceStatus.BOOKED and inv.type is InvoiceType.CREDIT_NOTE and inv.is_credit_note
    assert inv.add_vat is True and inv.is_ignored_when_transfer is False
    assert inv.relates_to_invoice_id == 276
    # an undocumented enum value (the official sample has Type 0) survives instead of failing
    assert invoices[1].type == 0 and invoices[1].type.name == "UNKNOWN_0"
    assert forms[0]["status"] == ["1"]
    assert forms[0]["startDate"] == ["2004-12-01"] and forms[0]["endDate"] == ["2004-12-31"]


def test_invoice_lines_unit_type_and_missing_product_no():
    with make_client(lambda r: xml(INVOICE_LINES)) as client:
        (line,) = client.invoice_lines(date(2003, 8, 1), date(2003, 8, 31))
    assert line.quantity * line.rate == line.amount
    assert line.unit_type is InvoiceLineUnitType.PIECES
    assert line.product_no is None


def test_invoice_lines_of_other_invoices_are_skipped_unparsed_and_odd_ones_kept():
    """Issue 18: a legal entity's read of the site-wide lines keeps only its invoices' lines; a line without
    InvoiceID is kept (the quality gate quarantines it), nothing of a kept line changes."""
    other = INVOICE_LINES.replace('ID="1096"', 'ID="1097"').replace(">131<", ">999<")
    orphan = INVOICE_LINES.replace('ID="1096"', 'ID="1098"').replace("<tlp:InvoiceID>131</tlp:InvoiceID>", "")
    body = INVOICE_LINES.replace("</tlp:InvoiceLines>", "") + _items_of(other) + _items_of(orphan) + \
        "</tlp:InvoiceLines>"
    with make_client(lambda r: xml(body)) as client:
        every = [r.raw for r in client.invoice_lines_raw(date(2003, 8, 1), date(2003, 8, 31))]
        kept = [r.raw for r in client.invoice_lines_raw(date(2003, 8, 1), date(2003, 8, 31), of_invoices={"131"})]
    assert [r["ID"] for r in every] == ["1096", "1097", "1098"]
    assert [r["ID"] for r in kept] == ["1096", "1098"]
    assert kept[0] == every[0]


def test_invoices_of_other_legal_entities_are_skipped_unparsed_and_their_ids_reported():
    """Issue 18: a legal entity's read of the site-wide invoices parses only its own invoices and those without a
    LegalEntityID (the caller places those, rule S2); another entity's invoice — even a malformed one — is not
    turned into a record, its ID is handed back so the windows still know it was read."""
    other = INVOICES.replace('ID="277"', 'ID="279"').replace("<tlp:LegalEntityID>1<", "<tlp:LegalEntityID>2<") \
        .replace("<tlp:Amount>39037.5000<", "<tlp:Amount>not a number<")
    nil = INVOICES.replace('ID="277"', 'ID="280"').replace(
        "<tlp:LegalEntityID>1</tlp:LegalEntityID>", '<tlp:LegalEntityID xsi:nil="true"/>')
    body = INVOICES.replace("</tlp:Invoices>", "") + _invoice_items(other)[0] + _invoice_items(nil)[0] + \
        "</tlp:Invoices>"
    skipped: list = []
    with make_client(lambda r: xml(body)) as client:
        every = [r for r in client.invoices_raw(date(2004, 12, 1), date(2004, 12, 31))]
        mine = [r for r in client.invoices_raw(date(2004, 12, 1), date(2004, 12, 31), of_legal_entity="1",
                                               skipped=skipped.append)]
        theirs = [r.raw["ID"] for r in client.invoices_raw(date(2004, 12, 1), date(2004, 12, 31),
                                                           of_legal_entity="2")]
    assert [r.raw["ID"] for r in every] == ["277", "278", "279", "280"] and every[2].error is not None
    assert [r.raw["ID"] for r in mine] == ["277", "278", "280"]       # no LegalEntityID: kept, nil too
    assert skipped == ["279"]
    assert [(r.raw, r.error) for r in mine] == [(r.raw, r.error) for r in every if r.raw["ID"] != "279"]
    assert theirs == ["278", "279", "280"]


def _invoice_items(document: str) -> list[str]:
    start = document.index("<tlp:Invoice ")
    return [document[start:document.index("</tlp:Invoice>", start) + len("</tlp:Invoice>")]]


def _items_of(document: str) -> str:
    return document[document.index("<tlp:InvoiceLine "):document.index("</tlp:InvoiceLines>")]


def test_work_units_walk_every_page_once():
    pages = {1: [1, 2], 2: [3, 4], 3: [5]}
    asked = []

    def handler(request: httpx.Request) -> httpx.Response:
        form = parse_qs(request.content.decode())
        page = int(form["page"][0])
        asked.append((page, form["pageSize"][0]))
        return xml(work_units_page(page, 3, pages[page]))

    with make_client(handler) as client:
        units = list(client.work_units(date(2020, 1, 1), date(2020, 12, 31)))
    assert [u.id for u in units] == [1, 2, 3, 4, 5]
    assert asked == [(1, "2"), (2, "2"), (3, "2")]
    assert units[0].customer_id == 668 and units[0].reg_hours == Decimal("2.0000")
    assert units[0].created_at == datetime(2020, 4, 17, 17, 50, 57, 900000)


def test_results_are_lazy_iterators():
    calls = []

    def handler(request):
        calls.append(request)
        return xml(CUSTOMERS)

    with make_client(handler) as client:
        it = client.customers()
        assert calls == []
        assert next(it).id == 1933
        assert len(calls) == 1


def test_wrong_credentials_name_the_settings_never_the_password():
    with make_client(lambda r: xml(ERRORS)) as client:
        with pytest.raises(AuthenticationError) as err:
            list(client.customers())
    message = str(err.value)
    assert "TimeLog Reporting API" in message
    assert "site code" in message and "API ID" in message and "password" in message
    assert PASSWORD not in message
    assert err.value.system == "TimeLog Reporting API"


def test_errors_root_is_not_retried():
    calls = []

    def handler(request):
        calls.append(request)
        return xml(ERRORS)

    with make_client(handler) as client, pytest.raises(AuthenticationError):
        list(client.projects())
    assert len(calls) == 1


def test_validate_credentials_true_and_false():
    answers = iter(['<boolean xmlns="http://www.timelog.com/ws/tlp/v4_4">true</boolean>',
                    '<boolean xmlns="http://www.timelog.com/ws/tlp/v4_4">false</boolean>'])
    with make_client(lambda r: xml(next(answers))) as client:
        assert client.validate_credentials() is True
        with pytest.raises(AuthenticationError) as err:
            client.validate_credentials()
    assert PASSWORD not in str(err.value) and "ReportingSettings.api_password" in str(err.value)


def test_unknown_method_is_one_clear_error():
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(500, text="System.InvalidOperationException: GetCustomersRaw Web Service method name "
                                        "is not valid.\n   at System.Web.Services.Protocols...")

    with make_client(handler) as client, pytest.raises(UnknownMethodError) as err:
        list(client.customers())
    assert "GetCustomersRaw" in str(err.value) and "TimeLog Reporting API" in str(err.value)
    assert len(calls) == 1


def test_asmx_protocol_error_is_fatal_not_retried():
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(500, text="System.InvalidOperationException: Missing parameter: customerID.")

    with make_client(handler) as client, pytest.raises(RecordRejectedError) as err:
        list(client.customers())
    assert "Missing parameter: customerID" in str(err.value)
    assert len(calls) == 1


def test_truncated_xml_is_retried_then_named_with_method_and_line():
    cut = CUSTOMERS.encode()[: len(CUSTOMERS) // 2]
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(200, content=cut)

    with make_client(handler) as client, pytest.raises(MalformedResponseError) as err:
        list(client.customers())
    assert len(calls) == FAST.max_attempts
    assert err.value.where.startswith("GetCustomersRaw line ")
    assert int(err.value.where.rsplit(" ", 1)[1]) > 1
    assert "TimeLog Reporting API" in str(err.value)


def test_truncated_then_whole_answer_yields_each_record_once():
    answers = iter([httpx.Response(200, content=CUSTOMERS.encode()[:300]), xml(CUSTOMERS)])
    with make_client(lambda r: next(answers)) as client:
        assert [c.id for c in client.customers()] == [1933, 1934]


def test_wrong_namespace_or_root_is_malformed():
    other_ns = CUSTOMERS.replace("http://www.timelog.com/XML/Schema/tlp/v4_4", "urn:other")
    with make_client(lambda r: xml(other_ns)) as client, pytest.raises(MalformedResponseError) as err:
        list(client.customers())
    assert "namespace" in str(err.value) and err.value.where.startswith("GetCustomersRaw line")
    with make_client(lambda r: xml(INVOICES)) as client, pytest.raises(MalformedResponseError) as err:
        list(client.customers())
    assert "<Invoices>" in str(err.value)


def test_invalid_record_goes_to_raw_stream_with_reason_and_stops_typed_stream():
    bad = INVOICES.replace("<tlp:Amount>1.0000</tlp:Amount>", "<tlp:Amount>one</tlp:Amount>")
    with make_client(lambda r: xml(bad)) as client:
        records = list(client.invoices_raw(date(2004, 1, 1), date(2004, 12, 31)))
        assert [r.ok for r in records] == [True, False]
        assert records[1].raw["Amount"] == "one"
        assert "Amount" in records[1].error and "one" not in records[1].error
        assert records[1].where.startswith("GetInvoicesRaw Invoice ID=278 (line ")
        with pytest.raises(MalformedResponseError) as err:
            list(client.invoices(date(2004, 1, 1), date(2004, 12, 31)))
    assert "ID=278" in err.value.where


def test_retry_after_is_honoured_and_calls_counted():
    sleeps: list[float] = []
    answers = iter([httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(503), xml(CUSTOMERS)])
    counter = CallCounter()
    policy = RetryPolicy(max_attempts=4, base_delay=0.001, max_delay=30.0)
    with make_client(lambda r: next(answers), sleep=sleeps.append, counter=counter, retry=policy) as client:
        assert len(list(client.customers())) == 2
    assert sleeps[0] == 7.0
    assert sleeps[1] < 0.01
    assert counter.get("TimeLog Reporting API") == 3


def test_persistent_plain_500_is_retried_then_exhausted():
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(500, text="<html>Internal error</html>")

    with make_client(handler) as client, pytest.raises(RetriesExhaustedError) as err:
        list(client.customers())
    assert len(calls) == FAST.max_attempts
    assert "HTTP 500" in str(err.value)


def test_settings_strip_service_path_and_hide_password():
    s = ReportingSettings(base_url="https://app5.timelog.com/acct/service.asmx", site_code="X", api_id="Y",
                          api_password=PASSWORD)
    assert s.base_url == "https://app5.timelog.com/acct"
    assert PASSWORD not in repr(s) and PASSWORD not in str(s.model_dump())
