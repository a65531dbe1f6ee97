"""One Great Expectations 1.x suite per staged entity, built once from its :class:`EntitySpec` and cached.

The suite runs on a *prepared* frame, one row per distinct record of the batch (row ``i`` = record ``i``), with
canonical columns rather than the raw payload, so one suite serves TimeLog's XML strings and Uniconta's JSON alike:

======================  =============================================  =========================================
frame column            content                                        expectations (→ rule id)
======================  =============================================  =========================================
``key``                 natural key (``|``-joined) or null             not null (key_missing), unique
                                                                       (key_duplicate)
``enum_<i>``            enum token (``"1"`` for ``"1"``/``1``)         not null + in set (enum_invalid)
``currency``            upper-cased currency code                      in set ``$known_currencies``
                                                                       (currency_unknown); TimeLog only: not
                                                                       null (Uniconta: blank = company currency)
``date_raw_<i>``        raw date if not blank, else null               not null (date_missing)
``date_<i>``            parsed date (``datetime64[us]``), NaT if       not null minus missing (date_unparsable),
                        blank or unparsable                            between ``$date_min``/``$date_max``
                                                                       (date_out_of_range)
======================  =============================================  =========================================

Run-dependent values (known currencies, date range) are suite *parameters* (``{"$PARAMETER": ...}``) passed at run
time, so the suite never has to be rebuilt. Every expectation runs with ``result_format="COMPLETE"`` and reports
its ``unexpected_index_list``, which maps straight back to records.

``great_expectations`` (3–4 s to import) and pandas are imported only inside functions: importing
``tlsync.quality`` from a DAG file costs nothing. One ephemeral data context per process, created on first use.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, time
from typing import TYPE_CHECKING, Any

from tlsync.quality import rules as R

if TYPE_CHECKING:  # pragma: no cover
    from tlsync.quality.context import QualityContext
    from tlsync.staging.entities import EntitySpec

_lock = threading.RLock()
_context: Any = None
_suites: dict[tuple, "CompiledSuite"] = {}


@dataclass(frozen=True)
class Finding:
    row: int        # index into the rows the frame was built from
    rule: str
    field: str      # the API field the finding is about
    kind: str = ""  # "missing", "invalid", "duplicate", "range", ... (picks the reason's wording)


@dataclass
class CompiledSuite:
    spec_name: str
    enum_fields: tuple[str, ...]
    date_fields: tuple[str, ...]
    currency_field: str | None
    validation: Any             # gx.ValidationDefinition


def gx_context():
    """The process-wide ephemeral GX context (progress bars off), created on first use."""
    global _context
    with _lock:
        if _context is None:
            import great_expectations as gx
            from great_expectations.data_context.types.base import ProgressBarsConfig

            ctx = gx.get_context(mode="ephemeral")
            ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
            _context = ctx
        return _context


def _fingerprint(spec: EntitySpec) -> tuple:
    # EntitySpec holds dicts, so it is not hashable: cache on everything the suite is built from.
    enums = tuple(sorted((f, tuple(sorted({t for v in allowed if (t := R.token(v)) is not None})))
                         for f, allowed in spec.enums.items()))
    return (spec.qualified, spec.key, enums, spec.dates, spec.currency_field)


def suite_for(spec: EntitySpec) -> CompiledSuite:
    """The cached suite of an entity (built on first use: a few ms)."""
    fp = _fingerprint(spec)
    with _lock:
        compiled = _suites.get(fp)
        if compiled is None:
            compiled = _build(spec, fp, name=f"{spec.qualified}#{len(_suites)}")
            _suites[fp] = compiled
        return compiled


def _build(spec: EntitySpec, fp: tuple, name: str) -> CompiledSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    ctx = gx_context()
    batch_def = (ctx.data_sources.add_pandas(name=f"src:{name}")
                 .add_dataframe_asset(name=name)
                 .add_batch_definition_whole_dataframe("batch"))
    suite = ctx.suites.add(gx.ExpectationSuite(name=name))

    def add(expectation_cls, column: str, rule: str, field: str, kind: str, **kw) -> None:
        suite.add_expectation(expectation_cls(column=column, meta={"rule": rule, "field": field, "kind": kind}, **kw))

    key_label = "|".join(spec.key)
    add(gxe.ExpectColumnValuesToNotBeNull, "key", R.KEY_MISSING, key_label, "missing")
    add(gxe.ExpectColumnValuesToBeUnique, "key", R.KEY_DUPLICATE, key_label, "duplicate")
    enums = dict(fp[2])
    enum_fields = tuple(spec.enums)
    for i, f in enumerate(enum_fields):
        add(gxe.ExpectColumnValuesToNotBeNull, f"enum_{i}", R.ENUM_INVALID, f, "missing")
        add(gxe.ExpectColumnValuesToBeInSet, f"enum_{i}", R.ENUM_INVALID, f, "invalid", value_set=list(enums[f]))
    if spec.currency_field:
        if spec.system == "timelog":
            add(gxe.ExpectColumnValuesToNotBeNull, "currency", R.CURRENCY_UNKNOWN, spec.currency_field, "missing")
        add(gxe.ExpectColumnValuesToBeInSet, "currency", R.CURRENCY_UNKNOWN, spec.currency_field, "invalid",
            value_set={"$PARAMETER": "known_currencies"})
    for i, f in enumerate(spec.dates):
        add(gxe.ExpectColumnValuesToNotBeNull, f"date_raw_{i}", R.DATE_MISSING, f, "missing")
        add(gxe.ExpectColumnValuesToNotBeNull, f"date_{i}", R.DATE_UNPARSABLE, f, "null_after_parse")
        add(gxe.ExpectColumnValuesToBeBetween, f"date_{i}", R.DATE_OUT_OF_RANGE, f, "range",
            min_value={"$PARAMETER": "date_min"}, max_value={"$PARAMETER": "date_max"})
    validation = ctx.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch_def, suite=suite))
    return CompiledSuite(spec.qualified, enum_fields, spec.dates, spec.currency_field, validation)


def build_frame(compiled: CompiledSuite, rows: list[dict], keys: list[str | None]):
    """The prepared frame (see the module docstring) for ``rows`` whose natural keys are ``keys``."""
    import pandas as pd

    def obj(values: list) -> Any:
        return pd.Series(values, dtype=object)

    cols: dict[str, Any] = {"key": obj(keys)}
    for i, f in enumerate(compiled.enum_fields):
        cols[f"enum_{i}"] = obj([R.token(r.get(f)) for r in rows])
    if compiled.currency_field:
        cf = compiled.currency_field
        cols["currency"] = obj([R.currency_token(r.get(cf)) for r in rows])
    for i, f in enumerate(compiled.date_fields):
        raw = [r.get(f) for r in rows]
        cols[f"date_raw_{i}"] = obj([None if R.is_blank(v) else "present" for v in raw])
        cols[f"date_{i}"] = pd.Series([_parse_or_none(v) for v in raw], dtype="datetime64[us]")
    return pd.DataFrame(cols)


def _parse_or_none(value: Any) -> datetime | None:
    try:
        return R.parse_datetime(value)
    except (ValueError, TypeError, OverflowError):
        return None


def run(compiled: CompiledSuite, frame, context: QualityContext) -> list[Finding]:
    """Validate ``frame``; every failing (row, rule, field). A GX error (not a data problem) raises."""
    params = {
        "known_currencies": sorted({c.strip().upper() for c in context.known_currencies}),
        "date_min": datetime.combine(context.date_min, time.min),
        "date_max": datetime.combine(context.date_max, time.max),
    }
    with _lock:
        result = compiled.validation.run(batch_parameters={"dataframe": frame}, expectation_parameters=params,
                                         result_format="COMPLETE")
    findings: list[Finding] = []
    missing_dates: dict[str, set[int]] = {}
    unparsed: list[tuple[str, list[int]]] = []
    for r in result.results:
        info = r.exception_info or {}
        if info.get("raised_exception"):
            raise RuntimeError(f"{compiled.spec_name}: Great Expectations failed on {r.expectation_config.type} "
                               f"({r.expectation_config.kwargs.get('column')}): {info.get('exception_message')}")
        if r.success:
            continue
        meta = r.expectation_config.meta or {}
        index = r.result.get("unexpected_index_list")
        if index is None:
            raise RuntimeError(f"{compiled.spec_name}: {r.expectation_config.type} failed without an index list")
        rows = [int(i) for i in index]
        if meta["kind"] == "null_after_parse":
            unparsed.append((meta["field"], rows))
            continue
        if meta["rule"] == R.DATE_MISSING:
            missing_dates[meta["field"]] = set(rows)
        findings.extend(Finding(i, meta["rule"], meta["field"], meta["kind"]) for i in rows)
    for field, rows in unparsed:  # parsed null but present on the wire = unparsable
        skip = missing_dates.get(field, set())
        findings.extend(Finding(i, R.DATE_UNPARSABLE, field, "unparsable") for i in rows if i not in skip)
    return findings


def clear_cache() -> None:
    """Forget the context and every suite (tests)."""
    global _context
    with _lock:
        _suites.clear()
        _context = None
