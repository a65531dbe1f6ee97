"""The asset helpers against Airflow's own accessor classes (the task SDK's): emit_changes adds one alias event per
changed entity with its extra, nothing on a night without change; triggering_changes reads each triggering event
once although Airflow lists an alias-emitted event under its asset *and* its alias. Under Airflow end to end:
tests/e2e/test_dag_semantics.py."""

from __future__ import annotations

from datetime import UTC, datetime

from airflow.sdk.api.datamodels._generated import AssetAliasReferenceAssetEventDagRun, AssetReferenceAssetEventDagRun
from airflow.sdk.execution_time.comms import AssetEventDagRunReferenceResult
from airflow.sdk.execution_time.context import OutletEventAccessors, TriggeringAssetEventsAccessor

from tlsync_airflow.assets import STAGED_CHANGES, emit_changes, staged, triggering_changes

NIGHT = {"timelog.invoices": {"run_id": "n", "staged": 3, "removed": 0, "runs": ["n"],
                              "tenants": {"SIM:1": {"staged": 3, "removed": 0}}},
         "uniconta.debtors": {"run_id": "n", "staged": 0, "removed": 2, "runs": ["n"],
                              "tenants": {"10001": {"staged": 0, "removed": 2}}}}


def test_emit_changes_adds_one_alias_event_per_changed_entity():
    events = OutletEventAccessors()
    emit_changes(events, NIGHT)
    added = events[STAGED_CHANGES].asset_alias_events
    assert [(e.dest_asset_key.name, e.dest_asset_key.uri, e.extra) for e in added] == [
        ("staging.timelog.invoices", "tlsync://staging/timelog/invoices", NIGHT["timelog.invoices"]),
        ("staging.uniconta.debtors", "tlsync://staging/uniconta/debtors", NIGHT["uniconta.debtors"])]
    quiet = OutletEventAccessors()
    emit_changes(quiet, {})
    assert quiet[STAGED_CHANGES].asset_alias_events == []


def _event(qualified: str, extra: dict, when: datetime) -> AssetEventDagRunReferenceResult:
    asset = staged(qualified)
    return AssetEventDagRunReferenceResult(
        asset=AssetReferenceAssetEventDagRun(name=asset.name, uri=asset.uri, extra={}), extra=extra,
        source_task_id="finish", source_dag_id="tlsync_nightly_sync", source_run_id="n", source_map_index=-1,
        source_aliases=[AssetAliasReferenceAssetEventDagRun(name=STAGED_CHANGES.name)], timestamp=when)


def test_triggering_changes_reads_each_event_once():
    when = datetime(2026, 12, 6, 1, 40, tzinfo=UTC)
    accessor = TriggeringAssetEventsAccessor.build([_event(q, extra, when) for q, extra in NIGHT.items()])
    assert len(list(accessor)) == 3, "two assets and the alias"
    assert sorted(triggering_changes({"triggering_asset_events": accessor}), key=lambda e: e["entity"]) == [
        {"entity": q, "extra": extra, "timestamp": when} for q, extra in sorted(NIGHT.items())]
    assert triggering_changes({}) == [] and triggering_changes({"triggering_asset_events": None}) == []
