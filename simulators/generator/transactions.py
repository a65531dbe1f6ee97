"""The transaction pass: month by month, TimeLog invoices and credit notes with their lines, line details and the
registrations behind them (work units, expenses, mileage), and on the Uniconta side the invoices the old built-in
integration already transferred (posted invoices and a few drafts), Uniconta-only invoices and supplier postings.

Records are handed to the sink as they are made and nothing but a small ring of recent invoices (for credit notes)
is kept, so memory stays bounded whatever the size.
"""

from __future__ import annotations

import calendar
import random
from collections import deque
from datetime import date, datetime, timedelta
from decimal import Decimal

from .master import (
    D0,
    D100,
    EXPENSE_IMPORT_ACCOUNTS,
    EXPENSE_TYPES,
    GL_ACCOUNTS,
    PAYMENT_TERMS,
    Ctx,
    Master,
    Proj,
    add_months,
    dt,
    guid,
    q2,
    sub_seed,
)

D25 = Decimal("25")
SEASON = {1: 0.95, 2: 1.0, 3: 1.05, 4: 0.95, 5: 1.0, 6: 1.0, 7: 0.55, 8: 0.9, 9: 1.1, 10: 1.1, 11: 1.1, 12: 0.85}
KM_RATE = {2019: "3.52", 2020: "3.52", 2021: "3.51", 2022: "3.70", 2023: "3.73", 2024: "3.79", 2025: "3.81",
           2026: "3.86", 2027: "3.90", 2028: "3.95"}
ACCOUNT_NAMES = {a: n for a, n, _, _ in GL_ACCOUNTS}
PRODUCT_CATEGORY = {"FAST": "FAKT", "ABON": "FAKT", "KM": "KOERSEL", "HOTEL": "UDLAEG", "REJSE": "UDLAEG",
                    "FORPL": "UDLAEG", "LIC": "UDLAEG", "UDL": "UDLAEG", "GEBYR": "FAKT", "KURSUS": "FAKT"}
UNIT_HOURS, UNIT_KM, UNIT_PIECES = 1, 4, 6
REG_WORK, REG_EXPENSE, REG_INSTALLMENT, REG_MILEAGE = 2, 3, 6, 16
MONTHS_DA = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober",
             "november", "december")


class Line:
    __slots__ = ("text", "qty", "rate", "disc", "unit", "product", "kind", "details", "amount", "expense",
                 "mileage")

    def __init__(self, text, qty, rate, disc, unit, product, kind):
        self.text, self.qty, self.rate, self.disc = text, qty, rate, disc
        self.unit, self.product, self.kind = unit, product, kind
        self.amount = q2(qty * rate * (D100 - disc) / D100)
        self.details: list[tuple] = []
        self.expense = None
        self.mileage = None


def _last_business_day(d: date) -> date:
    while d.weekday() >= 5:
        d -= timedelta(days=1)
    return d


class TxBuilder:
    def __init__(self, ctx: Ctx, m: Master, sink) -> None:
        self.ctx, self.m, self.sink = ctx, m, sink
        self.rng = random.Random(sub_seed(ctx.seed, "tx"))
        self.inv_id = self.line_id = self.detail_id = self.wu_id = self.exp_id = self.mil_id = 0
        self.inv_seq: dict[tuple[int, int], int] = {}
        self.uc_inv_no = {10001: 100000, 10002: 500000}
        self.uc_order_no = {10001: 5000, 10002: 9000}
        self.voucher = {10001: 20000, 10002: 60000}
        self.ring: deque = deque(maxlen=600)
        self.last_ok = datetime.combine(ctx.today - timedelta(days=1), datetime.min.time()).replace(hour=23, minute=30)
        self.hourly = m.hourly
        # counters that guarantee every feature shows up even in the smallest size
        self.n_cn = self.n_draft = self.n_ucdraft = self.n_open = self.n_overdue = 0
        self.n_ignored = self.n_recon = self.n_booked = self.n_posted = 0

    def tl(self, coll: str, rec: dict) -> None:
        self.sink.add(("timelog", coll), rec)

    def uc(self, comp: int, cls: str, rec: dict) -> None:
        self.sink.add(("uniconta", comp, cls), rec)

    # -- driver ----------------------------------------------------------------------------------------------
    def run(self) -> None:
        ctx, m, rng = self.ctx, self.m, self.rng
        cfg = ctx.cfg
        billable = [p for p in m.projects if p.type_id != 4]
        last_day = ctx.today - timedelta(days=1)
        months = [mo for mo in m.months if mo <= last_day]
        forced = self._forced_currency_invoices(billable, months)
        for mi, mo in enumerate(months):
            month_end = min(date(mo.year, mo.month, calendar.monthrange(mo.year, mo.month)[1]), last_day)
            active = [p for p in billable if p.start <= month_end and p.end >= mo]
            specs: list[tuple] = []
            if active:
                cum, acc = [], 0.0
                for p in active:
                    acc += p.weight
                    cum.append(acc)
                frac = (month_end - mo).days + 1
                frac /= calendar.monthrange(mo.year, mo.month)[1]
                n = round(cfg.invoices_per_month * SEASON[mo.month] * frac * rng.uniform(0.85, 1.15))
                if cfg.invoices_per_month < 10:   # small sizes: keep the month's count near the mean
                    n = max(1 if frac > 0.5 else 0, n)
                for p in rng.choices(active, cum_weights=cum, k=n) + forced.get(mi, []):
                    d = self._invoice_date(mo, month_end, p)
                    if d is not None:
                        specs.append((d, 0, p, None))
                n_cn = sum(1 for _ in range(max(n, 1)) if rng.random() < cfg.credit_rate)
                if self.n_cn < 2 and mi >= 2:
                    n_cn += 1
                for _ in range(n_cn):
                    orig = self._credit_candidate(month_end)
                    if orig is not None:
                        lo = max(mo, orig["date"] + timedelta(days=1))
                        specs.append((lo + timedelta(days=rng.randint(0, max(0, (month_end - lo).days))), 1, None,
                                      orig))
            for comp in (10001, 10002):
                for _ in range(self._poisson(len(m.uc_only[comp]) * 0.08 + len(m.debtors[comp]) * 0.004)):
                    specs.append((mo + timedelta(days=rng.randint(0, (month_end - mo).days)), 2, comp, None))
            specs.sort(key=lambda s: (s[0], s[1]))
            inv_idx = [i for i, s in enumerate(specs) if s[1] == 0]
            final = mi == len(months) - 1
            for i, (d, kind, p, orig) in enumerate(specs):
                if kind == 0:
                    # the last month makes sure there is a draft and an open (booked, unpaid) invoice
                    self.invoice(p, d, force_draft=final and i == inv_idx[-1] and not self.n_draft,
                                 force_open=final and i in inv_idx[-2:] and not self.n_open,
                                 force_overdue=mi == len(months) - 3 and not self.n_overdue)
                elif kind == 1:
                    self.credit_note(orig, d)
                else:
                    self.uniconta_only_invoice(p, d)
            self.gl_postings(mo, month_end)
        self.unbilled()

    def _forced_currency_invoices(self, billable: list[Proj], months: list[date]) -> dict[int, list[Proj]]:
        """One invoice in each foreign currency that has customers, placed in a month where the project runs."""
        forced: dict[int, list[Proj]] = {}
        for cur in ("EUR", "USD", "SEK", "NOK"):
            cands = [p for p in billable if p.cust.currency == cur and p.cust.role in ("active", "former")]
            if not cands:
                continue
            self.rng.shuffle(cands)
            for p in cands:
                ok = [i for i, mo in enumerate(months[:-1]) if p.start <= add_months(mo, 1) - timedelta(days=1)
                      and p.end >= mo]
                if ok:
                    forced.setdefault(self.rng.choice(ok), []).append(p)
                    break
        return forced

    def _poisson(self, lam: float) -> int:
        # Knuth for small lambda, normal approximation above
        if lam <= 0:
            return 0
        if lam > 30:
            return max(0, round(self.rng.gauss(lam, lam ** 0.5)))
        import math
        lim, k, prod = math.exp(-lam), 0, self.rng.random()
        while prod > lim:
            k += 1
            prod *= self.rng.random()
        return k

    def _invoice_date(self, mo: date, month_end: date, p: Proj) -> date | None:
        lo = max(mo, p.start)
        hi = min(month_end, p.end + timedelta(days=20))
        if hi < lo:
            return None
        if self.rng.random() < 0.45:
            d = _last_business_day(hi)
            return d if d >= lo else hi
        d = lo + timedelta(days=self.rng.randint(0, (hi - lo).days))
        if d.weekday() >= 5:
            d2 = _last_business_day(d)
            d = d2 if d2 >= lo else d
        return d

    def _credit_candidate(self, month_end: date) -> dict | None:
        ring = self.ring
        for _ in range(6):
            if not ring:
                return None
            cand = ring[self.rng.randrange(len(ring))]
            if not cand["credited"] and cand["date"] < month_end:
                cand["credited"] = True
                return cand
        return None

    # -- rates and prices ------------------------------------------------------------------------------------
    def fx(self, d: date, cur: str) -> Decimal:
        return self.m.rates[(d.year, d.month, cur)]

    def to_cur(self, dkk: Decimal, cur: str, rate: Decimal, whole: bool = False) -> Decimal:
        if cur == "DKK":
            return dkk
        v = dkk * D100 / rate
        return v.quantize(Decimal("1")) if whole else q2(v)

    def hourly_rate(self, emp, cust, cur: str, rate: Decimal) -> tuple[int, Decimal, str]:
        hourly = self.hourly
        base = hourly[emp.rate_id]
        if cust.id in self.m.cust_rates and emp.level in ("sr", "pm"):
            rid, amount = self.m.cust_rates[cust.id]
            return rid, amount, "KONS-SR"
        if cur == "EUR" and emp.le == 1:
            lvl = emp.level if emp.level in ("sr", "jr", "pm") else "sr"
            h = next(h for h in hourly.values() if h[3] == "EUR" and h[7] == lvl)
            return h[0], h[2], h[6]
        return base[0], self.to_cur(base[2], cur, rate, whole=True), base[6]

    # -- lines -----------------------------------------------------------------------------------------------
    def make_lines(self, p: Proj, d: date, cur: str, rate: Decimal) -> list[Line]:
        rng = self.rng
        c = p.cust
        lines: list[Line] = []
        period = f"{MONTHS_DA[d.month - 1]} {d.year}"
        if p.type_id == 2 and p.inst_done < p.installments:
            p.inst_done += 1
            amount = self.to_cur(q2(p.budget / p.installments), cur, rate)
            prod = "FAST" if rng.random() < 0.85 else ""
            ln = Line(f"Rate {p.inst_done} af {p.installments}: {p.name}", Decimal(1), amount, D0, UNIT_PIECES, prod,
                      "fixed")
            ln.details.append((REG_INSTALLMENT, None, p.tasks[0], Decimal(1), amount, p.id * 100 + p.inst_done, d))
            lines.append(ln)
        elif p.type_id == 3:
            fee = self.to_cur(p.fee, cur, rate)
            ln = Line(f"Serviceaftale {period}", Decimal(1), fee, c.discount, UNIT_PIECES, "ABON", "fixed")
            ln.details.append((REG_INSTALLMENT, None, p.tasks[0], Decimal(1), fee, p.id * 100 + d.month, d))
            lines.append(ln)
        time_share = {1: 1.0, 2: 0.25, 3: 0.4}[p.type_id]
        if p.type_id == 1 or rng.random() < time_share:
            team = [e for e in p.team if e.active_on(d)] or [e for e in self.m.emps_by_le[p.le] if e.active_on(d)] \
                or p.team
            members = team if p.type_id == 1 else team[:1]
            for e in members:
                tasks = [t for t in p.tasks if not t.fixed] or p.tasks
                for t in rng.sample(tasks, k=1 if rng.random() < 0.6 else min(2, len(tasks))):
                    hours = Decimal(max(2, round(rng.gammavariate(2.0, 5.0) * 4))) / 4
                    rid, hrate, prod = self.hourly_rate(e, c, cur, rate)
                    text = (f"{t.name}, {e.full}" if rng.random() < 0.7 else f"Konsulentbistand {period} ({e.ini})")
                    ln = Line(text, hours, hrate, c.discount, UNIT_HOURS, prod, "time")
                    k = 1 if hours <= 3 else rng.choice((1, 1, 2, 3))
                    parts = self._split(hours, k)
                    for q in parts:
                        self.wu_id += 1
                        reg_day = d - timedelta(days=rng.randint(0, 27))
                        ln.details.append((REG_WORK, e, t, q, hrate, self.wu_id, reg_day, rid))
                    lines.append(ln)
        if rng.random() < (0.32 if p.type_id == 1 else 0.15):
            for _ in range(rng.choice((1, 1, 2))):
                lines.append(self._expense_line(p, d, cur, rate))
        if rng.random() < (0.16 if p.type_id == 1 else 0.05) and not c.foreign:
            lines.append(self._mileage_line(p, d, cur, rate))
        if not lines:   # e.g. a fixed-price project after its last instalment: extra work
            e = p.pm
            rid, hrate, prod = self.hourly_rate(e, c, cur, rate)
            hours = Decimal(rng.randint(2, 24))
            ln = Line(f"Tillægsarbejde {period}", hours, hrate, c.discount, UNIT_HOURS, prod, "time")
            self.wu_id += 1
            ln.details.append((REG_WORK, e, p.tasks[-1], hours, hrate, self.wu_id, d, rid))
            lines.append(ln)
        return lines

    def _split(self, hours: Decimal, k: int) -> list[Decimal]:
        quarters = int(hours * 4)
        if k <= 1 or quarters < k:
            return [hours]
        cuts = sorted(self.rng.sample(range(1, quarters), k - 1))
        bounds = [0, *cuts, quarters]
        return [Decimal(bounds[i + 1] - bounds[i]) / 4 for i in range(k)]

    def _expense_line(self, p: Proj, d: date, cur: str, rate: Decimal) -> Line:
        rng = self.rng
        et = rng.choices(EXPENSE_TYPES[:7], (25, 12, 12, 18, 15, 10, 8))[0]
        etid, name, acct, vat, prod, _, _ = et
        lo, hi = {1: (700, 3800), 2: (900, 5200), 3: (120, 800), 4: (80, 650), 5: (150, 2400), 6: (200, 6000),
                  7: (4000, 45000)}[etid]
        cost = Decimal(rng.randint(lo * 100, hi * 100)) / 100
        profit = Decimal(rng.choice((0, 0, 0, 5, 10, 15)))
        sale_dkk = q2(cost * (D100 + profit) / D100)
        price = self.to_cur(sale_dkk, cur, rate)
        e = rng.choice(p.team)
        ln = Line(f"{name}: {rng.choice(('udlæg', 'viderefakturering', 'jf. bilag'))}", Decimal(1), price, D0,
                  UNIT_PIECES, prod, "expense")
        self.exp_id += 1
        ln.details.append((REG_EXPENSE, e, p.tasks[0], Decimal(1), price, self.exp_id, d))
        ln.expense = (self.exp_id, et, cost, sale_dkk, profit, e, d - timedelta(days=rng.randint(1, 25)))
        return ln

    def _mileage_line(self, p: Proj, d: date, cur: str, rate: Decimal) -> Line:
        rng = self.rng
        km = Decimal(rng.randint(12, 460))
        kmrate = Decimal(KM_RATE.get(d.year, "3.81"))
        price = self.to_cur(kmrate, cur, rate)
        prod = "KM" if rng.random() < 0.85 else ""
        e = rng.choice(p.team)
        ln = Line(f"Kørsel {p.cust.city}, {km} km", km, price, D0, UNIT_KM, prod, "mileage")
        self.mil_id += 1
        ln.details.append((REG_MILEAGE, e, p.tasks[0], km, price, self.mil_id, d))
        ln.mileage = (self.mil_id, e, km, kmrate, d - timedelta(days=rng.randint(1, 25)))
        return ln

    # -- invoices --------------------------------------------------------------------------------------------
    def _number(self, le: int, d: date) -> str:
        key = (le, d.year)
        self.inv_seq[key] = self.inv_seq.get(key, 0) + 1
        return f"{'' if le == 1 else 'AAR-'}{d.year}-{self.inv_seq[key]:04d}"

    def _due(self, c, d: date) -> date:
        _, _, days, eom, _ = PAYMENT_TERMS[c.pt - 1]
        if eom:
            d = date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])
        return d + timedelta(days=days)

    def _stamp(self, d: date, hour: int | None = None) -> datetime:
        rng = self.rng
        t = datetime.combine(d, datetime.min.time()).replace(hour=hour if hour is not None else rng.randint(8, 16),
                                                             minute=rng.randint(0, 59), second=rng.randint(0, 59))
        return min(t, self.last_ok)

    def invoice(self, p: Proj, d: date, force_draft: bool = False, force_open: bool = False,
                force_overdue: bool = False) -> None:
        ctx, rng = self.ctx, self.rng
        c = p.cust
        cur = c.currency
        rate = self.fx(d, cur)
        lines = self.make_lines(p, d, cur, rate)
        status, number, due = 0, "", self._due(c, d)
        modified = self._stamp(d)
        if force_draft or (not force_open and d >= ctx.today - timedelta(days=14) and rng.random() < 0.55):
            status = 0
            self.n_draft += 1
        else:
            number = self._number(p.le, d)
            paid = due + timedelta(days=rng.randint(-12, 30))
            if rng.random() < 0.02 or paid >= ctx.today or force_open or force_overdue:
                status = 2 if due < ctx.today else 1
                self.n_open += status == 1
                self.n_overdue += status == 2
            else:
                status = 3
                modified = max(modified, self._stamp(paid))
        self.inv_id += 1
        inv = {"id": self.inv_id, "date": d, "p": p, "cust": c, "le": p.le, "cur": cur, "rate": rate,
               "status": status, "number": number, "due": due, "type": 1, "relates": None, "credited": False,
               "lines": lines}
        self._emit_invoice(inv, modified)
        if status >= 1:
            self.ring.append({k: inv[k] for k in ("id", "date", "p", "cust", "le", "cur", "rate", "number", "lines",
                                                  "credited")})

    def credit_note(self, orig: dict, d: date) -> None:
        rng = self.rng
        p, c = orig["p"], orig["cust"]
        src = orig["lines"]
        if rng.random() < 0.7:
            lines = [self._negate(ln) for ln in src]
            text_head = f"Kreditering af faktura {orig['number']}"
        else:
            ln = rng.choice(src)
            part = max(Decimal("0.25"), (ln.qty / 2).quantize(Decimal("0.25"))) if ln.unit == UNIT_HOURS else ln.qty
            neg = Line(f"Delkreditering: {ln.text}", -part, ln.rate, ln.disc, ln.unit, ln.product, ln.kind)
            lines = [neg]
            text_head = f"Delvis kreditering af faktura {orig['number']}"
        number = self._number(orig["le"], d)
        status = 3 if d < self.ctx.today - timedelta(days=30) else 1
        self.inv_id += 1
        self.n_cn += 1
        inv = {"id": self.inv_id, "date": d, "p": p, "cust": c, "le": orig["le"], "cur": orig["cur"],
               "rate": orig["rate"], "status": status, "number": number, "due": d, "type": 2,
               "relates": orig["id"], "credited": True, "lines": lines, "head": text_head}
        self._emit_invoice(inv, self._stamp(d))

    @staticmethod
    def _negate(ln: Line) -> Line:
        return Line(ln.text, -ln.qty, ln.rate, ln.disc, ln.unit, ln.product, ln.kind)

    def _emit_invoice(self, inv: dict, modified: datetime) -> None:
        ctx, rng = self.ctx, self.rng
        c, p, d, le, cur, rate = inv["cust"], inv["p"], inv["date"], inv["le"], inv["cur"], inv["rate"]
        lines: list[Line] = inv["lines"]
        add_vat = c.foreign is None
        defvat = D25 if add_vat else D0
        net = sum((ln.amount for ln in lines), D0)
        vat = q2(net * defvat / D100)
        amount = net + vat
        status = inv["status"]
        is_cn = inv["type"] == 2
        comp = 10000 + le
        debtor = c.twins.get(le)
        if status >= 1:
            self.n_booked += 1
        ignored = status >= 1 and (rng.random() < 0.006 or (self.n_booked >= 7 and not self.n_ignored))
        self.n_ignored += ignored
        transferred = (status >= 1 and not ignored and debtor is not None and ctx.integration_start <= d < ctx.cutover
                       and all(ln.product for ln in lines) and rng.random() < 0.97)
        ext_no, ext_status = "", ""
        if transferred:
            self.uc_order_no[comp] += 1
            order_no = self.uc_order_no[comp]
            modified = max(modified, self._stamp(d + timedelta(days=rng.randint(0, 2))))
            # a few drafts still wait in Uniconta (the first eligible one is always left there, even if old)
            if not is_cn and ((d >= ctx.cutover - timedelta(days=25) and rng.random() < 0.05)
                              or (not self.n_ucdraft and d >= ctx.cutover - timedelta(days=90))):
                self.n_ucdraft += 1
                ext_no, ext_status = str(order_no), "Draft"
                self._uc_order(inv, debtor, order_no, lines)
            else:
                self.uc_inv_no[comp] += 1
                self.n_posted += 1
                ext_no, ext_status = str(self.uc_inv_no[comp]), "Posted"
                self._uc_invoice(inv, debtor, self.uc_inv_no[comp], order_no, lines, net, vat)
        period = f"{MONTHS_DA[d.month - 1]} {d.year}"
        head = inv.get("head") or (f"{p.name} - {period}" if rng.random() < 0.8 else p.name)
        rec = {
            "ID": inv["id"], "GUID": guid(rng), "InvoiceNumber": inv["number"], "Header": head,
            "Text": "" if is_cn else f"Vedrørende {p.no} {p.name}, {period}.",
            "InvoiceDate": dt(d), "DueDate": dt(inv["due"]), "Amount": amount,
            "AmountSystemCurrency": q2(amount * rate / D100), "Status": status, "Type": inv["type"],
            "CustomerID": c.id, "CustomerName": c.name, "CustomerNo": c.no, "CustomerAddress1": c.street,
            "CustomerAddress2": "", "CustomerAddress3": "", "CustomerZipCode": c.zip, "CustomerCity": c.city,
            "CustomerState": "", "CustomerCountry": c.country[0], "CustomerCountryID": c.country[2],
            "PaymentTermID": c.pt, "PaymentTermText": PAYMENT_TERMS[c.pt - 1][1], "CurrencyAbb": cur,
            "CurrencyRate": rate, "DefaultVAT": defvat, "AddVAT": add_vat, "NetAmount": net,
            "NetAmountSystemCurrency": q2(net * rate / D100), "VATIncluded": vat,
            "VATIncludedSystemCurrency": q2(vat * rate / D100), "ProjectID": p.id, "ProjectNo": p.no,
            "PurchaseNo": p.po, "ContactFullName": p.contact, "DepartmentID": 1, "DepartmentTree": "Nordlys",
            "ExternalInvoiceNo": ext_no, "CustomerReference": p.contact, "ExternalInvoiceStatus": ext_status,
            "InternalNote": "", "LegalEntityID": le, "InvoiceTemplateID": 2 if c.foreign else 1,
            "IsIgnoredWhenTransfer": ignored, "IsReadyForInvoicing": status == 0,
            "_LastModifiedAt": dt(modified),
        }
        if inv["relates"] is not None:
            rec["RelatesToInvoiceID"] = inv["relates"]
        self.tl("Invoices", rec)
        recent_wu = d >= ctx.today - timedelta(days=ctx.cfg.work_unit_days)
        line_vat = D25 if add_vat else D0
        for ln in lines:
            self.line_id += 1
            lid = self.line_id
            self.tl("InvoiceLines", {
                "ID": lid, "InvoiceID": inv["id"], "InvoiceNo": inv["number"], "Date": dt(d), "Text": ln.text,
                "Quantity": ln.qty, "Rate": ln.rate, "RateSystemCurrency": q2(ln.rate * rate / D100),
                "Amount": ln.amount, "AmountSystemCurrency": q2(ln.amount * rate / D100), "ProjectID": p.id,
                "ProjectName": f"{p.no} {p.name}", "ProjectNo": p.no, "VAT": line_vat, "Discount": ln.disc,
                "UnitType": ln.unit, "ProductNo": ln.product})
            for det in ln.details:
                self._emit_detail(inv, p, lid, ln, det, rate, recent_wu)
            if ln.expense:
                self._emit_expense(inv, p, lid, ln)
            if ln.mileage:
                self._emit_mileage(inv, p, ln)

    def _emit_detail(self, inv: dict, p: Proj, lid: int, ln: Line, det: tuple, rate: Decimal, recent: bool) -> None:
        regtype, e, t, q, price, reg_id, reg_day = det[:7]
        self.detail_id += 1
        amount = q2(q * price)
        registered = q if regtype != REG_WORK or self.rng.random() < 0.9 else q + Decimal("0.5")
        rate_sys = q2(price * rate / D100)
        self.tl("InvoiceLineDetails", {
            "ID": self.detail_id, "InvoiceLineID": lid, "InvoiceID": inv["id"], "RegistrationDate": dt(reg_day),
            "Text": ln.text, "Quantity": q, "Rate": price, "RateSystemCurrency": rate_sys, "Amount": amount,
            "AmountSystemCurrency": q2(amount * rate / D100), "RegisteredQuantity": registered,
            "RegisteredRateSystemCurrency": rate_sys, "RegisteredAmountSystemCurrency": q2(registered * rate_sys),
            "RegistrationType": regtype, "EmployeeInitials": e.ini if e else "", "TaskID": t.id, "TaskName": t.name,
            "RegistrationID": reg_id, "UnitType": ln.unit, "ProjectID": p.id, "ProjectName": p.name})
        if regtype == REG_WORK and recent:
            self._emit_work_unit(p, e, t, reg_day, q, price, rate, det[7], reg_id, invoiced=True)

    def _emit_work_unit(self, p: Proj, e, t, day: date, hours: Decimal, price: Decimal, rate: Decimal, rid: int,
                        wu_id: int, invoiced: bool) -> None:
        rng = self.rng
        amount = q2(hours * price)
        amount_sys = q2(amount * rate / D100)
        start = datetime.combine(day, datetime.min.time()).replace(hour=8 + rng.randint(0, 3))
        end = start + timedelta(minutes=int(hours * 60))
        created = self._stamp(day, 17)
        self.tl("WorkUnits", {
            "ID": wu_id, "TimeRegistrationGuid": guid(rng), "WorkUnitGuid": guid(rng), "OvertimeFactor": Decimal(1),
            "EmployeeID": e.id, "EmployeeInitials": e.ini, "EmployeeFirstName": e.first, "EmployeeLastName": e.last,
            "AllocationID": 0, "TaskID": t.id, "TaskName": t.name, "ProjectID": p.id, "ProjectName": p.name,
            "CustomerId": p.cust.id, "CustomerName": p.cust.name, "Date": dt(day), "StartTime": dt(start),
            "EndTime": dt(end), "Note": t.name, "DepartmentID": 1, "DepartmentName": "Rådgivning",
            "ActualExchangeRate": rate, "RegHours": hours, "RegHourlyRate": q2(price * rate / D100),
            "RegHourlyRateProjectCurrency": price, "RegAmount": amount_sys, "RegAmountProjectCurrency": amount,
            "EstimatedHours": hours, "EstimatedHourlyRate": q2(price * rate / D100),
            "EstimatedHourlyRateProjectCurrency": price, "EstimatedAmount": amount_sys,
            "EstimatedAmountProjectCurrency": amount, "BARHours": hours, "BARHourlyRate": q2(price * rate / D100),
            "BARHourlyRateProjectCurrency": price, "BARAmount": amount_sys, "BARAmountProjectCurrency": amount,
            "InvoicedHours": hours if invoiced else D0,
            "InvoicedHourlyRate": q2(price * rate / D100) if invoiced else D0,
            "InvoicedHourlyRateProjectCurrency": price if invoiced else D0,
            "InvoicedAmount": amount_sys if invoiced else D0,
            "InvoicedAmountProjectCurrency": amount if invoiced else D0, "InvHours": hours if invoiced else D0,
            "InvAmount": amount_sys if invoiced else D0, "CostAmount": q2(hours * e.cost),
            "CostAmountCurrency": q2(hours * e.cost),
            "HourlyRateId": rid, "InvoiceStatus": 2 if invoiced else 0, "BillableStatus": 1, "IsBillable": True,
            "ApprovedStatus": 20, "CreatedAt": dt(created), "CreatedByEmployeeId": e.id, "CreatedBy": e.full,
            "LastModifiedAt": dt(created), "LastModifiedByEmployeeId": e.id, "LastModifiedBy": e.full,
            "UserID": 1000 + e.id})

    def _emit_expense(self, inv: dict | None, p: Proj, lid: int | None, ln: Line | None, exp: tuple | None = None,
                      price: Decimal | None = None) -> None:
        exp = exp or ln.expense
        exp_id, et, cost, sale_dkk, profit, e, purchase = exp
        etid, name, acct, vatpct, prod, _, _ = et
        vat = q2(cost * Decimal(vatpct) / D100)
        rec = {
            "ID": exp_id, "CustomerName": p.cust.name, "CustomerNo": p.cust.no, "CustomerID": p.cust.id,
            "ProjectName": p.name, "ProjectNo": p.no, "ProjectID": p.id, "ExpenseType": name, "ExpenseTypeID": etid,
            "Date": dt(purchase), "Amount": cost + vat, "AmountSystemCurrency": cost + vat, "VAT": vat,
            "CurrencyABB": "DKK", "CurrencyRate": D100, "PaymentMethod": "Firmakort", "PaymentMethodID": 1,
            "Comment": f"{name} ({p.cust.city})", "ApprovedStatus": 20, "Billable": 1,
            "EmployeeFirstName": e.first, "EmployeeLastName": e.last, "EmployeeInitials": e.ini,
            "EmployeeID": e.id, "UserID": 1000 + e.id, "RegAmount": sale_dkk, "RegAmountCurrency": sale_dkk,
            "InvAmount": ln.amount if ln else D0, "InvAmountCurrency": ln.amount if ln else D0,
            "ProfitRatio": profit, "SupplierInvoiceNo": str(100000 + exp_id * 7 % 899999),
            "Created": dt(self._stamp(purchase))}
        if lid is not None:
            rec["InvoiceLineId"] = lid
        self.tl("Expenses", rec)

    def _emit_mileage(self, inv: dict | None, p: Proj, ln: Line | None, mil: tuple | None = None) -> None:
        mil_id, e, km, kmrate, day = mil or ln.mileage
        amount = q2(km * kmrate)
        self.tl("Mileages", {
            "ID": mil_id, "CustomerName": p.cust.name, "CustomerNo": p.cust.no, "CustomerID": p.cust.id,
            "ProjectName": p.name, "ProjectNo": p.no, "ProjectID": p.id, "EmployeeFirstName": e.first,
            "EmployeeLastName": e.last, "EmployeeFullName": e.full, "EmployeeInitials": e.ini, "EmployeeID": e.id,
            "EmployeeUserID": 1000 + e.id, "TravelStartDate": dt(day, 8), "TravelEndDate": dt(day, 17),
            "TravelPurpose": f"Møde hos {p.cust.name}", "TravelDeparture": "Aarhus C" if p.le == 1 else "Viby J",
            "TravelDestination": p.cust.city, "TravelCostAmount": amount, "TravelRegAmount": amount,
            "TravelInvoicedAmount": ln.amount if ln else D0, "TravelTripStart": 1, "TravelTripEnd": km,
            "TravelKM": km, "TravelCar": "Privat bil", "TravelSelfPayment": False, "TransportRateAmount": kmrate,
            "TransportRate": "Statens takst", "IsBillable": True})

    # -- Uniconta side ---------------------------------------------------------------------------------------
    def _uc_lines(self, inv: dict, debtor, lines: list[Line]) -> list[dict]:
        p = inv["p"]
        proj = p.no if p.uc else ""
        vat = debtor.rec["Vat"]
        out = []
        for n, ln in enumerate(lines, start=1):
            out.append({"LineNumber": n, "DCAccount": debtor.account, "Date": inv["date"].isoformat(),
                        "Item": ln.product, "Text": ln.text, "Qty": ln.qty, "Price": ln.rate,
                        "DiscountPct": ln.disc, "Amount": ln.amount, "Currency": "" if inv["cur"] == "DKK"
                        else inv["cur"], "Vat": vat, "Project": proj,
                        "PrCategory": (PRODUCT_CATEGORY.get(ln.product, "TIMER") if proj else "")})
        return out

    def _uc_invoice(self, inv: dict, debtor, number: int, order_no: int, lines: list[Line], net: Decimal,
                    vat: Decimal) -> None:
        rng = self.rng
        comp = debtor.company
        p, d, cur, rate = inv["p"], inv["date"], inv["cur"], inv["rate"]
        rows = self._uc_lines(inv, debtor, lines)
        diff = ""
        if inv["type"] == 1 and (rng.random() < 0.012 or (self.n_posted >= 3 and not self.n_recon)):
            self.n_recon += 1
            # the accountant edited the draft before posting: reconciliation must find this
            if rng.random() < 0.5:
                diff = "extra_line"
                rows.append({**rows[-1], "LineNumber": len(rows) + 1, "Item": "GEBYR", "Text": "Fakturagebyr",
                             "Qty": Decimal(1), "Price": Decimal("50.00"), "DiscountPct": D0,
                             "Amount": Decimal("50.00"), "PrCategory": "FAKT" if rows[-1]["Project"] else ""})
            else:
                diff = "price_changed"
                r = rows[0]
                r["Price"] = q2(r["Price"] * Decimal("0.9"))
                r["Amount"] = q2(r["Qty"] * r["Price"] * (D100 - r["DiscountPct"]) / D100)
            net = sum((r["Amount"] for r in rows), D0)
            vat = q2(net * (D25 if inv["cust"].foreign is None else D0) / D100)
        total = net + vat
        rec = {"InvoiceNumber": number, "OrderNumber": order_no, "Account": debtor.account, "Name": debtor.name,
               "Date": d.isoformat(), "DueDate": inv["due"].isoformat(), "Currency": "" if cur == "DKK" else cur,
               "NetAmount": net, "VatAmount": vat, "TotalAmount": total, "AmountLocalCur": q2(total * rate / D100),
               "Payment": debtor.rec["Payment"], "Employee": p.pm.uc or "", "OurRef": p.pm.full,
               "YourRef": p.contact, "Remark": p.name, "Requisition": p.po, "Project": p.no if p.uc else "",
               "PrCategory": "FAKT" if p.uc else "", "Vat": debtor.rec["Vat"],
               "LayoutGroup": debtor.rec["LayoutGroup"]}
        if inv["type"] == 2:
            rec["CreditnoteDate"] = d.isoformat()
        if diff:
            rec["_ReconDiff"] = diff
        self.uc(comp, "DebtorInvoiceClient", rec)
        for r in rows:
            self.uc(comp, "DebtorInvoiceLines", {
                "InvoiceNumber": number, "LineNumber": r["LineNumber"], "DCAccount": r["DCAccount"], "Date": r["Date"],
                "Item": r["Item"], "Text": r["Text"], "InvoiceQty": r["Qty"], "SalesPrice": r["Price"],
                "DiscountPct": r["DiscountPct"], "InvoiceNetAmount": r["Amount"], "Currency": r["Currency"],
                "Vat": r["Vat"], "Project": r["Project"], "PrCategory": r["PrCategory"]})

    def _uc_order(self, inv: dict, debtor, order_no: int, lines: list[Line]) -> None:
        comp = debtor.company
        p, d = inv["p"], inv["date"]
        c = inv["cust"]
        self.uc(comp, "DebtorOrderClient", {
            "OrderNumber": order_no, "Account": debtor.account, "Name": debtor.name,
            "Created": dt(self._stamp(d)), "Currency": "" if inv["cur"] == "DKK" else inv["cur"],
            "Remark": p.name, "Requisition": p.po, "YourRef": p.contact, "OurRef": p.pm.full,
            "Employee": p.pm.uc or "", "Project": p.no if p.uc else "", "PrCategory": "FAKT" if p.uc else "",
            "Payment": "", "DeliveryAddress1": c.street, "DeliveryZipCode": c.zip, "DeliveryCity": c.city,
            "DeliveryCountry": c.country[1], "InvoiceDate": d.isoformat()})
        for r in self._uc_lines(inv, debtor, lines):
            self.uc(comp, "DebtorOrderLineClient", {
                "OrderNumber": order_no, "LineNumber": r["LineNumber"], "Item": r["Item"], "Text": r["Text"],
                "Qty": r["Qty"], "Price": r["Price"], "DiscountPct": r["DiscountPct"], "Total": r["Amount"],
                "Currency": r["Currency"], "Project": r["Project"], "PrCategory": r["PrCategory"],
                "Date": r["Date"]})

    def uniconta_only_invoice(self, comp: int, d: date) -> None:
        """Invoiced straight from Uniconta (hardware, a course, a licence) — no TimeLog counterpart."""
        rng = self.rng
        pool = self.m.uc_only[comp] if rng.random() < 0.8 or not self.m.debtors[comp] else self.m.debtors[comp]
        pool = [x for x in pool if not x.rec["Blocked"]] or pool
        if not pool:
            return
        debtor = rng.choice(pool)
        self.uc_order_no[comp] += 1
        self.uc_inv_no[comp] += 1
        number = self.uc_inv_no[comp]
        rows = []
        for n in range(1, rng.randint(1, 3) + 1):
            item, text, price = rng.choice(
                (("HW-100" if comp == 10001 else "KONS-JR", "Hardware, diverse" if comp == 10001 else "Konsulenttimer",
                  "2495.00" if comp == 10001 else "950.00"), ("LIC", "Softwarelicens, årlig", "4800.00"),
                 ("SUP", "Support", "750.00" if comp == 10001 else "700.00"), ("GEBYR", "Fakturagebyr", "50.00")))
            qty = Decimal(rng.randint(1, 6))
            amount = q2(qty * Decimal(price))
            rows.append((n, item, text, qty, Decimal(price), amount))
        net = sum((r[5] for r in rows), D0)
        vat = q2(net * D25 / D100)
        self.uc(comp, "DebtorInvoiceClient", {
            "InvoiceNumber": number, "OrderNumber": self.uc_order_no[comp], "Account": debtor.account,
            "Name": debtor.name, "Date": d.isoformat(), "DueDate": (d + timedelta(days=14)).isoformat(),
            "Currency": "", "NetAmount": net, "VatAmount": vat, "TotalAmount": net + vat,
            "AmountLocalCur": net + vat, "Payment": debtor.rec["Payment"], "Employee": "BOG" if comp == 10001
            else "ADM", "OurRef": "", "YourRef": "", "Remark": "", "Requisition": "", "Project": "",
            "PrCategory": "", "Vat": "U25", "LayoutGroup": debtor.rec["LayoutGroup"]})
        for n, item, text, qty, price, amount in rows:
            self.uc(comp, "DebtorInvoiceLines", {
                "InvoiceNumber": number, "LineNumber": n, "Account": debtor.account, "Date": d.isoformat(),
                "Item": item, "Text": text, "InvoiceQty": qty, "SalesPrice": price, "DiscountPct": D0,
                "InvoiceNetAmount": amount, "Currency": "", "Vat": "U25", "Project": "", "PrCategory": ""})

    def gl_postings(self, mo: date, month_end: date) -> None:
        """Supplier invoices posted on expense accounts (what rule U4 imports) and on other accounts (what it
        must leave alone)."""
        rng, m = self.rng, self.m
        uc_projects = [p for p in m.projects if p.uc and p.start <= month_end and p.end >= mo]
        for comp in (10001, 10002):
            creditors = m.creditors[comp]
            lam = self.ctx.cfg.gl_per_month * (1.0 if comp == 10001 else 0.35)
            n = self._poisson(lam)
            picks = []
            rent = [c for c in creditors if c[2] == "3010"]
            if rent:
                picks.append(rent[0])
            weights = [0.2 if c[2] in ("3010", "3800") else (3 if c[2] in EXPENSE_IMPORT_ACCOUNTS else 1)
                       for c in creditors]
            picks += rng.choices(creditors, weights, k=n)
            for acct, name, expacct, vatcode, (lo, hi), label in picks:
                self.voucher[comp] += 1
                d = mo + timedelta(days=rng.randint(0, (month_end - mo).days))
                amount = Decimal(rng.randint(lo * 100, hi * 100)) / 100
                credit_note = rng.random() < 0.02
                if credit_note:
                    amount = -amount
                if vatcode == "I25":
                    avat = q2(amount * D25 / D100)
                elif vatcode == "IREP":
                    avat = q2(amount * D25 / D100 / 4)
                else:
                    avat = D0
                proj = ""
                text = f"{label} - {name}"
                if comp == 10001 and expacct in EXPENSE_IMPORT_ACCOUNTS and uc_projects and rng.random() < 0.4:
                    p = rng.choice(uc_projects)
                    proj = p.no
                    text = f"{label} {p.cust.city} - {p.name}"
                row = {
                    "Date": d.isoformat(), "Account": expacct, "Name": ACCOUNT_NAMES[expacct],
                    "Voucher": self.voucher[comp], "VoucherLine": 1, "Text": text[:60],
                    "Amount": amount, "Debit": amount if amount > 0 else D0, "Credit": -amount if amount < 0 else D0,
                    "AmountVat": avat, "Vat": vatcode, "Currency": "", "DCType": "Creditor", "DCAccount": acct,
                    "DCName": name, "Invoice": rng.randint(10000, 999999), "DocumentDate": d.isoformat(),
                    "Project": proj, "PrCategory": "UDLAEG" if proj else ""}
                self._gl_expense_extras(comp, row, month_end)
                self.uc(comp, "GLTransClient", row)
                self._gl_reversal(comp, row, month_end)

    # Expense import (rule U4, issue 7) additions. They draw from their own random stream and their own voucher
    # series, so every record the generator produced before them is unchanged.
    def _gl_expense_extras(self, comp: int, row: dict, month_end: date) -> None:
        """The supplier posting's journal comment (mapped to the TimeLog expense comment) and, for a foreign
        supplier, the invoice currency with the amount in it (``Amount``/``AmountVat`` stay in DKK)."""
        row["JournalPostedComment"] = f"Kreditorfaktura {row['Invoice']} {row['DCName']}"[:80]
        if row["DCName"].endswith("Ltd"):
            rate = self.m.rates.get((month_end.year, month_end.month, "EUR"))
            if rate:
                row["Currency"] = "EUR"
                row["AmountCur"] = q2(Decimal(row["Amount"]) * D100 / rate)

    def _gl_reversal(self, comp: int, row: dict, month_end: date) -> None:
        """Now and then a supplier posting is reversed (Uniconta "Tilbagefør"): a counter-posting on the same
        account, creditor, supplier invoice and project with the amounts negated, flagged ``Correction``, a few
        days later in its own voucher series. Company 10001 gets at least one, on an expense-import account."""
        if not hasattr(self, "_rev_rng"):
            self._rev_rng = random.Random(sub_seed(self.ctx.seed, "gl-reversal"))
            self._rev_voucher = {10001: 90000, 10002: 95000}
            self._n_reversed = 0
        last = self.ctx.today - timedelta(days=1)
        draw = self._rev_rng.random()
        force = (comp == 10001 and not self._n_reversed and row["Account"] in EXPENSE_IMPORT_ACCOUNTS
                 and month_end >= last)
        if not (draw < 0.04 or force):
            return
        day = min(date.fromisoformat(row["Date"]) + timedelta(days=self._rev_rng.randint(1, 5)), month_end, last)
        day = max(day, date.fromisoformat(row["Date"]))
        self._rev_voucher[comp] += 1
        self._n_reversed += 1
        neg = {k: -Decimal(row[k]) for k in ("Amount", "AmountVat")}
        rev = dict(row, Date=day.isoformat(), Voucher=self._rev_voucher[comp], Amount=neg["Amount"],
                   AmountVat=neg["AmountVat"], Debit=row["Credit"], Credit=row["Debit"], Correction=True,
                   Text=f"Tilbageført bilag {row['Voucher']}"[:60],
                   JournalPostedComment=f"Tilbageførsel af bilag {row['Voucher']}")
        if "AmountCur" in row:
            rev["AmountCur"] = -Decimal(row["AmountCur"])
        self.uc(comp, "GLTransClient", rev)

    def unbilled(self) -> None:
        """Registrations of the last weeks that are not on an invoice yet (work units, expenses, mileage)."""
        ctx, m, rng = self.ctx, self.m, self.rng
        last = ctx.today - timedelta(days=1)
        lo = ctx.today - timedelta(days=14)
        projects = [p for p in m.projects if p.type_id in (1, 3) and p.start <= last and p.end >= lo
                    and p.cust.role == "active"]
        if not projects:
            return
        n = max(8, round(ctx.cfg.invoices_per_month * 0.4))
        for _ in range(n):
            p = rng.choice(projects)
            e = rng.choice([x for x in p.team if x.active_on(last)] or p.team)
            t = rng.choice([x for x in p.tasks if not x.fixed] or p.tasks)
            day = lo + timedelta(days=rng.randint(0, 13))
            rate = self.fx(day, p.cust.currency)
            rid, price, _ = self.hourly_rate(e, p.cust, p.cust.currency, rate)
            self.wu_id += 1
            self._emit_work_unit(p, e, t, day, Decimal(rng.randint(2, 30)) / 4, price, rate, rid, self.wu_id,
                                 invoiced=False)
        for _ in range(max(2, round(ctx.cfg.invoices_per_month * 0.03))):
            p = rng.choice(projects)
            e = rng.choice(p.team)
            et = rng.choice(EXPENSE_TYPES[:7])
            cost = Decimal(rng.randint(10000, 300000)) / 100
            self.exp_id += 1
            self._emit_expense(None, p, None, None, (self.exp_id, et, cost, cost, D0, e,
                                                     lo + timedelta(days=rng.randint(0, 13))))
        for _ in range(max(1, round(ctx.cfg.invoices_per_month * 0.01))):
            p = rng.choice(projects)
            self.mil_id += 1
            self._emit_mileage(None, p, None, (self.mil_id, rng.choice(p.team), Decimal(rng.randint(20, 300)),
                                               Decimal(KM_RATE.get(last.year, "3.81")),
                                               lo + timedelta(days=rng.randint(0, 13))))
