"""Checks of the settings against what the Uniconta company really holds (its staged reference data), and the
reset of a legal entity's connection (rule S1's NULSTIL).

Values chosen on TimeLog's setup page come from drop-downs filled from the Uniconta company (rules S4–S7, I1–I4);
here they are typed into a file, so each is checked against the company's staged data (tenant = company id) and a
problem lists the valid choices. Run the nightly sync first: it stages the reference data these checks read
(through :mod:`tlsync.staging.read`). The reset clears the links through their home, :mod:`tlsync.linking.store`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine

from tlsync.staging.read import Tenant, payloads

from .models import IntegrationSettings, LegalEntitySettings

MAX_CHOICES = 25


class _Staged:
    """The staged keys (and payloads) of one company, read once per table."""

    def __init__(self, engine: Engine, company: int | str) -> None:
        self.engine, self.tenant = engine, Tenant.company(company)
        self._cache: dict[str, dict[str, dict[str, Any]]] = {}

    def rows(self, entity: str) -> dict[str, dict[str, Any]]:
        if entity not in self._cache:
            found = payloads(self.engine, f"uniconta.{entity}", self.tenant)
            # sorted here, not by the database: the same order on every dialect and collation
            self._cache[entity] = dict(sorted(found.items()))
        return self._cache[entity]


def _choices(keys: Iterable[str]) -> str:
    keys = list(keys)
    if not keys:
        return "(none staged)"
    shown = ", ".join(keys[:MAX_CHOICES])
    return shown + (f", … ({len(keys) - MAX_CHOICES} more)" if len(keys) > MAX_CHOICES else "")


def _blocked(payload: dict) -> bool:
    return str(payload.get("Blocked", "")).strip().lower() in {"true", "1"}


_REFERENCE = ("debtor_groups", "vat_zones", "payment_terms", "layout_groups", "items", "gl_accounts")


def staged_company(engine: Engine, company_id: int) -> bool:
    """Whether any Uniconta reference data of the company is staged (i.e. the nightly sync has read it)."""
    staged = _Staged(engine, company_id)
    return any(staged.rows(e) for e in _REFERENCE)


def validate_entity(le: LegalEntitySettings, engine: Engine) -> list[str]:
    """Problems of one legal entity's settings against its company's staged Uniconta data (empty = fine)."""
    tenant = le.tenant                          # None exactly when no company is chosen
    if tenant is None:
        return [f"{le.label}: no Uniconta company chosen; log in and choose the company first (rule S1)"]
    staged = _Staged(engine, tenant)
    who = le.label
    if not any(staged.rows(e) for e in _REFERENCE):
        return [(f"{who}: no Uniconta reference data is staged for this company; run the nightly sync first, then "
                f"validate again (rules S1/S2)")]
    problems: list[str] = []

    def must_exist(entity: str, value: str | None, what: str, rule: str, usable=lambda p: True) -> None:
        if value is None:
            return
        rows = staged.rows(entity)
        valid = [k for k, p in rows.items() if usable(p)]
        if value not in rows:
            problems.append(f"{who}: {what} {value!r} does not exist in Uniconta (rule {rule}); "
                            f"choose one of: {_choices(valid)}")
        elif value not in valid:
            problems.append(f"{who}: {what} {value!r} is blocked or not usable in Uniconta (rule {rule}); "
                            f"choose one of: {_choices(valid)}")

    d = le.debtor_defaults
    if d is not None:
        must_exist("debtor_groups", d.debtor_group, "debtor group", "S4")
        must_exist("vat_zones", d.vat, "VAT code", "S4", lambda p: not _blocked(p))
        must_exist("payment_terms", d.payment_terms, "payment terms", "S4")
        must_exist("layout_groups", d.layout_group, "layout group", "S4")

    project_module = bool(staged.rows("project_groups") or staged.rows("project_categories"))
    if project_module:
        must_exist("project_categories", le.invoice_project_category, "invoice project category", "S5")
        must_exist("project_groups", le.project_group, "project group", "S7")
    elif le.project_group is not None or le.invoice_project_category is not None:
        set_ = [f for f in ("project_group", "invoice_project_category") if getattr(le, f) is not None]
        problems.append(f"{who}: the Uniconta company has no project module (no project groups or categories "
                        f"staged), so projects cannot be transferred (rules S7, T3); enable the project module "
                        f"in Uniconta or leave {' and '.join(set_)} empty")

    def posting(p: dict) -> bool:   # an account one can post on: not a heading or a sum, not blocked
        return str(p.get("AccountType", "")) not in {"Header", "Sum", "CalculationExpression"} and not _blocked(p)

    for account in le.expense_gl_accounts:
        must_exist("gl_accounts", account, "expense GL account", "S6", posting)
    for path, account in le.item_numbers.gl_accounts():
        must_exist("gl_accounts", account, f"GL account of {path}", "I4", posting)

    rules = {"time": "I1", "fixed_price": "I2", "expenses": "I3"}
    for path, item in le.item_numbers.items():
        rule = rules.get(path.split(".")[1], "I4")
        must_exist("items", item, f"item number of {path}", rule, lambda p: not _blocked(p))
    problems.extend(_check_dimension_values(le, engine, rules))
    return problems


# TimeLog dimension → (staged TimeLog entity, its name field, what to call it)
DIMENSIONS = {
    "project_type": ("timelog.project_types", "Name", "project type"),
    "project_category": ("timelog.project_categories", "Name", "project category"),
    "task_type": ("timelog.task_types", "Name", "task type"),
    "hourly_rate": ("timelog.hourly_rates", "Name", "hourly rate"),
    "expense_type": ("timelog.expense_types", "ExpenseTypeName", "expense type"),
}


def _check_dimension_values(le: LegalEntitySettings, engine: Engine, rules: dict[str, str]) -> list[str]:
    """The keys of a by-dimension mapping are TimeLog ids of that dimension (I1–I3). TimeLog's reference lists
    are site-wide (staged under the Reporting site code, which the settings do not know), so any staged tenant
    counts; when the list is not staged yet, nothing is checked."""
    out: list[str] = []
    for kind in ("time", "fixed_price", "expenses"):
        default = getattr(le.item_numbers, kind)
        dimension = getattr(default, "dimension", None)
        if dimension is None or not default.mapping:
            continue
        entity, name_field, what = DIMENSIONS[dimension]
        staged = payloads(engine, entity)                   # every tenant: the site code is not in the settings
        if not staged:
            continue
        names = {key: str(p.get(name_field) or "") for key, p in staged.items()}
        valid = sorted(names, key=lambda k: (len(k), k))
        for key in default.mapping:
            if key not in names:
                choices = _choices(f"{k} ({names[k]})" if names[k] else k for k in valid)
                out.append(f"{le.label}: item_numbers.{kind}.mapping: TimeLog {what} {key} does not exist in "
                           f"TimeLog (rule {rules[kind]}); choose one of: {choices}")
    return out


def validate_against_staging(settings: IntegrationSettings, engine: Engine) -> list[str]:
    """Check every value that must exist in Uniconta (debtor group, VAT code, payment terms, layout group,
    project category, project group, expense GL accounts, item numbers) against the staged data of each legal
    entity's company. One readable message per problem, naming the legal entity, company, value and rule, and
    listing the valid choices. A company without the project module (no staged project groups/categories) gets
    one message for S7/T3 if a project group or category is set."""
    problems: list[str] = []
    for _, le in sorted(settings.legal_entities.items()):
        problems.extend(validate_entity(le, engine))
    return problems


def project_module(engine: Engine, company_id: int) -> bool:
    """Whether the company has Uniconta's project module, judged by its staged project groups/categories."""
    staged = _Staged(engine, company_id)
    return bool(staged.rows("project_groups") or staged.rows("project_categories"))


# ---- reset (S1: NULSTIL) ---------------------------------------------------------------------------------------

def clear_link_state(engine: Engine, legal_entity_id: int) -> int:
    """Delete the legal entity's customer links and ignored debtors (``customer_links``, rules L2/L3).

    The ledger's history of those links is kept: a reset forgets the state, not the audit trail. A staging
    database created before the link table existed has nothing to clear (returns 0). Returns the number of rows
    deleted. (Imported here: the linking package imports this module for :func:`project_module`.)"""
    from tlsync.linking.store import clear_links

    return clear_links(engine, legal_entity_id)


def reset(settings: IntegrationSettings, legal_entity_id: int, engine: Engine | None = None) -> IntegrationSettings:
    """Rule S1's NULSTIL for one legal entity: forget the Uniconta login (the Airflow Connection id) and the
    chosen company, un-confirm the activation checklist (S8: no invoices until set up again), and — when an
    engine is given — delete the entity's customer links (:func:`clear_link_state`). The other choices (S3–S7,
    I1–I4) are kept; they are checked again against the next company chosen. The stored password itself lives
    in the Airflow Connection, which an administrator deletes there. Returns new settings; the input is not
    changed."""
    le = settings.entity(legal_entity_id)
    cleared = le.model_copy(update={"uniconta_connection_id": None, "uniconta_company_id": None,
                                    "activation": type(le.activation)()})
    if engine is not None:
        clear_link_state(engine, le.legal_entity_id)
    out = settings.model_copy(deep=True)
    out.legal_entities[le.legal_entity_id] = cleared.model_copy(deep=True)
    return out
