"""A list Uniconta refuses as too large (issue 13, evidence 7: InsertList's limits are not published): one line
naming the setting to lower, no splitting record by record (which would only spend the day's calls), and the
invoice transfer's list sizes are settings with defendable defaults."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from pydantic import SecretStr

from simulators._common import serve_in_thread
from simulators.uniconta import create_app
from tlsync import config, connections
from tlsync.clients.uniconta import UnicontaClient, UnicontaSettings
from tlsync.clients.uniconta.crud import ListTooLargeError
from tlsync.clients.uniconta.models import DebtorOrderLineClient
from tlsync.nightly.runs import failure_line

LIMIT = 3


def _fixture() -> dict:
    return {"uniconta": {"companies": [{
        "CompanyId": 10001, "Name": "Alpha A/S", "ProjectModule": False,
        "DebtorGroupClient": [{"Group": "DK", "Name": "Danske kunder"}],
        "DebtorClient": [{"Account": "1000", "Name": "Kunde", "Group": "DK"}],
        "DebtorOrderClient": [{"OrderNumber": 1, "Account": "1000"}]}]}}


def _limited(app, status: int = 413, message: str = "Request Entity Too Large"):
    """The simulator behind a web server that takes at most ``LIMIT`` records per list."""

    async def asgi(scope, receive, send):
        if scope["type"] == "http" and "/InsertList/" in scope["path"]:
            body, more = b"", True
            while more:
                event = await receive()
                body += event.get("body", b"")
                more = event.get("more_body", False)
            if len(json.loads(body)) > LIMIT:
                await send({"type": "http.response.start", "status": status,
                            "headers": [(b"content-type", b"text/plain")]})
                await send({"type": "http.response.body", "body": message.encode()})
                return
            sent = False

            async def replay():
                nonlocal sent
                if sent:
                    return {"type": "http.disconnect"}
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}

            await app(scope, replay, send)
            return
        await app(scope, receive, send)

    return asgi


def _lines(n: int) -> list[DebtorOrderLineClient]:
    return [DebtorOrderLineClient(OrderNumber=1, Item="TIME", Text=f"line {i}", Qty=Decimal(1), Price=Decimal(100))
            for i in range(n)]


@pytest.mark.parametrize(("status", "message"), [(413, "Request Entity Too Large"),
                                                 (400, "Maximum request length exceeded.")])
def test_an_oversized_list_is_one_line_naming_the_setting(status, message):
    with serve_in_thread(_limited(create_app(_fixture()), status, message)) as url:
        client = connections.uniconta_client(conn_id="uniconta_default", host=url, login="integration",
                                             password="uniconta-pw", extra={"company_id": 10001}, tally=False)
        with client:
            assert len(client.insert_list(_lines(LIMIT), batch_size=LIMIT)) == LIMIT   # within the limit: stored
            before = client.calls_used
            with pytest.raises(ListTooLargeError) as caught:
                client.insert_list(_lines(5), batch_size=5)
            assert client.calls_used - before == 1, "no splitting, no record-by-record retry"
    line = failure_line(caught.value)
    assert "\n" not in line and "TLSYNC_UNICONTA_LINE_BATCH (now 5)" in line and "too large" in line, line
    assert line.startswith("Uniconta: refused an InsertList of 5 DebtorOrderLineClient records"), line


def test_a_client_told_no_setting_says_the_class_has_none():
    """The client layer names no setting of its own: one built without ``list_settings`` says so in the line."""
    with serve_in_thread(_limited(create_app(_fixture()))) as url:
        client = UnicontaClient(UnicontaSettings(base_url=url, username="integration",
                                                 password=SecretStr("uniconta-pw"), company_id=10001))
        with client, pytest.raises(ListTooLargeError) as caught:
            client.insert_list(_lines(5), batch_size=5)
    line = failure_line(caught.value)
    assert "TLSYNC_" not in line and "have no setting" in line, line


def test_the_list_sizes_are_settings_with_defaults(monkeypatch):
    monkeypatch.delenv("TLSYNC_UNICONTA_ORDER_BATCH", raising=False)
    monkeypatch.delenv("TLSYNC_UNICONTA_LINE_BATCH", raising=False)
    assert config.value("TLSYNC_UNICONTA_ORDER_BATCH") == 500 and config.value("TLSYNC_UNICONTA_LINE_BATCH") == 2000
    monkeypatch.setenv("TLSYNC_UNICONTA_LINE_BATCH", "0")
    with pytest.raises(config.SettingError, match="TLSYNC_UNICONTA_LINE_BATCH must be a whole number between 1"):
        config.value("TLSYNC_UNICONTA_LINE_BATCH")
