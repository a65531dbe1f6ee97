"""Reconciliation's reads of staging through ``tlsync.staging.read`` (issue 12, item 5): which site a legal
entity's invoices are staged under, and the company's home currency. SQLite and PostgreSQL."""

from __future__ import annotations

from tests.reconcile.recon_scenario import stage
from tlsync.reconcile.load import _home_currency, site_code
from tlsync.staging.read import Tenant


def test_the_site_is_the_one_the_legal_entitys_invoices_are_staged_under(engine):
    assert site_code(engine, 1) == "SIMSITE", "nothing staged: the simulator's site"
    stage(engine, "timelog.legal_entities", "LESITE", "1", {"ID": 1, "CurrencyISO": "SEK"})
    assert site_code(engine, 1) == "LESITE", "no invoices yet: the site the legal entities are staged under"
    stage(engine, "timelog.invoices", "OTHER:11", "5", {"ID": 5})       # legal entity 11, not 1
    stage(engine, "timelog.invoices", "OTHER:21", "6", {"ID": 6})
    assert site_code(engine, 1) == "LESITE"
    stage(engine, "timelog.invoices", "MAIN:1", "7", {"ID": 7})
    assert site_code(engine, 1) == "MAIN" and site_code(engine, 11) == site_code(engine, 21) == "OTHER"


def test_the_home_currency_is_the_companys_else_the_legal_entitys_else_dkk(engine):
    site = Tenant("SIMSITE")
    assert _home_currency(engine, 10001, site, 1) == "DKK"
    stage(engine, "timelog.legal_entities", "SIMSITE", "1", {"ID": 1, "CurrencyISO": "sek"})
    stage(engine, "timelog.legal_entities", "SIMSITE", "2", {"ID": 2, "CurrencyISO": "NOK"})
    assert _home_currency(engine, 10001, site, 1) == "SEK"
    stage(engine, "uniconta.companies", "10001", "10001", {"CompanyId": 10001, "Currency": "EUR"})
    stage(engine, "uniconta.companies", "10002", "10002", {"CompanyId": 10002, "Currency": "USD"})
    assert _home_currency(engine, 10001, site, 1) == "EUR" and _home_currency(engine, 10002, site, 2) == "USD"
