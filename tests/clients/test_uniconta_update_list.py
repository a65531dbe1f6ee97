"""UpdateList (issue 13): the simulator replaces many records in one call, all or nothing; the client sends a batch
per call, names the record Uniconta refuses, and falls back to one Update per record on a server without the path."""

from __future__ import annotations

import json

import httpx
import pytest
from pydantic import SecretStr

from simulators._common import serve_in_thread
from simulators.uniconta import create_app
from tlsync.clients.errors import NotFoundError, RecordRejectedError
from tlsync.clients.uniconta import DebtorClient, UnicontaClient, UnicontaSettings

PASSWORD = "uniconta-pw"


def _fixture(n: int = 5) -> dict:
    return {"uniconta": {"companies": [{
        "CompanyId": 10001, "Name": "Alpha A/S", "ProjectModule": False,
        "DebtorGroupClient": [{"Group": "DK", "Name": "Danske kunder"}],
        "DebtorClient": [{"Account": str(1000 + i), "Name": f"Kunde {i}", "Group": "DK", "City": "Aarhus"}
                         for i in range(n)],
    }]}}


def _without_update_list(app):
    """The simulator as a server that does not know ``UpdateList`` (404 for the path, as for any unknown path)."""

    async def asgi(scope, receive, send):
        if scope["type"] == "http" and "/UpdateList/" in scope["path"]:
            body = json.dumps({"error": {"code": "NotFound", "message": f"No resource at {scope['path']}"}}).encode()
            await send({"type": "http.response.start", "status": 404,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)

    return asgi


def _quota(url: str) -> int:
    return sum(httpx.get(f"{url}/_sim/quota").json()["used"].values())


def _debtors(url: str) -> dict[str, dict]:
    doc = httpx.get(f"{url}/_sim/state").json()["uniconta"]
    return {d["Account"]: d for d in doc["companies"][0]["DebtorClient"]}


def _client(url: str) -> UnicontaClient:
    return UnicontaClient(UnicontaSettings(base_url=url, username="integration", password=SecretStr(PASSWORD),
                                           company_id=10001))


def test_the_simulator_updates_a_list_all_or_nothing_in_one_call():
    with serve_in_thread(create_app(_fixture())) as url, \
            httpx.Client(base_url=f"{url}/api/Entities", auth=("0010001/integration", PASSWORD)) as api:
        rows = api.get("/DebtorClient").json()
        for r in rows:
            r["Phone"] = "70 70 70 70"
        before = _quota(url)
        r = api.put("/UpdateList/DebtorClient", json=rows)
        assert r.status_code == 200, r.text
        assert [x["Phone"] for x in r.json()] == ["70 70 70 70"] * 5
        assert _quota(url) == before + 1, "one call against the quota for the whole list"
        # one bad record (unknown debtor group) refuses the whole list and names its index
        rows = api.get("/DebtorClient").json()
        rows[0]["City"], rows[3]["Group"] = "Odense", "NOPE"
        r = api.put("/UpdateList/DebtorClient", json=rows)
        assert r.status_code == 400 and r.json()["error"]["index"] == 3
        assert _debtors(url)["1000"]["City"] == "Aarhus", "nothing of a refused list is stored"
        # a record that is gone: 404 CouldNotFind with its index; the same record twice: 400
        r = api.post("/UpdateList/DebtorClient", json=[rows[0], {"Account": "4040", "Name": "ghost"}])
        assert r.status_code == 404 and r.json()["error"]["code"] == "CouldNotFind" and r.json()["error"]["index"] == 1
        r = api.put("/UpdateList/DebtorClient", json=[rows[0], rows[0]])
        assert r.status_code == 400
        assert api.put("/UpdateList/DebtorClient", json={"Account": "1000"}).status_code == 400


def test_the_client_batches_names_the_refused_record_and_falls_back_without_update_list():
    with serve_in_thread(create_app(_fixture(250))) as url, _client(url) as uc:
        debtors = list(uc.read(DebtorClient))
        before = _quota(url)
        stored = uc.update_list([d.model_copy(update={"Phone": "33 33 33 33"}) for d in debtors])
        assert _quota(url) - before == 3, "250 records in batches of 100"
        assert len(stored) == 250 and all(d.Phone == "33 33 33 33" for d in stored)
        assert all(d["Phone"] == "33 33 33 33" for d in _debtors(url).values())

        bad = [debtors[0].model_copy(update={"City": "Vejle"}), debtors[1].model_copy(update={"Group": "NOPE"})]
        with pytest.raises(RecordRejectedError) as refused:
            uc.update_list(bad)
        assert refused.value.record == bad[1].describe()
        assert _debtors(url)["1000"]["City"] == "Aarhus"
        with pytest.raises(NotFoundError) as gone:
            uc.update_list([bad[0], DebtorClient(Account="4040", Name="ghost")])
        assert gone.value.record == DebtorClient(Account="4040", Name="ghost").describe()

    with serve_in_thread(_without_update_list(create_app(_fixture(3)))) as url, _client(url) as uc:
        debtors = list(uc.read(DebtorClient))
        before = _quota(url)
        uc.update_list([d.model_copy(update={"City": "Vejle"}) for d in debtors])
        uc.update_list([d.model_copy(update={"City": "Kolding"}) for d in debtors])
        assert all(d["City"] == "Kolding" for d in _debtors(url).values())
        assert _quota(url) - before == 6, "one Update per record; the missing path is asked about only once"
