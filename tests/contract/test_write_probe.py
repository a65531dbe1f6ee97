"""``tlsync contract probe --write-probe`` (issue 13 item 1): InsertList's partial-failure semantics learnt in a test
company — two debtors, one bad, inserted and deleted — refused unless the operator names the company and confirms
it is a test company; the result recorded in the snapshot and compared by ``diff``."""

from __future__ import annotations

import json

import httpx

import simulators.timelog as timelog_sim
import simulators.uniconta as uniconta_sim
from simulators.generator import FIXED_TODAY
from tests.conftest import served_simulators
from tlsync.contract.cli import main
from tlsync.contract.write_probe import PROBE_NAME, write_probe_uniconta


def _debtors(url: str, company: int) -> list[dict]:
    doc = httpx.get(f"{url}/_sim/state").json()["uniconta"]
    return next(c for c in doc["companies"] if c["CompanyId"] == company)["DebtorClient"]


def test_the_uniconta_simulator_refuses_the_whole_insertlist_and_nothing_is_left():
    with served_simulators(timelog_sim.create_app(size="S", seed=42, today=FIXED_TODAY),
                           uniconta_sim.create_app(size="S", seed=42, today=FIXED_TODAY)) as sims:
        before = _debtors(sims["uniconta_url"], 10001)
        result = write_probe_uniconta(sims["uniconta_url"], "integration", "uniconta-pw", 10001)
        after = _debtors(sims["uniconta_url"], 10001)
    assert result["insert_list"]["status"] == 409
    assert result["insert_list"]["answer"]["code"] == "KeyExists" and result["insert_list"]["answer"]["names_index"]
    assert (result["stored_rows"], result["semantics"], result["answer_kind"]) == (0, "all-or-nothing", "refused")
    assert result["cleanup"] == {"delete_status": [], "left": []}
    assert result["calls"] == 2 and after == before
    assert "uniconta-pw" not in json.dumps(result) and "TLPROBE" not in json.dumps(result)


class PartialServer:
    """A Uniconta that stores the good rows of an InsertList and answers 200 with an error number (what the issue
    fears a real answer may be): the probe must see 'partial' and delete what was stored."""

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.seen: list[tuple[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((request.method, request.url.path))
        assert request.headers["authorization"].startswith("Basic ")
        if request.url.path.startswith("/api/Entities/InsertList/"):
            for row in json.loads(request.content):
                if not any(r["Account"] == row["Account"] for r in self.rows):
                    self.rows.append({**row, "RowId": len(self.rows) + 1})
            return httpx.Response(200, json=54)
        if request.url.path.startswith("/api/Entities/Delete/"):
            row = json.loads(request.content)
            self.rows = [r for r in self.rows if r["RowId"] != row["RowId"]]
            return httpx.Response(200, json=row)
        value = request.url.params["Value"]
        return httpx.Response(200, json=[r for r in self.rows if r["Account"] == value])


def test_a_partial_insertlist_is_recognised_and_cleaned_up():
    server = PartialServer()
    result = write_probe_uniconta("https://uniconta.test", "probe-user", "secret-pw", 4711,
                                  transport=httpx.MockTransport(server))
    assert (result["stored_rows"], result["semantics"]) == (1, "partial")
    assert result["answer_kind"] == "2xx without the stored rows" and result["insert_list"]["answer"] == {"body": "int"}
    assert result["cleanup"] == {"delete_status": [200], "left": []} and server.rows == []
    assert [m for m, _ in server.seen] == ["POST", "GET", "DELETE", "GET"] and result["calls"] == 4
    assert "secret-pw" not in json.dumps(result) and PROBE_NAME not in json.dumps(result)


def test_the_write_probe_is_refused_without_a_named_and_confirmed_test_company(capsys, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_UNICONTA_DEFAULT", raising=False)
    assert main(["probe", "--write-probe"]) == 2
    assert "name the test company with --company N" in capsys.readouterr().err
    assert main(["probe", "--write-probe", "--company", "10001"]) == 2
    err = capsys.readouterr().err
    assert "would write to Uniconta company 10001" in err and "--test-company" in err
    assert len(err.strip().splitlines()) == 1
    assert main(["probe", "--write-probe", "--only", "timelog", "--company", "1", "--test-company"]) == 2
    assert "--only timelog" in capsys.readouterr().err


def test_the_write_probe_goes_into_the_snapshot_and_diff_compares_it(tmp_path, capsys):
    snap = tmp_path / "contract.json"
    assert main(["probe", "--simulators", "--write-probe", "--out", str(snap)]) == 0
    doc = json.loads(snap.read_text(encoding="utf-8"))
    assert doc["uniconta"]["write probe"]["semantics"] == "all-or-nothing"
    doc["uniconta"]["write probe"]["semantics"] = "partial"          # what a real service might answer
    doc["uniconta"]["write probe"]["insert_list"]["status"] = 200
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(doc), encoding="utf-8")
    capsys.readouterr()
    assert main(["diff", str(edited)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "uniconta.write probe.semantics: expected 'partial', got 'all-or-nothing'" in out
    assert "uniconta.write probe.insert_list.status: expected 200, got 409" in out
    assert out[-1].startswith("2 difference(s)")
