"""Integration settings: the setup page of TimeLog's Uniconta integration as validated, editable configuration,
one :class:`LegalEntitySettings` per TimeLog legal entity (rules S1–S8, I1–I5).

- models: :class:`IntegrationSettings`, :class:`LegalEntitySettings`, :class:`DebtorDefaults`,
  :class:`ItemNumberDefaults` (``OnLine`` / ``*ByDimension`` / ``SpecificItem`` / ``GlAccount``),
  :class:`ActivationChecklist`;
- store: :func:`load` / :func:`save` (YAML file, ``TLSYNC_SETTINGS``), :func:`from_variable_json` /
  :func:`to_variable_json` (Airflow Variable), :class:`SettingsError`;
- checks: :func:`validate_against_staging`, :func:`reset` (NULSTIL), :func:`clear_link_state`;
- CLI: ``python -m tlsync.settings {show,validate,init,reset --legal-entity N}``.
"""

from __future__ import annotations

from .checks import (
    clear_link_state,
    project_module,
    reset,
    validate_against_staging,
    validate_entity,
)
from .models import (
    ActivationChecklist,
    CustomerMaster,
    DebtorDefaults,
    ExpenseByDimension,
    FixedPriceByDimension,
    GlAccount,
    IntegrationSettings,
    ItemNumberDefaults,
    LegalEntitySettings,
    OnLine,
    SpecificItem,
    TimeByDimension,
    VatZone,
)
from .store import (
    DEFAULT_VARIABLE,
    SettingsError,
    dumps_yaml,
    from_variable_json,
    load,
    loads_yaml,
    parse,
    resolve,
    save,
    settings_path,
    to_variable_json,
)

__all__ = [
    "DEFAULT_VARIABLE",
    "ActivationChecklist",
    "CustomerMaster",
    "DebtorDefaults",
    "ExpenseByDimension",
    "FixedPriceByDimension",
    "GlAccount",
    "IntegrationSettings",
    "ItemNumberDefaults",
    "LegalEntitySettings",
    "OnLine",
    "SettingsError",
    "SpecificItem",
    "TimeByDimension",
    "VatZone",
    "clear_link_state",
    "dumps_yaml",
    "from_variable_json",
    "load",
    "loads_yaml",
    "parse",
    "project_module",
    "reset",
    "resolve",
    "save",
    "settings_path",
    "to_variable_json",
    "validate_against_staging",
    "validate_entity",
]
