"""Rule U3 against what tlsync *sent*: a line whose item came from the default items (rules I1–I4) is not "edited
in Uniconta" — the comparison is with the item the transfer put on the draft line, derived with the same resolver
the transfer uses (``ItemResolver.from_staging``), or read from the ledger when the transfer recorded it. A real
edit of the item in Uniconta is still found. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import recon_scenario as sc  # tests/reconcile/recon_scenario.py

from tlsync.ledger import Ledger
from tlsync.reconcile import LINES_EDITED, MATCHED, reconcile
from tlsync.settings.models import LegalEntitySettings

PERIOD = (date(2026, 1, 1), date(2026, 2, 28))
SETTINGS = LegalEntitySettings.model_validate({
    "legal_entity_id": sc.LE, "uniconta_company_id": sc.COMPANY,
    "item_numbers": {"time": {"mode": "by_dimension", "dimension": "task_type", "mapping": {"3": "KONS-JR"}},
                     "fixed_price": {"mode": "specific_item", "item": "FAST"}}})


def transferred_invoice(engine, ledger, iid: int, order: int, uc_items: tuple[str, str], *, details: dict | None = None):
    """TimeLog invoice ``iid``: a time line with item KONS on a task of type 3 (→ KONS-JR by task type, I1) and a
    fixed-price instalment without an item (→ FAST, I2); tlsync transferred it as ``order``, posted in Uniconta
    as ``9000 + iid`` with the lines ``uc_items``."""
    number = f"2026-{iid:04d}"
    guid = sc.tl_invoice(engine, iid, number, "2026-02-12", 1, "1500.0000", "375.0000",
                         [("KONS", "10", "100"), ("", "1", "500")])
    for n, (regtype, task) in enumerate((("2", "100"), ("6", "200")), start=1):
        lid = iid * 100 + n
        sc.stage(engine, "timelog.invoice_line_details", sc.TL_TENANT, str(lid),
                 {"ID": lid, "InvoiceID": iid, "InvoiceLineID": lid, "RegistrationType": regtype, "TaskID": task},
                 invoice_id=iid)
    sc.transferred(ledger, guid, number, order)
    if details:
        ledger.transition("invoice", sc.LE, guid, "done", action="annotate", details=details)
    sc.uc_invoice(engine, 9000 + iid, "2026-02-13", "D1", "1500", "375",
                  [(uc_items[0], 10, 100), (uc_items[1], 1, 500)], order=order)
    return number


def build(engine):
    sc.build(engine)
    for item in ("KONS-JR", "FAST"):
        sc.stage(engine, "uniconta.items", sc.UC_TENANT, item, {"Item": item, "Name": item})
    sc.stage(engine, "timelog.tasks", sc.SITE, "100", {"ID": 100, "TaskTypeID": 3, "Name": "Udvikling"})
    sc.stage(engine, "timelog.tasks", sc.SITE, "200", {"ID": 200, "TaskTypeID": 8, "Name": "Fastpris"})
    ledger = Ledger(engine, run_id="fixture")
    as_sent = transferred_invoice(engine, ledger, 20, 7020, ("KONS-JR", "FAST"))
    edited = transferred_invoice(engine, ledger, 21, 7021, ("KONS", "FAST"))     # accountant changed line 1
    return as_sent, edited


def row(recon, number):
    [r] = [r for r in recon.rows if r.timelog and r.timelog.number == number]
    return r


def test_default_items_are_not_lines_edited_but_a_real_item_edit_is(engine):
    as_sent, edited = build(engine)
    recon = reconcile(engine, sc.LE, *PERIOD, company_id=sc.COMPANY, as_of=date(2026, 3, 1), settings=SETTINGS)
    got = row(recon, as_sent)
    assert (got.category, got.findings) == (MATCHED, []), got.findings
    changed = row(recon, edited)
    assert changed.category == LINES_EDITED
    assert changed.findings == ["line 1: item KONS-JR → KONS"]
    # the scenario's own categories are untouched (its lines carry their items on the line)
    assert row(recon, "2026-0001").category == MATCHED and row(recon, "2026-0009").category == LINES_EDITED


def test_settings_come_from_the_settings_file_when_not_given(engine, tmp_path, monkeypatch):
    from tlsync import settings as st
    from tlsync.settings.models import IntegrationSettings

    as_sent, _ = build(engine)
    path = tmp_path / "integration.yaml"
    st.save(IntegrationSettings(legal_entities={sc.LE: SETTINGS}), path)
    monkeypatch.setenv("TLSYNC_SETTINGS", str(path))
    recon = reconcile(engine, sc.LE, *PERIOD, company_id=sc.COMPANY, as_of=date(2026, 3, 1))
    assert row(recon, as_sent).category == MATCHED


def test_items_the_transfer_recorded_in_the_ledger_win_over_todays_settings(engine):
    """When the ledger's details carry the sent items (``items``, one per line), they are what was sent — the
    settings may have changed since the transfer."""
    sc.build(engine)
    ledger = Ledger(engine, run_id="fixture")
    number = transferred_invoice(engine, ledger, 22, 7022, ("KONS", "FAST"),
                                 details={"invoice_no": "2026-0022", "kind": "invoice", "customer_id": "1",
                                          "debtor_account": "D1", "currency": "DKK", "items": ["KONS", "FAST"]})
    recon = reconcile(engine, sc.LE, *PERIOD, company_id=sc.COMPANY, as_of=date(2026, 3, 1), settings=SETTINGS)
    assert row(recon, number).category == MATCHED
