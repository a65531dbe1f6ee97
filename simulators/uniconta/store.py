"""In-memory, thread-safe state of the simulated Uniconta server: users, companies, one table per class, the
daily call quota.

Each table keeps its rows in a dict ``RowId → row`` (insertion order = RowId order, the default order of a feed),
a unique index on the class's natural key, and the next ``RowId`` / auto-number. Filtered and sorted results are
cached per (table version, ``$filter``, ``$orderby``), so paging through tens of thousands of rows with
``$skip`` does not re-filter or re-sort on every page; any write bumps the table version.

Rows are stored normalised: typed values (see :mod:`.schema`), defaults filled in, no ``None`` values (Uniconta
omits null properties in its JSON). Keys beginning with ``_`` are simulator metadata: kept in the state and the
dump, never served on the wire and never writable through the API.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from .errors import UnicontaError, bad_request
from .odata import Filter, _compare, parse_datetime, sort_rows
from .schema import CASCADES, SCHEMAS, EntitySchema, generic_schema

DEFAULT_USER = "integration"
DEFAULT_PASSWORD = "uniconta-pw"
DEFAULT_COMPANY = {"CompanyId": 10001, "Name": "Simuleret Selskab A/S", "ProjectModule": True}
CENT = Decimal("0.01")


def money(v: Any) -> Decimal:
    """Exact Decimal of a stored amount (floats are read through their shortest repr)."""
    if v is None or v == "":
        return Decimal(0)
    if isinstance(v, float):
        return Decimal(repr(v))
    return Decimal(str(v))


def q2(d: Decimal) -> Decimal:
    return d.quantize(CENT, rounding=ROUND_HALF_UP)


def to_json_number(d: Decimal) -> float:
    return float(q2(d))


def now_text(clock: Callable[[], datetime]) -> str:
    return clock().astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


# --------------------------------------------------------------------------------------------------- coercion
def coerce(schema: EntitySchema, name: str, value: Any) -> Any:
    """Type a value for field ``name`` (raises ValueError with a readable reason)."""
    if value is None:
        return None
    kind = schema.type_of(name)
    if kind == "str" and name not in schema.fields and not isinstance(value, str):
        return plain(value)  # an extra field only a fixture knows: keep its JSON value
    if kind == "int":
        if isinstance(value, bool):
            raise ValueError("expected an integer, got a boolean")
        if isinstance(value, int):
            return value
        if isinstance(value, (float, Decimal)):
            if value != int(value):
                raise ValueError(f"expected an integer, got {value}")
            return int(value)
        if isinstance(value, str):
            if not value.strip():
                return None
            try:
                d = Decimal(value.strip())
            except InvalidOperation:
                raise ValueError(f"expected an integer, got {value!r}") from None
            if d != int(d):
                raise ValueError(f"expected an integer, got {value!r}")
            return int(d)
        raise ValueError(f"expected an integer, got {type(value).__name__}")
    if kind == "num":
        if isinstance(value, bool):
            raise ValueError("expected a number, got a boolean")
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, Decimal):
            return float(value)
        if isinstance(value, str):  # numbers sent as strings are accepted by Uniconta (reference §1f)
            if not value.strip():
                return None
            try:
                return float(Decimal(value.strip().replace(",", ".")))
            except InvalidOperation:
                raise ValueError(f"expected a number, got {value!r}") from None
        raise ValueError(f"expected a number, got {type(value).__name__}")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
            return value.strip().lower() in ("true", "1")
        raise ValueError(f"expected true or false, got {value!r}")
    if kind == "date":
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%dT%H:%M:%S")
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, str):
            if not value.strip():
                return None
            try:
                parse_datetime(value)
            except ValueError:
                raise ValueError(f"expected a date YYYY-MM-DD[THH:MM:SS], got {value!r}") from None
            return value.strip()
        raise ValueError(f"expected a date, got {type(value).__name__}")
    # str
    if isinstance(value, (dict, list)):
        raise ValueError(f"expected text, got {type(value).__name__}")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value)


def plain(value: Any) -> Any:
    """JSON-safe copy: Decimals (from ``parse_float=Decimal`` fixtures) become floats."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and "." not in str(value) else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def line_net(row: dict) -> Decimal:
    """Net amount of an order line: Qty × (Price − Discount) × (1 − DiscountPct/100), to the cent."""
    qty, price = money(row.get("Qty")), money(row.get("Price"))
    disc, pct = money(row.get("Discount")), money(row.get("DiscountPct"))
    return q2(qty * (price - disc) * (Decimal(1) - pct / Decimal(100)))


# ----------------------------------------------------------------------------------------------------- tables
class Table:
    def __init__(self, schema: EntitySchema) -> None:
        self.schema = schema
        self.rows: dict[int, dict] = {}
        self.index: dict[tuple, int] = {}
        self.extra_fields: set[str] = set()
        self.version = 0
        self.next_row_id = 1
        self.next_auto = 1
        self.sub_max: dict[tuple, int] = {}   # composite keys: max last key part per key prefix
        self.types: dict[str, str] = {}       # field → kind cache for normalisation

    @property
    def open(self) -> bool:
        return not self.schema.fields or self.schema.fields == frozenset(["RowId"])

    def known(self, name: str) -> bool:
        return name in self.schema.fields or name in self.extra_fields or self.open

    def key_of(self, row: dict) -> tuple | None:
        if not self.schema.keys:
            return None
        return tuple(row.get(k) for k in self.schema.keys)

    def add(self, row: dict) -> None:
        rid = row["RowId"]
        self.rows[rid] = row
        key = self.key_of(row)
        if key is not None:
            self.index[key] = rid
            if len(key) > 1 and isinstance(key[-1], int):
                self.sub_max[key[:-1]] = max(self.sub_max.get(key[:-1], 0), key[-1])
        self.next_row_id = max(self.next_row_id, rid + 1)
        ak = self.schema.auto_key
        if ak and isinstance(row.get(ak), int):
            self.next_auto = max(self.next_auto, row[ak] + 1)
        self.version += 1

    def remove(self, rid: int) -> dict:
        row = self.rows.pop(rid)
        key = self.key_of(row)
        if key is not None and self.index.get(key) == rid:
            del self.index[key]
        self.version += 1
        return row

    def replace(self, rid: int, row: dict) -> None:
        old = self.rows[rid]
        old_key = self.key_of(old)
        if old_key is not None and self.index.get(old_key) == rid:
            del self.index[old_key]
        self.rows[rid] = row  # same dict position: RowId order is kept
        key = self.key_of(row)
        if key is not None:
            self.index[key] = rid
            if len(key) > 1 and isinstance(key[-1], int):
                self.sub_max[key[:-1]] = max(self.sub_max.get(key[:-1], 0), key[-1])
        ak = self.schema.auto_key
        if ak and isinstance(row.get(ak), int):
            self.next_auto = max(self.next_auto, row[ak] + 1)
        self.version += 1

    def find(self, key: tuple) -> dict | None:
        rid = self.index.get(key)
        return None if rid is None else self.rows[rid]


@dataclass
class User:
    UserName: str
    Password: str
    Companies: list[int] | None = None   # None: every company
    DefaultCompany: int | None = None

    def sees(self, cid: int) -> bool:
        return self.Companies is None or cid in self.Companies


class Company:
    def __init__(self, attrs: dict) -> None:
        self.attrs = attrs
        self.tables: dict[str, Table] = {}

    @property
    def id(self) -> int:
        return self.attrs["CompanyId"]

    @property
    def project_module(self) -> bool:
        return bool(self.attrs.get("ProjectModule"))


class Quota:
    """``daily_quota`` calls per user per day, across all the user's companies, in one of two modes.

    ``mode="throttle"`` (the default, as the real service behaves): no call is refused; each call past every
    ``daily_quota`` calls of the day is slowed by ``throttle_seconds`` per ``daily_quota`` calls used (calls
    5,001–10,000 wait 1 s each, 10,001–15,000 2 s …). Source: support.uniconta.com, "API-kald / API calls": about
    one second extra per call for each 5,000 calls in 24 hours, lasting until 24 hours after midnight; bought extra
    calls (up to 75,000) carry no delay — simulate those with a higher ``daily_quota``.
    ``mode="refuse"`` (optional, not documented by Uniconta): past the quota every call is refused with 403
    ``DailyCallLimitExceeded`` until the next day. Kept so the pipeline's "stop and resume tomorrow" path can be
    exercised.

    A "day" is the UTC calendar date, or an admin-started day (``POST /_sim/quota/reset``), whichever changed last.
    """

    MODES = ("throttle", "refuse")

    def __init__(self, daily_quota: int, clock: Callable[[], datetime], *, mode: str = "throttle",
                 throttle_seconds: float = 1.0) -> None:
        if mode not in self.MODES:
            raise ValueError(f"quota mode must be one of {', '.join(self.MODES)}, not {mode!r}")
        self.daily_quota = daily_quota
        self.clock = clock
        self.mode = mode
        self.throttle_seconds = throttle_seconds
        self.day = 1
        self.date = clock().date()
        self.used: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()
        self._lock = threading.Lock()

    def _roll(self) -> None:
        today = self.clock().date()
        if today != self.date:
            self.date = today
            self.day += 1
            self.used.clear()
            self.refused.clear()
            self.throttled.clear()

    def spend(self, user: str) -> tuple[bool, int]:
        ok, used, _ = self.spend_with_delay(user)
        return ok, used

    def spend_with_delay(self, user: str) -> tuple[bool, int, float]:
        """``(accepted, used, seconds to wait before answering)`` for one call of ``user``."""
        with self._lock:
            self._roll()
            if self.mode == "refuse" and self.used[user] >= self.daily_quota:
                self.refused[user] += 1
                return False, self.used[user], 0.0
            self.used[user] += 1
            used = self.used[user]
            steps = (used - 1) // self.daily_quota if self.mode == "throttle" and self.daily_quota > 0 else 0
            if steps:
                self.throttled[user] += 1
            return True, used, steps * self.throttle_seconds

    def new_day(self, daily_quota: int | None = None, mode: str | None = None) -> dict[str, Any]:
        if mode is not None and mode not in self.MODES:
            raise ValueError(f"quota mode must be one of {', '.join(self.MODES)}, not {mode!r}")
        with self._lock:
            if mode is not None:
                self.mode = mode
            self.day += 1
            self.date = self.clock().date()
            self.used.clear()
            self.refused.clear()
            self.throttled.clear()
            if daily_quota is not None:
                self.daily_quota = daily_quota
        return self.as_dict()

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {"daily_quota": self.daily_quota, "mode": self.mode, "throttle_seconds": self.throttle_seconds,
                    "day": self.day, "date": self.date.isoformat(),
                    "used": dict(self.used), "refused": dict(self.refused), "throttled": dict(self.throttled),
                    "remaining": {u: max(0, self.daily_quota - n) for u, n in self.used.items()}}


# ------------------------------------------------------------------------------------------------------ store
def _section(doc: Any) -> Any:
    """The ``"uniconta"`` section of a fixture document (or the document itself when it is the section)."""
    if not isinstance(doc, dict):
        return doc
    return doc.get("uniconta", doc)


class Store:
    def __init__(self, doc: dict | None = None, *, clock: Callable[[], datetime] | None = None,
                 reread: Callable[[], dict | None] | None = None) -> None:
        """``reread`` (the command's way: read the fixture file again) is how :meth:`reset` gets the start-up data
        back; then ``doc`` is not kept once loaded (issue 18, item 3: the rows are made anew from it, so keeping
        it held the data twice). Without it ``doc`` is kept by reference: loading never mutates its input."""
        self.lock = threading.RLock()
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.users: dict[str, User] = {}
        self.companies: dict[int, Company] = {}
        self._cache: OrderedDict[tuple, list[dict]] = OrderedDict()
        self._reread = reread
        self._initial = _section(doc) if reread is None else None
        self.load(doc)

    # ------------------------------------------------------------------------------------------ load / dump
    def load(self, doc: dict | None) -> dict[str, Any]:
        """Replace the whole state with ``doc`` (a fixture: whole document or its ``"uniconta"`` section)."""
        section = _section(doc)
        if section is not None and not isinstance(section, dict):
            raise bad_request("fixture: the 'uniconta' section must be an object")
        section = section or {}
        companies: dict[int, Company] = {}
        raw_companies = section.get("companies")
        if raw_companies is None:
            raw_companies = [dict(DEFAULT_COMPANY)]
        if not isinstance(raw_companies, list):
            raise bad_request("fixture: 'companies' must be a list")
        for i, raw in enumerate(raw_companies):
            company = self._load_company(raw, i)
            if company.id in companies:
                raise bad_request(f"fixture: company {company.id} appears twice")
            companies[company.id] = company
        users: dict[str, User] = {}
        raw_users = section.get("users") or [{"UserName": DEFAULT_USER, "Password": DEFAULT_PASSWORD}]
        for raw in raw_users:
            if not isinstance(raw, dict) or not raw.get("UserName"):
                raise bad_request("fixture: every user needs a UserName")
            comps = raw.get("Companies")
            # a dump carries no passwords: a user already known keeps its password, a new one gets the default
            current = getattr(self, "users", {}).get(str(raw["UserName"]).lower())
            password = raw.get("Password") or (current.Password if current else DEFAULT_PASSWORD)
            user = User(UserName=str(raw["UserName"]), Password=str(password),
                        Companies=None if comps is None else [int(c) for c in comps],
                        DefaultCompany=None if raw.get("DefaultCompany") is None else int(raw["DefaultCompany"]))
            users[user.UserName.lower()] = user
        with self.lock:
            self.companies = companies
            self.users = users
            self._cache.clear()
        return self.summary()

    def _load_company(self, raw: Any, i: int) -> Company:
        if not isinstance(raw, dict) or raw.get("CompanyId") in (None, ""):
            raise bad_request(f"fixture: company #{i} needs a CompanyId")
        cschema = SCHEMAS["CompanyClient"]
        attrs: dict[str, Any] = {}
        tables: dict[str, list] = {}
        for k, v in raw.items():
            if k in SCHEMAS or (isinstance(v, list) and not k.startswith("_")):
                if k == "CompanyClient":
                    continue
                tables[k] = v
            else:
                attrs[k] = v
        try:
            attrs = {k: (coerce(cschema, k, v) if not k.startswith("_") else plain(v)) for k, v in attrs.items()}
        except ValueError as exc:
            raise bad_request(f"fixture: company #{i}: {exc}") from None
        for k, v in cschema.defaults.items():
            attrs.setdefault(k, v)
        company = Company({k: v for k, v in attrs.items() if v is not None})
        for cls, rows in tables.items():
            table = self._new_table(company, cls)
            if not isinstance(rows, list):
                raise bad_request(f"fixture: company {company.id}: {cls} must be a list of rows")
            staged = []
            for j, r in enumerate(rows):
                if not isinstance(r, dict):
                    raise bad_request(f"fixture: company {company.id}: {cls}[{j}] is not an object")
                try:
                    staged.append(self._normalise(table, r, from_wire=False))
                except ValueError as exc:
                    raise bad_request(f"fixture: company {company.id}: {cls}[{j}]: {exc}") from None
            # explicit RowIds first (in order), then the rest numbered after them
            explicit = sorted((r for r in staged if isinstance(r.get("RowId"), int)), key=lambda r: r["RowId"])
            for r in explicit:
                if r["RowId"] in table.rows:
                    raise bad_request(f"fixture: company {company.id}: {cls} RowId {r['RowId']} appears twice")
                self._fixture_add(table, r, company)
            for r in staged:
                if not isinstance(r.get("RowId"), int):
                    r["RowId"] = table.next_row_id
                    self._fixture_add(table, r, company)
            self._reorder(table)
        self._continue_order_series(company)
        return company

    def _continue_order_series(self, company: Company) -> None:
        """Uniconta's order numbers are one series that is never reused: a posted invoice keeps its order's
        ``OrderNumber`` after the draft is gone, so the next new order must come after those too (otherwise a new
        draft would share a number with a posted invoice, and anything that pairs by order number breaks)."""
        posted = company.tables.get("DebtorInvoiceClient")
        used = max((r["OrderNumber"] for r in posted.rows.values() if isinstance(r.get("OrderNumber"), int)),
                   default=0) if posted else 0
        if used:
            orders = company.tables.get("DebtorOrderClient") or self._new_table(company, "DebtorOrderClient")
            orders.next_auto = max(orders.next_auto, used + 1)

    def _fixture_add(self, table: Table, row: dict, company: Company) -> None:
        s = table.schema
        if s.auto_key and not row.get(s.auto_key):
            row[s.auto_key] = table.next_auto
        if s.name == "DebtorOrderLineClient" and not row.get("LineNumber"):
            row["LineNumber"] = table.sub_max.get((row.get("OrderNumber"),), 0) + 1
        self._computed(table, row)
        key = table.key_of(row)
        if key is not None and key in table.index:
            raise bad_request(f"fixture: company {company.id}: {s.name} key "
                              f"{dict(zip(s.keys, key))} appears twice")
        table.add(self._ordered(row, s.keys))

    @staticmethod
    def _reorder(table: Table) -> None:
        table.rows = dict(sorted(table.rows.items()))

    @staticmethod
    def _ordered(row: dict, keys: tuple[str, ...] = ()) -> dict:
        """RowId first, then the key fields, then the rest as given."""
        out = {"RowId": row["RowId"]}
        out.update((k, row[k]) for k in keys if k in row)
        out.update((k, v) for k, v in row.items() if k not in out)
        return out

    def dump(self, include_secrets: bool = False) -> dict[str, Any]:
        """The whole state in the fixture shape (``load(dump())`` reproduces it). Passwords only on request."""
        with self.lock:
            users = []
            for u in self.users.values():
                d: dict[str, Any] = {"UserName": u.UserName}
                if include_secrets:
                    d["Password"] = u.Password
                if u.Companies is not None:
                    d["Companies"] = list(u.Companies)
                if u.DefaultCompany is not None:
                    d["DefaultCompany"] = u.DefaultCompany
                users.append(d)
            companies = []
            for c in self.companies.values():
                d = dict(c.attrs)
                for cls, table in c.tables.items():
                    if table.rows or cls not in SCHEMAS:  # known classes appear once they have rows
                        d[cls] = [dict(r) for r in table.rows.values()]
                companies.append(d)
            return {"uniconta": {"users": users, "companies": companies}}

    def summary(self) -> dict[str, Any]:
        with self.lock:
            return {"users": len(self.users),
                    "companies": {c.id: {cls: len(t.rows) for cls, t in c.tables.items() if t.rows}
                                  for c in self.companies.values()}}

    def reset(self) -> dict[str, Any]:
        """Back to the state the simulator started with (or was last given by ``/_sim/fixture``)."""
        return self.load(self._initial if self._reread is None else self._reread())

    # ------------------------------------------------------------------------------------------------ access
    def authenticate(self, username: str, password: str) -> tuple[User, int | None]:
        """``00<CompanyId>/<user>`` or ``<user>`` + password → (user, company named in the user name)."""
        cid: int | None = None
        name = username
        if "/" in username:
            prefix, name = username.split("/", 1)
            if not prefix.isdigit():
                raise UnicontaError(401, "Unauthorized", "Login failed: user name must be '<user>' or "
                                    "'00<CompanyId>/<user>'", headers={"WWW-Authenticate": 'Basic realm="Uniconta"'})
            cid = int(prefix)
        with self.lock:
            user = self.users.get(name.lower())
        if user is None or user.Password != password:
            raise UnicontaError(401, "Unauthorized", f"Login failed: wrong user name or password for Uniconta "
                                f"user '{name}'", headers={"WWW-Authenticate": 'Basic realm="Uniconta"'})
        return user, cid

    def visible_companies(self, user: User) -> list[Company]:
        with self.lock:
            return [c for c in self.companies.values() if user.sees(c.id)]

    def resolve_company(self, user: User, cid: int | None) -> Company:
        """The company a call works in: explicit id (path or user name), else the user's default/first company."""
        with self.lock:
            if cid is None:
                cid = user.DefaultCompany
                if cid is None:
                    visible = [c.id for c in self.companies.values() if user.sees(c.id)]
                    if not visible:
                        raise UnicontaError(403, "NoRights", f"User '{user.UserName}' has access to no company")
                    cid = visible[0]
            company = self.companies.get(cid)
            if company is None or not user.sees(cid):
                raise UnicontaError(403, "NoRights", f"Unknown company {cid}: user '{user.UserName}' has no access "
                                    f"to a company with that id", company=cid)
            return company

    def class_names(self, company: Company) -> list[str]:
        with self.lock:
            names = [n for n in SCHEMAS if n != "CompanyClient"]
            names += [n for n in company.tables if n not in SCHEMAS]
            return ["CompanyClient", *names]

    def table(self, company: Company, cls: str) -> Table:
        """The table of ``cls``; 404 for an unknown class, 403 NoSubscription for project classes without the
        project module."""
        with self.lock:
            schema = SCHEMAS.get(cls)
            if schema is None and cls not in company.tables:
                raise UnicontaError(404, "NotFound", f"Unknown entity set '{cls}': Uniconta has no class by that "
                                    f"name (class names are case-sensitive, e.g. 'DebtorClient')", **{"class": cls})
            if schema is not None and schema.project and not company.project_module:
                raise UnicontaError(403, "NoSubscription", f"The project module is not active in company "
                                    f"{company.id} ('{company.attrs.get('Name', '')}'): {cls} cannot be read or "
                                    f"written until the company subscribes to Projects",
                                    company=company.id, **{"class": cls})
            table = company.tables.get(cls)
            if table is None:
                table = self._new_table(company, cls)
            return table

    @staticmethod
    def _new_table(company: Company, cls: str) -> Table:
        table = Table(SCHEMAS.get(cls) or generic_schema(cls))
        company.tables[cls] = table
        return table

    # ---------------------------------------------------------------------------------------------- normalise
    def _normalise(self, table: Table, raw: dict, *, from_wire: bool) -> dict:
        schema = table.schema
        if schema.name == "DebtorInvoiceLines" and "Account" in raw and "DCAccount" not in raw:
            # fixtures written before the field was named as in Uniconta (DCAccount, see schema.py)
            raw = {("DCAccount" if k == "Account" else k): v for k, v in raw.items()}
        row: dict[str, Any] = {}
        types = table.types
        for k, v in raw.items():
            kind = types.get(k)
            if kind is None:
                if k.startswith("@"):
                    continue
                if k.startswith("_"):
                    if not from_wire:
                        row[k] = plain(v)
                    continue
                if not table.known(k):
                    if from_wire:
                        continue  # unknown JSON properties are dropped, as a typed deserializer does
                    table.extra_fields.add(k)
                kind = types[k] = schema.type_of(k) if k in schema.fields else "extra"
            # fast paths for values already of the right JSON type
            if v is None:
                continue
            if kind == "str" and type(v) is str:
                row[k] = v
                continue
            if kind == "num" and type(v) is float:
                row[k] = v
                continue
            if (kind == "int" and type(v) is int) or (kind == "bool" and type(v) is bool):
                row[k] = v
                continue
            try:
                v = coerce(schema, k, v)
            except ValueError as exc:
                raise ValueError(f"field {k}: {exc}") from None
            if v is not None:
                row[k] = v
        for k, v in schema.defaults.items():
            row.setdefault(k, v)
        for k in schema.keys:
            if schema.type_of(k) == "str" and k in row and not isinstance(row[k], str):
                row[k] = str(row[k])
        return row

    def _computed(self, table: Table, row: dict) -> None:
        """Fields the server computes."""
        name = table.schema.name
        if name == "DebtorOrderLineClient":
            row["Total"] = to_json_number(line_net(row))
        elif name == "GLTransClient":
            if "Amount" not in row or (row.get("Amount") == 0.0 and (row.get("Debit") or row.get("Credit"))):
                row["Amount"] = to_json_number(money(row.get("Debit")) - money(row.get("Credit")))
            if not row.get("Debit") and not row.get("Credit") and row.get("Amount"):
                amt = money(row["Amount"])
                row["Debit" if amt > 0 else "Credit"] = to_json_number(abs(amt))

    # ------------------------------------------------------------------------------------------------ queries
    def query(self, company: Company, table: Table, filt: Filter | None,
              orderby: list[tuple[str, bool]] | None) -> list[dict]:
        """Rows matching ``filt`` in ``orderby`` order (RowId order by default); cached per table version."""
        with self.lock:
            okey = tuple(orderby or ())
            ckey = (company.id, table.schema.name, table.version, filt.text if filt else None, okey)
            hit = self._cache.get(ckey)
            if hit is not None:
                self._cache.move_to_end(ckey)
                return hit
            rows: Iterable[dict] = table.rows.values()
            if filt is not None:
                keys = table.schema.keys
                if keys and all(k in filt.key_eq and self._indexable(table, k, filt.key_eq[k]) for k in keys):
                    found = table.find(tuple(coerce(table.schema, k, filt.key_eq[k]) for k in keys))
                    rows = [found] if found is not None else []
                pred = filt.predicate
                result = [r for r in rows if pred(r)]
            else:
                result = list(rows)
            if orderby:
                result = sort_rows(result, orderby)
            self._cache[ckey] = result
            while len(self._cache) > 64:
                self._cache.popitem(last=False)
            return result

    @staticmethod
    def _indexable(table: Table, name: str, literal: Any) -> bool:
        """Whether ``name eq literal`` can be answered from the key index (same type, exact form)."""
        kind = table.schema.type_of(name)
        if kind == "str":
            return isinstance(literal, str)
        if kind == "int":
            return isinstance(literal, Decimal) and literal == literal.to_integral_value()
        return False

    def lookup(self, table: Table, name: str, value: str) -> list[dict]:
        """``GET /api/Entities/{Class}?Name=&Value=``: rows whose field ``name`` equals ``value``."""
        with self.lock:
            if not table.known(name):
                raise bad_request(f"Unknown field '{name}' on {table.schema.name}", code="BadRequest",
                                  **{"class": table.schema.name})
            kind = table.schema.type_of(name)
            literal: Any = value
            if kind in ("int", "num"):
                try:
                    literal = Decimal(value.strip())
                except InvalidOperation:
                    return []
            elif kind == "bool":
                literal = value.strip().lower() in ("true", "1")
            elif kind == "date":
                try:
                    literal = parse_datetime(value)
                except ValueError:
                    return []
            if table.schema.keys == (name,):
                try:
                    found = table.find((coerce(table.schema, name, value),))
                except ValueError:
                    found = None
                return [found] if found is not None else []
            return [r for r in table.rows.values() if _compare("eq", r.get(name), literal)]

    # ------------------------------------------------------------------------------------------------- writes
    def insert(self, company: Company, table: Table, raws: list[Any]) -> list[dict]:
        """Insert rows, all or nothing. Assigns RowId, auto-numbers, LineNumber, server timestamps."""
        with self.lock:
            schema = table.schema
            staged: list[dict] = []
            new_keys: set[tuple] = set()
            next_id, next_auto = table.next_row_id, table.next_auto
            sub_max = dict(table.sub_max)
            stamp = now_text(self.clock)
            for i, raw in enumerate(raws):
                idx = i if len(raws) > 1 else None
                if not isinstance(raw, dict):
                    raise bad_request(f"{schema.name}: item {i} is not a JSON object", index=idx)
                try:
                    row = self._normalise(table, raw, from_wire=True)
                except ValueError as exc:
                    raise bad_request(f"{schema.name}: {exc}", index=idx) from None
                if schema.auto_key and not row.get(schema.auto_key):
                    row[schema.auto_key] = next_auto
                if schema.auto_key and isinstance(row.get(schema.auto_key), int):
                    next_auto = max(next_auto, row[schema.auto_key] + 1)
                if schema.name == "DebtorOrderLineClient" and row.get("OrderNumber") is not None:
                    prefix = (row["OrderNumber"],)
                    if not row.get("LineNumber"):
                        row["LineNumber"] = sub_max.get(prefix, 0) + 1
                    sub_max[prefix] = max(sub_max.get(prefix, 0), row["LineNumber"])
                self._validate(company, table, row, index=idx)
                key = table.key_of(row)
                if key is not None and (key in table.index or key in new_keys):
                    raise UnicontaError(409, "KeyExists", f"{schema.name} with {self._key_text(schema, key)} "
                                        f"already exists in company {company.id}", key=dict(zip(schema.keys, key)),
                                        index=idx, **{"class": schema.name})
                if key is not None:
                    new_keys.add(key)
                for f in ("Created", "UpdatedAt"):
                    if f in schema.fields and f not in row:
                        row[f] = stamp
                self._computed(table, row)
                row["RowId"] = next_id
                next_id += 1
                staged.append(self._ordered(row, schema.keys))
            for row in staged:
                table.add(row)
            return staged

    def update(self, company: Company, table: Table, raw: Any) -> dict:
        """Replace a whole row, found by ``RowId`` when given, else by its key."""
        with self.lock:
            if not isinstance(raw, dict):
                raise bad_request(f"{table.schema.name}: Update takes one JSON object")
            row = self._prepare_update(company, table, raw, index=None)
            table.replace(row["RowId"], row)
            return row

    def update_list(self, company: Company, table: Table, raws: list[Any]) -> list[dict]:
        """Replace many rows, all or nothing (``UpdateList``): every record is checked before any is replaced; the
        error of a failing one carries its ``index``."""
        with self.lock:
            schema = table.schema
            prepared: list[dict] = []
            seen_rows: set[int] = set()
            seen_keys: set[tuple] = set()
            for i, raw in enumerate(raws):
                idx = i if len(raws) > 1 else None
                if not isinstance(raw, dict):
                    raise bad_request(f"{schema.name}: item {i} is not a JSON object", index=idx)
                try:
                    row = self._prepare_update(company, table, raw, index=idx)
                except UnicontaError as exc:
                    if idx is not None:
                        exc.extra.setdefault("index", idx)
                    raise
                key = table.key_of(row)
                if row["RowId"] in seen_rows or (key is not None and key in seen_keys):
                    raise bad_request(f"{schema.name}: item {i} updates a record an earlier item of the list "
                                      f"updates", index=idx)
                seen_rows.add(row["RowId"])
                if key is not None:
                    seen_keys.add(key)
                prepared.append(row)
            for row in prepared:
                table.replace(row["RowId"], row)
            return prepared

    def _prepare_update(self, company: Company, table: Table, raw: dict, *, index: int | None) -> dict:
        """The row an Update of ``raw`` would store (checked, not yet stored)."""
        schema = table.schema
        target = self._target(company, table, raw)
        try:
            row = self._normalise(table, raw, from_wire=True)
        except ValueError as exc:
            raise bad_request(f"{schema.name}: {exc}", index=index) from None
        for k in schema.keys:  # key not sent but row found by RowId: keep its key
            if k not in row and k in target:
                row[k] = target[k]
        self._validate(company, table, row, index=index)
        key = table.key_of(row)
        if key is not None:
            other = table.index.get(key)
            if other is not None and other != target["RowId"]:
                raise UnicontaError(409, "KeyExists", f"{schema.name} with {self._key_text(schema, key)} "
                                    f"already exists in company {company.id}", key=dict(zip(schema.keys, key)),
                                    index=index, **{"class": schema.name})
        for k, v in target.items():  # metadata and the creation stamp survive an update
            if k.startswith("_") or (k == "Created" and k not in row):
                row[k] = v
        if "UpdatedAt" in schema.fields:
            row["UpdatedAt"] = now_text(self.clock)
        self._computed(table, row)
        row["RowId"] = target["RowId"]
        return self._ordered(row, schema.keys)

    def delete(self, company: Company, table: Table, raw: Any) -> dict:
        with self.lock:
            if not isinstance(raw, dict):
                raise bad_request(f"{table.schema.name}: Delete takes the JSON object of the record")
            target = self._target(company, table, raw)
            removed = table.remove(target["RowId"])
            cascade = CASCADES.get(table.schema.name)
            if cascade:
                detail_cls, detail_field, master_field = cascade
                detail = company.tables.get(detail_cls)
                if detail is not None:
                    for rid in [rid for rid, r in detail.rows.items()
                                if r.get(detail_field) == removed.get(master_field)]:
                        detail.remove(rid)
            return removed

    def _target(self, company: Company, table: Table, raw: dict) -> dict:
        schema = table.schema
        rid = raw.get("RowId")
        if rid not in (None, "", 0):
            try:
                rid = int(rid)
            except (TypeError, ValueError):
                raise bad_request(f"{schema.name}: RowId must be an integer") from None
            row = table.rows.get(rid)
            if row is None:
                raise UnicontaError(404, "CouldNotFind", f"{schema.name} with RowId {rid} not found in company "
                                    f"{company.id}", key={"RowId": rid}, **{"class": schema.name})
            return row
        if not schema.keys:
            raise UnicontaError(400, "FieldCannotBeBlank", f"{schema.name} has no key but RowId: send the RowId "
                                "of the record", **{"class": schema.name})
        try:
            key = tuple(coerce(schema, k, raw.get(k)) for k in schema.keys)
        except ValueError as exc:
            raise bad_request(f"{schema.name}: {exc}") from None
        if any(v in (None, "") for v in key):
            missing = [k for k, v in zip(schema.keys, key) if v in (None, "")]
            raise UnicontaError(400, "FieldCannotBeBlank", f"{schema.name}: key field(s) {', '.join(missing)} "
                                "cannot be blank (or send RowId)", **{"class": schema.name})
        row = table.find(key)
        if row is None:
            raise UnicontaError(404, "CouldNotFind", f"{schema.name} with {self._key_text(schema, key)} not found "
                                f"in company {company.id}", key=dict(zip(schema.keys, key)), **{"class": schema.name})
        return row

    @staticmethod
    def _key_text(schema: EntitySchema, key: tuple) -> str:
        return " and ".join(f"{k} {v!r}" for k, v in zip(schema.keys, key))

    def _validate(self, company: Company, table: Table, row: dict, *, index: int | None) -> None:
        schema = table.schema
        for k in (*schema.keys, *schema.required):
            if k == schema.auto_key:
                continue
            if row.get(k) in (None, ""):
                code = "AccountIsMissing" if k == "Account" and schema.name == "DebtorOrderClient" else \
                    "FieldCannotBeBlank"
                raise UnicontaError(400, code, f"{schema.name}: field {k} cannot be blank", index=index,
                                    field=k, **{"class": schema.name})
        for fname, target_cls, target_key in schema.references:
            value = row.get(fname)
            if value in (None, ""):
                continue
            target_schema = SCHEMAS[target_cls]
            if target_schema.project and not company.project_module:
                continue
            target = company.tables.get(target_cls)
            must = fname == "OrderNumber" or (schema.name == "DebtorOrderClient" and fname == "Account")
            if target is None or not target.rows:
                if not must:
                    continue
            if target is None or target.find((value,)) is None:
                code = "AccountIsMissing" if fname == "Account" and target_cls == "DebtorClient" else "CouldNotFind"
                raise UnicontaError(400, code, f"{schema.name}: {fname} {value!r} does not exist as {target_cls} "
                                    f"in company {company.id}", index=index, field=fname, **{"class": schema.name})

    # ------------------------------------------------------------------------------------------------- admin
    def touch(self, company: Company, table: Table, *, filt: Filter | None, keys: list[Any] | None,
              count: int | None, changes: dict | None, rng: Any) -> list[dict]:
        """Simulate user edits: apply ``changes`` (or a default edit of ``Name``) to the selected rows."""
        with self.lock:
            rows = list(table.rows.values())
            if filt is not None:
                rows = [r for r in rows if filt.predicate(r)]
            if keys is not None:
                wanted = set()
                for k in keys:
                    kt = tuple(k) if isinstance(k, list) else (k,)
                    try:
                        fields = table.schema.keys or ("RowId",)
                        wanted.add(tuple(coerce(table.schema, f, v) for f, v in zip(fields, kt)))
                    except ValueError as exc:
                        raise bad_request(f"touch: {exc}") from None
                rows = [r for r in rows if (table.key_of(r) or (r["RowId"],)) in wanted]
            if count is not None and count < len(rows):
                rows = sorted(rng.sample(rows, count), key=lambda r: r["RowId"])
            touched = []
            for old in rows:
                new = dict(old)
                if changes:
                    for k, v in changes.items():
                        if k == "RowId":
                            continue
                        try:
                            v = coerce(table.schema, k, v) if not k.startswith("_") else v
                        except ValueError as exc:
                            raise bad_request(f"touch: field {k}: {exc}") from None
                        if v is None:
                            new.pop(k, None)
                        else:
                            new[k] = v
                else:
                    new["Name"] = f"{old.get('Name', '')} (rettet)".strip()
                if "UpdatedAt" in table.schema.fields:
                    new["UpdatedAt"] = now_text(self.clock)
                self._computed(table, new)
                key = table.key_of(new)
                if key is not None and table.index.get(key, old["RowId"]) != old["RowId"]:
                    raise UnicontaError(409, "KeyExists", f"touch: {table.schema.name} key {key} exists")
                table.replace(old["RowId"], new)
                touched.append(new)
            return touched
