"""In-memory state of the TimeLog simulator: one fixture section (``{"auth": ..., "<collection>": [rows]}``),
indexed by ID, guarded by one lock.

Records are replaced, never mutated in place (copy-on-write), so a request that took a snapshot of a collection
renders a consistent picture even while another request modifies records.

Normalisation on load keeps hand-written fixtures short: missing IDs/GUIDs, names that can be looked up
(customer/project/type names on invoices, lines, tasks ...), invoice totals computed from the lines, and
CreatedAt/LastModifiedAt are filled in. Every date is stored as ``YYYY-MM-DDTHH:MM:SS`` text so that date filters
are plain string comparisons (fast enough for the M data set's ~100k invoice lines).

Time is naive UTC (the real service answers in the site's local time without an offset; the simulator uses UTC
so that containers agree). The clock can be frozen or shifted from the admin surface.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import secrets
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from .schemas import ALL_COLLECTIONS, COLLECTION_SCHEMA, SCHEMAS, id_key

SITE = "tlsim"
DT_FMT = "%Y-%m-%dT%H:%M:%S"
DEFAULT_TS = "2024-01-01T00:00:00"
TOKEN_TTL = timedelta(hours=12)
GUID_NS = uuid.UUID("6f1c2a4e-7d4b-4b8e-9a51-3c0f2d1e5a77")

DEFAULT_AUTH: dict[str, Any] = {
    "SiteCode": "SIMSITE",
    "ApiId": "apiuser",
    "ApiPassword": "apipass",
    "Users": [{"Username": "integration", "Password": "integration-pw", "Initials": "INT",
               "FirstName": "Integration", "LastName": "User", "ID": 1}],
    "Tokens": ["sim-pat-token"],
}

DEFAULT_CURRENCIES = [
    {"CurrencyID": 1, "CurrencyABB": "DKK", "DescriptiveName": "Danske kroner", "CurrentRate": Decimal("100"), "IsActive": True},
    {"CurrencyID": 2, "CurrencyABB": "EUR", "DescriptiveName": "Euro", "CurrentRate": Decimal("745.94"), "IsActive": True},
    {"CurrencyID": 3, "CurrencyABB": "USD", "DescriptiveName": "US Dollar", "CurrentRate": Decimal("689.52"), "IsActive": True},
    {"CurrencyID": 4, "CurrencyABB": "SEK", "DescriptiveName": "Svenske kroner", "CurrentRate": Decimal("64.87"), "IsActive": True},
    {"CurrencyID": 5, "CurrencyABB": "NOK", "DescriptiveName": "Norske kroner", "CurrentRate": Decimal("63.95"), "IsActive": True},
    {"CurrencyID": 6, "CurrencyABB": "GBP", "DescriptiveName": "British Pound", "CurrentRate": Decimal("873.10"), "IsActive": False},
]
DEFAULT_PAYMENT_TERMS = [
    {"ID": 1, "Name": "Netto 8 dage", "DaysOfCredit": 8, "IsDefaultTerm": False},
    {"ID": 2, "Name": "Netto 30 dage", "DaysOfCredit": 30, "IsDefaultTerm": True},
    {"ID": 3, "Name": "Løbende måned + 30 dage", "DaysOfCredit": 30, "IsDefaultTerm": False},
]
DEFAULT_CUSTOMER_STATUSES = [
    {"ID": 1, "Name": "Customer", "CustomerStatusType": 1, "IsDefault": True, "IsActive": True},
    {"ID": 2, "Name": "Supplier", "CustomerStatusType": 2, "IsDefault": False, "IsActive": True},
    {"ID": 3, "Name": "Lead", "CustomerStatusType": 8, "IsDefault": False, "IsActive": True},
]
DEFAULT_LEGAL_ENTITIES = [
    {"ID": 1, "Name": "TimeLog Sim A/S", "IsActive": 1, "CurrencyISO": "DKK", "Country": "Denmark"},
]

Q4 = Decimal("0.0001")
INVOICE_STATUS_NAMES = {0: "Draft", 1: "Booked", 2: "Overdue", 3: "Paid"}
INVOICE_TYPE_NAMES = {1: "Invoice", 2: "CreditNote", 3: "Reminder", 4: "Voucher"}


# ---------------------------------------------------------------------------------------------- value helpers
def D(v: Any, default: str = "0") -> Decimal:
    """Decimal from a fixture value (Decimal, int, float, numeric string); ``default`` when empty."""
    t = type(v)
    if t is Decimal:
        return v
    if t is int:
        return Decimal(v)
    if v is None or v == "":
        return Decimal(default)
    if t is bool:
        return Decimal(int(v))
    try:
        return Decimal(str(v))
    except InvalidOperation:
        return Decimal(default)


def q4(v: Decimal) -> Decimal:
    return v.quantize(Q4, rounding=ROUND_HALF_UP)


def truthy(v: Any) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "yes")
    return bool(v)


def norm_dt(v: Any) -> str | None:
    """Canonical ``YYYY-MM-DDTHH:MM:SS`` (naive UTC) from a date, datetime or ISO text; None stays None."""
    if v is None or v == "":
        return None
    if isinstance(v, datetime):
        if v.tzinfo is not None:
            v = v.astimezone(timezone.utc).replace(tzinfo=None)
        return v.strftime(DT_FMT)
    if isinstance(v, date):
        return v.strftime("%Y-%m-%dT00:00:00")
    s = str(v).strip()
    if len(s) == 10:
        return datetime.strptime(s, "%Y-%m-%d").strftime("%Y-%m-%dT00:00:00")
    if len(s) == 19 and s[10] == "T" and s[4] == "-":
        return s
    d = datetime.fromisoformat(s.replace(" ", "T"))
    return norm_dt(d)


def parse_dt(v: str) -> datetime:
    return datetime.strptime(norm_dt(v) or "", DT_FMT)


def guid_for(collection: str, ident: Any) -> str:
    return str(uuid.uuid5(GUID_NS, f"{collection}:{ident}"))


def copy_section(section: dict) -> dict:
    """Copy a fixture section: a new dict per record (records are never mutated in place), deep copy of the rest."""
    out: dict[str, Any] = {}
    for k, v in (section or {}).items():
        if isinstance(v, list) and all(isinstance(r, dict) for r in v):
            out[k] = [dict(r) for r in v]
        else:
            out[k] = copy.deepcopy(v)
    return out


def section_of(doc: dict | None) -> dict:
    """The TimeLog part of a fixture document: its ``"timelog"`` key, or the whole document."""
    if not doc:
        return {}
    if "timelog" in doc:
        return doc["timelog"] or {}
    if "uniconta" in doc and len(doc) == 1:
        return {}
    return doc


_KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...], frozenset[str]]] = {}


def _field_kinds(coll: str) -> tuple[tuple[str, ...], tuple[str, ...], frozenset[str]]:
    """(dateTime fields, date fields, all field names) of a collection's Reporting schema."""
    k = _KINDS.get(coll)
    if k is None:
        schema = COLLECTION_SCHEMA[coll]
        k = (tuple(f.name for f in schema.fields if f.type == "dateTime"),
             tuple(f.name for f in schema.fields if f.type == "date"), frozenset(f.name for f in schema.fields))
        _KINDS[coll] = k
    return k


class TimelogStore:
    """All simulator state; every public method takes the lock."""

    def __init__(self, fixture: dict | None = None, *, reread: Callable[[], dict | None] | None = None) -> None:
        """``reread`` (the command's way: read the fixture file again) is how :meth:`reset` gets the start-up
        data back; then ``fixture`` is not kept once loaded — at L it is gigabytes beside the state made of it
        (issue 18, item 3). Without it the fixture is kept by reference (``load`` copies, never mutates it)."""
        self.lock = threading.RLock()
        self._reread = reread
        self._initial = section_of(fixture) if reread is None else None
        self._secret = secrets.token_bytes(32)
        self.clock_fixed: datetime | None = None
        self.clock_offset = timedelta(0)
        self.token_ttl = TOKEN_TTL
        self.auth: dict[str, Any] = copy.deepcopy(DEFAULT_AUTH)
        self.data: dict[str, list[dict]] = {}
        self.by_id: dict[str, dict[int, dict]] = {}
        self.extra: dict[str, Any] = {}
        self.frag: dict[str, dict[int, tuple[dict, str]]] = {}  # method -> ID -> (record, XML fragment)
        self.frag_chars = 0                                      # their length, within reporting.FRAG_CACHE_CHARS
        self.pos: dict[str, dict[int, int]] = {}                 # collection -> ID -> index in data[collection]
        self._field_idx: dict[tuple[str, str], dict[str, dict]] = {}       # (coll, field) -> lower(str(value)) -> record
        self._child_idx: dict[tuple[str, str], dict[int, list[dict]]] = {}  # (coll, parent field) -> parent ID -> records
        self.version = 0
        self.load(section_of(fixture), owned=reread is not None)

    # ------------------------------------------------------------------------------------------------ clock
    def now(self) -> datetime:
        with self.lock:
            if self.clock_fixed is not None:
                return self.clock_fixed
            return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0) + self.clock_offset

    def now_str(self) -> str:
        return self.now().strftime(DT_FMT)

    def set_clock(self, fixed: str | None = None, offset_seconds: float = 0) -> None:
        with self.lock:
            self.clock_fixed = parse_dt(fixed) if fixed else None
            self.clock_offset = timedelta(seconds=offset_seconds)

    # ------------------------------------------------------------------------------------------------ loading
    def reset(self) -> None:
        """Back to the state the simulator was started with (auth included)."""
        with self.lock:
            self.auth = copy.deepcopy(DEFAULT_AUTH)
            if self._reread is None:
                self.load(self._initial)
            else:
                self.load(section_of(self._reread()), owned=True)

    def load(self, section: dict, *, owned: bool = False) -> None:
        """Replace the whole state with a fixture section (the ``"timelog"`` part of a fixture). ``owned``: the
        section is nobody else's, so its records become the state as they are (normalised in place) instead of
        being copied — one copy of the data at start-up, not two."""
        section = copy_section(section or {}) if not owned else dict(section or {})
        with self.lock:
            self.auth = self._merge_auth(section.pop("auth", None))
            self.extra = {k: v for k, v in section.items() if k not in ALL_COLLECTIONS}
            self.data = {}
            self.by_id = {}
            defaults = {
                "LegalEntities": DEFAULT_LEGAL_ENTITIES, "Currencies": DEFAULT_CURRENCIES,
                "PaymentTerms": DEFAULT_PAYMENT_TERMS, "CustomerStatuses": DEFAULT_CUSTOMER_STATUSES,
            }
            for coll in ALL_COLLECTIONS:
                rows = section.get(coll)
                if rows is None:
                    rows = [dict(r) for r in defaults.get(coll, [])]
                self.data[coll] = rows
                self.by_id[coll] = {}
            # dependency order: lookups first, invoices around their lines
            order = ["Currencies", "LegalEntities", "CustomerStatuses", "PaymentTerms", "Products", "ExpenseTypes",
                     "Customers", "Contacts", "Employees", "ProjectTypes", "ProjectCategories", "TaskTypes",
                     "Projects", "Tasks", "HourlyRates", "Invoices", "InvoiceLines", "InvoiceLineDetails",
                     "Expenses", "Mileages", "WorkUnits"]
            for coll in order:
                self._normalize_collection(coll)
            self._invoice_totals()
            self.frag = {}
            self.frag_chars = 0
            self._field_idx = {}
            self._child_idx = {}
            self.version += 1

    def _merge_auth(self, new: dict | None) -> dict:
        """Defaults < current secrets (a dump redacts them) < the fixture's auth section."""
        cur = self.auth or DEFAULT_AUTH
        out = copy.deepcopy(DEFAULT_AUTH)
        if not new:
            return out
        for key in ("SiteCode", "ApiId"):
            if new.get(key):
                out[key] = new[key]
        out["ApiPassword"] = new.get("ApiPassword") or cur.get("ApiPassword") or out["ApiPassword"]
        if "Users" in new:
            known = {str(u.get("Username", "")).lower(): u for u in (cur.get("Users") or []) + DEFAULT_AUTH["Users"]}
            users = []
            for i, u in enumerate(new["Users"] or [], start=1):
                u = dict(u)
                if not u.get("Password"):
                    u["Password"] = known.get(str(u.get("Username", "")).lower(), {}).get("Password", "")
                u.setdefault("Initials", str(u.get("Username", "USR"))[:3].upper())
                u.setdefault("ID", i)
                users.append(u)
            out["Users"] = users
        if new.get("Tokens"):
            out["Tokens"] = list(new["Tokens"])
        elif cur.get("Tokens"):
            out["Tokens"] = list(cur["Tokens"])
        return out

    def _index(self, coll: str) -> None:
        key = id_key(coll)
        self.by_id[coll] = {int(r[key]): r for r in self.data[coll] if r.get(key) not in (None, "")}
        self.pos.pop(coll, None)  # positions are built on the collection's first write (most are never written)

    def next_id(self, coll: str) -> int:
        ids = self.by_id.get(coll) or {}
        return (max(ids) + 1) if ids else 1

    def _normalize_collection(self, coll: str) -> None:
        key = id_key(coll)
        rows = self.data[coll]
        used = {int(r[key]) for r in rows if r.get(key) not in (None, "")}
        nxt = (max(used) + 1) if used else 1
        for r in rows:
            if r.get(key) in (None, ""):
                r[key] = nxt
                nxt += 1
            else:
                r[key] = int(r[key])
        self._index(coll)
        for r in rows:
            self._normalize_record(coll, r)

    def _normalize_record(self, coll: str, r: dict) -> None:
        """Fill defaults and derived fields of one record in place (records are not shared yet)."""
        schema = COLLECTION_SCHEMA.get(coll)
        key = id_key(coll)
        rid = r[key]
        if schema is not None:
            dts, ds, names = _field_kinds(coll)
            for n in dts:
                v = r.get(n)
                if v is not None and not (type(v) is str and len(v) == 19 and v[10] == "T"):
                    r[n] = norm_dt(v)
            for n in ds:
                v = r.get(n)
                if v is not None:
                    r[n] = str(v)[:10]
            if "GUID" in names and not r.get("GUID"):
                r["GUID"] = guid_for(coll, rid)
            if "CreatedAt" in names:
                r.setdefault("CreatedAt", DEFAULT_TS)
                r.setdefault("CreatedByEmployeeId", 1)
                r.setdefault("CreatedBy", "Administrator")
            if "LastModifiedAt" in names:
                r.setdefault("LastModifiedAt", r.get("CreatedAt") or DEFAULT_TS)
                r.setdefault("LastModifiedByEmployeeId", r.get("CreatedByEmployeeId", 1))
                r.setdefault("LastModifiedBy", r.get("CreatedBy", "Administrator"))
        if r.get("_LastModifiedAt"):
            r["_LastModifiedAt"] = norm_dt(r["_LastModifiedAt"])
        fill = getattr(self, f"_fill_{coll}", None)
        if fill is not None:
            fill(r)

    # ---- lookups used by the fillers
    def _get(self, coll: str, ident: Any) -> dict | None:
        try:
            return self.by_id.get(coll, {}).get(int(ident))
        except (TypeError, ValueError):
            return None

    def _fill_customer_ref(self, r: dict, id_field: str = "CustomerID", name: str = "CustomerName",
                           no: str | None = "CustomerNo") -> None:
        c = self._get("Customers", r.get(id_field))
        if c:
            r.setdefault(name, c.get("Name", ""))
            if no:
                r.setdefault(no, c.get("No", ""))

    def _fill_project_ref(self, r: dict, name: str = "ProjectName", no: str | None = "ProjectNo") -> None:
        p = self._get("Projects", r.get("ProjectID"))
        if p:
            r.setdefault(name, p.get("Name", ""))
            if no:
                r.setdefault(no, p.get("No", ""))

    def _fill_employee_ref(self, r: dict, id_field: str = "EmployeeID") -> None:
        e = self._get("Employees", r.get(id_field))
        if e:
            r.setdefault("EmployeeFirstName", e.get("FirstName", ""))
            r.setdefault("EmployeeLastName", e.get("LastName", ""))
            r.setdefault("EmployeeInitials", e.get("Initials", ""))

    def currency_id(self, iso: str | None) -> int:
        for c in self.data.get("Currencies", []):
            if str(c.get("CurrencyABB", "")).upper() == str(iso or "").upper():
                return int(c["CurrencyID"])
        return 0

    def default_legal_entity_id(self) -> int:
        les = self.data.get("LegalEntities") or []
        return int(les[0]["ID"]) if les else 1

    # ---- per-collection fillers
    def _fill_Currencies(self, r: dict) -> None:
        r.setdefault("CurrencyABB", "DKK")
        r.setdefault("DescriptiveName", r["CurrencyABB"])
        r.setdefault("CurrentRate", Decimal("100"))
        r.setdefault("IsActive", True)

    def _fill_LegalEntities(self, r: dict) -> None:
        r.setdefault("Name", f"Legal entity {r['ID']}")
        r.setdefault("IsActive", 1)
        r.setdefault("CurrencyISO", "DKK")
        r.setdefault("Country", "Denmark")
        r.setdefault("CurrencyID", self.currency_id(r["CurrencyISO"]))
        r.setdefault("CountryISO", "DK")
        r.setdefault("IsSystemLegalEntity", r["ID"] == min(self.by_id["LegalEntities"] or {r["ID"]: r}))

    def _fill_CustomerStatuses(self, r: dict) -> None:
        r.setdefault("Name", f"Status {r['ID']}")
        r.setdefault("CustomerStatusType", 1)
        r.setdefault("IsDefault", False)
        r.setdefault("IsActive", True)

    def _fill_PaymentTerms(self, r: dict) -> None:
        for k, v in (("Name", f"Term {r['ID']}"), ("TermMessage", ""), ("CreditTerm", ""), ("DaysOfCredit", 0),
                     ("InterestRate", 0), ("InterestPeriod", ""), ("ReminderFee", 0), ("IsDefaultTerm", False),
                     ("IsActive", True), ("CurrencyID", 0)):
            r.setdefault(k, v)
        r.setdefault("PaymentTermGuid", guid_for("PaymentTerms", r["ID"]))

    def _fill_Products(self, r: dict) -> None:
        r.setdefault("ProductNumber", str(r["ProductNumberID"]))
        r["ProductNumber"] = str(r["ProductNumber"])
        r.setdefault("ProductName", r["ProductNumber"])
        for k, v in (("Description", ""), ("UseVAT", True), ("VATPercentage", Decimal("25")), ("IsActive", True)):
            r.setdefault(k, v)
        r.setdefault("ProductNumberGuid", guid_for("Products", r["ProductNumberID"]))
        r.setdefault("LegalEntityID", self.default_legal_entity_id())

    def _fill_ExpenseTypes(self, r: dict) -> None:
        r.setdefault("ExpenseTypeName", f"Expense type {r['ExpenseTypeID']}")
        for k, v in (("ShowInTravel", False), ("AccountNo", ""), ("VAT", Decimal("25")), ("ProductNo", ""),
                     ("SalaryCode", ""), ("IsActive", True), ("IsEquipment", False), ("CostPrice", 0),
                     ("SalesPrice", 0), ("EquipmentText", "")):
            r.setdefault(k, v)
        r.setdefault("LegalEntityID", self.default_legal_entity_id())

    def _fill_Customers(self, r: dict) -> None:
        r.setdefault("Name", "")
        r.setdefault("NickName", r["Name"])
        if r.get("CustomerStatusID") in (None, ""):
            default = next((s for s in self.data["CustomerStatuses"] if truthy(s.get("IsDefault"))), None)
            r["CustomerStatusID"] = int(default["ID"]) if default else 1
        st = self._get("CustomerStatuses", r["CustomerStatusID"])
        r.setdefault("CustomerStatus", st.get("Name", "") if st else "")

    def _fill_Contacts(self, r: dict) -> None:
        r.setdefault("FirstName", "")
        r.setdefault("LastName", "")
        r.setdefault("FullName", f"{r['FirstName']} {r['LastName']}".strip())
        r.setdefault("IsActive", True)
        self._fill_customer_ref(r)

    def _fill_Employees(self, r: dict) -> None:
        r.setdefault("EmployeeUserId", r["ID"])
        r.setdefault("FirstName", "")
        r.setdefault("LastName", "")
        r.setdefault("FullName", f"{r['FirstName']} {r['LastName']}".strip())
        r.setdefault("Initials", (r["FirstName"][:1] + r["LastName"][:2]).upper())
        r.setdefault("Status", 1)
        r.setdefault("HiredDate", DEFAULT_TS)

    def _fill_named(self, r: dict) -> None:
        r.setdefault("Name", f"#{r['ID']}")
        r.setdefault("IsActive", True)
        r.setdefault("ProductNo", "")

    _fill_ProjectTypes = _fill_named
    _fill_ProjectCategories = _fill_named
    _fill_TaskTypes = _fill_named

    def _fill_Projects(self, r: dict) -> None:
        self._fill_customer_ref(r)
        r.setdefault("Status", 1)
        r.setdefault("ProjectStatusName", "Active" if int(r["Status"]) == 1 else "Inactive")
        pt = self._get("ProjectTypes", r.get("ProjectTypeID"))
        if pt:
            r.setdefault("ProjectTypeName", pt.get("Name", ""))
        pc = self._get("ProjectCategories", r.get("ProjectCategoryID"))
        if pc:
            r.setdefault("ProjectCategoryName", pc.get("Name", ""))
        le = self._get("LegalEntities", r.get("LegalEntityID"))
        r.setdefault("CurrencyISOCode", (le or {}).get("CurrencyISO", "DKK"))
        r.setdefault("CurrencyRate", Decimal("100"))
        r.setdefault("ProjectStartDate", r.get("CreatedAt") or DEFAULT_TS)
        r.setdefault("ProjectEndDate", r["ProjectStartDate"])

    def _fill_Tasks(self, r: dict) -> None:
        p = self._get("Projects", r.get("ProjectID"))
        if p:
            r.setdefault("ProjectNo", p.get("No", ""))
        r.setdefault("Status", 1)
        r.setdefault("StatusDetailed", 1)
        tt = self._get("TaskTypes", r.get("TaskTypeID"))
        if tt:
            r.setdefault("TaskType", tt.get("Name", ""))

    def _fill_HourlyRates(self, r: dict) -> None:
        r.setdefault("IsActive", 1)
        r.setdefault("CurrencyISO", "DKK")
        r.setdefault("CustomerID", 0)
        self._fill_customer_ref(r, no=None)

    def _fill_Invoices(self, r: dict) -> None:
        c = self._get("Customers", r.get("CustomerID"))
        if c:
            r.setdefault("CustomerName", c.get("Name", ""))
            r.setdefault("CustomerNo", c.get("No", ""))
            for a, b in (("CustomerAddress1", "Address1"), ("CustomerAddress2", "Address2"),
                         ("CustomerAddress3", "Address3"), ("CustomerZipCode", "ZipCode"), ("CustomerCity", "City"),
                         ("CustomerState", "State"), ("CustomerCountry", "Country"),
                         ("CustomerCountryID", "CountryID")):
                if c.get(b) is not None:
                    r.setdefault(a, c[b])
        p = self._get("Projects", r.get("ProjectID"))
        if p:
            r.setdefault("ProjectNo", p.get("No", ""))
            if p.get("LegalEntityID") is not None:
                r.setdefault("LegalEntityID", p["LegalEntityID"])
        r.setdefault("Type", 1)
        r.setdefault("Status", 1)
        r.setdefault("CurrencyAbb", "DKK")
        r.setdefault("CurrencyRate", Decimal("100"))
        r.setdefault("DefaultVAT", Decimal("25"))
        r.setdefault("AddVAT", True)
        r.setdefault("InvoiceDate", DEFAULT_TS)
        r.setdefault("IsIgnoredWhenTransfer", False)
        r.setdefault("IsReadyForInvoicing", False)

    def _fill_InvoiceLines(self, r: dict) -> None:
        inv = self._get("Invoices", r.get("InvoiceID"))
        rate = D((inv or {}).get("CurrencyRate"), "100")
        if inv:
            r.setdefault("InvoiceNo", inv.get("InvoiceNumber", ""))
            r.setdefault("Date", inv.get("InvoiceDate"))
            if inv.get("ProjectID") and not r.get("ProjectID"):
                r["ProjectID"] = inv["ProjectID"]
        self._fill_project_ref(r)
        r.setdefault("Quantity", Decimal("1"))
        r.setdefault("Rate", Decimal("0"))
        r.setdefault("Discount", Decimal("0"))
        if r.get("Amount") in (None, ""):
            r["Amount"] = q4(D(r["Quantity"]) * D(r["Rate"]) * (1 - D(r["Discount"]) / 100))
        r.setdefault("RateSystemCurrency", q4(D(r["Rate"]) * rate / 100))
        r.setdefault("AmountSystemCurrency", q4(D(r["Amount"]) * rate / 100))

    def _invoice_totals(self) -> None:
        net: dict[int, Decimal] = {}
        for ln in self.data["InvoiceLines"]:
            try:
                net[int(ln["InvoiceID"])] = net.get(int(ln["InvoiceID"]), Decimal(0)) + D(ln.get("Amount"))
            except (KeyError, TypeError, ValueError):
                continue
        for r in self.data["Invoices"]:
            self._fill_invoice_amounts(r, net.get(r["ID"], Decimal(0)))

    def _fill_invoice_amounts(self, r: dict, lines_net: Decimal) -> None:
        rate = D(r.get("CurrencyRate"), "100")
        if r.get("NetAmount") in (None, ""):
            r["NetAmount"] = q4(lines_net)
        if r.get("VATIncluded") in (None, ""):
            r["VATIncluded"] = q4(D(r["NetAmount"]) * D(r.get("DefaultVAT")) / 100) if truthy(r.get("AddVAT")) else Decimal("0.0000")
        if r.get("Amount") in (None, ""):
            r["Amount"] = q4(D(r["NetAmount"]) + D(r["VATIncluded"]))
        for a in ("Amount", "NetAmount", "VATIncluded"):
            r.setdefault(f"{a}SystemCurrency", q4(D(r[a]) * rate / 100))

    def _fill_Expenses(self, r: dict) -> None:
        self._fill_customer_ref(r)
        self._fill_project_ref(r)
        self._fill_employee_ref(r)
        et = self._get("ExpenseTypes", r.get("ExpenseTypeID"))
        if et:
            r.setdefault("ExpenseType", et.get("ExpenseTypeName", ""))
        r.setdefault("Created", r.get("Date") or DEFAULT_TS)

    def _fill_Mileages(self, r: dict) -> None:
        self._fill_customer_ref(r)
        self._fill_project_ref(r)
        self._fill_employee_ref(r)
        if "EmployeeFirstName" in r:
            r.setdefault("EmployeeFullName", f"{r['EmployeeFirstName']} {r.get('EmployeeLastName', '')}".strip())

    def _fill_WorkUnits(self, r: dict) -> None:
        r.setdefault("TimeRegistrationGuid", guid_for("TimeRegistration", r["ID"]))
        r.setdefault("WorkUnitGuid", guid_for("WorkUnits", r["ID"]))
        self._fill_customer_ref(r, id_field="CustomerId", no=None)
        self._fill_project_ref(r, no=None)
        self._fill_employee_ref(r)
        t = self._get("Tasks", r.get("TaskID"))
        if t:
            r.setdefault("TaskName", t.get("Name", ""))

    # ------------------------------------------------------------------------------------------------ access
    def snapshot(self, coll: str) -> list[dict]:
        with self.lock:
            return list(self.data.get(coll, []))

    def get(self, coll: str, ident: Any) -> dict | None:
        with self.lock:
            return self._get(coll, ident)

    def find(self, coll: str, field: str, value: Any) -> dict | None:
        """The first record (in collection order) whose ``field`` equals ``value`` as case-insensitive text.

        Answered from an index built on first use per (collection, field) and kept current by every write, so a
        look-up by GUID costs O(1) instead of a scan of the collection (the invoice write-back of a five-year
        backfill looks up one invoice per call)."""
        with self.lock:
            idx = self._field_idx.get((coll, field))
            if idx is None:
                idx = {}
                for r in self.data.get(coll, []):
                    idx.setdefault(str(r.get(field, "")).lower(), r)
                self._field_idx[(coll, field)] = idx
            return idx.get(str(value).lower())

    def children(self, coll: str, parent_field: str, parent_id: Any) -> list[dict]:
        """The records of ``coll`` whose ``parent_field`` is ``parent_id`` (e.g. an invoice's lines), in
        collection order; from an index built on first use and kept current by every write."""
        with self.lock:
            idx = self._child_idx.get((coll, parent_field))
            if idx is None:
                idx = {}
                for r in self.data.get(coll, []):
                    try:
                        pid = int(r.get(parent_field))
                    except (TypeError, ValueError):
                        continue
                    idx.setdefault(pid, []).append(r)
                self._child_idx[(coll, parent_field)] = idx
            try:
                return list(idx.get(int(parent_id), ()))
            except (TypeError, ValueError):
                return []

    def _reindex(self, coll: str, old: dict | None, new: dict) -> None:
        """Keep the find/children indexes of ``coll`` current after ``old`` was replaced by ``new``."""
        for (c, field), idx in list(self._field_idx.items()):
            if c != coll:
                continue
            ov = None if old is None else str(old.get(field, "")).lower()
            nv = str(new.get(field, "")).lower()
            if old is not None and ov != nv:
                del self._field_idx[(c, field)]          # a key changed (rare): rebuilt on the next find
            elif old is not None and idx.get(ov) is old:
                idx[ov] = new
            else:
                idx.setdefault(nv, new)                  # appended: first match only if the value is new
        for (c, field), idx in list(self._child_idx.items()):
            if c != coll:
                continue
            if old is not None:
                try:
                    bucket = idx.get(int(old.get(field)), [])
                except (TypeError, ValueError):
                    bucket = []
                for i, r in enumerate(bucket):
                    if r is old:
                        try:
                            same = int(new.get(field)) == int(old.get(field))
                        except (TypeError, ValueError):
                            same = False
                        if same:
                            bucket[i] = new
                            break
                        del self._child_idx[(c, field)]  # moved to another parent (rare): rebuilt on next use
                        break
                else:
                    del self._child_idx[(c, field)]
                continue
            try:
                idx.setdefault(int(new.get(field)), []).append(new)
            except (TypeError, ValueError):
                pass

    def _replace(self, coll: str, new: dict) -> None:
        key = id_key(coll)
        rid = int(new[key])
        old = self.by_id[coll].get(rid)
        lst = self.data[coll]
        pos = self.pos.get(coll)
        if pos is None:
            pos = self.pos[coll] = {int(r[key]): i for i, r in enumerate(lst) if r.get(key) not in (None, "")}
        if old is None:
            pos[rid] = len(lst)
            lst.append(new)
        else:
            i = pos.get(rid)
            if i is None or i >= len(lst) or lst[i] is not old:   # positions out of date: find it the slow way
                i = next(j for j, r in enumerate(lst) if r is old)
                pos[rid] = i
            lst[i] = new
        self.by_id[coll][rid] = new
        self._reindex(coll, old, new)
        for method, cache in self.frag.items():
            if SCHEMAS[method].collection == coll:
                hit = cache.pop(rid, None)
                if hit is not None:
                    self.frag_chars -= len(hit[1])
        self.version += 1

    def _stamp(self, coll: str, rec: dict, ts: str) -> None:
        schema = COLLECTION_SCHEMA.get(coll)
        if (schema is not None and schema.type_of("LastModifiedAt")) or "LastModifiedAt" in rec:
            rec["LastModifiedAt"] = ts
        rec["_LastModifiedAt"] = ts

    def update(self, coll: str, ident: Any, changes: dict, *, at: str | None = None, stamp: bool = True) -> dict:
        """Copy-on-write update of one record; bumps LastModifiedAt/_LastModifiedAt unless ``stamp`` is False."""
        with self.lock:
            old = self._get(coll, ident)
            if old is None:
                raise KeyError(f"{coll} {ident}")
            new = dict(old)
            new.update(changes)
            new[id_key(coll)] = old[id_key(coll)]
            self._normalize_dates(coll, new)
            if stamp:
                self._stamp(coll, new, norm_dt(at) if at else self.now_str())
            self._replace(coll, new)
            return new

    def replace(self, coll: str, new: dict, *, stamp: bool = True) -> dict:
        """Replace a whole record (REST PUT semantics); ``new`` carries the ID."""
        with self.lock:
            new = dict(new)
            self._normalize_dates(coll, new)
            if stamp:
                self._stamp(coll, new, self.now_str())
            self._replace(coll, new)
            return new

    def insert(self, coll: str, rec: dict) -> dict:
        with self.lock:
            rec = dict(rec)
            key = id_key(coll)
            if rec.get(key) in (None, "", 0):
                rec[key] = self.next_id(coll)
            rec[key] = int(rec[key])
            if rec[key] in self.by_id[coll]:
                raise ValueError(f"{coll} {rec[key]} exists")
            ts = self.now_str()
            schema = COLLECTION_SCHEMA.get(coll)
            if schema is not None and schema.type_of("CreatedAt"):
                rec.setdefault("CreatedAt", ts)
            if schema is not None and schema.type_of("LastModifiedAt"):
                rec.setdefault("LastModifiedAt", ts)
            rec.setdefault("_LastModifiedAt", ts)
            self._normalize_record(coll, rec)
            self._replace(coll, rec)
            return rec

    def _normalize_dates(self, coll: str, rec: dict) -> None:
        schema = COLLECTION_SCHEMA.get(coll)
        if schema is not None:
            for f in schema.fields:
                if f.type == "dateTime" and rec.get(f.name):
                    rec[f.name] = norm_dt(rec[f.name])
        if rec.get("_LastModifiedAt"):
            rec["_LastModifiedAt"] = norm_dt(rec["_LastModifiedAt"])

    def touch(self, coll: str, ids: Iterable[Any], changes: dict | None = None, at: str | None = None) -> list[dict]:
        """Admin: apply ``changes`` to records and bump their modification time (to ``at`` or now)."""
        with self.lock:
            if coll not in self.by_id:
                raise KeyError(f"unknown collection {coll!r}")
            missing = [i for i in ids if self._get(coll, i) is None]
            if missing:
                raise KeyError(f"{coll}: no record with id {missing}")
            return [self.update(coll, i, dict(changes or {}), at=at) for i in ids]

    @staticmethod
    def modified_at(rec: dict) -> str:
        return (rec.get("_LastModifiedAt") or rec.get("LastModifiedAt") or rec.get("CreatedAt")
                or rec.get("InvoiceDate") or DEFAULT_TS)

    # ------------------------------------------------------------------------------------------------ dump
    def dump(self) -> dict:
        """The whole state as a fixture document; secrets (passwords, tokens) are redacted."""
        with self.lock:
            auth = {"SiteCode": self.auth["SiteCode"], "ApiId": self.auth["ApiId"],
                    "Users": [{k: v for k, v in u.items() if k != "Password"} for u in self.auth["Users"]]}
            out: dict[str, Any] = {"auth": auth}
            for coll in ALL_COLLECTIONS:
                out[coll] = [dict(r) for r in self.data[coll]]
            out.update(copy.deepcopy(self.extra))
            return {"timelog": out}

    # ------------------------------------------------------------------------------------------------ auth
    def reporting_ok(self, site: str, api_id: str, password: str) -> bool:
        a = self.auth
        return (hmac.compare_digest(str(site), str(a["SiteCode"])) and hmac.compare_digest(str(api_id), str(a["ApiId"]))
                and hmac.compare_digest(str(password), str(a["ApiPassword"])))

    def login(self, username: str, password: str) -> dict | None:
        for u in self.auth.get("Users", []):
            if str(u.get("Username", "")).lower() == str(username).lower() and hmac.compare_digest(
                    str(password), str(u.get("Password", ""))):
                return u
        return None

    def user_by_initials(self, initials: str) -> dict | None:
        for u in self.auth.get("Users", []):
            if str(u.get("Initials", "")).upper() == str(initials).upper():
                return u
        return None

    def rest_token_index(self, token: str) -> int | None:
        for i, t in enumerate(self.auth.get("Tokens", []), start=1):
            if hmac.compare_digest(str(token), str(t)):
                return i
        return None

    def _hash(self, initials: str, expires: str) -> str:
        return hmac.new(self._secret, f"{initials}|{expires}".encode(), hashlib.sha256).hexdigest()

    def issue_token(self, user: dict) -> dict:
        expires = (self.now() + self.token_ttl).strftime(DT_FMT)
        return {"Initials": user["Initials"], "Expires": expires, "Hash": self._hash(user["Initials"], expires)}

    def check_token(self, token: dict | None) -> str | None:
        """None when valid, else the reason ("missing", "invalid", "expired")."""
        if not token or not token.get("Hash"):
            return "missing"
        initials, expires, h = token.get("Initials", ""), token.get("Expires", ""), token.get("Hash", "")
        try:
            expires_n = norm_dt(expires) or ""
        except ValueError:
            return "invalid"
        if not hmac.compare_digest(self._hash(initials, expires_n), h) or self.user_by_initials(initials) is None:
            return "invalid"
        if parse_dt(expires_n) <= self.now():
            return "expired"
        return None

    def revoke_tokens(self) -> None:
        """Admin: every issued Transactional token becomes invalid."""
        with self.lock:
            self._secret = secrets.token_bytes(32)
