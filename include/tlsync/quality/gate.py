"""The quality gate: validate one extracted batch of an entity, split it into good rows and quarantined rows.

``check_batch(spec, records, context, reported_count=N)`` is called by the staging step for every batch of every
entity. Good rows continue to staging *untouched* (the very same dict objects, in their original order); every bad
row becomes one :class:`QuarantinedRecord` with the main rule id, a readable reason listing *all* its problems, and
the raw payload. Warnings (CVR checksum) never hold a row back.

Decisions, documented here because the staging ledger depends on them:

- **Counting.** ``extracted`` counts *distinct* records. An exact duplicate (same natural key, equal payload — e.g.
  the same row served on two pages) is dropped before validation and counted in ``duplicates_dropped``, not in
  ``extracted``: it is one record, delivered twice. So ``extracted == len(good) + len(quarantined)`` always holds
  (checked on every result) and ``extracted + duplicates_dropped == len(records)``.
- **Conflicting duplicates.** Two or more records with the same natural key and *different* payloads are all
  quarantined (``key_duplicate``): we cannot know which one is right, and staging either would silently lose the
  other. The next extraction sees them again once the source is consistent.
- **Missing key.** Quarantined with ``natural_key=None``; the reason names the row (1-based) of the batch.
- **Several problems.** A row is quarantined once; ``rule`` is the most important problem (order of
  ``rules.RULE_PRIORITY``: key_missing, key_duplicate, schema, date_missing, date_unparsable, date_out_of_range,
  enum_invalid, currency_unknown, header_lines_mismatch), ``reason`` lists every problem with its rule id.
- **Header = sum of lines** runs only for the entities in ``rules.HEADER_AMOUNT_FIELDS`` and only when
  ``context.line_sums`` is given; it must then hold an entry for every invoice that has lines — an invoice absent
  from it has no lines (sum 0). ``line_sums`` is ignored for other entities.
- **Currency.** Blank currency is quarantined for TimeLog (``CurrencyAbb`` is mandatory in its schema); for
  Uniconta a blank ``Currency`` means the company's own currency and passes.
- **Typed columns** (``spec.columns``): a non-blank value that does not parse as its declared type (``int``,
  ``decimal``, ``bool``, ``date``/``datetime``) is a ``schema`` problem — the loader would otherwise store NULL
  in the typed column without telling anyone — and so is one the column cannot hold (an amount beyond
  ``Numeric(18, 4)``, an integer beyond 32 bits, text beyond 400 characters): one such record used to stop the
  whole night at PostgreSQL's COPY (issue 17); now it is quarantined alone.
- **Control characters** (NUL and the other C0 codes except tab/LF/CR) in a typed text column or a key field:
  ``control_character``, quarantined with the raw payload (stored as escaped JSON, so every byte is kept); the
  natural key and the reason show them as ``\\xNN``, never raw (PostgreSQL refuses NUL in any text column).
- **Hard failure.** When ``reported_count > 0`` and no row survives, :class:`HardQualityFailure` is raised; it
  carries the full ``result`` so the caller can still write the quarantine rows before failing the task.
- **Empty batch** returns at once, without importing pandas or Great Expectations.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from tlsync.quality import rules as R
from tlsync.quality.context import QualityContext
from tlsync.staging.entities import EntitySpec, natural_key


@dataclass
class QuarantinedRecord:
    entity: str                 # qualified, e.g. "timelog.invoices"
    natural_key: str | None
    rule: str                   # the most important rule id
    reason: str                 # readable; lists every problem of the row with its rule id
    payload: dict               # the raw record, untouched (the same object the gate received)


@dataclass
class QualityWarning:
    entity: str
    natural_key: str | None
    rule: str                   # "cvr_checksum", "reported_count_mismatch"
    reason: str


@dataclass
class QualityResult:
    good: list[dict]
    quarantined: list[QuarantinedRecord]
    warnings: list[QualityWarning]
    extracted: int              # distinct records; == len(good) + len(quarantined)
    duplicates_dropped: int = 0  # exact duplicates removed before validation (not part of ``extracted``)

    def __post_init__(self) -> None:
        if self.extracted != len(self.good) + len(self.quarantined):
            raise AssertionError(f"quality gate lost records: extracted {self.extracted} != "
                                 f"{len(self.good)} good + {len(self.quarantined)} quarantined")

    def rule_counts(self) -> Counter:
        return Counter(q.rule for q in self.quarantined)


class HardQualityFailure(Exception):
    """The API reported records for an entity but none survived the gate: fail the task, loudly."""

    def __init__(self, message: str, *, result: QualityResult | None = None, reported_count: int | None = None) -> None:
        super().__init__(message)
        self.result = result
        self.reported_count = reported_count


def check_batch(spec: EntitySpec, records: list[dict], context: QualityContext, *,
                reported_count: int | None = None) -> QualityResult:
    """Validate ``records`` (raw payload dicts with the API's field names) of entity ``spec``."""
    entity = spec.qualified
    warnings: list[QualityWarning] = []
    if reported_count is not None and reported_count != len(records):
        warnings.append(QualityWarning(entity, None, R.REPORTED_COUNT_MISMATCH,
                                       f"{entity}: the API reported {reported_count} records but {len(records)} "
                                       f"were extracted [{R.REPORTED_COUNT_MISMATCH}]"))
    if not records:
        result = QualityResult([], [], warnings, 0)
        _raise_if_nothing_staged(spec, result, reported_count)
        return result

    label = R.record_label(spec.name)
    # ---- 1. shape and exact duplicates --------------------------------------------------------------------------
    rows: list[dict] = []
    keys: list[str | None] = []
    positions: list[int] = []
    not_records: list[tuple[int, Any]] = []
    seen: dict[str, list[dict]] = {}
    dropped = 0
    for pos, record in enumerate(records):
        if not isinstance(record, dict):
            not_records.append((pos, record))
            continue
        nk = natural_key(spec, record)
        if nk is not None:
            same_key = seen.setdefault(nk, [])
            if any(record is other or record == other for other in same_key):
                dropped += 1
                continue
            same_key.append(record)
        rows.append(record)
        keys.append(nk)
        positions.append(pos)

    # ---- 2. problems per row: GX column expectations, then the plain-Python rules --------------------------------
    problems: dict[int, list[tuple[str, str]]] = {}

    def flag(i: int, rule: str, text: str) -> None:
        problems.setdefault(i, []).append((rule, text))

    if rows:
        from tlsync.quality import suites

        compiled = suites.suite_for(spec)
        findings = suites.run(compiled, suites.build_frame(compiled, rows, keys), context)
        copies = Counter(keys)
        for finding in findings:
            flag(finding.row, finding.rule,
                 _finding_text(spec, context, rows[finding.row], keys[finding.row], finding, copies))

    typed = [(f, kind) for f, kind in spec.columns.items()
             if f not in spec.key and f not in spec.enums and f not in spec.dates and f != spec.currency_field]
    texts = sorted({*spec.key, *(f for f, kind in spec.columns.items() if kind == "str")})
    line_sums = context.line_sums if context.line_sums is not None else {}
    header_field = R.HEADER_AMOUNT_FIELDS.get(entity) if context.line_sums is not None else None
    header_typed = header_field is not None and spec.columns.get(header_field) == "decimal"
    for i, record in enumerate(rows):
        for f, kind in typed:
            value = record.get(f)
            if not R.is_blank(value):
                problem = R.type_problem(value, kind)
                if problem:
                    flag(i, R.SCHEMA, f"{f} {R.show(value)} {problem}")
        for f in texts:
            problem = R.control_problem(record.get(f))
            if problem:
                flag(i, R.CONTROL_CHARACTER, f"{f} {R.show(record.get(f))} {problem}")
        key = keys[i]
        if header_field is not None and key is not None and (context.lines_complete or key in line_sums):
            hf = R.header_amount_field(entity, record, header_field)
            problem = R.header_lines_problem(hf, record.get(hf), line_sums.get(key),
                                             context.tolerance, header_typed=header_typed and hf == header_field)
            if problem:
                flag(i, R.HEADER_LINES_MISMATCH, problem)

    # ---- 3. split -------------------------------------------------------------------------------------------------
    good: list[dict] = []
    quarantined: list[tuple[int, QuarantinedRecord]] = []
    for i, record in enumerate(rows):
        found = problems.get(i)
        if not found:
            good.append(record)
            continue
        found.sort(key=lambda p: R.rank(p[0]))   # stable: GX order within a rule
        nk = R.printable(keys[i]) if keys[i] is not None else None
        if nk is None:
            subject = f"{label} in row {positions[i] + 1}"
        elif found[0][0] == R.KEY_DUPLICATE:
            subject = f"{label} {nk} (row {positions[i] + 1})"
        else:
            subject = f"{label} {nk}"
        reason = f"{subject}: " + "; ".join(f"{text} [{rule}]" for rule, text in found)
        quarantined.append((positions[i], QuarantinedRecord(entity, nk, found[0][0], reason, record)))
    for pos, raw in not_records:
        quarantined.append((pos, QuarantinedRecord(
            entity, None, R.SCHEMA,
            f"{label} in row {pos + 1}: the record is a {type(raw).__name__}, not an object with fields [{R.SCHEMA}]",
            {"_raw": raw})))
    quarantined.sort(key=lambda item: item[0])

    # ---- 4. warnings on the rows that are staged ------------------------------------------------------------------
    if spec.cvr_field:
        cf = spec.cvr_field
        for record in good:
            value = record.get(cf)
            problem = R.cvr_problem(value, record.get("Country"))
            if problem:
                nk = natural_key(spec, record)
                warnings.append(QualityWarning(entity, nk, R.CVR_CHECKSUM,
                                               f"{label} {nk}: {cf} {R.show(value)} {problem} [{R.CVR_CHECKSUM}]"))

    parent = R.ORPHAN_PARENTS.get(entity)
    if parent is not None and context.parents is not None:
        pf, parent_entity = parent
        parent_label = R.record_label(parent_entity.split(".", 1)[1])
        for record in good:
            value = record.get(pf)
            if not R.is_blank(value) and str(value).strip() not in context.parents:
                nk = R.printable(natural_key(spec, record))
                warnings.append(QualityWarning(entity, nk, R.ORPHAN, (
                    f"{label} {nk}: {pf} {R.show(value)} is no {parent_label} staged or read tonight; staged, "
                    f"but nothing refers to it until its {parent_label} arrives [{R.ORPHAN}]")))

    result = QualityResult(good, [q for _, q in quarantined], warnings, len(rows) + len(not_records), dropped)
    _raise_if_nothing_staged(spec, result, reported_count)
    return result


def _finding_text(spec: EntitySpec, context: QualityContext, record: dict, nk: str | None, f, copies: Counter) -> str:
    value = record.get(f.field)
    if f.rule == R.KEY_MISSING:
        missing = [k for k in spec.key if R.is_blank(record.get(k))]
        if len(spec.key) == 1:
            return f"{spec.key[0]} is missing" if value is None else f"{spec.key[0]} is blank"
        return f"{', '.join(missing)} of the key ({', '.join(spec.key)}) {'is' if len(missing) == 1 else 'are'} missing"
    if f.rule == R.KEY_DUPLICATE:
        return (f"{f.field} {R.show(nk)} occurs {copies[nk]} times in this batch with different contents; none is "
                f"staged, since we cannot tell which one is right")
    if f.rule == R.ENUM_INVALID:
        allowed = ", ".join(sorted({t for v in spec.enums[f.field] if (t := R.token(v)) is not None},
                                   key=_natural_order))
        if f.kind == "missing":
            return f"{f.field} is missing (allowed: {allowed})"
        return f"{f.field} {R.show(value)} is not one of the allowed values {allowed}"
    if f.rule == R.CURRENCY_UNKNOWN:
        if f.kind == "missing":
            return f"{f.field} is missing"
        return f"{f.field} {R.show(value)} is not a currency known to {R.SYSTEM_NAMES.get(spec.system, spec.system)}"
    if f.rule == R.DATE_MISSING:
        return f"{f.field} is missing"
    if f.rule == R.DATE_UNPARSABLE:
        return f"{f.field} {R.show(value)} is not a parsable date"
    if f.rule == R.DATE_OUT_OF_RANGE:
        return (f"{f.field} {R.show(value)} is outside the accepted range "
                f"{context.date_min.isoformat()} to {context.date_max.isoformat()}")
    return f"{f.field} {R.show(value)} breaks {f.rule}"   # pragma: no cover - every GX rule is worded above


def _natural_order(text: str) -> tuple:
    return (0, int(text), "") if text.lstrip("-").isdigit() else (1, 0, text)


def _raise_if_nothing_staged(spec: EntitySpec, result: QualityResult, reported_count: int | None) -> None:
    if not reported_count or reported_count <= 0 or result.good:
        return
    entity = spec.qualified
    if result.extracted == 0:
        detail = ("nothing reached the quality gate: the extraction returned no records"
                  + (f" ({result.duplicates_dropped} exact duplicates dropped)" if result.duplicates_dropped else ""))
    else:
        top = ", ".join(f"{rule} ×{n}" for rule, n in result.rule_counts().most_common(3))
        detail = (f"all {result.extracted} extracted records were quarantined (top rules: {top}); "
                  f"first: {result.quarantined[0].reason}")
    raise HardQualityFailure(f"{entity}: the API reported {reported_count} records but we staged 0 — {detail}",
                             result=result, reported_count=reported_count)
