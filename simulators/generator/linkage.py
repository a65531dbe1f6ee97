"""A large labelled record-linkage set (Uniconta debtors × TimeLog customers) for the matching benchmark (issue 5).

Why a separate generator: the main fixture (``generate("L")``) tops out at 12,000 customers and drags invoices
along; the matching bench needs 100k × 100k customer master data only, with the same Danish mess and the same
decoys, and the truth pairs. Records are produced one entity at a time from per-entity random streams, so the
output is deterministic for (n, seed) and memory is bounded by the uniqueness sets (names, CVRs), not the records.

Public API::

    iter_linkage(n, seed=42) -> Iterator[tuple[str, dict]]    # ("uniconta", DebtorClient) / ("timelog", Customer)
                                                               # / ("truth", {timelog_customer_id, uniconta_debtor_account, kind})
    linkage(n, seed=42) -> (debtors, customers, truth)         # the same, collected into three lists
    write_linkage(dir, n, seed=42) -> dir                      # debtors.jsonl, customers.jsonl, truth.csv

About ``n`` debtors and ``n`` customers come out (±2 %). Per entity: ~80 % twins (a TimeLog customer and its
debtor, with a ``kind`` of mess in the main generator's proportions: exact, messy_name, typo, cvr_only,
phone_only, number_only, name_only), ~10 % TimeLog-only, ~10 % Uniconta-only — and the decoys of the main
generator: Uniconta-only look-alikes with the other legal form ("Hansen ApS" next to "Hansen A/S"), Uniconta-only
debtors whose ``Account`` equals an unrelated TimeLog-only customer's ``No``, TimeLog group companies sharing a
twin's switchboard phone, and old duplicate TimeLog records with a twin's CVR. Issue 15 adds the weak-evidence
cases of :data:`EXTRA_KINDS` (name + zip only, an identical invalid CVR, the exact name only, a shared switchboard
next to the exact name) and a second, differently distributed ``profile`` ("hard"). The mess itself comes from
:mod:`simulators.generator.danish` (formats, ``messy_name``, ``typo``, ``other_legal_form``, ``break_cvr``).
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterator
from pathlib import Path

from . import danish as dk
from .master import KIND_WEIGHTS, KINDS

__all__ = ["EXTRA_KINDS", "PROFILES", "iter_linkage", "linkage", "write_linkage"]

# The cases of issue 15 on top of the main generator's kinds (truth kinds of their own):
# - name_zip: the same name and postal code, no CVR nor phone on one side;
# - invalid_cvr: both systems hold the *same* CVR that fails the modulus-11 check (a legacy or mistyped number);
# - exact_name: the exact name and nothing else (no tax number, phone, number, zip or company e-mail in common);
# - switchboard: the exact name and a switchboard phone shared with group companies of clearly other names.
EXTRA_KINDS = ("name_zip", "invalid_cvr", "exact_name", "switchboard")
# A profile = (twin share, TimeLog-only share, kind weights for KINDS + EXTRA_KINDS). "default" keeps the main
# generator's mix and adds the new cases at a few per cent each; "hard" is a differently distributed set: fewer
# clean twins, many more of the weak-evidence cases, more TimeLog-only customers (more decoys).
PROFILES: dict[str, tuple[float, float, tuple[int, ...]]] = {
    "default": (0.80, 0.10, KIND_WEIGHTS + (4, 3, 3, 3)),
    "hard": (0.70, 0.18, (12, 20, 15, 10, 8, 6, 9, 8, 6, 8, 8)),
}
_ALL_KINDS = KINDS + EXTRA_KINDS


class _State:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.names: set[str] = set()
        self.cvrs: set[str] = set()
        self.next_id = 0
        self.next_account = 0
        self.recent_twins: list[dict] = []      # a ring of recent twins' customers, the decoys' models
        self.tl_only_nos: list[str] = []        # TimeLog-only customers' numbers, for the number clash decoy

    def new_id(self) -> tuple[int, str]:
        self.next_id += 1
        return self.next_id, str(100000 + self.next_id)

    def new_account(self) -> str:
        self.next_account += 1
        return str(5000000 + self.next_account)

    def cvr(self, rng: random.Random) -> str:
        while True:
            c = dk.make_cvr(rng)
            if c not in self.cvrs:
                self.cvrs.add(c)
                return c

    def name(self, rng: random.Random) -> str:
        for attempt in range(12):
            p = rng.random()
            if p < 0.35:
                base = f"{rng.choice(dk.LAST_NAMES)} {rng.choice(dk.BUSINESS_NOUNS)}"
            elif p < 0.6:
                base = f"{rng.choice(dk.PLACE_PREFIXES)} {rng.choice(dk.BUSINESS_NOUNS)}"
            elif p < 0.7:
                base = f"{rng.choice(dk.LAST_NAMES)} & {rng.choice(dk.LAST_NAMES)}"
            elif p < 0.8:
                base = "".join(rng.choice("ABCDEFGHJKLMNPRSTV") for _ in range(3)) + " " + \
                    rng.choice(dk.BUSINESS_NOUNS)
            elif p < 0.9:
                base = f"{rng.choice(dk.LAST_NAMES)}s {rng.choice(dk.BUSINESS_NOUNS)}"
            else:
                base = f"{rng.choice(dk.BUSINESS_NOUNS)}huset {rng.choice(dk.MUNICIPALITIES)}"
            if attempt >= 2:
                base += " " + rng.choice(dk.MUNICIPALITIES)
            if attempt >= 6:
                base += " " + rng.choice(dk.FIRST_NAMES)
            key = dk.slug(base)
            if key not in self.names:
                self.names.add(key)
                return dk.join_suffix(base, rng.choices(dk.SUFFIXES, dk.SUFFIX_WEIGHTS)[0])
        base = f"{base} {self.next_id}"
        self.names.add(dk.slug(base))
        return base


def _customer(st: _State, rng: random.Random, name: str, cvr: str, phone: str, zipc: str, city: str,
              status: str = "Kunde") -> dict:
    cid, no = st.new_id()
    site = dk.slug(name) + ".dk"
    return {"ID": cid, "No": no if rng.random() > 0.03 else "", "Name": name,
            "VATNo": dk.format_cvr(rng, cvr) if cvr else "",
            "Phone": dk.format_phone(rng, phone) if phone else "", "ZipCode": zipc, "City": city,
            "Email": f"{rng.choice(('info', 'kontakt', 'post', 'mail'))}@{site}", "CustomerStatus": status}


def _debtor(account: str, name: str, regno: str, vat: str, phone: str, zipc: str, city: str, email: str,
            rng: random.Random) -> dict:
    return {"Account": account, "Name": name, "CompanyRegNo": regno, "VatNumber": vat,
            "Phone": dk.format_phone(rng, phone, (20, 45, 2, 25, 4, 2, 1, 1)) if phone else "",
            "ZipCode": zipc, "City": city, "ContactEmail": email}


def _twin(st: _State, rng: random.Random, kind: str) -> tuple[dict, dict, list[dict]]:
    """A TimeLog customer, its Uniconta debtor and any extra TimeLog customers the case brings along."""
    if kind in EXTRA_KINDS:
        return _extra_twin(st, rng, kind)
    name = st.name(rng)
    cvr = st.cvr(rng) if rng.random() < 0.93 or kind == "cvr_only" else ""
    phone = dk.make_phone(rng)
    zipc, city = rng.choice(dk.ZIP_CITIES)
    c = _customer(st, rng, name, cvr, phone if rng.random() > 0.04 else "", zipc, city)
    if kind == "typo" and cvr and rng.random() < 0.5:
        c["VATNo"] = dk.break_cvr(rng, cvr)          # keyed wrong in TimeLog
    if kind == "name_only":
        c["VATNo"] = ""
    if kind in ("exact", "number_only") and not c["No"]:
        c["No"] = str(100000 + c["ID"])
    same_no = {"exact": 1.0, "number_only": 1.0, "messy_name": 0.5, "typo": 0.4}.get(kind, 0.0)
    account = c["No"] if c["No"] and rng.random() < same_no else st.new_account()
    dname, dphone, regno, vat = name, phone, cvr, ""
    if kind == "messy_name":
        dname = dk.messy_name(rng, name)
    elif kind == "typo":
        dname = dk.typo(rng, name if rng.random() < 0.7 else dk.messy_name(rng, name))
        dphone = "" if rng.random() < 0.3 else phone
    elif kind == "cvr_only":
        dname = st.name(rng)
        dphone = dk.make_phone(rng) if rng.random() < 0.6 else ""
        if rng.random() < 0.3:
            regno, vat = "", "DK" + cvr
    elif kind == "phone_only":
        dname = dk.typo(rng, dk.messy_name(rng, name))
        regno = ""
        if not c["Phone"]:
            c["Phone"] = dk.format_phone(rng, phone)
    elif kind == "number_only":
        dname = st.name(rng)
        regno = ""
        dphone = dk.make_phone(rng) if rng.random() < 0.5 else ""
    elif kind == "name_only":
        dname = name if rng.random() < 0.6 else name.upper()
        regno = ""
        dphone = "" if rng.random() < 0.5 else dk.make_phone(rng)
    if regno and rng.random() < 0.12:
        regno = "DK" + regno
    if regno and not vat and rng.random() < 0.3:
        vat = "DK" + cvr
    email = c["Email"] if rng.random() < 0.5 else "faktura@" + c["Email"].split("@", 1)[1]
    d = _debtor(account, dname, regno, vat, dphone, zipc, city, email, rng)
    st.recent_twins.append({"name": name, "cvr": cvr, "phone": phone, "zip": zipc, "city": city,
                            "site": c["Email"].split("@", 1)[1]})
    if len(st.recent_twins) > 64:
        del st.recent_twins[0]
    return c, d, []


def _extra_twin(st: _State, rng: random.Random, kind: str) -> tuple[dict, dict, list[dict]]:
    name = st.name(rng)
    zipc, city = rng.choice(dk.ZIP_CITIES)
    phone = dk.make_phone(rng)
    extras: list[dict] = []
    free_mail = f"{rng.choice(('kontor', 'faktura', 'info'))}{rng.randrange(100, 999)}@" + \
        rng.choice(("gmail.com", "hotmail.com", "outlook.dk", "mail.dk"))
    dname = name if rng.random() < 0.7 else (name.upper() if rng.random() < 0.5 else dk.messy_name(rng, name))
    if kind == "name_zip":                  # same name and postal code; one side has neither CVR nor phone
        cvr = st.cvr(rng) if rng.random() < 0.7 else ""
        bare_debtor = rng.random() < 0.5
        c = _customer(st, rng, name, "" if not bare_debtor else cvr, "" if not bare_debtor else phone, zipc, city)
        d = _debtor(st.new_account(), dname, cvr if not bare_debtor else "", "",
                    phone if not bare_debtor and rng.random() < 0.5 else "", zipc, city, free_mail, rng)
    elif kind == "invalid_cvr":             # the same CVR in both, failing the modulus-11 check
        bad = dk.break_cvr(rng, st.cvr(rng))
        c = _customer(st, rng, name, "", phone if rng.random() < 0.5 else "", zipc, city)
        c["VATNo"] = dk.format_cvr(rng, bad)
        other_zip = rng.choice(dk.ZIP_CITIES) if rng.random() < 0.3 else (zipc, city)
        d = _debtor(st.new_account(), dk.typo(rng, dname) if rng.random() < 0.4 else dname,
                    bad if rng.random() < 0.7 else "", "DK" + bad if rng.random() < 0.5 else "",
                    "", other_zip[0], other_zip[1], free_mail, rng)
        if not d["CompanyRegNo"] and not d["VatNumber"]:
            d["CompanyRegNo"] = bad
    elif kind == "exact_name":              # the name and nothing else
        c = _customer(st, rng, name, st.cvr(rng) if rng.random() < 0.6 else "", phone, zipc, city)
        d = _debtor(st.new_account(), dname, "", "", "", "" if rng.random() < 0.5 else rng.choice(dk.ZIP_CITIES)[0],
                    "", free_mail, rng)
    else:                                   # switchboard: exact name + a phone shared with group companies
        c = _customer(st, rng, name, st.cvr(rng) if rng.random() < 0.5 else "", phone, zipc, city)
        first = dk.split_suffix(name)[0].split()[0]
        for _ in range(rng.randint(1, 4)):
            gname = f"{first} {rng.choice(('Holding', 'Ejendomme', 'Service', 'Invest', 'Udlejning'))} " \
                    f"{rng.choice(dk.MUNICIPALITIES)} {st.next_id} ApS"
            extras.append(_customer(st, rng, gname, st.cvr(rng), phone, zipc, city))
        d = _debtor(st.new_account(), dname, "", "", phone, zipc if rng.random() < 0.6 else "", city, free_mail,
                    rng)
    return c, d, extras


def iter_linkage(n: int, seed: int = 42, profile: str = "default") -> Iterator[tuple[str, dict]]:
    """Stream ``("uniconta", debtor)``, ``("timelog", customer)`` and ``("truth", row)`` events for about ``n``
    debtors and ``n`` customers. Deterministic for (n, seed, profile); ``profile`` is a key of :data:`PROFILES`."""
    twins, tl_only, weights = PROFILES[profile]
    st = _State(seed)
    for i in range(n):
        rng = random.Random(seed * 1_000_003 + i)
        p = rng.random()
        if p < twins:
            kind = rng.choices(_ALL_KINDS, weights)[0]
            c, d, extras = _twin(st, rng, kind)
            yield "timelog", c
            yield from (("timelog", x) for x in extras)
            yield "uniconta", d
            yield "truth", {"timelog_customer_id": c["ID"], "uniconta_debtor_account": d["Account"], "kind": kind}
        elif p < twins + tl_only:                           # TimeLog-only, sometimes a decoy
            q = rng.random()
            t = st.recent_twins[rng.randrange(len(st.recent_twins))] if st.recent_twins else None
            if t and q < 0.06:                              # group company sharing the twin's switchboard
                first = dk.split_suffix(t["name"])[0].split()[0]
                gname = f"{first} {rng.choice(('Holding', 'Ejendomme', 'Service', 'Invest'))} {i} ApS"
                c = _customer(st, rng, gname, st.cvr(rng), t["phone"], t["zip"], t["city"])
            elif t and t["cvr"] and q < 0.10:               # old duplicate record with the twin's CVR
                dname = dk.messy_name(rng, t["name"]) if rng.random() < 0.6 else t["name"]
                c = _customer(st, rng, dname, t["cvr"], t["phone"], t["zip"], t["city"], "Tidligere kunde")
            else:
                zipc, city = rng.choice(dk.ZIP_CITIES)
                c = _customer(st, rng, st.name(rng), st.cvr(rng) if rng.random() < 0.8 else "",
                              dk.make_phone(rng), zipc, city)
                if c["No"]:
                    st.tl_only_nos.append(c["No"])
                    if len(st.tl_only_nos) > 256:
                        del st.tl_only_nos[0]
            yield "timelog", c
        else:                                               # Uniconta-only, sometimes a decoy
            q = rng.random()
            zipc, city = rng.choice(dk.ZIP_CITIES)
            name, account = st.name(rng), st.new_account()
            t = st.recent_twins[rng.randrange(len(st.recent_twins))] if st.recent_twins else None
            if t and q < 0.10 and dk.split_suffix(t["name"])[1] in ("A/S", "ApS"):
                name, zipc, city = dk.other_legal_form(t["name"]), t["zip"], t["city"]   # "Hansen ApS"
            elif st.tl_only_nos and q < 0.15:
                account = st.tl_only_nos.pop(rng.randrange(len(st.tl_only_nos)))       # number clash
            cvr = st.cvr(rng) if rng.random() < 0.85 else ""
            site = dk.slug(name) + ".dk"
            yield "uniconta", _debtor(account, name, cvr, "DK" + cvr if cvr and rng.random() < 0.3 else "",
                                      dk.make_phone(rng), zipc, city,
                                      f"{rng.choice(('info', 'faktura', 'bogholderi'))}@{site}", rng)


def linkage(n: int, seed: int = 42, profile: str = "default") -> tuple[list[dict], list[dict], list[dict]]:
    """``(debtors, customers, truth)`` as lists."""
    out: dict[str, list[dict]] = {"uniconta": [], "timelog": [], "truth": []}
    for what, rec in iter_linkage(n, seed, profile):
        out[what].append(rec)
    return out["uniconta"], out["timelog"], out["truth"]


def write_linkage(directory: str | Path, n: int, seed: int = 42, profile: str = "default") -> Path:
    """Stream the set to ``debtors.jsonl``, ``customers.jsonl`` and ``truth.csv`` in ``directory``."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    with (d / "debtors.jsonl").open("w", encoding="utf-8") as fd, \
            (d / "customers.jsonl").open("w", encoding="utf-8") as fc, \
            (d / "truth.csv").open("w", encoding="utf-8", newline="") as ft:
        w = csv.DictWriter(ft, ("timelog_customer_id", "uniconta_debtor_account", "kind"))
        w.writeheader()
        for what, rec in iter_linkage(n, seed, profile):
            if what == "truth":
                w.writerow(rec)
            else:
                (fd if what == "uniconta" else fc).write(json.dumps(rec, ensure_ascii=False) + "\n")
    return d
