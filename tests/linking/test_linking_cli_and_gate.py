"""``python -m tlsync.linking`` on a staged world (no API needed: equal data on both sides links without a write),
the S8 gate, paging by 200, HTML escaping and the L6 number advice."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import COMPANY, HOSTILE, LE, confirmed_settings, customer, debtor, stage, twins

from tlsync.linking import Linker, number_advice, transfer_blockers, view_page
from tlsync.linking.cli import main
from tlsync.matching.refresh import refresh_suggestions
from tlsync.settings import save

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli(engine, tmp_path, capsys):
    settings = tmp_path / "settings.yaml"
    save(confirmed_settings(), settings)
    url = engine.url.render_as_string(hide_password=False)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["--db", url, "--settings", str(settings), "--actor", "test-admin", *argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def staged(engine, n: int = 205) -> None:
    customers, debtors = twins(n)
    customers.append(customer(9001, HOSTILE, "9001", Phone="+4570707070", City="Odense"))
    debtors += [debtor("30001", HOSTILE, Phone="+4570707070", City="Odense"),
                debtor("30003", "Ingen Match K/S", City="Skagen"), debtor("K-17", "Tekst Konto ApS")]
    stage(engine, customers, debtors)


def test_status_show_accept_and_the_gate(engine, cli):
    staged(engine)
    le = confirmed_settings().entity(LE)
    blockers = transfer_blockers(le, engine)
    assert blockers == [f"{le.label}: customer linking not finished: One suggestion: 0, Several: 0, No suggestion: 0, "
                        f"not matched yet: 208 (run `python -m tlsync.linking refresh --legal-entity N`) (rule S8/L2)"]
    code, out, _ = cli("refresh", "--legal-entity", "1")
    assert code == 0 and "One suggestion 206" in out and "No suggestion 2" in out

    code, out, _ = cli("status")
    assert code == 0 and "invoice transfer: CLOSED (rule S8)" in out
    assert "customer linking not finished: One suggestion: 206, Several: 0, No suggestion: 2 (rule S8/L2)" in out

    page1 = view_page(engine, LE, COMPANY, "one", 1)
    page2 = view_page(engine, LE, COMPANY, "one", 2)
    assert (len(page1.rows), len(page2.rows), page1.pages) == (200, 6, 2), "200 rows at a time (rule L5)"
    code, out, _ = cli("show", "--legal-entity", "1", "--view", "one", "--page", "2")
    assert code == 0 and "page 2 of 2, 206 debtor(s)" in out and "same CVR, phone equal, same name" in out
    assert "Uniconta debtor" in out.splitlines()[1] and "TimeLog customer" in out.splitlines()[1]

    code, out, _ = cli("show", "--legal-entity", "1", "--view", "one", "--page", "2", "--format", "json")
    doc = json.loads(out)
    assert HOSTILE in {r["debtor_name"] for r in doc["rows"]}, "JSON shows the name exactly"
    code, out, _ = cli("show", "--legal-entity", "1", "--view", "one", "--page", "2", "--format", "html")
    assert "<script>" not in out and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in out
    assert "O&#x27;Brien &amp; &quot;Søn&quot; 😀😀😀" in out

    code, out, _ = cli("accept-one", "--legal-entity", "1", "--wins", "timelog")
    assert code == 0 and "200 action(s) applied, 0 already in place." in out
    code, out, _ = cli("accept-one", "--legal-entity", "1", "--wins", "timelog")
    assert "6 action(s) applied" in out and "One suggestion 0" in out
    code, out, _ = cli("apply", "import", "--legal-entity", "1", "--debtor", "30003")
    assert code == 2 and "not available: set AIRFLOW_CONN_TIMELOG_DEFAULT" in _, "a write needs the connection"
    for account in ("30003", "K-17"):
        assert cli("apply", "ignore", "--legal-entity", "1", "--debtor", account)[0] == 0
    code, out, _ = cli("status", "--legal-entity", "1")
    assert "invoice transfer: OPEN (rule S8)" in out and "Ignored 2, linked 206" in out
    assert transfer_blockers(le, engine) == []

    code, out, _ = cli("apply", "unignore", "--legal-entity", "1", "--debtor", "K-17")
    assert code == 0 and "back in the review" in out
    assert "No suggestion: 1" in transfer_blockers(le, engine)[0]


def test_refusals_and_usage_errors_have_their_exit_codes(engine, cli):
    staged(engine, n=3)
    refresh_suggestions(engine, [COMPANY])
    Linker(engine, LE, COMPANY).link("20001", "1", wins="timelog")
    code, out, _ = cli("apply", "link", "--legal-entity", "1", "--debtor", "20002", "--customer", "1",
                       "--wins", "timelog")
    assert code == 1 and "✘ debtor 20002: refused: TimeLog customer 1 is already linked to debtor 20001" in out
    assert "0 action(s) applied, 0 already in place, 1 refused." in out
    code, _, err = cli("show", "--legal-entity", "7", "--view", "one")
    assert code == 2 and "legal entity 7 is not in the settings" in err
    code, _, err = cli("show", "--legal-entity", "1", "--view", "one", "--page", "9")
    assert code == 2 and "page 9 does not exist" in err


def test_gate_without_confirmation_or_company_says_what_is_left(engine):
    stage(engine, [], [])
    le = confirmed_settings(confirmed=False).entity(LE)
    assert [b for b in transfer_blockers(le, engine) if "rule S8" in b] == [
        f"{le.label}: the activation checklist is not confirmed; no invoices are transferred until it is (rule S8)"]
    nothing = confirmed_settings(company=None).entity(LE)
    assert any("rule S1" in b for b in transfer_blockers(nothing, engine))


def test_next_number_reports_both_series_and_the_advice(engine, cli):
    stage(engine, [customer(1, "A", "100"), customer(2, "B", "K-17"), customer(3, "C", "250")],
          [debtor("10001", "A"), debtor("20417", "B"), debtor("ACME", "C")])
    advice = number_advice(engine, COMPANY, LE)
    assert (advice.timelog_highest, advice.uniconta_highest, advice.next_free) == (250, 20417, 20418)
    code, out, _ = cli("next-number", "--legal-entity", "1")
    assert code == 0
    assert "TimeLog  highest numeric customer number: 250 (1 non-numeric numbers ignored)" in out
    assert "Uniconta highest numeric debtor account:  20417 (1 non-numeric accounts ignored)" in out
    assert "set the next customer number in TimeLog" in out and "20418" in out


def test_help_explains_every_command():
    out = subprocess.run([sys.executable, "-m", "tlsync.linking", "--help"], capture_output=True, text=True,
                         cwd=ROOT, env={"PYTHONPATH": f"{ROOT / 'include'}", "PATH": "/usr/bin:/bin"}, timeout=60)
    assert out.returncode == 0
    for word in ("status", "show", "apply", "accept-one", "export", "import-decisions", "next-number", "refresh"):
        assert word in out.stdout
