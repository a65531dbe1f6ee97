"""Transactional (SOAP) client on canned envelopes shaped as in TimeLog's API docs (api.timelog.com, TimeLogApiSdk)
("Transactional SOAP wire format") and timelog-transactional-contracts.md."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import httpx
import pytest
from lxml import etree

from tlsync.clients._http import RetryPolicy
from tlsync.clients.errors import AuthenticationError, MalformedResponseError, UnknownMethodError
from tlsync.clients.timelog import TransactionalClient, TransactionalError, TransactionalSettings
from tlsync.clients.timelog.models import InvoiceStatus
from tlsync.clients.timelog.transactional import TransactionalNotFoundError

PASSWORD = "user-s3cret-pw"
HASH = "c2VjcmV0LXRva2VuLWhhc2g="
FAST = RetryPolicy(max_attempts=3, base_delay=0.0, max_delay=0.0)
S = "http://schemas.xmlsoap.org/soap/envelope/"
I = "http://www.w3.org/2001/XMLSchema-instance"  # noqa: E741
INV_GUID = "795a4082-66a9-e511-80da-005056b220e2"


def envelope(inner: str) -> str:
    return f'<s:Envelope xmlns:s="{S}"><s:Body>{inner}</s:Body></s:Envelope>'


def token_answer(expires: str = "2030-01-01T12:00:00", state: str = "Success", message: str = "") -> str:
    ret = (f'<a:Return><b:SecurityToken><b:Initials>INT</b:Initials><b:Expires>{expires}</b:Expires>'
           f'<b:Hash>{HASH}</b:Hash></b:SecurityToken></a:Return>') if state == "Success" else '<a:Return/>'
    msgs = (f"<a:Messages><a:APIMessage><a:Message>{message}</a:Message><a:Severity>Error</a:Severity>"
            f"<a:ErrorCode>0</a:ErrorCode></a:APIMessage></a:Messages>") if message else "<a:Messages/>"
    return envelope(
        '<GetTokenResponse xmlns="http://www.timelog.com/api/tlp/v1_2"><GetTokenResult '
        f'xmlns:a="http://www.timelog.com/api/tlp/v1_1" xmlns:b="http://www.timelog.com/api/tlp/v1_2" '
        f'xmlns:i="{I}">{ret}<a:ResponseState>{state}</a:ResponseState>{msgs}<a:ErrorCode>0</a:ErrorCode>'
        '</GetTokenResult></GetTokenResponse>')


def response(op: str, ns: str, items: str, *, state: str = "Success", total: int = 1, message: str = "") -> str:
    msgs = (f"<a:Messages><a:APIMessage><a:Message>{message}</a:Message><a:Severity>Error</a:Severity>"
            f"<a:ErrorCode>0</a:ErrorCode></a:APIMessage></a:Messages>") if message else "<a:Messages/>"
    return envelope(
        f'<{op}Response xmlns="{ns}"><{op}Result xmlns:a="http://api.timelog.com" xmlns:i="{I}">'
        f"<a:Return>{items}</a:Return><a:ReturnTypeDescription>x</a:ReturnTypeDescription>"
        f"<a:ResponseState>{state}</a:ResponseState>{msgs}<a:ErrorCode>0</a:ErrorCode>"
        f"<a:IsReturnPaged>true</a:IsReturnPaged><a:TotalPageCount>{total}</a:TotalPageCount>"
        f"</{op}Result></{op}Response>")


def invoice_xml(invoice_id: int, *, guid: str = INV_GUID) -> str:
    return (f'<b:Invoice xmlns:b="http://www.timelog.com/api/tlp/v1" xmlns:c="http://www.timelog.com/api/tlp/v1_1">'
            f"<b:ExternalKeys/><b:ID>{invoice_id}</b:ID><b:InvoiceNo>2024-{invoice_id:04d}</b:InvoiceNo>"
            f"<b:Header>Consulting</b:Header><b:InvoiceDate>2024-03-01T00:00:00</b:InvoiceDate>"
            f"<b:Status>Booked</b:Status><b:Type>Invoice</b:Type><b:RequisitionNo i:nil=\"true\"/>"
            f"<b:InvoicingAddress><c:Address1>Vestergade 1</c:Address1><c:ZipCode>8000</c:ZipCode>"
            f"<c:City>Aarhus C</c:City></b:InvoicingAddress><b:CustomerID>12</b:CustomerID>"
            f"<b:NetAmount>1000.5</b:NetAmount><b:VATIncluded>250.13</b:VATIncluded>"
            f"<b:InvoiceLines><b:InvoiceLine><b:ID>5</b:ID><b:InvoiceID>{invoice_id}</b:InvoiceID>"
            f"<b:ProductNo>1000</b:ProductNo><b:Text>Hours</b:Text><b:Quantity>2.5</b:Quantity>"
            f"<b:Rate>400.2</b:Rate><b:Amount>1000.5</b:Amount></b:InvoiceLine></b:InvoiceLines>"
            f"<b:Currency>DKK</b:Currency><b:InvoiceCurrencyRate>100</b:InvoiceCurrencyRate><b:GUID>{guid}</b:GUID>"
            f"<b:Details><b:Status><b:ID>1</b:ID><b:Name>Booked</b:Name></b:Status></b:Details></b:Invoice>")


class FakeServer:
    """Dispatches on the SOAPAction header, records requests."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.token_answers: list[str] = []
        self.handlers: dict[str, object] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        action = request.headers["SOAPAction"].strip('"')
        if action == "GetTokenRequest":
            body = self.token_answers.pop(0) if self.token_answers else token_answer()
            return httpx.Response(200, text=body, headers={"Content-Type": "text/xml; charset=utf-8"})
        handler = self.handlers[action]
        result = handler(request) if callable(handler) else handler
        if isinstance(result, httpx.Response):
            return result
        return httpx.Response(200, text=result, headers={"Content-Type": "text/xml; charset=utf-8"})

    def ops(self) -> list[str]:
        return [r.headers["SOAPAction"].strip('"').rsplit("/", 1)[-1] for r in self.requests]


def make_client(server: FakeServer, *, clock=None, base_url="https://app5.timelog.com/acct") -> TransactionalClient:
    settings = TransactionalSettings(base_url=base_url, username="integration", password=PASSWORD, page_size=2)
    kwargs = {"clock": clock} if clock else {}
    return TransactionalClient(settings, transport=httpx.MockTransport(server), retry=FAST, sleep=lambda s: None,
                               **kwargs)


INVOICING = "http://www.timelog.com/api/tlp/v1/InvoicingService/"


def test_gettoken_envelope_and_token_reuse():
    server = FakeServer()
    server.handlers[INVOICING + "GetInvoicesModifiedInPeriodPaged"] = response(
        "GetInvoicesModifiedInPeriodPaged", "http://www.timelog.com/api/tlp/v1", invoice_xml(1), total=1)
    with make_client(server) as client:
        list(client.invoices_modified_in_period(date(2024, 3, 1), date(2024, 3, 31)))
        list(client.invoices_modified_in_period(date(2024, 3, 1), date(2024, 3, 31)))
    assert server.ops() == ["GetTokenRequest", "GetInvoicesModifiedInPeriodPaged", "GetInvoicesModifiedInPeriodPaged"]
    get_token = server.requests[0]
    assert get_token.url.path == "/acct/WebServices/Security/V1_2/SecurityServiceSecure.svc"
    assert get_token.headers["Content-Type"].startswith("text/xml")
    root = etree.fromstring(get_token.content)
    body = root.find(f"{{{S}}}Body")
    op = body[0]
    assert op.tag == "{http://www.timelog.com/api/tlp/v1_2}GetToken"
    assert [c.tag.split("}")[1] for c in op] == ["user", "password"]
    assert op[0].text == "integration" and op[1].text == PASSWORD
    # the token goes back in the v1_3 namespace, Expires verbatim
    call = etree.fromstring(server.requests[1].content).find(f"{{{S}}}Body")[0]
    assert call.tag == "{http://www.timelog.com/api/tlp/v1}GetInvoicesModifiedInPeriodPaged"
    names = [c.tag.split("}")[1] for c in call]
    assert names == ["startDate", "endDate", "page", "pageSize", "token"]
    assert call[0].text == "2024-03-01T00:00:00" and call[2].text == "1" and call[3].text == "2"
    token = call[4]
    assert [(c.tag, c.text) for c in token] == [
        ("{http://www.timelog.com/api/tlp/v1_3}Initials", "INT"),
        ("{http://www.timelog.com/api/tlp/v1_3}Expires", "2030-01-01T12:00:00"),
        ("{http://www.timelog.com/api/tlp/v1_3}Hash", HASH)]


def test_invoice_contract_parses_nested_values_as_decimal():
    server = FakeServer()
    server.handlers[INVOICING + "GetInvoicesModifiedInPeriodPaged"] = response(
        "GetInvoicesModifiedInPeriodPaged", "http://www.timelog.com/api/tlp/v1", invoice_xml(7))
    with make_client(server) as client:
        (inv,) = client.invoices_modified_in_period(datetime(2024, 3, 1), datetime(2024, 3, 31, 23, 59, 59))
    assert inv.id == 7 and inv.guid == UUID(INV_GUID) and inv.invoice_no == "2024-0007"
    assert inv.net_amount == Decimal("1000.5") and inv.vat_included == Decimal("250.13")
    assert inv.invoicing_address.city == "Aarhus C" and inv.requisition_no is None
    (line,) = inv.invoice_lines
    assert (line.product_no, line.quantity, line.rate) == ("1000", Decimal("2.5"), Decimal("400.2"))
    assert line.quantity * line.rate == line.amount
    assert inv.status_enum is InvoiceStatus.BOOKED
    assert inv.external_keys == []


def test_paging_walks_total_page_count():
    server = FakeServer()
    pages = {1: invoice_xml(1) + invoice_xml(2), 2: invoice_xml(3) + invoice_xml(4), 3: invoice_xml(5)}

    def handler(request: httpx.Request) -> str:
        call = etree.fromstring(request.content).find(f"{{{S}}}Body")[0]
        page = int(next(c.text for c in call if c.tag.endswith("}page")))
        return response("GetCreditNotesModifiedInPeriodPaged", "http://www.timelog.com/api/tlp/v1",
                        pages[page].replace("Invoice", "CreditNote"), total=3)

    server.handlers[INVOICING + "GetCreditNotesModifiedInPeriodPaged"] = handler
    with make_client(server) as client:
        notes = list(client.credit_notes_modified_in_period(date(2024, 1, 1), date(2024, 12, 31)))
    assert [n.id for n in notes] == [1, 2, 3, 4, 5]
    assert server.ops().count("GetCreditNotesModifiedInPeriodPaged") == 3


def test_token_is_refreshed_before_it_expires():
    now = [datetime(2030, 1, 1, 0, 0, tzinfo=UTC)]
    server = FakeServer()
    server.token_answers = [token_answer("2030-01-01T12:00:00"), token_answer("2030-01-02T00:00:00")]
    server.handlers[INVOICING + "GetInvoicesModifiedInPeriodPaged"] = response(
        "GetInvoicesModifiedInPeriodPaged", "http://www.timelog.com/api/tlp/v1", "", total=0)
    with make_client(server, clock=lambda: now[0]) as client:
        list(client.invoices_modified_in_period(date(2024, 1, 1), date(2024, 1, 2)))
        now[0] += timedelta(hours=11, minutes=30)  # 30 min left: still outside the 15 min margin
        list(client.invoices_modified_in_period(date(2024, 1, 1), date(2024, 1, 2)))
        now[0] += timedelta(minutes=20)  # 10 min left: refresh first
        list(client.invoices_modified_in_period(date(2024, 1, 1), date(2024, 1, 2)))
        assert client.token().expires == datetime(2030, 1, 2)
    assert server.ops().count("GetTokenRequest") == 2
    assert server.ops()[-2:] == ["GetTokenRequest", "GetInvoicesModifiedInPeriodPaged"]


def test_token_rejected_by_server_is_renewed_once():
    server = FakeServer()
    answers = iter([
        response("GetProjectsModifiedInPeriodPaged", "http://www.timelog.com/api/tlp/v1_8", "", state="Error",
                 total=0, message="Security token has expired. Request a new token with SecurityService.GetToken."),
        response("GetProjectsModifiedInPeriodPaged", "http://www.timelog.com/api/tlp/v1_8",
                 '<b:ProjectApiReadModel xmlns:b="http://www.timelog.com/api/tlp/v1_8"><b:ID>'
                 '8a7e790b-deb2-4ed3-a6be-e5dca300b2c8</b:ID><b:ProjectID>740</b:ProjectID><b:Name>Webinar</b:Name>'
                 '<b:ExchangeRate>100</b:ExchangeRate></b:ProjectApiReadModel>'),
    ])
    server.handlers["http://www.timelog.com/api/tlp/v1_8/ProjectManagementService/GetProjectsModifiedInPeriodPaged"] = (
        lambda r: next(answers))
    with make_client(server) as client:
        (project,) = client.projects_modified_in_period(date(2024, 1, 1), date(2024, 2, 1))
    assert project.project_id == 740 and project.exchange_rate == Decimal("100")
    assert server.ops() == ["GetTokenRequest", "GetProjectsModifiedInPeriodPaged", "GetTokenRequest",
                            "GetProjectsModifiedInPeriodPaged"]


def test_wrong_password_names_the_setting_not_the_secret():
    server = FakeServer()
    server.token_answers = [token_answer(state="Error", message="Invalid username or password.")]
    with make_client(server) as client, pytest.raises(AuthenticationError) as err:
        client.token()
    text = str(err.value)
    assert "TimeLog Transactional API" in text and "TransactionalSettings.password" in text
    assert "Invalid username or password" in text and PASSWORD not in text


def test_response_state_error_carries_messages():
    server = FakeServer()
    server.handlers[INVOICING + "UpdateExternalData"] = response(
        "UpdateExternalData", "http://www.timelog.com/api/tlp/v1", "", state="Error", total=0,
        message=f"Invoice with GUID '{INV_GUID}' was not found.")
    with make_client(server) as client, pytest.raises(TransactionalNotFoundError) as err:
        client.update_external_data(UUID(INV_GUID), "UC-1001", InvoiceStatus.DRAFT)
    assert isinstance(err.value, TransactionalError)
    assert err.value.messages[0].message.startswith("Invoice with GUID")
    assert "UpdateExternalData" in str(err.value) and f"invoice {INV_GUID}" in str(err.value)


def test_update_external_data_envelope_and_int_id_lookup():
    server = FakeServer()
    server.handlers["GetInvoiceByIDRequest"] = response("GetInvoiceByID", "http://www.timelog.com/api/tlp/v1",
                                                        invoice_xml(42))
    server.handlers[INVOICING + "UpdateExternalData"] = response("UpdateExternalData",
                                                                 "http://www.timelog.com/api/tlp/v1", invoice_xml(42))
    with make_client(server) as client:
        result = client.update_external_data(42, "UC-1001", InvoiceStatus.DRAFT)
    assert result.id == 42
    assert server.ops() == ["GetTokenRequest", "GetInvoiceByIDRequest", "UpdateExternalData"]
    call = etree.fromstring(server.requests[-1].content).find(f"{{{S}}}Body")[0]
    assert call.tag == "{http://www.timelog.com/api/tlp/v1}UpdateExternalData"
    assert [c.tag.split("}")[1] for c in call] == ["guid", "externalInvoiceNumber", "externalInvoiceStatus", "token"]
    assert call[0].text == INV_GUID and call[1].text == "UC-1001"
    assert [(c.tag.split("}")[1], c.text) for c in call[2]] == [("ID", "0"), ("Name", "Draft")]


def test_soap_fault_action_not_supported_is_unknown_method_at_once():
    server = FakeServer()
    fault = envelope('<s:Fault><faultcode xmlns:a="http://schemas.microsoft.com/ws/2005/05/addressing/none">'
                     'a:ActionNotSupported</faultcode><faultstring xml:lang="en-US">The message with Action '
                     "'x' cannot be processed at the receiver</faultstring></s:Fault>")
    server.handlers["http://api.timelog.com/services/crm/1_4/ICRMService/GetCustomersModifiedSincePaged"] = (
        httpx.Response(500, text=fault))
    with make_client(server) as client, pytest.raises(UnknownMethodError) as err:
        list(client.customers_modified_since(date(2024, 1, 1)))
    assert "GetCustomersModifiedSincePaged" in str(err.value)
    assert server.ops().count("GetCustomersModifiedSincePaged") == 1


def test_truncated_envelope_retried_then_named():
    server = FakeServer()
    whole = response("GetInvoicesModifiedInPeriodPaged", "http://www.timelog.com/api/tlp/v1", invoice_xml(1))
    server.handlers[INVOICING + "GetInvoicesModifiedInPeriodPaged"] = httpx.Response(200, text=whole[: len(whole) // 2])
    with make_client(server) as client, pytest.raises(MalformedResponseError) as err:
        list(client.invoices_modified_in_period(date(2024, 1, 1), date(2024, 1, 2)))
    assert err.value.where.startswith("GetInvoicesModifiedInPeriodPaged line")
    assert server.ops().count("GetInvoicesModifiedInPeriodPaged") == FAST.max_attempts


def test_customer_contract_and_plain_http_endpoint():
    server = FakeServer()
    customer = ('<b:Customer xmlns:b="http://api.timelog.com/services/crm/1_4"><b:Action>Original</b:Action>'
                '<b:ExternalKeys><b:ExternalSystemContext><b:SystemName>Uniconta</b:SystemName>'
                '<b:ExternalID>10001</b:ExternalID></b:ExternalSystemContext></b:ExternalKeys>'
                '<b:ID>12</b:ID><b:GUID>b86f7c33-f6a8-41a3-a5db-05422ae34e43</b:GUID><b:Name>Kunde A/S</b:Name>'
                '<b:No>1001</b:No><b:VAT>25</b:VAT><b:EAN>5790000000000</b:EAN><b:VATNo>DK12345678</b:VATNo>'
                '<b:PaymentTermId>3</b:PaymentTermId><b:CustomerSinceDate i:nil="true" xmlns:i="'
                f'{I}"/></b:Customer>')
    server.handlers["http://api.timelog.com/services/crm/1_4/ICRMService/GetCustomersModifiedSincePaged"] = response(
        "GetCustomersModifiedSincePaged", "http://api.timelog.com/services/crm/1_4", customer)
    with make_client(server, base_url="http://127.0.0.1:1/tlsim") as client:
        (c,) = client.customers_modified_since(datetime(2024, 1, 1, 6, 0))
    assert (c.id, c.name, c.ean, c.vat_no, c.payment_term_id, c.vat) == (12, "Kunde A/S", "5790000000000",
                                                                        "DK12345678", 3, Decimal("25"))
    assert c.external_keys[0].external_id == "10001" and c.customer_since_date is None
    assert server.requests[1].url.path == "/tlsim/WebServices/CRM/V1_4/CRMService.svc"
    call = etree.fromstring(server.requests[1].content).find(f"{{{S}}}Body")[0]
    assert [(c.tag.split("}")[1], c.text) for c in call][:6] == [
        ("date", "2024-01-01T06:00:00"), ("includeCustomers", "true"), ("includeSuppliers", "false"),
        ("includeLeads", "false"), ("loadCustomFields", "false"), ("loadExternalKeys", "true")]


def test_update_external_data_without_reading_the_invoice_sent_back():
    """The invoice transfer's write-back only needs the update to succeed (issue 18: parsing the invoice TimeLog
    sends back was a fifth of an M backfill's CPU): ``read_invoice=False`` sends the same request and returns
    ``None``; an answer whose state is Error still raises."""
    server = FakeServer()
    server.handlers[INVOICING + "UpdateExternalData"] = response("UpdateExternalData",
                                                                 "http://www.timelog.com/api/tlp/v1", invoice_xml(42))
    with make_client(server) as client:
        assert client.update_external_data(UUID(INV_GUID), "UC-1001", InvoiceStatus.DRAFT, read_invoice=False) is None
        assert client.update_external_data(UUID(INV_GUID), "UC-1001", InvoiceStatus.DRAFT).id == 42
    assert server.requests[-1].content == server.requests[-2].content
    server.handlers[INVOICING + "UpdateExternalData"] = response(
        "UpdateExternalData", "http://www.timelog.com/api/tlp/v1", "", state="Error", total=0,
        message=f"Invoice with GUID '{INV_GUID}' was not found.")
    with make_client(server) as client, pytest.raises(TransactionalNotFoundError):
        client.update_external_data(UUID(INV_GUID), "UC-1001", InvoiceStatus.DRAFT, read_invoice=False)
