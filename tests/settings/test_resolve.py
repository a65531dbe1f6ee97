"""``tlsync.settings.resolve``: the one reader of "which settings apply" (issue 12: it was written five times, and
the reconciliation's copy did not see a Variable the transfer saw)."""

from __future__ import annotations

import pytest

from tlsync import settings
from tlsync.reconcile import entity_settings
from tlsync.settings.models import IntegrationSettings, LegalEntitySettings
from tlsync.writeback import load_settings

VAR = "AIRFLOW_VAR_TLSYNC_INTEGRATION_SETTINGS"


def _doc(company: int) -> IntegrationSettings:
    return IntegrationSettings(legal_entities={1: LegalEntitySettings(legal_entity_id=1, uniconta_company_id=company)})


@pytest.fixture
def no_file(tmp_path, monkeypatch):
    path = tmp_path / "integration.yaml"
    monkeypatch.setenv("TLSYNC_SETTINGS", str(path))
    monkeypatch.delenv(VAR, raising=False)
    return path


def test_the_file_wins_then_the_variable_then_nothing(no_file, monkeypatch):
    assert settings.resolve() is None and load_settings() is None and entity_settings(1, 10001) is None
    monkeypatch.setenv(VAR, settings.to_variable_json(_doc(10001)))
    assert settings.resolve().entity(1).uniconta_company_id == 10001
    # the reconciliation and the transfer read the same Variable (the reconciliation used to miss one given to it
    # any other way than the environment; now both go through resolve)
    assert entity_settings(1, 10001).uniconta_company_id == 10001
    assert load_settings().entity(1).uniconta_company_id == 10001
    assert settings.resolve(settings.to_variable_json(_doc(10002))).entity(1).uniconta_company_id == 10002
    settings.save(_doc(10003), no_file)
    assert settings.resolve().entity(1).uniconta_company_id == 10003
    assert load_settings(settings.to_variable_json(_doc(10002))).entity(1).uniconta_company_id == 10003
    assert entity_settings(1, 10001) is None, "the file's company is 10003: not this pair"


def test_a_variable_that_does_not_validate_names_it(no_file, monkeypatch):
    monkeypatch.setenv(VAR, "{not json")
    with pytest.raises(settings.SettingsError) as err:
        settings.resolve()
    assert "Airflow Variable tlsync_integration_settings" in str(err.value)
    assert entity_settings(1, 10001) is None, "the report still runs, with the lines' own items"
