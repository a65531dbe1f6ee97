"""The write-back end to end through both simulators (S data, SQLite and PostgreSQL): the transfer DAG's steps
(``tlsync.writeback.run_step``) for legal entity 1, exactly as ``dags/transfer.py`` runs them.

    stage (nightly sync) → the S8 gate refuses, naming the debtors per view → the administrator's setup with the
    product's own code (accept the One suggestions, link, ignore — ``tlsync.linking``; confirm the checklist in the
    settings file) → a dry run writes nothing → customers (T1/U1) → items (U2) → projects (T3) → invoices (T2) →
    expenses (U4) → drafts in Uniconta with the linked debtor and the TimeLog totals to the øre, the Uniconta order
    number back in TimeLog, the ledger's counts equal to the steps' counts and to TimeLog's booked invoices → a
    retry at once and the next night (restaged) write nothing: not one write call.

Every HTTP request the product sends is recorded on the client side (``httpx.Client.send``), so "writes nothing"
means "no write call reached either API", not "the data looks the same".
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from tests.conftest import served_simulators
from tlsync import settings as settings_mod
from tlsync import writeback
from tlsync.invoicing import DOMAIN as INVOICE_DOMAIN
from tlsync.invoicing import MARKER_FIELD
from tlsync.ledger import Ledger
from tlsync.linking import Decision, Linker, Targets, transfer_blockers, view_counts, view_page, view_rows
from tlsync.matching.refresh import refresh_suggestions
from tlsync.money import line_total
from tlsync.nightly.local import run_once
from tlsync.staging.tables import customer_links
from tlsync.writeback.steps import StepResult

ROOT = Path(__file__).resolve().parents[2]
LE, COMPANY = 1, 10001
PAIRS = {"1": 10001, "2": 10002}
BOOKED_STATUSES, INVOICE_TYPES = (1, 2, 3), (1, 2)    # TimeLog: booked/sent/paid; invoice, credit note


class Calls:
    """Every request the product sends to either API, with the write calls picked out: Uniconta CRUD
    (Insert/InsertList/Update/Delete), TimeLog REST POST/PUT/PATCH/DELETE and every Transactional SOAP operation
    but the ``Get…`` ones. The Reporting API (``service.asmx/Get…``, POST form) only reads."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []

    def record(self, request: httpx.Request) -> None:
        if request.url.path.startswith("/_sim/"):       # the test's own look at the simulators' state
            return
        action = request.headers.get("SOAPAction", "").strip('"').rsplit("/", 1)[-1]
        self.seen.append((request.method, request.url.path, action))

    def writes(self) -> Counter:
        out: Counter = Counter()
        for method, path, action in self.seen:
            if action:
                if not action.startswith("Get"):
                    out[action] += 1
            elif "/service.asmx/" in path:
                continue
            elif method not in ("GET", "HEAD"):
                out[f"{method} {path.split('/api/', 1)[-1]}"] += 1
        return out

    def clear(self) -> None:
        self.seen.clear()


@pytest.fixture
def calls(monkeypatch):
    recorder = Calls()
    send = httpx.Client.send

    def recording_send(self, request, *args, **kwargs):
        recorder.record(request)
        return send(self, request, *args, **kwargs)

    monkeypatch.setattr(httpx.Client, "send", recording_send)
    return recorder


@pytest.fixture
def staging(engine, use_staging):
    """The product's configuration (``TLSYNC_STAGING_URL``) pointed at the test's database (SQLite, PostgreSQL)."""
    return use_staging(engine.url.render_as_string(hide_password=False))


def uniconta_company(sims) -> dict:
    doc = httpx.get(f"{sims['uniconta_url']}/_sim/state").json()["uniconta"]
    return next(c for c in doc["companies"] if c["CompanyId"] == COMPANY)


def timelog_state(sims) -> dict:
    return httpx.get(f"{sims['timelog_url']}/_sim/state").json()["timelog"]


def dec(value) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


def run_all_steps(sims, settings, engine, run_id: str, *, dry_run: bool = False) -> dict[str, StepResult]:
    """The transfer DAG's task group for legal entity 1, step by step in its order."""
    return {step: writeback.run_step(step, LE, run_id=run_id, timelog_fields=sims["timelog"],
                                     uniconta_fields=sims["uniconta"], settings=settings, engine=engine,
                                     dry_run=dry_run)
            for step in writeback.STEPS}


@pytest.mark.slow
def test_write_back_end_to_end_through_the_simulators(sims, staging, calls, tmp_path, monkeypatch):
    engine = staging
    run_once(sims["timelog"], sims["uniconta"], PAIRS, "night-1")
    refresh_suggestions(engine, [COMPANY])           # what DAG tlsync_customer_linking does after each staging
    assert calls.writes() == Counter(), "the nightly sync only reads"

    # The documented example settings match the generated data; nothing confirmed yet.
    example = settings_mod.load(ROOT / "config" / "integration.example.yaml")
    le = example.entity(LE)
    assert not le.activation.activated

    # -- S8: the gate refuses and names what is left, per view --------------------------------------------------
    counts = view_counts(engine, COMPANY)
    debtors_of_company = sum(1 for d in uniconta_company(sims)["DebtorClient"])
    assert counts["one"] > 0 and counts["several"] + counts["none"] > 0 and counts["linked"] == 0
    assert counts["one"] + counts["several"] + counts["none"] + counts["unmatched"] == debtors_of_company
    calls.clear()
    refused = writeback.run_step("invoices", LE, run_id="gate", timelog_fields=sims["timelog"],
                                 uniconta_fields=sims["uniconta"], settings=example, engine=engine)
    assert refused.counts["transferred"] == 0 and refused.counts["calls"] == 0
    assert refused.refused == transfer_blockers(le, engine) == [
        f"{le.label}: the activation checklist is not confirmed; no invoices are transferred until it is (rule S8)",
        f"{le.label}: customer linking not finished: One suggestion: {counts['one']}, Several: {counts['several']}, "
        f"No suggestion: {counts['none']} (rule S8/L2)"]
    assert "refused" not in writeback.summarise(refused) and "rule S8" in writeback.summarise(refused)
    assert calls.writes() == Counter() and Ledger(engine).entries(INVOICE_DOMAIN, LE) == []
    assert not [o for o in uniconta_company(sims)["DebtorOrderClient"] if o.get(MARKER_FIELD)]

    # -- the administrator's setup, with the product's code (what `python -m tlsync.linking …` runs) ------------
    linker = Linker(engine, LE, COMPANY, targets=Targets(sims["timelog"], sims["uniconta"], COMPANY), actor="admin")
    try:
        one = view_page(engine, LE, COMPANY, "one", 1)            # accept-one --wins timelog (L3.1)
        outcomes = linker.apply_all([Decision("link-timelog", r.debtor_account, r.best.customer_id) for r in one.rows])
        assert len(outcomes) == counts["one"] and not [o for o in outcomes if o.error]
        several = view_rows(engine, COMPANY, "several")            # apply link --wins uniconta (L3.2) on the best
        chosen = max(several, key=lambda r: r.best.score or 0)
        [linked] = linker.apply_all([Decision("link-uniconta", chosen.debtor_account, chosen.best.customer_id)])
        assert linked.error is None and linked.customer_id == chosen.best.customer_id
        rest = [r.debtor_account for v in ("several", "none") for r in view_rows(engine, COMPANY, v)]
        assert len(rest) == counts["several"] + counts["none"] - 1
        assert not [o for o in linker.apply_all([Decision("ignore", a) for a in rest]) if o.error]   # apply ignore
    finally:
        linker.targets.close()
    after = view_counts(engine, COMPANY)
    assert (after["one"], after["several"], after["none"]) == (0, 0, 0)
    assert after["linked"] == counts["one"] + 1 and after["ignored"] == len(rest)
    assert transfer_blockers(le, engine) == [     # linking done: only the unconfirmed checklist is left
        f"{le.label}: the activation checklist is not confirmed; no invoices are transferred until it is (rule S8)"]

    le.activation = settings_mod.ActivationChecklist(
        configuration_complete=True, customers_linked=True, item_numbers_imported=True, confirmed_by="admin@nordlys.dk",
        confirmed_at=datetime(2026, 11, 27, 12, 0))
    settings_file = tmp_path / "integration.yaml"
    settings_mod.save(example, settings_file)
    monkeypatch.setenv("TLSYNC_SETTINGS", str(settings_file))
    settings = writeback.load_settings()                           # how the DAG's tasks read them
    assert settings.entity(LE).activation.activated and transfer_blockers(settings.entity(LE), engine) == []

    # -- a dry run plans and writes nothing ------------------------------------------------------------------
    calls.clear()
    dry = run_all_steps(sims, settings, engine, "dry", dry_run=True)
    assert calls.writes() == Counter(), "a dry run makes no write call"
    assert dry["invoices"].counts["transferred"] > 0 and dry["invoices"].counts["calls"] == 0
    assert Ledger(engine).entries(INVOICE_DOMAIN, LE) == []

    # -- the write-back, every step ---------------------------------------------------------------------------
    links = {}
    with engine.connect() as conn:
        for row in conn.execute(customer_links.select().where(customer_links.c.legal_entity_id == LE,
                                                              customer_links.c.state == "linked")):
            links[row.customer_id] = row.debtor_account
    tl_before = timelog_state(sims)
    calls.clear()
    first = run_all_steps(sims, settings, engine, "transfer-1")
    writes = calls.writes()
    for step, result in first.items():
        assert result.skipped is None, (step, result)
    assert first["customers"].counts["linked"] == len(links) and first["customers"].counts["failed"] == 0
    assert first["projects"].counts["created"] > 0 and first["projects"].counts["failed"] == 0
    assert first["expenses"].counts["imported"] > 0 and first["expenses"].counts["failed"] == 0
    inv = first["invoices"]
    assert inv.counts["transferred"] > 0 and not inv.refused and inv.stopped is None
    # what failed failed for a reason an administrator can act on: a customer not linked (S3a), no item (I5)
    assert all("rule S3a" in why or "rule I5" in why for why in inv.failures.values()), inv.failures
    assert writes["UpdateExternalData"] == inv.counts["transferred"], "one write-back to TimeLog per draft"
    assert writes["POST v1/project-expense"] == first["expenses"].counts["imported"]
    assert writes["POST Entities/InsertList/DebtorOrderClient"] >= 1

    # drafts: one per transferred invoice, on the linked debtor, lines and totals equal to TimeLog's to the øre
    company = uniconta_company(sims)
    tl = timelog_state(sims)
    orders = {o[MARKER_FIELD]: o for o in company["DebtorOrderClient"] if o.get(MARKER_FIELD)}
    assert len(orders) == inv.counts["transferred"] == sum(1 for o in company["DebtorOrderClient"] if o.get(MARKER_FIELD))
    order_lines: dict = {}
    for line in company["DebtorOrderLineClient"]:
        order_lines.setdefault(line["OrderNumber"], []).append(line)
    invoices = {i["GUID"].lower(): i for i in tl["Invoices"]}
    tl_lines: dict = {}
    for line in tl["InvoiceLines"]:
        tl_lines.setdefault(line["InvoiceID"], []).append(line)
    ledger = Ledger(engine)
    done = ledger.entries(INVOICE_DOMAIN, LE, states=["done"])
    assert {e.source_key for e in done} == set(orders)
    grand_tl = grand_uc = Decimal(0)
    for entry in done:
        invoice, order = invoices[entry.source_key], orders[entry.source_key]
        assert str(order["OrderNumber"]) == entry.target_key
        assert order["Account"] == links[str(invoice["CustomerID"])] == entry.details["debtor_account"]
        lines = order_lines[order["OrderNumber"]]
        assert len(lines) == len(tl_lines[invoice["ID"]])
        for u in lines:
            assert dec(u["Total"]) == line_total(dec(u["Qty"]), dec(u["Price"]), dec(u.get("DiscountPct")))
        total = sum((dec(u["Total"]) for u in lines), Decimal(0))
        assert total == dec(invoice["NetAmount"]) == Decimal(entry.details["net"]), invoice["InvoiceNo"]
        assert total == total.quantize(Decimal("0.01"))
        grand_tl += dec(invoice["NetAmount"])
        grand_uc += total
        # …and TimeLog has the Uniconta reference (rule T2's write-back)
        assert invoice["ExternalInvoiceNo"] == entry.target_key and invoice["ExternalInvoiceStatus"] == "Draft"
        assert entry.details["written_back"] is True
    assert grand_uc == grand_tl > 0

    # the ledger reconciles with the steps' counts and with TimeLog's booked invoices of the legal entity
    states = ledger.counts(INVOICE_DOMAIN, LE)
    assert states == {k: v for k, v in {"done": inv.counts["transferred"], "failed": inv.counts["failed"],
                                       "elsewhere": inv.counts["elsewhere"], "ignored": inv.counts["ignored"]}.items() if v}
    booked = {i["GUID"].lower() for i in tl["Invoices"] if i["LegalEntityID"] == LE
              and i["Status"] in BOOKED_STATUSES and i["Type"] in INVOICE_TYPES}
    assert {e.source_key for e in ledger.entries(INVOICE_DOMAIN, LE)} == booked
    assert sum(states.values()) == len(booked)
    assert set(inv.failures) == {e.source_key for e in ledger.entries(INVOICE_DOMAIN, LE, states=["failed"])}
    assert ledger.counts("expense", LE).get("done", 0) == first["expenses"].counts["imported"]
    assert len(tl["Expenses"]) == len(tl_before["Expenses"]) + first["expenses"].counts["imported"]
    assert ledger.counts("project", LE).get("done", 0) >= first["projects"].counts["created"] + first["projects"].counts["updated"]

    # -- a retry at once writes nothing -------------------------------------------------------------------------
    calls.clear()
    retry = run_all_steps(sims, settings, engine, "transfer-1-retry")
    assert calls.writes() == Counter(), "a retry of the same run makes no write call"
    assert retry["invoices"].counts["transferred"] == 0 and retry["expenses"].counts["imported"] == 0

    # -- the next night: the sync restages what was written; the write-back has nothing left to write ---------
    run_once(sims["timelog"], sims["uniconta"], PAIRS, "night-2")
    calls.clear()
    second = run_all_steps(sims, settings, engine, "transfer-2")
    assert calls.writes() == Counter(), "the next night makes no write call"
    assert (second["invoices"].counts["transferred"], second["invoices"].counts["elsewhere"]) == (0, 0)
    assert second["invoices"].counts["unchanged"] == inv.counts["transferred"] + inv.counts["elsewhere"] + inv.counts["ignored"]
    assert second["customers"].counts["debtors_updated"] == second["customers"].counts["customers_updated"] == 0
    assert (second["projects"].counts["created"], second["projects"].counts["updated"]) == (0, 0)
    assert second["expenses"].counts["imported"] == 0
    assert ledger.counts(INVOICE_DOMAIN, LE) == states
    assert len(uniconta_company(sims)["DebtorOrderClient"]) == len(company["DebtorOrderClient"])

    # the DAG's summary task renders these results (and make run prints it)
    text = writeback.format_summary("transfer-1", [({"legal_entity_id": LE, "company_id": COMPANY}, first)])
    assert f"  invoices   transferred {inv.counts['transferred']:,}, failed {inv.counts['failed']:,}" in text
    assert f"  expenses   imported {first['expenses'].counts['imported']:,}" in text
    assert text.count("not written: ") == min(3, inv.counts["failed"])


def test_summary_names_refusals_unfinished_steps_and_the_first_reasons():
    results = {"customers": StepResult(counts={"linked": 2, "debtors_updated": 1, "failed": 0}),
               "items": StepResult(counts={"written": 0, "failed": 0}),
               "projects": StepResult(counts={"created": 0},
                                      messages=["legal entity 2 (company 10002): no project module (rule T3)"]),
               "invoices": StepResult(counts={"transferred": 0},
                                      refused=["legal entity 2 (company 10002): … not confirmed (rule S8)"]),
               "expenses": None}
    text = writeback.format_summary("run-x", [({"legal_entity_id": 2, "company_id": 10002}, results)])
    assert text.splitlines() == [
        "Write-back summary (run-x):",
        "legal entity 2 → Uniconta company 10002",
        "  customers  linked 2, debtors updated 1",
        "  items      nothing to write",
        "  projects   nothing to write",
        "             note: legal entity 2 (company 10002): no project module (rule T3)",
        "  invoices   nothing to write",
        "             refused: legal entity 2 (company 10002): … not confirmed (rule S8)",
        "  expenses   did not finish: it failed, or a failed earlier step held it back (see the task's log; the next "
        "run catches up)"]
    failed = writeback.format_summary("run-x", [({"legal_entity_id": 2, "company_id": 10002}, results)],
                                      failed={(2, "expenses"): "TimeLog: gave up after 6 attempts"})
    assert failed.splitlines()[-1] == "  expenses   failed: TimeLog: gave up after 6 attempts (the next run catches up)"
    many = StepResult(counts={"transferred": 1}, failures={str(i): f"reason {i} (rule I5)" for i in range(5)})
    lines = writeback.format_summary("r", [({"legal_entity_id": 1, "company_id": 10001}, {"invoices": many})])
    assert lines.count("not written: reason") == 3 and "… and 2 more" in lines


def test_a_step_result_goes_through_xcom_as_plain_data_and_comes_back_the_same():
    """The transfer DAG's tasks return ``to_json()`` and its summary reads ``from_json()``: JSON in between."""
    import json

    result = StepResult(counts={"transferred": 3, "failed": 1, "calls": 12}, failures={"abc": "no debtor (rule S3a)"},
                        messages=["a note"], stopped="stopped: the quota", refused=[], planned=[])
    back = StepResult.from_json(json.loads(json.dumps(result.to_json())))
    assert back == result and list(back.counts) == ["transferred", "failed", "calls"]
    assert writeback.summarise(back) == "transferred 3, failed 1, calls 12; stopped: the quota"
    assert writeback.summarise(StepResult(skipped="no settings")) == "skipped: no settings"


@pytest.fixture
def evidence_sims():
    """Both simulators as the public evidence shows the real services (issue 13): Uniconta rows carry their id as
    ``PrimaryKeyId``, companies are listed at ``/api/Entities/CompanyClient`` (``PrimaryKeyId``, ``CompanyName``,
    ``Project``), invoice lines name the customer ``DCAccount``, the quota throttles instead of refusing; TimeLog's
    Reporting API answers 401/500 with ``resultEmpty`` on empty results and has no product-number write (REST v1
    has only ``GET /product``: the item-number changes become a list to make by hand). The connection does not
    name the row-id field: the product detects it."""
    import simulators.timelog as timelog_sim
    import simulators.uniconta as uniconta_sim

    with served_simulators(timelog_sim.create_app(size="S", seed=42, product_writes=False),
                           uniconta_sim.create_app(size="S", seed=42, row_id_field="PrimaryKeyId",
                                                   quota_mode="throttle")) as served:
        yield served


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_write_back_end_to_end_with_the_public_evidence_simulators(evidence_sims, staging, calls, tmp_path,
                                                                    monkeypatch):
    """The same night, set-up, write-back, retry and next night as above, against the evidence-aligned servers."""
    test_write_back_end_to_end_through_the_simulators(evidence_sims, staging, calls, tmp_path, monkeypatch)
