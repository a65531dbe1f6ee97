"""Where the integration settings live and how they are read and written.

Two stores, same document (see ``config/integration.example.yaml``):

- a **YAML file** an administrator edits: ``TLSYNC_SETTINGS`` (default ``<project>/config/integration.yaml``);
- an **Airflow Variable** holding the same document as JSON (default key ``tlsync_integration_settings``);
  :func:`from_variable_json` takes the raw string, so nothing here imports Airflow at module level.

Every failure is a :class:`SettingsError` whose ``problems`` each name the legal entity, the field and the rule,
and never echo the value that was given (it might be a secret pasted into the wrong place).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from tlsync import config

from .models import IntegrationSettings, rule_for

DEFAULT_VARIABLE = "tlsync_integration_settings"
_UNION_TAGS = {"on_line", "by_dimension", "specific_item", "gl_account"}

HEADER = """\
# tlsync integration settings (the setup page), one entry per TimeLog legal entity (rule S2).
# Written by `python -m tlsync.settings`; documented in config/integration.example.yaml.
# Secrets never go here: connections are Airflow Connection ids.
"""


class SettingsError(ValueError):
    """Invalid settings; ``problems`` is one readable line per problem."""

    def __init__(self, problems: list[str], source: str | None = None) -> None:
        self.problems = problems
        self.source = source
        where = f" in {source}" if source else ""
        super().__init__(f"invalid integration settings{where}:\n" + "\n".join(f"- {p}" for p in problems))


def settings_path() -> Path:
    return Path(config.value("TLSYNC_SETTINGS"))


def _describe(error: Mapping[str, Any]) -> str:
    loc = [part for part in error["loc"] if part not in _UNION_TAGS]
    msg = error["msg"].removeprefix("Value error, ")
    if msg.startswith("legal entity "):          # our own document-level messages are complete already
        return msg
    if len(loc) >= 2 and loc[0] == "legal_entities":
        who, field = f"legal entity {loc[1]}", ".".join(str(p) for p in loc[2:])
    else:
        who, field = "settings", ".".join(str(p) for p in loc)
    rule = rule_for(field)
    if error["type"] == "missing":
        msg = "is required"
    elif error["type"] == "extra_forbidden":
        msg = "is not a known setting (secrets belong in Airflow Connections, not here)"
    text = f"{who}: {field}: {msg}" if field else f"{who}: {msg}"
    return f"{text} (rule {rule})" if rule else text


def parse(data: Any, source: str | None = None) -> IntegrationSettings:
    """Validate a plain document (as read from YAML or JSON)."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SettingsError(["the settings document must be a mapping with a 'legal_entities' key"], source)
    try:
        return IntegrationSettings.model_validate(data)
    except ValidationError as exc:
        raise SettingsError([_describe(e) for e in exc.errors(include_input=False)], source) from None


def loads_yaml(text: str, source: str | None = None) -> IntegrationSettings:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SettingsError([f"not valid YAML{where}: {getattr(exc, 'problem', None) or exc}"], source) from None
    return parse(data, source)


def load(path: str | Path | None = None) -> IntegrationSettings:
    """Read and validate the settings file (``TLSYNC_SETTINGS`` or ``config/integration.yaml``)."""
    path = Path(path) if path else settings_path()
    if not path.exists():
        raise SettingsError([(f"settings file {path} does not exist; create it with "
                             f"`python -m tlsync.settings init` or copy config/integration.example.yaml")],
                            str(path))
    return loads_yaml(path.read_text(encoding="utf-8"), str(path))


def to_document(settings: IntegrationSettings) -> dict:
    """The plain, JSON-compatible document (legal entity ids only as keys, sorted)."""
    doc = settings.model_dump(mode="json")
    doc["legal_entities"] = {
        int(k): {f: v for f, v in entry.items() if f != "legal_entity_id"}
        for k, entry in sorted(doc["legal_entities"].items(), key=lambda kv: int(kv[0]))
    }
    for entry in doc["legal_entities"].values():
        entry["item_numbers"] = {kind: _ordered(d) for kind, d in entry["item_numbers"].items()}
    return doc


def _ordered(default: dict) -> dict:
    """``mode`` first, then ``dimension``, then the rest: the order a person reads them in."""
    head = [k for k in ("mode", "dimension", "item", "account") if k in default]
    return {**{k: default[k] for k in head}, **{k: v for k, v in default.items() if k not in head}}


def dumps_yaml(settings: IntegrationSettings) -> str:
    """Deterministic, readable YAML (field order as in the models, entities sorted by id). Comments of an
    edited file are not kept."""
    return HEADER + yaml.safe_dump(to_document(settings), sort_keys=False, allow_unicode=True,
                                   default_flow_style=False, width=110)


def save(settings: IntegrationSettings, path: str | Path | None = None) -> Path:
    """Write atomically (temp file + rename), so a crash never leaves half a settings file."""
    path = Path(path) if path else settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(dumps_yaml(settings), encoding="utf-8")
    tmp.replace(path)
    return path


def from_variable_json(raw: str, source: str = f"Airflow Variable {DEFAULT_VARIABLE}") -> IntegrationSettings:
    """Settings from the raw JSON string of an Airflow Variable (``Variable.get(key)``)."""
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, TypeError) as exc:
        raise SettingsError([f"not valid JSON: {exc}"], source) from None
    return parse(data, source)


def to_variable_json(settings: IntegrationSettings) -> str:
    return json.dumps(to_document(settings), ensure_ascii=False, indent=2)


def _airflow_variable(key: str) -> str | None:
    """The Variable's raw value through Airflow's own lookup — only inside an Airflow task (the task runner sets
    ``AIRFLOW_CTX_DAG_ID``), where it goes through the task runner's channel; ``None`` elsewhere (a command line
    does not import Airflow for it) or when the lookup fails."""
    if not os.environ.get("AIRFLOW_CTX_DAG_ID"):
        return None
    try:
        from airflow.sdk import Variable

        return Variable.get(key, default=None)
    except Exception:  # noqa: BLE001 - outside Airflow (a command line, a test): there is no Variable to read
        return None


def resolve(variable_json: str | None = None, *, key: str = DEFAULT_VARIABLE) -> IntegrationSettings | None:
    """The one answer to "which integration settings apply", for every reader (transfer, reconciliation, pages):

    1. the settings file (:func:`settings_path`) when it exists;
    2. else the Airflow Variable ``key`` as JSON — ``variable_json`` when the caller read it already, else
       ``AIRFLOW_VAR_<KEY>`` from the environment, else (inside an Airflow task) Airflow's own lookup;
    3. else ``None`` (nothing is set up yet).

    A file or Variable that does not validate raises :class:`SettingsError` (one problem per line)."""
    if settings_path().exists():
        return load()
    raw = variable_json or os.environ.get(f"AIRFLOW_VAR_{key.upper()}") or _airflow_variable(key)
    return from_variable_json(raw, f"Airflow Variable {key}") if raw else None
