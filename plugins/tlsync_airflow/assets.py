"""The Airflow Assets tlsync emits and consumes: one per staged entity, so downstream DAGs (customers, invoices,
reconciliation) are triggered by data, not by the clock — ``schedule=[staged("timelog.customers"), …]``."""

from __future__ import annotations

from airflow.sdk import Asset

from tlsync.staging.entities import BY_NAME, EntitySpec


def staged_asset(spec: EntitySpec) -> Asset:
    return Asset(name=f"staging.{spec.qualified}", uri=f"tlsync://staging/{spec.system}/{spec.name}")


def staged(qualified: str) -> Asset:
    """The Asset of a staged entity by its qualified name, e.g. ``staged("uniconta.debtors")``."""
    return staged_asset(BY_NAME[qualified])
