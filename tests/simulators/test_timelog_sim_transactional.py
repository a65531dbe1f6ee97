"""Contract tests: the TimeLog simulator's Transactional API (SOAP 1.1 / WCF) over real HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest
from lxml import etree

S = "{http://schemas.xmlsoap.org/soap/envelope/}"
API = "{http://api.timelog.com}"
V1 = "{http://www.timelog.com/api/tlp/v1}"
V1_1 = "{http://www.timelog.com/api/tlp/v1_1}"
V1_2 = "{http://www.timelog.com/api/tlp/v1_2}"
V1_8 = "{http://www.timelog.com/api/tlp/v1_8}"
CRM = "{http://api.timelog.com/services/crm/1_4}"
SEC = "/tlsim/WebServices/Security/V1_2/SecurityServiceSecure.svc"
CRM_URL = "/tlsim/WebServices/CRM/V1_4/CRMServiceSecure.svc"
PM_URL = "/tlsim/WebServices/ProjectManagement/V1_8/ProjectManagementServiceSecure.svc"
INV_URL = "/tlsim/WebServices/Invoicing/V1_1/InvoicingServiceSecure.svc"
ACTIONS = {
    CRM_URL: ("http://api.timelog.com/services/crm/1_4", "http://api.timelog.com/services/crm/1_4/ICRMService/{op}"),
    PM_URL: ("http://www.timelog.com/api/tlp/v1_8", "http://www.timelog.com/api/tlp/v1_8/ProjectManagementService/{op}"),
    INV_URL: ("http://www.timelog.com/api/tlp/v1", "http://www.timelog.com/api/tlp/v1/InvoicingService/{op}"),
}


@pytest.fixture
def c(timelog_sim):
    return timelog_sim


def envelope(op: str, ns: str, inner: str) -> str:
    return (f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><{op} xmlns="{ns}">{inner}'
            f"</{op}></s:Body></s:Envelope>")


def get_token(c: httpx.Client, user: str = "integration", password: str = "integration-pw") -> httpx.Response:
    env = envelope("GetToken", "http://www.timelog.com/api/tlp/v1_2", f"<user>{user}</user><password>{password}</password>")
    return c.post(SEC, content=env, headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"GetTokenRequest"'})


def token_xml(c: httpx.Client, **override) -> str:
    root = etree.fromstring(get_token(c).content)
    tok = root.find(f".//{V1_2}SecurityToken")
    parts = {etree.QName(e).localname: e.text for e in tok}
    parts.update(override)
    inner = "".join(f"<d4p1:{k}>{v}</d4p1:{k}>" for k, v in parts.items())
    return (f'<token xmlns:d4p1="http://www.timelog.com/api/tlp/v1_3" '
            f'xmlns:i="http://www.w3.org/2001/XMLSchema-instance">{inner}</token>')


def soap(c: httpx.Client, url: str, op: str, params: str, token: str, action: str | None = None) -> httpx.Response:
    ns, act = ACTIONS[url]
    return c.post(url, content=envelope(op, ns, params + token),
                  headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action or act.format(op=op)}"'})


def result(r: httpx.Response, op: str, ns: str) -> etree._Element:
    assert r.status_code == 200, r.text
    root = etree.fromstring(r.content)
    res = root.find(f"{S}Body/{ns}{op}Response/{ns}{op}Result")
    assert res is not None, r.text
    return res


def state(res: etree._Element) -> str:
    return res.findtext(f"{API}ResponseState")


def period(start: str, end: str, page: int = 1, size: int = 100) -> str:
    return f"<startDate>{start}</startDate><endDate>{end}</endDate><page>{page}</page><pageSize>{size}</pageSize>"


def test_get_token_envelope_and_twelve_hour_expiry(c):
    r = get_token(c)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/xml")
    res = result(r, "GetToken", V1_2)
    assert res.findtext(f"{V1_1}ResponseState") == "Success"
    tok = res.find(f"{V1_1}Return/{V1_2}SecurityToken")
    assert [etree.QName(e).localname for e in tok] == ["Initials", "Expires", "Hash"]
    assert tok.findtext(f"{V1_2}Initials") == "INT"
    expires = datetime.fromisoformat(tok.findtext(f"{V1_2}Expires"))
    now = datetime.fromisoformat(c.get("/_sim/clock").json()["now"])
    assert timedelta(hours=11, minutes=59) <= expires - now <= timedelta(hours=12, minutes=1)
    assert len(tok.findtext(f"{V1_2}Hash")) >= 32


def test_get_token_wrong_password_is_an_error_state_not_a_fault(c):
    res = result(get_token(c, password="wrong"), "GetToken", V1_2)
    assert res.findtext(f"{V1_1}ResponseState") == "Error"
    assert len(res.find(f"{V1_1}Return")) == 0
    msg = res.find(f"{V1_1}Messages/{V1_1}APIMessage")
    assert msg.findtext(f"{V1_1}Message") == "Invalid username or password."
    assert msg.findtext(f"{V1_1}Severity") == "Error"
    assert "wrong" not in get_token(c, password="wrong").text.split("<a:Request>")[0]


def test_wrong_soapaction_and_malformed_body_are_faults(c):
    env = envelope("GetToken", "http://www.timelog.com/api/tlp/v1_2", "<user>integration</user><password>x</password>")
    r = c.post(SEC, content=env, headers={"SOAPAction": '"http://www.timelog.com/api/tlp/v1_2/SecurityService/GetToken"'})
    assert r.status_code == 500
    fault = etree.fromstring(r.content).find(f"{S}Body/{S}Fault")
    assert fault.findtext("faultcode").endswith("ActionNotSupported")
    r = c.post(INV_URL, content="not xml", headers={"SOAPAction": '"x"'})
    assert r.status_code == 400 and b"Fault" in r.content
    assert c.post("/tlsim/WebServices/Nope/V1_0/NopeServiceSecure.svc", content="<x/>").status_code == 404
    soap12 = c.post(SEC, content=env, headers={"Content-Type": "application/soap+xml; charset=utf-8"})
    assert soap12.status_code == 415
    assert c.get(INV_URL).status_code == 200


def test_customers_modified_since_paged_filters_flags_and_pages(c):
    tok = token_xml(c)

    def ask(date: str, customers=True, suppliers=False, leads=False, page=1, size=100):
        p = (f"<date>{date}</date><includeCustomers>{str(customers).lower()}</includeCustomers>"
             f"<includeSuppliers>{str(suppliers).lower()}</includeSuppliers><includeLeads>{str(leads).lower()}</includeLeads>"
             f"<loadCustomFields>false</loadCustomFields><loadExternalKeys>false</loadExternalKeys>"
             f"<page>{page}</page><pageSize>{size}</pageSize>")
        return result(soap(c, CRM_URL, "GetCustomersModifiedSincePaged", p, tok), "GetCustomersModifiedSincePaged", CRM)

    res = ask("2024-01-01T00:00:00")
    assert state(res) == "Success"
    assert res.findtext(f"{API}IsReturnPaged") == "true"
    customers = res.find(f"{API}Return")
    assert all(e.tag == CRM + "Customer" for e in customers)
    got = [int(e.findtext(f"{CRM}ID")) for e in customers]
    assert sorted(got) == [1, 2, 3, 4, 5, 6, 9, 10, 11, 12]  # no supplier 7, no lead 8
    assert ask("2024-01-01T00:00:00", suppliers=True, leads=True).find(f"{API}Return").__len__() == 12
    later = ask("2024-06-01T00:00:00")
    assert {int(e.findtext(f"{CRM}ID")) for e in later.find(f"{API}Return")} == {6, 12}
    p1 = ask("2024-01-01T00:00:00", page=1, size=4)
    assert p1.findtext(f"{API}TotalPageCount") == "3" and len(p1.find(f"{API}Return")) == 4
    p4 = ask("2024-01-01T00:00:00", page=4, size=4)
    assert len(p4.find(f"{API}Return")) == 0 and state(p4) == "Success"
    acme = next(e for e in customers if e.findtext(f"{CRM}ID") == "1")
    assert acme.findtext(f"{CRM}VATNo") == "DK12345678"
    assert acme.find(f"{CRM}Address/{V1_1}Address1").text == "Lindevangs Allé 12"
    assert acme.findtext(f"{API}Action") == "Original"


def test_projects_modified_in_period(c):
    tok = token_xml(c)
    res = result(soap(c, PM_URL, "GetProjectsModifiedInPeriodPaged", period("2024-01-01T00:00:00", "2024-12-31T23:59:59"), tok),
                 "GetProjectsModifiedInPeriodPaged", V1_8)
    items = res.find(f"{API}Return")
    assert [e.tag for e in items] == [V1_8 + "ProjectApiReadModel"] * 2
    assert [int(e.findtext(f"{V1_8}ProjectID")) for e in items] == [10, 11]
    assert items[0].findtext(f"{V1_8}No") == "P-0010"
    assert items[0].findtext(f"{V1_8}TypeID") == "2"


def test_invoices_and_credit_notes_modified_in_period(c):
    tok = token_xml(c)
    res = result(soap(c, INV_URL, "GetInvoicesModifiedInPeriodPaged", period("2024-01-01T00:00:00", "2024-12-31T00:00:00"), tok),
                 "GetInvoicesModifiedInPeriodPaged", V1)
    invs = res.find(f"{API}Return")
    assert [int(e.findtext(f"{V1}ID")) for e in invs] == [100, 101, 102, 104]
    first = invs[0]
    assert first.tag == V1 + "Invoice"
    assert (first.findtext(f"{V1}InvoiceNo"), first.findtext(f"{V1}Status"), first.findtext(f"{V1}Type")) == \
        ("2024-0001", "Booked", "Invoice")
    lines = first.find(f"{V1}InvoiceLines")
    assert [e.findtext(f"{V1}ProductNo") for e in lines] == ["T100", ""]
    assert lines[0].findtext(f"{V1}Amount") == "1225"
    assert first.find(f"{V1}Details/{V1}Status/{V1}Name").text == "Booked"
    assert invs[1].findtext(f"{V1}Status") == "Draft"
    assert res.findtext(f"{API}TotalPageCount") == "1"
    page = result(soap(c, INV_URL, "GetInvoicesModifiedInPeriodPaged", period("2024-01-01T00:00:00", "2024-12-31T00:00:00", 2, 3), tok),
                  "GetInvoicesModifiedInPeriodPaged", V1)
    assert page.findtext(f"{API}TotalPageCount") == "2"
    assert [int(e.findtext(f"{V1}ID")) for e in page.find(f"{API}Return")] == [104]
    narrow = result(soap(c, INV_URL, "GetInvoicesModifiedInPeriodPaged", period("2024-02-01T00:00:00", "2024-03-31T00:00:00"), tok),
                    "GetInvoicesModifiedInPeriodPaged", V1)
    assert [int(e.findtext(f"{V1}ID")) for e in narrow.find(f"{API}Return")] == [101, 102]
    cn = result(soap(c, INV_URL, "GetCreditNotesModifiedInPeriodPaged", period("2024-01-01T00:00:00", "2024-12-31T00:00:00"), tok),
                "GetCreditNotesModifiedInPeriodPaged", V1)
    (note,) = cn.find(f"{API}Return")
    assert note.tag == V1 + "CreditNote"
    assert (note.findtext(f"{V1}CreditNoteNO"), note.findtext(f"{V1}CreditedInvoiceID"),
            note.findtext(f"{V1}RelatesToInvoiceNo")) == ("2024-0003", "100", "2024-0001")


def test_update_external_data_is_visible_in_reporting_and_bumps_modified_time(c):
    c.put("/_sim/clock", json={"now": "2025-02-01T12:00:00"})
    tok = token_xml(c)
    ns = "{http://www.timelog.com/XML/Schema/tlp/v4_4}"
    cred = {"siteCode": "SIMSITE", "apiID": "apiuser", "apiPassword": "apipass"}
    inv = etree.fromstring(c.get("/tlsim/service.asmx/GetInvoicesRaw", params={
        **cred, "invoiceID": 100, "customerID": 0, "status": -1, "startDate": "", "endDate": ""}).content)[0]
    guid = inv.get("GUID")
    p = (f"<guid>{guid}</guid><externalInvoiceNumber>UC-10042</externalInvoiceNumber>"
         f'<externalInvoiceStatus xmlns:b="http://www.timelog.com/api/tlp/v1"><b:ID>1</b:ID><b:Name>Draft</b:Name>'
         f"</externalInvoiceStatus>")
    res = result(soap(c, INV_URL, "UpdateExternalData", p, tok), "UpdateExternalData", V1)
    assert state(res) == "Success"
    assert res.find(f"{API}Return/{V1}Invoice/{V1}InvoiceNoExternal").text == "UC-10042"
    inv = etree.fromstring(c.get("/tlsim/service.asmx/GetInvoicesRaw", params={
        **cred, "invoiceID": 100, "customerID": 0, "status": -1, "startDate": "", "endDate": ""}).content)[0]
    assert inv.findtext(ns + "ExternalInvoiceNo") == "UC-10042"
    assert inv.findtext(ns + "ExternalInvoiceStatus") == "Draft"
    res = result(soap(c, INV_URL, "GetInvoicesModifiedInPeriodPaged", period("2025-02-01T00:00:00", "2025-02-02T00:00:00"), tok),
                 "GetInvoicesModifiedInPeriodPaged", V1)
    assert [e.findtext(f"{V1}ID") for e in res.find(f"{API}Return")] == ["100"]
    bad = result(soap(c, INV_URL, "UpdateExternalData", p.replace(guid, "00000000-0000-0000-0000-000000000000"), tok),
                 "UpdateExternalData", V1)
    assert state(bad) == "Error" and "was not found" in bad.findtext(f"{API}Messages/{API}APIMessage/{API}Message")


def test_invalid_expired_and_revoked_tokens(c):
    def ask(tok: str) -> etree._Element:
        return result(soap(c, INV_URL, "GetInvoicesModifiedInPeriodPaged", period("2024-01-01T00:00:00", "2024-12-31T00:00:00"), tok),
                      "GetInvoicesModifiedInPeriodPaged", V1)

    forged = ask(token_xml(c, Hash="0" * 64))
    assert state(forged) == "Error"
    assert len(forged.find(f"{API}Return")) == 0
    assert "Invalid security token" in forged.findtext(f"{API}Messages/{API}APIMessage/{API}Message")
    assert state(ask("")) == "Error"
    tok = token_xml(c)
    assert state(ask(tok)) == "Success"
    c.put("/_sim/clock", json={"offset_seconds": 13 * 3600})
    expired = ask(tok)
    assert state(expired) == "Error"
    assert "expired" in expired.findtext(f"{API}Messages/{API}APIMessage/{API}Message")
    c.put("/_sim/clock", json={})
    assert state(ask(tok)) == "Success"
    c.post("/_sim/tokens/revoke")
    assert state(ask(tok)) == "Error"


def test_bad_paging_is_invalid_and_counts_by_user(c):
    tok = token_xml(c)
    c.post("/_sim/counters/reset")
    res = result(soap(c, INV_URL, "GetInvoicesModifiedInPeriodPaged", period("2024-01-01T00:00:00", "2024-12-31T00:00:00", 0, 10), tok),
                 "GetInvoicesModifiedInPeriodPaged", V1)
    assert state(res) == "Invalid"
    counters = c.get("/_sim/counters").json()
    assert counters["by_surface"]["transactional"] == 1
    assert counters["by_user"]["transactional:INT"] == 1
