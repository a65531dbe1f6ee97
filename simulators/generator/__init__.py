"""Deterministic synthetic data for both simulators: a Danish consultancy ("Nordlys Consulting") in TimeLog PSA
and in Uniconta ERP, in the shared fixture format of ``docs/CONVENTIONS.md``.

Public API (other modules code against these names)::

    generate(size="S", seed=42, *, years=None, today=None) -> dict      # whole fixture in memory (S, M)
    write_fixture(path, size="S", seed=42, **kw) -> Path                  # streamed JSON, bounded memory (any size)
    truth(size="S", seed=42, **kw) -> list[dict]                          # which TimeLog customer IS which debtor
    write_truth(path, size="S", seed=42, **kw) -> Path                    # the same as CSV
    load_fixture(path) -> dict                                            # json.load with parse_float=Decimal
    stream_fixture(path) -> Iterator[(path, value)]                       # the same, record by record (any size)

``python -m simulators.generator --size M --seed 42 --out data/`` writes ``fixture.json`` and ``truth.csv``.

Sizes: **S** (40 TimeLog customers, a few hundred invoice lines, 2 years; every test), **M** (3,000 customers,
~100k invoice lines, 3 years), **L** (12,000 customers, >1M invoice lines, 5 years; stream it with
``write_fixture``). Same (size, seed, years, today) → byte-identical output. ``today`` defaults to the real date
in Europe/Copenhagen (:func:`real_today`), so the demo's data ends yesterday and a scheduler run today finds this
month's invoices (issue 11); tests and benchmarks pass a fixed ``today`` (:data:`FIXED_TODAY`) so that their runs
stay deterministic by seed whatever the date.

Documented choices (where the public material is silent or the fixture needs more than the wire shows)
------------------------------------------------------------------------------------------------------
- **Numbers**: every XSD ``decimal`` and every Uniconta amount is a ``Decimal`` in ``generate()``'s result
  (money with at most 2 decimals) and a JSON number in the file; ``load_fixture(path) == generate(...)``
  (``json.load(f, parse_float=Decimal)``; plain ``json.load`` gives floats, which do not compare equal to
  ``Decimal``). Integers (IDs, Status, Type, UnitType, RegistrationType, Uniconta ``InvoiceNumber``/``OrderNumber``/
  ``Voucher``/``LineNumber``) are ints; booleans are booleans. Optional *string* fields are ``""`` when empty,
  optional *numeric* ones are absent (``RelatesToInvoiceID``, ``EanNo``, ``InvoiceLineId``, ``TerminatedDate``).
- **Invoices**: ``Amount = NetAmount + VATIncluded`` exactly; ``NetAmount = Σ line Amount`` exactly;
  line ``Amount = round_half_up(Quantity × Rate × (100 − Discount) / 100, 2)``; ``VATIncluded =
  round_half_up(NetAmount × DefaultVAT / 100, 2)``. Domestic customers: ``AddVAT`` true, ``DefaultVAT`` 25, line
  ``VAT`` 25; foreign customers: ``AddVAT`` false, 0. ``*SystemCurrency = round(x × CurrencyRate / 100, 2)`` per
  field (so Σ line system amounts may differ from the header's by øre — as in real life). **Credit notes**
  (``Type`` 2) carry negative quantities and amounts and ``RelatesToInvoiceID`` of an earlier booked invoice of the
  same customer, and have no line details. Drafts (``Status`` 0, last 14 days only) have ``InvoiceNumber`` "".
  Invoice numbers: ``2025-0042`` (legal entity 1) and ``AAR-2025-0042`` (legal entity 2), per year. Invoices carry
  ``GUID`` (the Transactional ``UpdateExternalData`` key) and ``_LastModifiedAt`` (drives "modified in period").
- **The old built-in integration**: it ran from ``_meta.integration_start`` (today − 18 months) until
  ``_meta.cutover`` (today − 60 days). Booked invoices/credit notes of linked customers (a Uniconta twin in the
  invoice's company), dated in that window, whose lines all have a ``ProductNo`` and that are not
  ``IsIgnoredWhenTransfer``, were transferred (97 %): ``ExternalInvoiceStatus`` "Posted" and ``ExternalInvoiceNo`` =
  ``str(DebtorInvoiceClient.InvoiceNumber)`` (an int in Uniconta); a few recent ones still sit in Uniconta as
  drafts: ``ExternalInvoiceStatus`` "Draft" and ``ExternalInvoiceNo`` = ``str(DebtorOrderClient.OrderNumber)``
  (order numbers 5001+/9001+, invoice numbers 100001+/500001+ for 10001/10002, so the two never collide). Older
  invoices are backfill material; newer ones are for the nightly sync. ~1 % of the posted invoices were edited by
  the accountant before posting (``_ReconDiff`` "extra_line"/"price_changed" on the ``DebtorInvoiceClient``).
  Uniconta also holds invoices that never came from TimeLog (hardware, licences), mostly for Uniconta-only
  debtors.
- **Metadata keys** (``_``-prefixed, never served as such): ``Invoices._LastModifiedAt``;
  ``Customers._LegalEntityID`` (home legal entity), ``Customers._CurrencyISO``, ``Customers._PaymentTermID``
  (fields the REST/Transactional customer has and the Reporting row lacks); ``DebtorInvoiceClient._ReconDiff``;
  top-level ``_meta`` (size, seed, today, period, integration window, expense-import accounts, counts).
- **REST-only fields on Reporting rows**: ``HourlyRates``, ``ProjectTypes``, ``ProjectCategories`` and
  ``TaskTypes`` rows also carry ``ProductNo`` and ``IsActive`` (REST read models), ``HourlyRates`` also
  ``LegalEntityID``. ``HourlyRates.CustomerID`` is 0 for the general (non customer-specific) rates.
- **IDs**: ``Expenses`` rows have an ``ID`` (as in the official sample XML) referenced by line details'
  ``RegistrationID`` (type 3); ``Mileages.ID`` likewise (type 16); work-unit details (type 2) reference
  ``WorkUnits.ID`` — but only registrations invoiced in the last ``work_unit_days`` (S 75, M 45, L 20) are emitted
  as ``WorkUnits``, plus ~unbilled ones of the last 14 days (``InvoiceStatus`` 0); older IDs dangle on purpose
  (a modest work-unit table). Installment details (type 6) use ``RegistrationID = ProjectID*100 + n``.
- **Countries**: TimeLog shows Danish names (``Danmark``, ``Tyskland``…) with ISO-numeric ``CountryID`` (208…);
  Uniconta the ``CountryCode`` member name (``Denmark``, ``Germany``…). Enum fields in Uniconta are member-name
  strings (``VatZone`` "Domestic"/"EU"/"Abroad", ``ItemType``, ``CatType``, ``AccountType``, ``DCType``).
- **Phones**: Danish numbers are 8 digits in mixed formats ("+45 12 34 56 78", "12345678", "0045-1234 5678",
  "12 34 56 78"...), independently formatted in each system; foreign customers carry their own calling code.
- **Document shape**: ``{"timelog": {...}, "uniconta": {"users": [...], "companies": [...]}, "_meta": {...}}`` —
  every collection key is always present (possibly ``[]``), in a fixed order (``sinks.TIMELOG_COLLECTIONS``,
  ``sinks.UNICONTA_CLASSES``).
- **Companies**: legal entity N ↔ company 10000+N. Company 10001 has the project module (ProjectGroupClient,
  PrCategoryClient, ProjectClient present); 10002 has not, and those class keys are absent for it.

The matching mess and the truth
-------------------------------
Each ``truth`` row says TimeLog customer ``timelog_customer_id`` *is* Uniconta debtor ``uniconta_debtor_account``
in company ``company_id`` (legal entity ``legal_entity_id``). Only twins are listed: TimeLog-only customers
(newer customers, leads, suppliers, the two internal "own company" customers, and duplicate TimeLog records of a
company) and Uniconta-only debtors do not appear. A customer doing business with both legal entities may have a
twin in each company (two rows). ``kind`` says which signal links the pair:

- ``exact`` — same name, same CVR digits, same phone digits, debtor ``Account`` = TimeLog ``No``;
- ``messy_name`` — same company written differently (A/S vs Aktieselskab, case, æøå vs ae/oe/aa, '&' vs 'og',
  punctuation); CVR and phone digits agree;
- ``typo`` — a one-keystroke error in the name, and/or the CVR keyed wrong in TimeLog (invalid check digit);
- ``cvr_only`` — the debtor trades under another name; only the CVR (possibly only as ``VatNumber`` "DK…") links;
- ``phone_only`` — fuzzy name, no CVR in Uniconta; the phone digits (formatted differently) link;
- ``number_only`` — renamed company, no CVR in Uniconta; only ``Account`` = ``No`` links;
- ``name_only`` — same name (maybe upper-cased); no CVR in Uniconta, no shared phone.

Look-alikes that must *not* be linked: a Uniconta-only debtor named like a twin with the other legal form ("Hansen
ApS" next to "Hansen A/S"); a Uniconta-only debtor whose ``Account`` equals an unrelated TimeLog-only customer's
``No``; TimeLog group companies sharing a twin's switchboard phone; an old duplicate TimeLog record (status
"Tidligere kunde") with the same CVR as a twin.
"""

from __future__ import annotations

import csv
import json
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .master import EXPENSE_IMPORT_ACCOUNTS, LEGAL_ENTITIES, SIZES, Ctx, MasterBuilder
from .sinks import (
    PROJECT_CLASSES,
    TIMELOG_COLLECTIONS,
    UNICONTA_CLASSES,
    FileSink,
    ListSink,
    NullSink,
    assemble_dict,
    assemble_file,
    dumps,
    json_default,
    temp_dir_near,
)
from .stream import stream_fixture
from .transactions import TxBuilder

__all__ = ["FIXED_TODAY", "real_today", "SIZES", "TRUTH_COLUMNS", "generate", "write_fixture", "truth", "write_truth",
           "load_fixture", "stream_fixture", "dumps", "json_default", "TIMELOG_COLLECTIONS", "UNICONTA_CLASSES"]

# The fixed "today" of tests, benchmarks and documented figures (the generator's default until issue 11).
FIXED_TODAY = date(2026, 11, 1)
DANISH_TIME = ZoneInfo("Europe/Copenhagen")
TRUTH_COLUMNS = ("legal_entity_id", "company_id", "timelog_customer_id", "uniconta_debtor_account", "kind")

AUTH = {"SiteCode": "SIMSITE", "ApiId": "apiuser", "ApiPassword": "apipass",
        "Users": [{"Username": "integration", "Password": "integration-pw", "Initials": "INT"}],
        "Tokens": ["sim-pat-token"]}
USERS = [{"UserName": "integration", "Password": "uniconta-pw", "Companies": [10001, 10002]},
         {"UserName": "bogholder", "Password": "bogholder-pw", "Companies": [10001]}]


def real_today() -> date:
    """Today's date in Denmark (the users' calendar), the generator's default ``today``."""
    return datetime.now(DANISH_TIME).date()


def _ctx(size: str, seed: int, years: int | None, today: date | None) -> Ctx:
    try:
        cfg = SIZES[size.upper()]
    except (KeyError, AttributeError):
        raise ValueError(f"size must be one of {', '.join(SIZES)}, not {size!r}") from None
    if years is not None and years < 1:
        raise ValueError("years must be >= 1")
    return Ctx(cfg, int(seed), today or real_today(), years or cfg.years)


def _head(ctx: Ctx, sink) -> dict:
    companies = []
    for le, _, comp, cname, (street, z, city), cvr in LEGAL_ENTITIES:
        companies.append({"CompanyId": comp, "Name": cname, "ProjectModule": comp == 10001, "Country": "Denmark",
                          "Currency": "DKK", "CompanyRegNo": cvr, "Address1": street, "ZipCode": z, "City": city})
    counts: dict[str, int] = {}
    for coll in TIMELOG_COLLECTIONS:
        counts[f"timelog.{coll}"] = sink.count(("timelog", coll))
    for c in companies:
        for cls in UNICONTA_CLASSES:
            if cls in PROJECT_CLASSES and not c["ProjectModule"]:
                continue
            counts[f"uniconta.{c['CompanyId']}.{cls}"] = sink.count(("uniconta", c["CompanyId"], cls))
    meta = {"generator": "simulators.generator", "format": 1, "size": ctx.cfg.name, "seed": ctx.seed,
            "today": ctx.today.isoformat(), "years": ctx.years, "period_start": ctx.period_start.isoformat(),
            "integration_start": ctx.integration_start.isoformat(), "cutover": ctx.cutover.isoformat(),
            "expense_import_accounts": list(EXPENSE_IMPORT_ACCOUNTS), "counts": counts}
    return {"auth": AUTH, "users": USERS, "companies": companies, "_meta": meta}


def _run(ctx: Ctx, sink) -> None:
    master = MasterBuilder(ctx, sink).build()
    TxBuilder(ctx, master, sink).run()


def generate(size: str = "S", seed: int = 42, *, years: int | None = None, today: date | None = None) -> dict:
    """The whole fixture ``{"timelog": ..., "uniconta": ..., "_meta": ...}`` in memory (meant for S and M)."""
    ctx = _ctx(size, seed, years, today)
    sink = ListSink()
    _run(ctx, sink)
    return assemble_dict(sink, _head(ctx, sink))


def write_fixture(path: str | Path, size: str = "S", seed: int = 42, *, years: int | None = None,
                  today: date | None = None) -> Path:
    """Stream the fixture to ``path`` (UTF-8 JSON). Memory stays bounded: every collection goes to its own
    temporary file next to ``path`` and the parts are concatenated at the end."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ctx = _ctx(size, seed, years, today)
    with temp_dir_near(path) as tmp:
        sink = FileSink(Path(tmp))
        try:
            _run(ctx, sink)
            head = _head(ctx, sink)
            partial = path.with_name(path.name + ".partial")
            with open(partial, "w", encoding="utf-8", buffering=1 << 20) as out:
                assemble_file(sink, head, out)
            partial.replace(path)
        finally:
            sink.close()
    return path


def truth(size: str = "S", seed: int = 42, *, years: int | None = None, today: date | None = None) -> list[dict]:
    """The labelled matching truth (master data only, fast): dicts with :data:`TRUTH_COLUMNS`."""
    ctx = _ctx(size, seed, years, today)
    master = MasterBuilder(ctx, NullSink()).build()
    return sorted(master.truth, key=lambda r: (r["company_id"], r["timelog_customer_id"]))


def write_truth(path: str | Path, size: str = "S", seed: int = 42, **kw: Any) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=TRUTH_COLUMNS)
        w.writeheader()
        w.writerows(truth(size, seed, **kw))
    return path


def load_fixture(path: str | Path) -> dict:
    """Read a fixture with exact decimals (``parse_float=Decimal``)."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh, parse_float=Decimal)


def counts(fixture: dict) -> dict[str, int]:
    """Records per collection of a fixture dict (``_meta`` excluded)."""
    out = {f"timelog.{k}": len(v) for k, v in fixture["timelog"].items() if isinstance(v, list)}
    for comp in fixture["uniconta"]["companies"]:
        for k, v in comp.items():
            if isinstance(v, list):
                out[f"uniconta.{comp['CompanyId']}.{k}"] = len(v)
    return out


def timed(fn, *a: Any, **kw: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    return fn(*a, **kw), time.perf_counter() - t0
