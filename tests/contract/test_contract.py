"""The contract probe (tlsync.contract, issue 13): the committed snapshot of the simulators is what they answer
today — a test that fails when a simulator drifts — and a hand-edited snapshot is reported line by line."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tlsync.contract import diff, shape
from tlsync.contract.cli import main, probe_simulators

SNAPSHOT = Path(__file__).with_name("simulators.json")


@pytest.fixture(scope="module")
def probed() -> dict:
    return probe_simulators()


def committed() -> dict:
    return json.loads(SNAPSHOT.read_text(encoding="utf-8"))


def test_the_simulators_match_the_committed_snapshot(probed):
    """Regenerate with `tlsync contract probe --simulators --out tests/contract/simulators.json` after a deliberate
    change of a simulator (and say why in the commit)."""
    assert diff(committed(), probed) == []
    assert 0 < probed["uniconta"]["calls"] <= 50 and 0 < probed["timelog"]["calls"] <= 50


def test_the_snapshot_records_what_going_live_depends_on(probed):
    uc, tl = probed["uniconta"], probed["timelog"]
    listing = uc["companies /api/Entities/CompanyClient"]
    assert listing["status"] == 200 and {"PrimaryKeyId", "CompanyName", "Project"} <= set(listing["fields"])
    assert uc["class DebtorInvoiceLines"]["row_id"] == ["RowId"] and "DCAccount" in uc["class DebtorInvoiceLines"]["fields"]
    assert uc["row id $filter=RowId"]["status"] == 200 and uc["row id $filter=PrimaryKeyId"]["status"] == 400
    assert uc["error wrong password"]["status"] == 401 and uc["error company not visible"]["status"] == 403
    assert tl["reporting error wrong password"]["status"] == 401 and tl["reporting error bad input"]["status"] == 500
    assert all("latency_ms" in v for v in uc.values() if isinstance(v, dict))


def test_values_are_redacted(probed):
    from simulators.generator import generate
    from tlsync.contract.cli import SIM_TODAY

    text = json.dumps(probed, ensure_ascii=False)
    fixture = generate(size="S", seed=42, today=SIM_TODAY)
    names = [d["Name"] for c in fixture["uniconta"]["companies"] for d in c.get("DebtorClient", [])[:20]]
    assert names and not [n for n in names if n and n in text]
    assert "uniconta-pw" not in text and "apipass" not in text and "sim-pat-token" not in text
    assert shape("Unknown company 10003: user 'kim' cannot see it") == "Unknown company 9: user '…' cannot see it"


def test_a_hand_edited_snapshot_is_reported_line_by_line(tmp_path, capsys):
    edited = copy.deepcopy(committed())
    fields = edited["uniconta"]["class DebtorClient"]["fields"]
    fields["AccountNumber"] = fields.pop("Account")
    edited["uniconta"]["error wrong password"]["status"] = 403
    edited["timelog"]["reporting GetInvoicesRaw"]["root"] = "InvoiceList"
    edited["uniconta"]["class GLTransClient"]["latency_ms"] = 99999      # informational: never a difference
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(edited), encoding="utf-8")
    assert main(["diff", str(path), "--against", str(SNAPSHOT)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[:-1] == [
        "timelog.reporting GetInvoicesRaw.root: expected 'InvoiceList', got 'Invoices'",
        "uniconta.class DebtorClient.fields.Account: expected '<absent>', got 'str'",
        "uniconta.class DebtorClient.fields.AccountNumber: expected 'str', got '<absent>'",
        "uniconta.error wrong password.status: expected 403, got 401",
    ]
    assert out[-1].startswith("4 difference(s)")
    assert main(["diff", str(SNAPSHOT), "--against", str(SNAPSHOT)]) == 0
