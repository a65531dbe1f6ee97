"""Master data for both systems: legal entities/companies, setup tables, employees, items, customers and their
Uniconta twins (with the matching mess), projects, tasks, contacts — plus the labelled matching truth.

Master data is small (tens of thousands of records at most) and is also needed by the transaction pass, so it
is kept as light objects (``__slots__``) while the fixture records go straight to the sink.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from . import danish as dk

CENT = Decimal("0.01")
D0 = Decimal("0")
D100 = Decimal("100")


def q2(d: Decimal) -> Decimal:
    return d.quantize(CENT, ROUND_HALF_UP)


def sub_seed(seed: int, label: str) -> int:
    """Independent, platform-stable RNG streams per purpose (never ``hash()``, which is salted per process)."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{label}".encode()).digest()[:8], "big")


def guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def dt(d: date | datetime, h: int = 0, m: int = 0, s: int = 0) -> str:
    if isinstance(d, datetime):
        return d.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{d.isoformat()}T{h:02d}:{m:02d}:{s:02d}"


def add_months(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    y += d.year
    m += 1
    last = [31, 29 if (y % 4 == 0 and (y % 100 or y % 400 == 0)) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    return date(y, m, min(d.day, last[m - 1]))


@dataclass(frozen=True)
class SizeConfig:
    name: str
    customers: int          # TimeLog customers (all statuses)
    employees: int
    years: int              # invoice history
    invoices_per_month: float
    work_unit_days: int     # work units are emitted for invoiced registrations this recent (+ unbilled ones)
    gl_per_month: float     # supplier postings per month (company 10001; 10002 gets a third)
    credit_rate: float      # credit notes per invoice
    contacts_max: int


SIZES: dict[str, SizeConfig] = {
    "S": SizeConfig("S", 40, 12, 2, 5.0, 75, 3, 0.07, 2),
    "M": SizeConfig("M", 3000, 80, 3, 760, 45, 60, 0.03, 3),
    "L": SizeConfig("L", 12000, 250, 5, 4800, 20, 300, 0.025, 3),
}

KINDS = ("exact", "messy_name", "typo", "cvr_only", "phone_only", "number_only", "name_only")
KIND_WEIGHTS = (30, 25, 12, 10, 8, 8, 7)

LEGAL_ENTITIES = (
    # LE id, name, company id, company name (as in Uniconta), address
    (1, "Nordlys Consulting A/S", 10001, "Nordlys Consulting A/S", ("Åboulevard 21", "8000", "Aarhus C"),
     "31457896"),
    (2, "Nordlys Consulting Aarhus ApS", 10002, "Nordlys Consulting Aarhus ApS", ("Hasselager Allé 5", "8260",
                                                                                    "Viby J"), "40132257"),
)

CUSTOMER_STATUSES = (
    # ID, Name, CustomerStatusType (bit flag), IsDefault, IsActive
    (1, "Kunde", 1, True, True), (2, "Lead", 8, False, True), (3, "Tidligere kunde", 1, False, True),
    (4, "Leverandør", 2, False, True), (5, "Intern", 1, False, True),
)

PAYMENT_TERMS = (
    # TL ID, Name, days, end of month, Uniconta code
    (1, "Netto 8 dage", 8, False, "N8"), (2, "Netto 14 dage", 14, False, "N14"),
    (3, "Netto 30 dage", 30, False, "N30"), (4, "Løbende måned + 30 dage", 30, True, "LM30"),
)

CURRENCIES = (
    # ID, ABB, name, base rate per 100 units, volatility
    (1, "DKK", "Danske kroner", "100.00", 0), (2, "EUR", "Euro", "746.00", 0.4), (3, "USD", "Amerikanske dollar",
                                                                                   "675.00", 18),
    (4, "SEK", "Svenske kroner", "65.50", 1.6), (5, "NOK", "Norske kroner", "63.20", 1.5),
    (6, "GBP", "Britiske pund", "865.00", 10),
)

PROJECT_TYPES = ((1, "Tid og materialer", ""), (2, "Fastpris", "FAST"), (3, "Abonnement", "ABON"),
                 (4, "Intern", ""))
PROJECT_CATEGORIES = ((1, "Rådgivning", "KONS-SR"), (2, "Implementering", ""), (3, "Udvikling", "KONS-JR"),
                      (4, "Support og drift", "SUP"), (5, "Uddannelse", "KURSUS"))
TASK_TYPES = ((1, "Analyse", "KONS-SR"), (2, "Design", "ARK"), (3, "Udvikling", "KONS-JR"), (4, "Test", ""),
              (5, "Projektledelse", "PL"), (6, "Møder", ""), (7, "Rejsetid", ""), (8, "Fastprisopgave", "FAST"))

# Uniconta items per company: Item, Name, ItemType, SalesPrice1, CostPrice, Blocked, PrCategory, in company 10002
ITEMS = (
    ("KONS-SR", "Konsulenttimer, senior", "Service", "1250.00", "520.00", False, "TIMER", "1195.00"),
    ("KONS-JR", "Konsulenttimer", "Service", "995.00", "410.00", False, "TIMER", "950.00"),
    ("PL", "Projektledelse", "Service", "1395.00", "560.00", False, "TIMER", "1295.00"),
    ("ARK", "Arkitektbistand", "Service", "1550.00", "610.00", False, "TIMER", None),
    ("SUP", "Support", "Service", "750.00", "330.00", False, "TIMER", "700.00"),
    ("FAST", "Fastprisopgave", "Service", "0.00", "0.00", False, "FAKT", "0.00"),
    ("ABON", "Abonnement / serviceaftale", "Service", "0.00", "0.00", False, "FAKT", "0.00"),
    ("KM", "Kørsel efter statens takst", "Service", "3.81", "3.81", False, "KOERSEL", "3.81"),
    ("HOTEL", "Hotel (viderefakturering)", "Service", "0.00", "0.00", False, "UDLAEG", "0.00"),
    ("REJSE", "Rejseudgifter (viderefakturering)", "Service", "0.00", "0.00", False, "UDLAEG", "0.00"),
    ("FORPL", "Forplejning", "Service", "0.00", "0.00", False, "UDLAEG", "0.00"),
    ("LIC", "Softwarelicenser", "Service", "0.00", "0.00", False, "UDLAEG", "0.00"),
    ("UDL", "Udlæg i øvrigt", "Service", "0.00", "0.00", False, "UDLAEG", "0.00"),
    ("GEBYR", "Fakturagebyr", "Service", "50.00", "0.00", False, "FAKT", "50.00"),
    ("KURSUS", "Kursusdag", "Service", "4500.00", "1200.00", False, "FAKT", None),
    ("RABAT", "Rabat", "Service", "0.00", "0.00", True, "FAKT", "0.00"),
    ("HW-100", "Hardware, diverse", "Item", "2495.00", "1650.00", False, "UDLAEG", None),
    ("GL-TIME", "Timer (udgået varenr.)", "Service", "900.00", "400.00", True, "TIMER", "900.00"),
)
# Items the TimeLog administrator imported (U2) but left inactive
INACTIVE_PRODUCTS = ("GEBYR", "KURSUS", "RABAT")
NEVER_IMPORTED = ("HW-100", "GL-TIME")

# Hourly rates: ID, Name, amount, currency, price group id, price group name, LE, product, level
HOURLY_RATES = (
    (1, "Senior konsulent", "1250.00", "DKK", 1, "Standard DKK", 1, "KONS-SR", "sr"),
    (2, "Konsulent", "995.00", "DKK", 1, "Standard DKK", 1, "KONS-JR", "jr"),
    (3, "Projektleder", "1395.00", "DKK", 1, "Standard DKK", 1, "PL", "pm"),
    (4, "Arkitekt", "1550.00", "DKK", 1, "Standard DKK", 1, "ARK", "ark"),
    (5, "Support", "750.00", "DKK", 1, "Standard DKK", 1, "", "sup"),
    (6, "Senior consultant", "170.00", "EUR", 2, "Standard EUR", 1, "KONS-SR", "sr"),
    (7, "Consultant", "135.00", "EUR", 2, "Standard EUR", 1, "KONS-JR", "jr"),
    (8, "Project manager", "190.00", "EUR", 2, "Standard EUR", 1, "PL", "pm"),
    (9, "Senior konsulent", "1195.00", "DKK", 3, "Aarhus DKK", 2, "KONS-SR", "sr"),
    (10, "Konsulent", "950.00", "DKK", 3, "Aarhus DKK", 2, "KONS-JR", "jr"),
    (11, "Projektleder", "1295.00", "DKK", 3, "Aarhus DKK", 2, "PL", "pm"),
    (12, "Support", "700.00", "DKK", 3, "Aarhus DKK", 2, "", "sup"),
)

# TimeLog expense types (REST): ID, name, GL account (Uniconta), VAT %, product (item), show in travel, active.
# REJSE is on two expense types on purpose (rule I3 warns about exactly this).
EXPENSE_TYPES = (
    (1, "Hotel", "2220", "25.00", "HOTEL", True, True),
    (2, "Flybillet", "2210", "0.00", "REJSE", True, True),
    (3, "Togbillet", "2211", "0.00", "REJSE", True, True),
    (4, "Taxi og parkering", "2250", "25.00", "UDL", True, True),
    (5, "Forplejning", "2240", "25.00", "FORPL", False, True),
    (6, "Softwarelicens", "2230", "25.00", "LIC", False, True),
    (7, "Underleverandør", "2200", "25.00", "", False, True),
    (8, "Telefon (udgået)", "3600", "25.00", "UDL", False, False),
)

GL_ACCOUNTS = (
    # Account, Name, AccountType, Vat
    ("1000", "RESULTATOPGØRELSE", "Header", ""), ("1010", "Salg af konsulentydelser", "PL", "U25"),
    ("1020", "Salg af fastprisopgaver", "PL", "U25"), ("1030", "Salg af abonnementer", "PL", "U25"),
    ("1040", "Viderefakturerede udlæg", "PL", "U25"), ("1050", "Salg af ydelser til EU", "PL", "UEUY"),
    ("1060", "Salg af ydelser til udlandet", "PL", "UUDY"), ("1090", "Omsætning i alt", "Sum", ""),
    ("2000", "DIREKTE OMKOSTNINGER", "Header", ""), ("2200", "Underleverandører", "PL", "I25"),
    ("2210", "Flybilletter", "PL", ""), ("2211", "Tog og bus", "PL", ""), ("2220", "Hotel", "PL", "I25"),
    ("2230", "Softwarelicenser", "PL", "I25"), ("2240", "Forplejning", "PL", "IREP"),
    ("2250", "Taxi og parkering", "PL", "I25"), ("2290", "Direkte omkostninger i alt", "Sum", ""),
    ("3000", "LOKALE- OG ADMINISTRATIONSOMKOSTNINGER", "Header", ""), ("3010", "Husleje", "PL", "I25"),
    ("3020", "El, vand og varme", "PL", "I25"), ("3600", "Telefon og internet", "PL", "I25"),
    ("3700", "Kontorartikler", "PL", "I25"), ("3800", "Revisor og advokat", "PL", "I25"),
    ("4000", "Lønninger", "PL", ""), ("5600", "Debitorer", "Debtor", ""), ("5800", "Bank", "Bank", ""),
    ("6800", "Kreditorer", "Creditor", ""), ("7210", "Salgsmoms", "BalanceSheet", ""),
    ("7220", "Købsmoms", "BalanceSheet", ""),
)
EXPENSE_IMPORT_ACCOUNTS = ("2200", "2210", "2211", "2220", "2230", "2240", "2250")

GL_VAT = (
    # Vat, Name, VatType, Rate, Account
    ("U25", "Salgsmoms 25%", "Sales", "25.00", "7210"), ("I25", "Købsmoms 25%", "Purchase", "25.00", "7220"),
    ("UEUY", "EU-salg af ydelser (omvendt betalingspligt)", "Sales", "0.00", "7210"),
    ("UUDY", "Salg af ydelser til udlandet", "Sales", "0.00", "7210"),
    ("IEUY", "EU-køb af ydelser (omvendt betalingspligt)", "Purchase", "25.00", "7220"),
    ("IREP", "Repræsentation, 25% fradrag", "Purchase", "25.00", "7220"),
)

# Suppliers (Uniconta creditors): name, default expense account, VAT code, typical net amount range
SUPPLIERS = (
    ("Hotel Kongensgaard A/S", "2220", "I25", (900, 4200), "Hotel"),
    ("Fjordhotellet Vejle ApS", "2220", "I25", (850, 3600), "Hotel"),
    ("Nordisk Luftfart A/S", "2210", "", (1200, 6500), "Flybillet"),
    ("Tog og Bus Rejser A/S", "2211", "", (150, 900), "Togbillet"),
    ("Byens Taxa ApS", "2250", "I25", (120, 800), "Taxi"),
    ("ParkCity P-huse ApS", "2250", "I25", (40, 350), "Parkering"),
    ("Cloudline Software ApS", "2230", "I25", (300, 9000), "Licens"),
    ("DevTools Ltd", "2230", "IEUY", (400, 5000), "Subscription"),
    ("Kantinen Catering ApS", "2240", "IREP", (300, 2500), "Forplejning"),
    ("IT-konsulent Jens Holm", "2200", "I25", (5000, 60000), "Underleverance"),
    ("Data Vest Underleverance ApS", "2200", "I25", (8000, 90000), "Underleverance"),
    ("Ejendomsselskabet Havnehuset A/S", "3010", "I25", (38000, 38000), "Husleje"),
    ("Nordtel Telefoni A/S", "3600", "I25", (1800, 4200), "Telefoni"),
    ("Revisionsfirmaet Lund & Bech", "3800", "I25", (4000, 25000), "Revision"),
    ("Kontorhuset Papir ApS", "3700", "I25", (150, 2200), "Kontorartikler"),
)


class Emp:
    __slots__ = ("id", "first", "last", "full", "ini", "le", "level", "rate_id", "hired", "terminated", "email",
                 "cost", "uc")

    def active_on(self, d: date) -> bool:
        return self.hired <= d and (self.terminated is None or d <= self.terminated)


class Cust:
    __slots__ = ("id", "guid", "no", "name", "nick", "role", "status_id", "le", "les", "country", "currency",
                 "cvr", "vat_str", "phone", "phone_str", "email", "street", "zip", "city", "ean", "public", "pt",
                 "discount", "weight", "created", "modified", "twins", "kinds", "projects", "contacts", "am",
                 "industry", "foreign", "site", "dup_of", "internal")

    def __init__(self) -> None:
        self.no = ""
        self.cvr = None
        self.vat_str = ""
        self.ean = None
        self.public = False
        self.discount = D0
        self.twins: dict[int, Debtor] = {}
        self.kinds: dict[int, str] = {}
        self.projects: list[Proj] = []
        self.contacts: list[str] = []
        self.les: list[int] = []
        self.dup_of = None
        self.foreign = None
        self.internal = False


class Debtor:
    __slots__ = ("account", "name", "company", "rec", "cust")


class Proj:
    __slots__ = ("id", "no", "name", "cust", "le", "type_id", "cat_id", "start", "end", "pm", "team", "tasks",
                 "budget", "installments", "inst_done", "fee", "uc", "contact", "weight", "po")


class Task:
    __slots__ = ("id", "name", "tt", "fixed")


class Master:
    """Everything the transaction pass needs, plus the truth rows."""

    def __init__(self) -> None:
        self.customers: list[Cust] = []
        self.projects: list[Proj] = []
        self.employees: list[Emp] = []
        self.emps_by_le: dict[int, list[Emp]] = {1: [], 2: []}
        self.debtors: dict[int, list[Debtor]] = {10001: [], 10002: []}
        self.uc_only: dict[int, list[Debtor]] = {10001: [], 10002: []}
        self.truth: list[dict] = []
        self.rates: dict[tuple[int, int, str], Decimal] = {}   # (year, month, ABB) -> per 100
        self.months: list[date] = []
        self.hourly: dict[int, tuple] = {}
        self.cust_rates: dict[int, tuple] = {}                  # customer id -> (rate id, amount)
        self.creditors: dict[int, list[tuple]] = {10001: [], 10002: []}
        self.uc_projects: dict[str, str] = {}                   # project No -> debtor account (company 10001)


class Ctx:
    def __init__(self, cfg: SizeConfig, seed: int, today: date, years: int) -> None:
        self.cfg = cfg
        self.seed = seed
        self.today = today
        self.years = years
        self.period_start = date(today.year - years, today.month, 1)
        # The old built-in TimeLog→Uniconta integration ran from integration_start until cutover; invoices booked
        # in that window are already in Uniconta (ExternalInvoiceNo set). Before: backfill; after: nightly sync.
        self.integration_start = max(self.period_start, add_months(today, -18))
        self.cutover = today - timedelta(days=60)


def _date_between(rng: random.Random, a: date, b: date) -> date:
    if b <= a:
        return a
    return a + timedelta(days=rng.randint(0, (b - a).days))


def _kind_list(rng: random.Random, n: int) -> list[str]:
    """``n`` kinds in the KIND_WEIGHTS proportions (largest remainder), each kind at least once when n >= 7."""
    total = sum(KIND_WEIGHTS)
    raw = [n * w / total for w in KIND_WEIGHTS]
    counts = [int(x) for x in raw]
    if n >= len(KINDS):
        counts = [max(1, c) for c in counts]
    while sum(counts) < n:
        i = max(range(len(raw)), key=lambda j: raw[j] - counts[j])
        counts[i] += 1
    while sum(counts) > n:
        i = max(range(len(counts)), key=lambda j: counts[j])
        counts[i] -= 1
    out = [k for k, c in zip(KINDS, counts) for _ in range(c)]
    rng.shuffle(out)
    return out


class MasterBuilder:
    def __init__(self, ctx: Ctx, sink) -> None:
        self.ctx = ctx
        self.sink = sink
        self.rng = random.Random(sub_seed(ctx.seed, "master"))
        self.m = Master()
        self.names_used: set[str] = set()
        self.cvrs_used: set[str] = set()
        self.accounts_used: dict[int, set[str]] = {10001: set(), 10002: set()}

    # -- helpers ---------------------------------------------------------------------------------------------
    def tl(self, coll: str, rec: dict) -> None:
        self.sink.add(("timelog", coll), rec)

    def uc(self, company: int, cls: str, rec: dict) -> None:
        self.sink.add(("uniconta", company, cls), rec)

    def new_cvr(self) -> str:
        while True:
            c = dk.make_cvr(self.rng)
            if c not in self.cvrs_used:
                self.cvrs_used.add(c)
                return c

    def company_name(self, foreign=None) -> str:
        rng = self.rng
        for attempt in range(40):
            if foreign:
                name = dk.foreign_company_name(rng, foreign)
                if attempt > 20:
                    name = name.replace(" ", f" {rng.choice(dk.FOREIGN_PLACES[foreign[4]])} ", 1)
            else:
                suf = rng.choices(dk.SUFFIXES, dk.SUFFIX_WEIGHTS)[0]
                p = rng.random()
                if p < 0.30:
                    base = f"{rng.choice(dk.LAST_NAMES)} {rng.choice(dk.BUSINESS_NOUNS)}"
                elif p < 0.55:
                    base = f"{rng.choice(dk.PLACE_PREFIXES)} {rng.choice(dk.BUSINESS_NOUNS)}"
                elif p < 0.65:
                    base = f"{rng.choice(dk.LAST_NAMES)} & {rng.choice(dk.LAST_NAMES)}"
                elif p < 0.72:
                    base = f"{rng.choice(dk.LAST_NAMES)} & Søn"
                elif p < 0.80:
                    base = "".join(rng.choice("ABCDEFGHJKLMNPRSTV") for _ in range(rng.choice((2, 3)))) + " " + \
                        rng.choice(dk.BUSINESS_NOUNS)
                elif p < 0.90:
                    base = f"{rng.choice(dk.LAST_NAMES)}s {rng.choice(dk.BUSINESS_NOUNS)}"
                else:
                    base = f"{rng.choice(dk.BUSINESS_NOUNS)}huset {rng.choice(dk.MUNICIPALITIES)}"
                if attempt > 20:
                    base += " " + rng.choice(dk.MUNICIPALITIES)
                name = dk.join_suffix(base, suf)
            if name not in self.names_used:
                self.names_used.add(name)
                return name
        name = f"{name} {len(self.names_used)}"
        self.names_used.add(name)
        return name

    def public_name(self) -> str:
        rng = self.rng
        for _ in range(40):
            p = rng.random()
            if p < 0.45:
                name = f"{rng.choice(dk.MUNICIPALITIES)} Kommune"
            elif p < 0.85:
                name = f"{rng.choice(dk.MUNICIPALITIES)} Kommune, {rng.choice(dk.DEPARTMENTS)}"
            else:
                name = rng.choice(dk.PUBLIC_BODIES)
            if name not in self.names_used:
                self.names_used.add(name)
                return name
        return self.company_name()

    def person(self) -> tuple[str, str]:
        return self.rng.choice(dk.FIRST_NAMES), self.rng.choice(dk.LAST_NAMES)

    def address(self) -> tuple[str, str, str]:
        rng = self.rng
        street = f"{rng.choice(dk.STREETS)} {rng.randint(1, 180)}"
        if rng.random() < 0.15:
            street += rng.choice((", 2. tv.", ", 1. sal", ", st.", "A", "B", ", 3.", ", 4. th."))
        z, c = rng.choice(dk.ZIP_CITIES)
        return street, z, c

    def new_account(self, company: int) -> str:
        while True:
            a = str(self.rng.randint(1000, 9999))
            if a not in self.accounts_used[company]:
                self.accounts_used[company].add(a)
                return a

    # -- build -----------------------------------------------------------------------------------------------
    def build(self) -> Master:
        self.rates()
        self.setup_tables()
        self.employees()
        self.items()
        self.customers()
        self.twins()
        self.projects()
        self.contacts()
        self.emit_customers()
        self.emit_debtors()
        return self.m

    def rates(self) -> None:
        ctx, m = self.ctx, self.m
        d = ctx.period_start
        while d <= ctx.today:
            m.months.append(d)
            d = add_months(d, 1)
        rng = random.Random(sub_seed(ctx.seed, "rates"))
        for _, abb, _, base, vol in CURRENCIES:
            level = Decimal(base)
            for mo in m.months:
                if vol:
                    level = level + Decimal(str(round(rng.gauss(0, vol / 3), 2)))
                    b = Decimal(base)
                    level = max(min(level, b + Decimal(vol) * 3), b - Decimal(vol) * 3)
                m.rates[(mo.year, mo.month, abb)] = q2(level)

    def setup_tables(self) -> None:
        m, rng = self.m, self.rng
        last = m.months[-1]
        for le, name, comp, cname, (street, z, city), cvr in LEGAL_ENTITIES:
            self.cvrs_used.add(cvr)
            self.names_used.add(name)
            self.tl("LegalEntities", {"ID": le, "GUID": guid(rng), "Name": name, "IsActive": 1, "CurrencyISO": "DKK",
                                      "Country": "Danmark"})
        for sid, name, typ, default, active in CUSTOMER_STATUSES:
            self.tl("CustomerStatuses", {"ID": sid, "Name": name, "CustomerStatusType": typ, "IsDefault": default,
                                         "IsActive": active})
        for tid, name, prod in PROJECT_TYPES:
            self.tl("ProjectTypes", {"ID": tid, "Name": name, "IsActive": True, "ProductNo": prod})
        for cid, name, prod in PROJECT_CATEGORIES:
            self.tl("ProjectCategories", {"ID": cid, "Name": name, "IsActive": True, "ProductNo": prod})
        for tid, name, prod in TASK_TYPES:
            self.tl("TaskTypes", {"ID": tid, "Name": name, "IsActive": True, "ProductNo": prod})
        for hid, name, amount, cur, pg, pgname, le, prod, level in HOURLY_RATES:
            m.hourly[hid] = (hid, name, Decimal(amount), cur, pg, le, prod, level)
            self.tl("HourlyRates", {"ID": hid, "GUID": guid(rng), "Name": name, "Amount": Decimal(amount),
                                    "CurrencyISO": cur, "IsActive": 1, "PriceGroupID": pg, "PriceGroupName": pgname,
                                    "CustomerID": 0, "CustomerName": "", "ProductNo": prod, "LegalEntityID": le})
        for etid, name, acct, vat, prod, travel, active in EXPENSE_TYPES:
            self.tl("ExpenseTypes", {"ExpenseTypeID": etid, "ExpenseTypeName": name, "ShowInTravel": travel,
                                     "AccountNo": acct, "VAT": Decimal(vat), "ProductNo": prod, "SalaryCode": "",
                                     "IsActive": active, "IsEquipment": False, "CostPrice": D0, "SalesPrice": D0,
                                     "EquipmentText": ""})
        for pid, name, days, eom, code in PAYMENT_TERMS:
            self.tl("PaymentTerms", {"ID": pid, "Name": name, "TermMessage": f"Betalingsbetingelser: {name.lower()}",
                                     "CreditTerm": "LM" if eom else "Netto", "DaysOfCredit": days,
                                     "InterestRate": Decimal("0.80"), "InterestPeriod": "Month",
                                     "ReminderFee": Decimal("100.00"), "IsDefaultTerm": pid == 2, "IsActive": True,
                                     "CurrencyID": 1, "PaymentTermGuid": guid(rng)})
        for cid, abb, name, _, _ in CURRENCIES:
            self.tl("Currencies", {"CurrencyID": cid, "CurrencyABB": abb, "DescriptiveName": name,
                                   "CurrentRate": m.rates[(last.year, last.month, abb)], "IsActive": abb != "GBP"})
        # Uniconta setup tables
        for comp in (10001, 10002):
            for grp, name, rev, vat, default in (("DK", "Danske kunder", "1010", "U25", True),
                                                 ("EU", "Kunder i EU", "1050", "UEUY", False),
                                                 ("UDL", "Kunder uden for EU", "1060", "UUDY", False),
                                                 ("OFF", "Offentlige kunder", "1010", "U25", False)):
                self.uc(comp, "DebtorGroupClient", {"Group": grp, "Name": name, "IsDefault": default,
                                                     "AutoNumber": False, "RevenueAccount": rev, "SalesVat": vat,
                                                     "SummeryAccount": "5600"})
            for pid, name, days, eom, code in PAYMENT_TERMS:
                self.uc(comp, "PaymentTermClient", {"Payment": code, "Name": name, "IsDefault": code == "N14",
                                                     "Days": days, "EndOfMonth": eom})
            self.uc(comp, "PaymentTermClient", {"Payment": "KONT", "Name": "Kontant", "IsDefault": False, "Days": 0,
                                                 "EndOfMonth": False})
            for name, default, inv, cn in (("Standard", True, "Faktura DK", "Kreditnota DK"),
                                           ("Engelsk", False, "Invoice EN", "Credit note EN"),
                                           ("OIOUBL", False, "Faktura OIOUBL", "Kreditnota OIOUBL")):
                self.uc(comp, "DebtorLayoutGroupClient", {"Name": name, "IsDefault": default, "Invoice": inv,
                                                           "Creditnote": cn})
            for vat, name, typ, rate, acct in GL_VAT:
                self.uc(comp, "GLVatClient", {"Vat": vat, "Name": name, "VatType": typ, "Rate": Decimal(rate),
                                               "Account": acct, "Blocked": False})
            for acct, name, typ, vat in GL_ACCOUNTS:
                self.uc(comp, "GLAccountClient", {"Account": acct, "Name": name, "AccountType": typ, "Vat": vat,
                                                   "Blocked": False})
            if comp == 10001:
                for grp, name, default, inv in (("KUNDE", "Kundeprojekter", True, True),
                                                ("FAST", "Fastprisprojekter", False, True),
                                                ("INTERN", "Interne projekter", False, False)):
                    self.uc(comp, "ProjectGroupClient", {"Group": grp, "Name": name, "IsDefault": default,
                                                          "Invoiceable": inv, "AutoNumber": False})
                for num, name, cat, default in (("FAKT", "Fakturering", "Revenue", True),
                                                ("TIMER", "Timer", "Labour", False),
                                                ("UDLAEG", "Udlæg", "Expenses", False),
                                                ("KOERSEL", "Kørsel", "ExternalWork", False),
                                                ("ACONTO", "Acontofakturering", "OnAccountInvoicing", False)):
                    self.uc(comp, "PrCategoryClient", {"Number": num, "Name": name, "CatType": cat,
                                                        "IsDefault": default, "Invoiceable": True})
        # creditors
        for comp in (10001, 10002):
            acct = 50001
            for name, expacct, vat, rng_amt, label in SUPPLIERS:
                if comp == 10002 and name.startswith(("DevTools", "Data Vest", "Ejendomsselskabet")):
                    continue
                foreign = name.endswith("Ltd")
                street, z, city = self.address()
                rec = {"Account": str(acct), "Name": name, "CompanyRegNo": "" if foreign else self.new_cvr(),
                       "Address1": "1 Silicon Way" if foreign else street, "ZipCode": "EC1A 1BB" if foreign else z,
                       "City": "London" if foreign else city, "Country": "UnitedKingdom" if foreign else "Denmark",
                       "Phone": dk.format_phone(rng, dk.make_phone(rng)), "Currency": "",
                       "VatZone": "EU" if foreign else "Domestic", "Vat": vat, "Group": "LEV",
                       "Payment": "N30", "Blocked": False, "PostingAccount": expacct}
                self.uc(comp, "CreditorClient", rec)
                self.m.creditors[comp].append((str(acct), name, expacct, vat, rng_amt, label))
                acct += 1

    def employees(self) -> None:
        ctx, m, rng = self.ctx, self.m, self.rng
        n = ctx.cfg.employees
        used_ini: set[str] = set()
        levels = (("pm", 0.18), ("sr", 0.35), ("jr", 0.30), ("ark", 0.07), ("sup", 0.10))
        titles = {"pm": "Projektleder", "sr": "Seniorkonsulent", "jr": "Konsulent", "ark": "Arkitekt",
                  "sup": "Supportkonsulent"}
        for i in range(1, n + 1):
            e = Emp()
            e.id = i
            e.first, e.last = self.person()
            e.full = f"{e.first} {e.last}"
            base = (e.first[0] + e.last[:2]).upper()
            ini, k = base, 0
            while ini in used_ini:
                k += 1
                ini = (e.first[:2] + e.last[0]).upper() if k == 1 else f"{base}{k}"
            used_ini.add(ini)
            e.ini = ini
            e.le = 1 if (i <= 2 or rng.random() < 0.72) and i != 3 else 2
            e.level = "pm" if i in (1, 3) else rng.choices([lv for lv, _ in levels], [w for _, w in levels])[0]
            if e.le == 2 and e.level == "ark":
                e.level = "sr"
            e.rate_id = next(h[0] for h in HOURLY_RATES if h[6] == e.le and h[8] == e.level and h[3] == "DKK")
            e.hired = _date_between(rng, ctx.period_start - timedelta(days=365 * 8), ctx.today - timedelta(days=400))
            if i <= 3:
                e.hired = min(e.hired, ctx.period_start - timedelta(days=30))
            e.terminated = None
            if i > 3 and rng.random() < 0.06:
                e.terminated = _date_between(rng, max(e.hired + timedelta(days=200), ctx.period_start),
                                             ctx.today - timedelta(days=20))
            e.email = f"{dk.ascii_fold(e.first).lower()}.{dk.ascii_fold(e.last).lower()}@nordlys-consulting.dk"
            e.cost = Decimal(rng.choice(("380.00", "420.00", "465.00", "510.00", "560.00")))
            e.uc = None
            m.employees.append(e)
            m.emps_by_le[e.le].append(e)
            dept = (1, "Rådgivning") if e.level in ("pm", "sr", "ark") else (2, "Leverance")
            self.tl("Employees", {
                "ID": e.id, "EmployeeUserId": 1000 + e.id, "FirstName": e.first, "LastName": e.last,
                "FullName": e.full, "Initials": e.ini, "Title": titles[e.level], "Email": e.email,
                "Phone": "", "Mobile": dk.format_phone(rng, dk.make_phone(rng), (40, 40, 0, 20, 0, 0, 0, 0)),
                "PrivatePhone": "", "Address": "", "ZipCode": "", "City": "",
                "Status": 0 if e.terminated else 1, "HiredDate": dt(e.hired),
                **({"TerminatedDate": dt(e.terminated)} if e.terminated else {}),
                "DepartmentNameID": dept[0], "DepartmentName": dept[1], "WorkWeek": "37 timer",
                "EmployeeTypeID": 1, "EmployeeTypeName": "Funktionær", "EmployeeNo": f"{100 + e.id}",
                "Username": e.email, "CostPrice": e.cost, "LegalEntityID": e.le,
                "ApprovalManagerUserID": 1001 if e.le == 1 else 1003,
                "ApprovalManagerEmployeeID": 1 if e.le == 1 else 3,
                "DefaultHourlyRateID": e.rate_id, "DefaultHourlyRate": m.hourly[e.rate_id][2],
                "DefaultHourlyRateCurrency": "DKK"})
            # created in Uniconta by the old integration when they appeared as internal reference on an invoice
            if rng.random() < 0.6 or i <= 3:
                e.uc = e.ini
                comp = 10000 + e.le
                self.uc(comp, "EmployeeClient", {
                    "Number": e.ini, "Name": e.full, "Title": titles[e.level], "Email": e.email,
                    "Mobil": "", "Hired": e.hired.isoformat(), "CostPrice": e.cost,
                    "SalesPrice": m.hourly[e.rate_id][2], "Blocked": bool(e.terminated),
                    **({"Terminated": e.terminated.isoformat()} if e.terminated else {})})
        for comp, (num, name) in ((10001, ("BOG", "Bente Bogholder")), (10002, ("ADM", "Administration"))):
            self.uc(comp, "EmployeeClient", {"Number": num, "Name": name, "Title": "Bogholder",
                                              "Email": "bogholderi@nordlys-consulting.dk", "Blocked": False})

    def items(self) -> None:
        rng = self.rng
        pid = 0
        for comp, le in ((10001, 1), (10002, 2)):
            for item, name, typ, price, cost, blocked, prcat, price2 in ITEMS:
                if comp == 10002 and price2 is None:
                    continue
                p = Decimal(price if comp == 10001 else price2)
                self.uc(comp, "InvItemClient", {"Item": item, "Name": name, "ItemType": typ, "SalesPrice1": p,
                                                 "CostPrice": Decimal(cost), "Blocked": blocked,
                                                 "Group": "VARER" if typ == "Item" else "YDELSER",
                                                 "Unit": "Stk" if typ == "Item" else "", "PrCategory": prcat})
                if item in NEVER_IMPORTED:
                    continue
                pid += 1
                self.tl("Products", {"ProductNumberID": pid, "ProductNumber": item, "ProductName": name,
                                     "Description": "", "UseVAT": True, "VATPercentage": Decimal("25.00"),
                                     "IsActive": item not in INACTIVE_PRODUCTS and not blocked,
                                     "ProductNumberGuid": guid(rng), "LegalEntityID": le})

    # -- customers -------------------------------------------------------------------------------------------
    def _new_cust(self, role: str, le: int, created: date) -> Cust:
        rng = self.rng
        c = Cust()
        c.guid = guid(rng)
        c.role = role
        c.le = le
        c.les = [le]
        c.created = created
        c.country = dk.DENMARK
        c.currency = "DKK"
        c.pt = rng.choices((1, 2, 3, 4), (10, 55, 25, 10))[0]
        c.weight = rng.lognormvariate(0, 1.0)
        c.industry = rng.choice(dk.INDUSTRIES)
        c.street, c.zip, c.city = self.address()
        c.phone = dk.make_phone(rng)
        c.am = rng.choice(self.m.emps_by_le[le] or self.m.employees)
        return c

    def _finish_contact_fields(self, c: Cust) -> None:
        rng = self.rng
        c.site = dk.slug(c.name) + (".dk" if not c.foreign else {"DE": ".de", "SE": ".se", "NO": ".no", "US": ".com",
                                                                    "NL": ".nl"}[c.foreign[4]])
        c.email = f"{rng.choice(('info', 'kontakt', 'post', 'mail', 'admin'))}@{c.site}"
        if c.foreign:
            c.phone_str = dk.format_foreign_phone(rng, c.phone, c.foreign[4])
        else:
            c.phone_str = dk.format_phone(rng, c.phone) if rng.random() > 0.04 else ""
        c.nick = "" if rng.random() < 0.7 else dk.split_suffix(c.name)[0][:20]

    def customers(self) -> None:
        ctx, m, rng = self.ctx, self.m, self.rng
        n = ctx.cfg.customers
        n_internal = 2
        n_sup = max(1, round(n * 0.02))
        n_lead = max(2, round(n * 0.05))
        n_dup = max(1, round(n * 0.005))
        n_group = max(1, round(n * 0.01))
        n_base = n - n_internal - n_sup - n_lead - n_dup - n_group
        n_foreign = max(4, round(n_base * 0.06))
        n_public = max(1, round(n_base * 0.05))
        n_eur_dk = max(1, round(n_base * 0.015))
        oldest = ctx.period_start - timedelta(days=365 * 6)
        newest = ctx.today - timedelta(days=20)
        base: list[Cust] = []
        for i in range(n_base):
            le = 1 if rng.random() < 0.75 else 2
            # 60 % were customers before the invoice history starts, the rest arrive during it
            created = (_date_between(rng, oldest, ctx.period_start) if rng.random() < 0.6
                       else _date_between(rng, ctx.period_start, newest - timedelta(days=60)))
            c = self._new_cust("active", le, created)
            if i < n_foreign:
                f = dk.FOREIGN[i % len(dk.FOREIGN)]
                c.foreign = f
                c.country = (f[0], f[1], f[2])
                c.currency = f[3]
                c.name = self.company_name(f)
                c.vat_str = dk.make_foreign_vat(rng, f[4])
                c.street = f"{rng.choice(dk.FOREIGN_STREETS[f[4]])} {rng.randint(1, 99)}"
                c.zip, c.city = {"DE": ("20095", "Hamburg"), "SE": ("211 20", "Malmö"), "NO": ("0154", "Oslo"),
                                 "US": ("10001", "New York"), "NL": ("1012 AB", "Amsterdam")}[f[4]]
                c.phone = "".join(str(rng.randint(0, 9)) for _ in range(8))
                c.pt = 3
                c.weight = min(c.weight, 1.0) * 0.5
            elif i < n_foreign + n_public:
                c.public = True
                c.name = self.public_name()
                c.cvr = self.new_cvr()
                c.ean = dk.make_ean(rng)
                c.pt = 4
            else:
                c.name = self.company_name()
                if rng.random() < 0.93:
                    c.cvr = self.new_cvr()
                if i < n_foreign + n_public + n_eur_dk:
                    c.currency = "EUR"
                    c.weight = min(c.weight, 1.0) * 0.5
            if not c.foreign and rng.random() < 0.15:
                c.discount = Decimal(rng.choice(("5", "10", "12.5", "15")))
            base.append(c)
        # former customers: the oldest ones, 10 %
        for c in sorted(base, key=lambda c: (c.created, c.name))[: max(1, round(n_base * 0.10))]:
            if not c.foreign:
                c.role = "former"
        # customers working with both legal entities
        actives = [c for c in base if c.role == "active" and not c.foreign]
        for c in rng.sample(actives, k=max(1, round(len(actives) * 0.03))):
            c.les = [c.le, 3 - c.le]
        extra: list[Cust] = []
        for le in (1, 2):
            c = self._new_cust("internal", le, oldest)
            c.internal = True
            c.name = LEGAL_ENTITIES[le - 1][1]
            c.cvr = LEGAL_ENTITIES[le - 1][5]
            c.street, c.zip, c.city = LEGAL_ENTITIES[le - 1][4]
            extra.append(c)
        for _ in range(n_sup):
            c = self._new_cust("supplier", 1, _date_between(rng, oldest, newest))
            name, *_ = rng.choice(SUPPLIERS)
            c.name = name if name not in self.names_used else self.company_name()
            self.names_used.add(c.name)
            c.cvr = self.new_cvr()
            extra.append(c)
        for _ in range(n_lead):
            c = self._new_cust("lead", 1 if rng.random() < 0.75 else 2,
                               _date_between(rng, ctx.today - timedelta(days=400), newest))
            c.name = self.company_name()
            if rng.random() < 0.5:
                c.cvr = self.new_cvr()
            extra.append(c)
        self._pending_dups = n_dup
        self._pending_groups = n_group
        m.customers = base + extra

    def twins(self) -> None:
        """Decide which TimeLog customers have a Uniconta debtor twin (per company), derive the debtors with the
        kind of mess they carry, add the look-alikes, then number everybody."""
        ctx, m, rng = self.ctx, self.m, self.rng
        base = [c for c in m.customers if c.role in ("active", "former")]
        twin_pairs: list[tuple[Cust, int]] = []
        for c in base:
            for le in c.les:
                p = 0.9 if c.created < ctx.integration_start else 0.55
                if le != c.le:
                    p = 0.7
                if rng.random() < p:
                    twin_pairs.append((c, le))
        # group companies sharing a switchboard number with a twin (phone matching finds two TimeLog customers)
        for _ in range(self._pending_groups):
            orig, le = rng.choice(twin_pairs)
            g = self._new_cust("active", le, _date_between(rng, orig.created, ctx.today - timedelta(days=90)))
            first = dk.split_suffix(orig.name)[0].split()[0]
            g.name = f"{first} {rng.choice(('Holding', 'Ejendomme', 'Service', 'Invest'))} ApS"
            if g.name in self.names_used:
                g.name = self.company_name()
            self.names_used.add(g.name)
            g.cvr = self.new_cvr()
            g.phone = orig.phone
            g.street, g.zip, g.city = orig.street, orig.zip, orig.city
            m.customers.append(g)
            if rng.random() < 0.5:
                twin_pairs.append((g, le))
        # duplicates inside TimeLog: the same company entered twice (old record, no projects, not in the truth)
        for _ in range(self._pending_dups):
            orig, le = rng.choice(twin_pairs)
            d = self._new_cust("dup", orig.le, orig.created - timedelta(days=rng.randint(30, 900)))
            d.name = dk.messy_name(rng, orig.name) if rng.random() < 0.6 else orig.name
            d.cvr = orig.cvr
            d.phone = orig.phone
            d.dup_of = orig
            d.street, d.zip, d.city = orig.street, orig.zip, orig.city
            m.customers.append(d)
        # number everybody in creation order
        m.customers.sort(key=lambda c: (c.created, c.name))
        for i, c in enumerate(m.customers, start=1):
            c.id = i
            c.no = str(10000 + i)
        # status
        for c in m.customers:
            c.status_id = {"active": 1, "former": 3, "lead": 2, "supplier": 4, "dup": 3, "internal": 5}[c.role]
        kinds = _kind_list(rng, len(twin_pairs))
        # a few TimeLog customers have no customer number (never when the kind relies on it)
        for (c, le), kind in zip(twin_pairs, kinds):
            c.kinds[le] = kind
        for c in m.customers:
            if c.role not in ("internal",) and rng.random() < 0.04 and not any(
                    k in ("exact", "number_only") for k in c.kinds.values()):
                c.no = ""
        for c in m.customers:
            self._finish_contact_fields(c)
            # VATNo formatting and errors on the TimeLog side
            if c.foreign:
                continue
            if c.cvr is None:
                c.vat_str = ""
                continue
            kinds_here = set(c.kinds.values())
            if "exact" in kinds_here or "cvr_only" in kinds_here or c.internal:
                c.vat_str = dk.format_cvr(rng, c.cvr, (80, 20, 0, 0)) if not c.internal else c.cvr
            elif "typo" in kinds_here and rng.random() < 0.5:
                c.vat_str = dk.break_cvr(rng, c.cvr)  # keyed wrong in TimeLog; Uniconta has it right
            elif "name_only" in kinds_here:
                c.vat_str = ""
            elif rng.random() < 0.05:
                c.vat_str = dk.break_cvr(rng, c.cvr)
            else:
                c.vat_str = dk.format_cvr(rng, c.cvr)
        self._guarantee_vat_mix()
        # debtors for the twins
        for (c, le), kind in zip(twin_pairs, kinds):
            comp = 10000 + le
            d = self._debtor_for(c, comp, kind)
            c.twins[le] = d
            m.debtors[comp].append(d)
            m.truth.append({"legal_entity_id": le, "company_id": comp, "timelog_customer_id": c.id,
                            "uniconta_debtor_account": d.account, "kind": kind})
        self._uniconta_only()

    def _guarantee_vat_mix(self) -> None:
        """Whatever the size and seed, TimeLog holds at least one CVR with a wrong check digit (never on a customer
        whose twin is linked through the CVR), one with a "DK" prefix and one with spaces."""
        danish = [c for c in self.m.customers if c.cvr and not c.foreign and not c.internal and c.vat_str]
        may_break = [c for c in danish if set(c.kinds.values()) <= {"typo", "phone_only", "number_only"}]
        wanted = (("invalid", may_break, lambda v: not dk.cvr_is_valid(v.replace(" ", "").removeprefix("DK"))),
                  ("prefix", danish, lambda v: v.startswith("DK")), ("spaces", danish, lambda v: " " in v))
        for what, pool, has in wanted:
            if any(has(c.vat_str) for c in danish) or not pool:
                continue
            c = pool[self.rng.randrange(len(pool))]
            digits = c.vat_str.replace(" ", "").removeprefix("DK")
            c.vat_str = {"invalid": dk.break_cvr(self.rng, c.cvr), "prefix": "DK" + digits,
                         "spaces": " ".join(digits[i:i + 2] for i in range(0, 8, 2))}[what]

    def _uc_phone(self, digits: str) -> str:
        return dk.format_phone(self.rng, digits, (20, 45, 2, 25, 4, 2, 1, 1))

    def _debtor_for(self, c: Cust, comp: int, kind: str) -> Debtor:
        rng = self.rng
        used = self.accounts_used[comp]
        same_no = {"exact": 1.0, "number_only": 1.0, "messy_name": 0.5, "typo": 0.4, "cvr_only": 0.0,
                   "phone_only": 0.0, "name_only": 0.0}[kind]
        if c.no and c.no not in used and rng.random() < same_no:
            account = c.no
            used.add(account)
        else:
            account = self.new_account(comp)
        cvr = c.cvr or ""
        name = c.name
        phone = c.phone
        regno, vatnumber = cvr, ""
        if kind == "messy_name":
            name = dk.messy_name(rng, c.name)
        elif kind == "typo":
            name = dk.typo(rng, c.name if rng.random() < 0.7 else dk.messy_name(rng, c.name))
            if rng.random() < 0.3:
                phone = ""
        elif kind == "cvr_only":
            name = self.company_name()  # trading under another name / renamed
            phone = dk.make_phone(rng) if rng.random() < 0.6 else ""
            if rng.random() < 0.3:
                regno, vatnumber = "", "DK" + cvr
        elif kind == "phone_only":
            name = dk.typo(rng, dk.messy_name(rng, c.name))
            regno = ""
        elif kind == "number_only":
            name = self.company_name()
            regno = ""
            phone = dk.make_phone(rng) if rng.random() < 0.5 else ""
        elif kind == "name_only":
            name = c.name if rng.random() < 0.6 else c.name.upper()
            regno = ""
            phone = "" if rng.random() < 0.5 else dk.make_phone(rng)
        if regno and rng.random() < 0.12:
            regno = "DK" + regno                         # typed into the wrong field style
        if regno and not vatnumber and rng.random() < 0.3:
            vatnumber = "DK" + cvr
        if c.foreign:
            regno, vatnumber = "", c.vat_str if kind not in ("phone_only", "number_only", "name_only") else ""
        street = c.street
        if rng.random() < 0.15:
            street = street.replace("vej", "vej.").replace("Allé", "Alle").replace("gade", "g.")
        d = Debtor()
        d.account, d.name, d.company, d.cust = account, name, comp, c
        d.rec = self._debtor_rec(account, name, regno, vatnumber, phone, c.email if rng.random() < 0.5 else
                                 f"faktura@{c.site}", street, c.zip, c.city, c.country[1], c.currency,
                                 c.ean, c.foreign, c.public, c.pt, c.created)
        return d

    def _debtor_rec(self, account, name, regno, vatnumber, phone, email, street, zipc, city, country, currency, ean,
                    foreign, public, pt, created) -> dict:
        rng = self.rng
        if foreign:
            group, zone, vat = ("EU", "EU", "UEUY") if foreign[4] in ("DE", "SE", "NL") else ("UDL", "Abroad", "UUDY")
        elif public:
            group, zone, vat = "OFF", "Domestic", "U25"
        else:
            group, zone, vat = "DK", "Domestic", "U25"
        pay = PAYMENT_TERMS[pt - 1][4] if rng.random() < 0.85 else rng.choice(("N8", "N14", "N30", "LM30"))
        return {
            "Account": account, "Name": name, "CompanyRegNo": regno, "VatNumber": vatnumber,
            "Phone": ((dk.format_foreign_phone(rng, phone, foreign[4]) if foreign else self._uc_phone(phone))
                      if phone else ""), "ContactEmail": email, "InvoiceEmail": email,
            "Address1": street, "Address2": "", "Address3": "", "ZipCode": zipc, "City": city, "Country": country,
            "Currency": currency if currency != "DKK" else ("DKK" if rng.random() < 0.3 else ""),
            "EAN": ean or "", "Group": group, "VatZone": zone, "Vat": vat, "Payment": pay,
            "LayoutGroup": "OIOUBL" if ean else ("Engelsk" if foreign else "Standard"),
            "Blocked": False, "Created": dt(created, 9, 0, 0), "UserLanguage": "en" if foreign else "da"}

    def _uniconta_only(self) -> None:
        """Debtors Uniconta has and TimeLog doesn't: old customers, hardware buyers, and look-alikes."""
        ctx, m, rng = self.ctx, self.m, self.rng
        oldest = ctx.period_start - timedelta(days=365 * 6)
        for comp in (10001, 10002):
            twins = list(m.debtors[comp])
            n = max(3, round(len(twins) * 0.2))
            n_sibling = max(1, round(len(twins) * 0.02))
            tl_only = [c for c in m.customers if c.role == "active" and (comp - 10000) in c.les
                       and (comp - 10000) not in c.twins and c.no and c.no not in self.accounts_used[comp]]
            n_numclash = min(len(tl_only), max(1, round(len(twins) * 0.005)))
            for i in range(n):
                created = _date_between(rng, oldest, ctx.today - timedelta(days=30))
                street, z, city = self.address()
                phone = dk.make_phone(rng)
                if i < n_sibling and twins:
                    ltd = [x for x in twins if dk.split_suffix(x.cust.name)[1] in ("A/S", "ApS")] or twins
                    t = rng.choice(ltd)
                    name = dk.other_legal_form(t.cust.name)     # "Hansen ApS" next to "Hansen A/S"
                    city, z = t.cust.city, t.cust.zip
                    account = self.new_account(comp)
                elif i < n_sibling + n_numclash:
                    victim = tl_only.pop(rng.randrange(len(tl_only)))
                    name = self.company_name()
                    account = victim.no                          # same number as an unrelated TimeLog customer
                    self.accounts_used[comp].add(account)
                else:
                    name = self.company_name()
                    account = self.new_account(comp)
                self.names_used.add(name)
                cvr = self.new_cvr() if rng.random() < 0.85 else ""
                d = Debtor()
                d.account, d.name, d.company, d.cust = account, name, comp, None
                d.rec = self._debtor_rec(account, name, cvr, "DK" + cvr if cvr and rng.random() < 0.3 else "", phone,
                                         f"{rng.choice(('info', 'faktura', 'bogholderi'))}@{dk.slug(name)}.dk",
                                         street, z, city, "Denmark", "DKK", None, None, False,
                                         rng.choice((1, 2, 3)), created)
                if rng.random() < 0.15:
                    d.rec["Blocked"] = True
                m.uc_only[comp].append(d)

    # -- projects --------------------------------------------------------------------------------------------
    def projects(self) -> None:
        ctx, m, rng = self.ctx, self.m, self.rng
        pid = tid = 0
        seq: dict[tuple[int, int], int] = {}
        plans = []
        for c in m.customers:
            if c.role == "internal":
                for name in ("Intern administration", "Salg og tilbud", "Kompetenceudvikling"):
                    plans.append((c, c.le, 4, ctx.period_start - timedelta(days=400), None, name))
                continue
            if c.role not in ("active", "former"):
                continue
            n = 1
            while n < 6 and rng.random() < 0.5:
                n += 1
            for k in range(n):
                le = c.les[k % len(c.les)]
                start = _date_between(rng, max(c.created, ctx.period_start - timedelta(days=500)),
                                      ctx.today - timedelta(days=45))
                if c.role == "former":
                    start = _date_between(rng, max(c.created, ctx.period_start - timedelta(days=300)),
                                          max(c.created, ctx.period_start + timedelta(days=120)))
                typ = rng.choices((1, 2, 3), (60, 22, 18))[0]
                months = rng.choice((2, 3, 4, 6, 9, 12, 18, 24, 36)) if typ != 3 else rng.choice((12, 24, 36, 60))
                end = add_months(start, months)
                if c.role == "former":
                    end = min(end, ctx.today - timedelta(days=200))
                    end = max(end, start + timedelta(days=30))
                plans.append((c, le, typ, start, end, None))
        # a customer still active today has work during the invoice history
        last_end: dict[int, int] = {}
        for i, (c, le, typ, start, end, _) in enumerate(plans):
            if c.role == "active" and (c.id not in last_end or end > plans[last_end[c.id]][4]):
                last_end[c.id] = i
        for i in last_end.values():
            c, le, typ, start, end, name = plans[i]
            if end < ctx.period_start + timedelta(days=90):
                plans[i] = (c, le, typ, start, add_months(ctx.today, rng.randint(2, 12)), name)
        plans.sort(key=lambda p: (p[3], p[0].id))
        for c, le, typ, start, end, fixed_name in plans:
            pid += 1
            p = Proj()
            p.id, p.cust, p.le, p.type_id = pid, c, le, typ
            p.start = start
            p.end = end or add_months(ctx.today, 24)
            key = (le, start.year)
            seq[key] = seq.get(key, 0) + 1
            p.no = f"{'P' if le == 1 else 'PA'}{start.year}-{seq[key]:04d}"
            p.name = fixed_name or f"{rng.choice(dk.PROJECT_THEMES)}" + (
                f" {start.year}" if rng.random() < 0.3 else "")
            p.cat_id = (rng.choices((1, 2, 3, 4, 5), (30, 25, 25, 10, 10))[0] if typ != 3 else 4) if typ != 4 else 1
            staff = [e for e in m.emps_by_le[le] if e.active_on(start)] or m.emps_by_le[le] or m.employees
            pms = [e for e in staff if e.level == "pm"] or staff
            p.pm = rng.choice(pms)
            p.team = [p.pm] + rng.sample(staff, k=min(len(staff), rng.randint(1, 3)))
            p.team = list(dict.fromkeys(p.team))
            p.budget = D0
            p.installments = 0
            p.inst_done = 0
            p.fee = D0
            if typ == 2:
                p.installments = rng.randint(2, 8)
                p.budget = Decimal(rng.randrange(40, 900) * 1000)
            elif typ == 3:
                p.fee = Decimal(rng.choice((2500, 4500, 7500, 9950, 12500, 18000, 25000)))
            elif typ == 1:
                p.budget = Decimal(rng.randrange(20, 1500) * 1000)
            p.weight = c.weight * {1: 1.0, 2: 0.45, 3: 0.6, 4: 0.3}[typ]
            p.po = f"PO-{rng.randint(10000, 99999)}" if (c.public or rng.random() < 0.2) else ""
            p.contact = ""
            p.uc = None
            # tasks
            p.tasks = []
            names = {1: (1, 3, 4, 5, 6), 2: (8, 5, 4), 3: (3, 6, 1), 4: (6, 5, 1)}[typ]
            for tt in names[: rng.randint(2, len(names))]:
                tid += 1
                t = Task()
                t.id, t.tt, t.fixed = tid, tt, typ == 2
                t.name = TASK_TYPES[tt - 1][1]
                p.tasks.append(t)
            c.projects.append(p)
            m.projects.append(p)
            # transferred to Uniconta by the old integration (company 10001 has the project module)
            if le == 1 and 1 in c.twins and start < ctx.cutover and rng.random() < 0.85 and typ != 4:
                p.uc = p.no
                m.uc_projects[p.no] = c.twins[1].account

    def contacts(self) -> None:
        m, rng = self.m, self.rng
        self._contact_id = 0
        for c in m.customers:
            if c.role in ("internal",):
                continue
            k = rng.randint(1, self.ctx.cfg.contacts_max) if c.role != "supplier" else 1
            for j in range(k):
                first, last = self.person()
                c.contacts.append(f"{first} {last}")
                self._contact_id += 1
                email = f"{dk.ascii_fold(first).lower()}{'.' if rng.random() < 0.7 else ''}" \
                        f"{dk.ascii_fold(last).lower()}@{c.site}"
                mobile = dk.make_phone(rng)
                created = min(c.created + timedelta(days=rng.randint(0, 200)), self.ctx.today - timedelta(days=2))
                self.tl("Contacts", {
                    "ID": self._contact_id, "Salutation": "", "FirstName": first, "LastName": last,
                    "FullName": f"{first} {last}", "CustomerID": c.id, "CustomerName": c.name, "CustomerNo": c.no,
                    "Title": rng.choice(("Økonomichef", "Direktør", "IT-chef", "Projektleder", "Bogholder",
                                         "Indkøber", "")),
                    "Phone": "", "Mobile": dk.format_phone(rng, mobile), "PrivatePhone": "", "Email": email,
                    "Address1": c.street, "ZipCode": c.zip, "City": c.city, "Country": c.country[0],
                    "AccountManagerID": c.am.id, "AccountManagerFullName": c.am.full,
                    "CreatedAt": dt(created, 10, 15), "CreatedByEmployeeId": c.am.id, "CreatedBy": c.am.full,
                    "LastModifiedAt": dt(min(created + timedelta(days=rng.randint(0, 700)),
                                             self.ctx.today - timedelta(days=1)), 14, 2),
                    "LastModifiedByEmployeeId": c.am.id, "LastModifiedBy": c.am.full, "IsActive": j < 2,
                    "Department": ""})
                # the old integration pushed contacts of linked customers
                for le, d in c.twins.items():
                    if rng.random() < 0.5:
                        self.uc(d.company, "ContactClient", {"Name": f"{first} {last}", "DCType": "Debtor",
                                                              "DCAccount": d.account, "Email": email,
                                                              "Mobil": mobile, "Title": ""})
        for p in m.projects:
            if p.cust.contacts:
                p.contact = p.cust.contacts[0]

    def emit_customers(self) -> None:
        ctx, m, rng = self.ctx, self.m, self.rng
        status_name = {s[0]: s[1] for s in CUSTOMER_STATUSES}
        for c in m.customers:
            last_change = c.created + timedelta(days=rng.randint(0, max(0, (ctx.today - c.created).days - 1)))
            if rng.random() < 0.05:
                last_change = ctx.today - timedelta(days=rng.randint(1, 10))   # recently edited
            c.modified = last_change
            rec = {
                "ID": c.id, "GUID": c.guid, "Name": c.name, "NickName": c.nick, "No": c.no,
                "CustomerStatusID": c.status_id, "CustomerStatus": status_name[c.status_id],
                "Address1": c.street, "Address2": "", "Address3": "", "ZipCode": c.zip, "City": c.city,
                "State": "", "CountryID": c.country[2], "Country": c.country[0], "Phone": c.phone_str, "Fax": "",
                "Email": c.email, "WebPage": f"www.{c.site}", "VATNo": c.vat_str, "Comment": "",
                "InvoiceTemplateID": 2 if c.foreign else 1,
                "AccountManagerID": c.am.id, "AccountManagerFullName": c.am.full, "AccountManagerInitials": c.am.ini,
                "IndustryID": c.industry[0], "IndustryName": "Offentlig forvaltning" if c.public else c.industry[1],
                "CustomerSince": c.created.isoformat(),
                "CreatedAt": dt(c.created, 9 + c.id % 8, c.id % 60), "CreatedByEmployeeId": c.am.id,
                "CreatedBy": c.am.full, "LastModifiedAt": dt(last_change, 11 + c.id % 6, (c.id * 7) % 60),
                "LastModifiedByEmployeeId": c.am.id, "LastModifiedBy": c.am.full,
                # simulator metadata (REST/Transactional fields the Reporting schema lacks)
                "_LegalEntityID": c.le, "_CurrencyISO": c.currency, "_PaymentTermID": c.pt,
            }
            if c.ean:
                rec["EanNo"] = int(c.ean)
            self.tl("Customers", rec)
        for p in m.projects:
            c = p.cust
            typ_name = PROJECT_TYPES[p.type_id - 1][1]
            cat_name = PROJECT_CATEGORIES[p.cat_id - 1][1]
            active = p.end >= ctx.today
            self.tl("Projects", {
                "ID": p.id, "GUID": guid(rng), "Name": p.name, "No": p.no, "Status": 1 if active else 0,
                "Department": 1, "OrderedByDepartment": 1, "ProjectStartDate": dt(p.start),
                "ProjectEndDate": dt(p.end), "Link": "", "Description": "",
                "CustomerID": c.id, "CustomerName": c.name, "CustomerNo": c.no,
                "PMID": p.pm.id, "PMInitials": p.pm.ini, "PMFullName": p.pm.full,
                "AccountManagerID": c.am.id, "AccountManagerInitials": c.am.ini, "AccountManagerFullName": c.am.full,
                "PartnerID": p.pm.id, "PartnerInitials": p.pm.ini, "PartnerFullName": p.pm.full,
                "ProjectTypeID": p.type_id, "ProjectTypeName": typ_name, "ProjectCategoryID": p.cat_id,
                "ProjectCategoryName": cat_name,
                "BudgetAmountFixedPriceTasks": D0,
                "BudgetAmountFixedPriceProject": p.budget if p.type_id == 2 else D0,
                "BudgetAmountTimeAndMaterial": p.budget if p.type_id == 1 else p.fee * 12,
                "BudgetAmountExpenses": D0, "BudgetAmountTravel": D0, "BudgetAmountWorkCurrency": p.budget,
                "BudgetAmountExpenseCurrency": D0, "BudgetAmountTravelCurrency": D0,
                "BudgetHoursFixedPriceTasks": D0,
                "BudgetHoursFixedPriceProject": q2(p.budget / Decimal(1100)) if p.type_id == 2 else D0,
                "BudgetHoursTimeAndMaterial": q2(p.budget / Decimal(1100)) if p.type_id == 1 else D0,
                "BudgetAmount": p.budget + p.fee * 12, "BudgetHours": q2(p.budget / Decimal(1100)),
                "ForecastPercent": D0,
                "CreatedAt": dt(p.start - timedelta(days=3), 10, 0),
                "CreatedByEmployeeId": p.pm.id, "CreatedBy": p.pm.full,
                "LastModifiedAt": dt(min(p.end, ctx.today - timedelta(days=1)), 16, 30),
                "LastModifiedByEmployeeId": p.pm.id, "LastModifiedBy": p.pm.full,
                "ProjectStatusName": "Aktiv" if active else "Afsluttet", "ContactID": 0,
                "ContactFullName": p.contact, "ContactEmail": "", "InternalProject": p.type_id == 4,
                "PONumber": p.po, "ProjectStage": "", "CurrencyISOCode": c.currency,
                "CurrencyRate": m.rates[(p.start.year, p.start.month, c.currency)] if p.start >= ctx.period_start
                else m.rates[(ctx.period_start.year, ctx.period_start.month, c.currency)],
                "IsMultiCustomerProject": False, "LegalEntityID": p.le})
            for n, t in enumerate(p.tasks, start=1):
                self.tl("Tasks", {
                    "ID": t.id, "GUID": guid(rng), "Name": t.name, "WBS": f"{n}", "TaskNo": n, "ProjectID": p.id,
                    "ProjectNo": p.no, "Status": 1 if active else 3, "StatusDetailed": 1 if active else 3,
                    "ProjectSubContractID": p.id, "IsParent": False, "TaskTypeID": t.tt, "TaskType": t.name,
                    "BudgetHours": D0, "BudgetAmount": D0, "BudgetAmountCurrency": D0, "IsFixedPrice": t.fixed,
                    "StartDate": dt(p.start), "EndDate": dt(p.end), "InvoicingType": "Fixed" if t.fixed else "T&M",
                    "CreatedAt": dt(p.start - timedelta(days=2), 11, 0), "CreatedByEmployeeId": p.pm.id,
                    "CreatedBy": p.pm.full, "LastModifiedAt": dt(p.start - timedelta(days=2), 11, 0),
                    "LastModifiedByEmployeeId": p.pm.id, "LastModifiedBy": p.pm.full,
                    "IsBillable": p.type_id != 4, "AllocatedRevenueAmount": D0,
                    "AllocatedRevenueAmountCurrency": D0})
            if p.uc:
                self.uc(10001, "ProjectClient", {
                    "Number": p.no, "Name": p.name, "Account": m.uc_projects[p.no],
                    "Group": "FAST" if p.type_id == 2 else "KUNDE", "Created": dt(p.start - timedelta(days=3), 10),
                    "StartDate": p.start.isoformat(), "EndDate": p.end.isoformat(), "Blocked": not active,
                    "PersonInCharge": p.pm.uc or "", "Description": "", "Currency": c.currency
                    if c.currency != "DKK" else ""})
        # customer-specific hourly rates (a negotiated price)
        hid = len(HOURLY_RATES)
        for c in m.customers:
            if c.role == "active" and not c.foreign and rng.random() < 0.04:
                hid += 1
                base = m.hourly[1 if c.le == 1 else 9]
                amount = base[2] - Decimal(rng.choice((50, 100, 150, 200)))
                m.cust_rates[c.id] = (hid, amount)
                self.tl("HourlyRates", {"ID": hid, "GUID": guid(rng), "Name": f"Aftalepris {c.name}"[:60],
                                        "Amount": amount, "CurrencyISO": "DKK", "IsActive": 1,
                                        "PriceGroupID": 100 + c.id, "PriceGroupName": f"Kunde {c.no or c.id}",
                                        "CustomerID": c.id, "CustomerName": c.name, "ProductNo": "KONS-SR",
                                        "LegalEntityID": c.le})

    def emit_debtors(self) -> None:
        m = self.m
        for comp in (10001, 10002):
            rows = m.debtors[comp] + m.uc_only[comp]
            rows.sort(key=lambda d: (d.rec["Created"], d.account))
            for d in rows:
                self.uc(comp, "DebtorClient", d.rec)
