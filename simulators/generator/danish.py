"""Danish business vocabulary and the "real mess" helpers: names, streets, real zip/city pairs, CVR numbers
(mod-11), phone formats, company-name variants (A/S vs Aktieselskab, æøå vs ae/oe/aa, typos...).

Everything here is a pure function of its ``random.Random`` argument, so the generator stays deterministic.
"""

from __future__ import annotations

import random
import re

FIRST_NAMES = (
    "Peter", "Jens", "Lars", "Michael", "Henrik", "Thomas", "Søren", "Jan", "Niels", "Anders", "Morten", "Jesper",
    "Mads", "Rasmus", "Martin", "Christian", "Frederik", "Mikkel", "Jakob", "Kasper", "Emil", "Mathias", "Oliver",
    "William", "Lucas", "Jørgen", "Ole", "Poul", "Bjørn", "Torben", "Kristian", "Steen", "Flemming", "Kim", "Bo",
    "Anne", "Kirsten", "Mette", "Hanne", "Helle", "Susanne", "Lene", "Maria", "Marianne", "Lone", "Camilla", "Pia",
    "Louise", "Charlotte", "Tina", "Sofie", "Ida", "Emma", "Freja", "Julie", "Laura", "Cecilie", "Signe", "Line",
    "Maja", "Karen", "Birgitte", "Inge", "Bente", "Gitte", "Dorthe", "Malene", "Trine", "Rikke", "Åse", "Bodil",
)
LAST_NAMES = (
    "Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen", "Rasmussen",
    "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen", "Thomsen", "Christiansen", "Poulsen", "Johansen",
    "Møller", "Mortensen", "Knudsen", "Jakobsen", "Mikkelsen", "Olesen", "Frederiksen", "Laursen", "Henriksen",
    "Lund", "Schmidt", "Eriksen", "Holm", "Kristiansen", "Clausen", "Simonsen", "Svendsen", "Andreasen", "Iversen",
    "Østergaard", "Jeppesen", "Vestergaard", "Nissen", "Lauridsen", "Kjær", "Jepsen", "Mogensen", "Nørgaard",
    "Jessen", "Søndergaard", "Bertelsen", "Skov", "Dahl", "Bach", "Krogh", "Friis", "Lind", "Bruun", "Mølgaard",
    "Brøndum", "Højgaard", "Kjærgaard", "Ravn", "Bech", "Damgaard", "Thygesen", "Gregersen", "Winther",
    "Dalsgaard", "Aagaard", "Abildgaard", "Lykke", "Toft", "Holst", "Juhl", "Bang", "Steffensen", "Enevoldsen",
)

STREETS = (
    "Vesterbrogade", "Nørrebrogade", "Østerbrogade", "Amagerbrogade", "Strandvejen", "Jagtvej", "Gammel Kongevej",
    "H.C. Andersens Boulevard", "Bredgade", "Store Kongensgade", "Søndergade", "Vestergade", "Østergade",
    "Nørregade", "Algade", "Jernbanegade", "Stationsvej", "Skolevej", "Kirkevej", "Møllevej", "Industrivej",
    "Fabriksvej", "Håndværkervej", "Erhvervsvej", "Vestre Ringvej", "Skovvej", "Bakkevej", "Engvej", "Birkevej",
    "Egevej", "Bøgevej", "Lindevej", "Rosenvej", "Søvej", "Parkvej", "Havnegade", "Toldbodgade", "Frederiksgade",
    "Kongensgade", "Dronningens Tværgade", "Åboulevard", "Hasselager Allé", "Sønderhøj", "Ryesgade", "Park Allé",
    "Frederiks Allé", "M.P. Bruuns Gade", "Bernstorffsgade", "Lyngbyvej", "Roskildevej", "Køgevej", "Vejlevej",
    "Randersvej", "Viborgvej", "Silkeborgvej", "Hobrovej", "Boulevarden", "Kystvejen", "Islands Brygge",
    "Kalvebod Brygge", "Vesterå", "Østre Allé", "Nyropsgade", "Carl Jacobsens Vej", "Lautrupvang", "Agern Allé",
)

# Real Danish postal code / town pairs.
ZIP_CITIES = (
    ("1050", "København K"), ("1250", "København K"), ("1360", "København K"), ("1560", "København V"),
    ("1620", "København V"), ("1799", "København V"), ("2000", "Frederiksberg"), ("2100", "København Ø"),
    ("2200", "København N"), ("2300", "København S"), ("2400", "København NV"), ("2450", "København SV"),
    ("2500", "Valby"), ("2600", "Glostrup"), ("2605", "Brøndby"), ("2610", "Rødovre"), ("2620", "Albertslund"),
    ("2630", "Taastrup"), ("2650", "Hvidovre"), ("2700", "Brønshøj"), ("2720", "Vanløse"), ("2730", "Herlev"),
    ("2750", "Ballerup"), ("2770", "Kastrup"), ("2800", "Kongens Lyngby"), ("2820", "Gentofte"),
    ("2830", "Virum"), ("2840", "Holte"), ("2860", "Søborg"), ("2900", "Hellerup"), ("2920", "Charlottenlund"),
    ("2970", "Hørsholm"), ("3000", "Helsingør"), ("3400", "Hillerød"), ("3460", "Birkerød"), ("3520", "Farum"),
    ("4000", "Roskilde"), ("4100", "Ringsted"), ("4200", "Slagelse"), ("4300", "Holbæk"), ("4400", "Kalundborg"),
    ("4600", "Køge"), ("4700", "Næstved"), ("4800", "Nykøbing F"), ("5000", "Odense C"), ("5200", "Odense V"),
    ("5220", "Odense SØ"), ("5500", "Middelfart"), ("5700", "Svendborg"), ("6000", "Kolding"),
    ("6100", "Haderslev"), ("6200", "Aabenraa"), ("6400", "Sønderborg"), ("6700", "Esbjerg"),
    ("7000", "Fredericia"), ("7100", "Vejle"), ("7400", "Herning"), ("7430", "Ikast"), ("7500", "Holstebro"),
    ("7700", "Thisted"), ("7800", "Skive"), ("8000", "Aarhus C"), ("8200", "Aarhus N"), ("8210", "Aarhus V"),
    ("8220", "Brabrand"), ("8230", "Åbyhøj"), ("8240", "Risskov"), ("8260", "Viby J"), ("8270", "Højbjerg"),
    ("8300", "Odder"), ("8500", "Grenaa"), ("8600", "Silkeborg"), ("8660", "Skanderborg"), ("8700", "Horsens"),
    ("8800", "Viborg"), ("8900", "Randers C"), ("9000", "Aalborg"), ("9200", "Aalborg SV"),
    ("9220", "Aalborg Øst"), ("9400", "Nørresundby"), ("9700", "Brønderslev"), ("9800", "Hjørring"),
    ("9900", "Frederikshavn"),
)

MUNICIPALITIES = (
    "Aarhus", "Odense", "Aalborg", "Vejle", "Horsens", "Randers", "Kolding", "Silkeborg", "Herning", "Roskilde",
    "Næstved", "Esbjerg", "Gentofte", "Gladsaxe", "Lyngby-Taarbæk", "Frederiksberg", "Rudersdal", "Hillerød",
    "Holbæk", "Slagelse", "Viborg", "Skanderborg", "Svendborg", "Sønderborg", "Hjørring", "Fredericia",
    "Helsingør", "Køge", "Ballerup", "Furesø", "Favrskov", "Syddjurs", "Middelfart", "Thisted", "Ikast-Brande",
)
PUBLIC_BODIES = (
    "Region Midtjylland", "Region Hovedstaden", "Region Syddanmark", "Region Sjælland", "Region Nordjylland",
    "Styrelsen for Dataforsyning og Infrastruktur", "Erhvervsstyrelsen", "Digitaliseringsstyrelsen",
    "Skattestyrelsen", "Aarhus Universitet", "Københavns Professionshøjskole", "Danmarks Statistik",
    "Energistyrelsen", "Sundhedsdatastyrelsen", "Professionshøjskolen VIA University College",
)
DEPARTMENTS = (
    "Børn og Unge", "Teknik og Miljø", "Sundhed og Omsorg", "Kultur og Borgerservice", "Økonomi og Personale",
    "Beskæftigelse", "IT og Digitalisering",
)

PLACE_PREFIXES = (
    "Nordisk", "Dansk", "Vest", "Øst", "Syd", "Nord", "Kyst", "Fjord", "Skov", "Havne", "Bakke", "Sø", "Mølle",
    "Lyng", "Strand", "Himmerlands", "Sjællands", "Fyns", "Jysk", "Midtjysk", "Sønderjysk", "Amager", "Øresund",
    "Limfjord", "Kattegat", "Vestjysk", "Nordsjællands", "Djurs", "Trekant", "Hede",
)
BUSINESS_NOUNS = (
    "Byg", "Tømrer", "VVS", "El-service", "Maler", "Entreprise", "Ejendomme", "Invest", "Logistik", "Transport",
    "Spedition", "Revision", "Advokatfirma", "Rådgivning", "Consult", "IT", "Data", "Software", "Systems",
    "Digital", "Media", "Reklame", "Kommunikation", "Design", "Arkitekter", "Ingeniører", "Energi", "Solenergi",
    "Vind", "Maskiner", "Stål", "Plast", "Emballage", "Trykkeri", "Fødevarer", "Bageri", "Mejeri", "Bryggeri",
    "Vin", "Kaffe", "Møbler", "Tekstil", "Auto", "Dæk", "Marine", "Shipping", "Gartneri", "Medico", "Pharma",
    "Tandklinik", "Fysioterapi", "Optik", "Sikkerhed", "Rengøring", "Service", "Facility", "Vikarservice",
    "Kursuscenter", "Ejendomsservice", "Isolering", "Tag", "Vinduer", "Køkkener", "Gulve", "Brolægning", "Anlæg",
    "Miljø", "Genbrug", "Cykler", "Elektronik", "Automation", "Robotics", "Laboratorium", "Analyse", "Finans",
    "Forsikringsmægler", "Landinspektører", "Ventilation", "Kloakservice", "Vognmandsforretning",
)
INDUSTRIES = (
    (1, "Byggeri og anlæg"), (2, "IT og telekommunikation"), (3, "Industri og produktion"),
    (4, "Handel og detail"), (5, "Transport og logistik"), (6, "Rådgivning og revision"),
    (7, "Offentlig forvaltning"), (8, "Energi og forsyning"), (9, "Fødevarer"), (10, "Sundhed og life science"),
)

MONTHS_DA = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober",
             "november", "december")

PROJECT_THEMES = (
    "ERP-implementering", "Ny hjemmeside", "Strategiprojekt", "Dataplatform", "Procesoptimering",
    "GDPR-gennemgang", "Cloud-migrering", "Intranet", "Lønsystem", "Rammeaftale rådgivning", "BI-dashboard",
    "Webshop", "Integration til e-Boks", "Energirenovering", "Lagerstyring", "CRM-udrulning",
    "Uddannelse af superbrugere", "Sikkerhedsaudit", "Netværksopgradering", "App-udvikling", "Byggeledelse",
    "Due diligence", "Digital post", "Budgetmodel", "Økonomisystem", "Rekrutteringsplatform", "NIS2-forberedelse",
)

# Foreign customers: (country name in TimeLog (Danish UI), Uniconta CountryCode member, ISO numeric id,
# currency, VAT prefix, company suffix, surnames, business words)
FOREIGN = (
    ("Tyskland", "Germany", 276, "EUR", "DE", "GmbH", ("Müller", "Schmidt", "Schneider", "Fischer", "Weber"),
     ("Consulting", "Technik", "Logistik", "Software", "Maschinenbau")),
    ("Sverige", "Sweden", 752, "SEK", "SE", "AB", ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson"),
     ("Konsult", "Bygg", "Data", "Teknik", "Logistik")),
    ("USA", "UnitedStates", 840, "USD", "US", "Inc.", ("Smith", "Johnson", "Miller", "Davis", "Wilson"),
     ("Consulting", "Systems", "Analytics", "Software", "Solutions")),
    ("Norge", "Norway", 578, "NOK", "NO", "AS", ("Hansen", "Johansen", "Olsen", "Larsen", "Berg"),
     ("Rådgivning", "Bygg", "Data", "Shipping", "Energi")),
    ("Holland", "Netherlands", 528, "EUR", "NL", "B.V.", ("de Jong", "Jansen", "de Vries", "Bakker", "Visser"),
     ("Consultancy", "Logistiek", "Software", "Techniek", "Data")),
)
DENMARK = ("Danmark", "Denmark", 208)
FOREIGN_STREETS = {
    "DE": ("Hauptstraße", "Bahnhofstraße", "Lindenallee"), "SE": ("Storgatan", "Drottninggatan", "Kungsgatan"),
    "NO": ("Karl Johans gate", "Storgata", "Kongens gate"), "US": ("Main Street", "5th Avenue", "Broadway"),
    "NL": ("Kerkstraat", "Damrak", "Prinsengracht"),
}
CALLING_CODES = {"DE": "49", "SE": "46", "NO": "47", "US": "1", "NL": "31"}
FOREIGN_PLACES = {
    "DE": ("Hamburg", "Nord", "Elbe", "Hanse", "Rhein"), "SE": ("Skåne", "Malmö", "Öresund", "Nord", "Väst"),
    "US": ("Atlantic", "Hudson", "Liberty", "Empire", "Pacific"), "NO": ("Fjell", "Nord", "Vest", "Oslo", "Kyst"),
    "NL": ("Amstel", "Holland", "Delta", "Noord", "Zuid"),
}


def foreign_company_name(rng: random.Random, foreign: tuple) -> str:
    """A company name in the style of the foreign customer's country."""
    _, _, _, _, prefix, suffix, surnames, words = foreign
    p = rng.random()
    if p < 0.4:
        base = f"{rng.choice(surnames)} {rng.choice(words)}"
    elif p < 0.65:
        base = f"{rng.choice(surnames)} & {rng.choice(surnames)}"
    elif p < 0.9:
        base = f"{rng.choice(FOREIGN_PLACES[prefix])} {rng.choice(words)}"
    else:
        base = f"{rng.choice(FOREIGN_PLACES[prefix])} {rng.choice(surnames)} {rng.choice(words)}"
    return f"{base} {suffix}"


def format_foreign_phone(rng: random.Random, digits: str, prefix: str) -> str:
    code = CALLING_CODES[prefix]
    return rng.choice((f"+{code} {digits[:3]} {digits[3:]}", f"00{code}{digits}", f"+{code}{digits}"))

# --- numbers -----------------------------------------------------------------------------------------------

_CVR_WEIGHTS = (2, 7, 6, 5, 4, 3, 2, 1)


def cvr_is_valid(digits: str) -> bool:
    return (len(digits) == 8 and digits.isdigit() and digits[0] != "0"
            and sum(int(d) * w for d, w in zip(digits, _CVR_WEIGHTS)) % 11 == 0)


def make_cvr(rng: random.Random) -> str:
    """A valid Danish CVR number (8 digits, mod-11 check)."""
    while True:
        first = [rng.randint(1, 4)] + [rng.randint(0, 9) for _ in range(6)]
        s = sum(d * w for d, w in zip(first, _CVR_WEIGHTS))
        check = (-s) % 11
        if check < 10:
            return "".join(map(str, first)) + str(check)


def break_cvr(rng: random.Random, cvr: str) -> str:
    """The same number with a wrong check digit (a keying error): never valid."""
    last = int(cvr[-1])
    return cvr[:-1] + str((last + rng.randint(1, 9)) % 10)


def format_cvr(rng: random.Random, cvr: str, weights: tuple[int, int, int, int] = (74, 13, 7, 6)) -> str:
    """Plain, "DK"-prefixed, "DK 12 34 56 78" or "12 34 56 78"."""
    k = rng.choices(range(4), weights)[0]
    if k == 0:
        return cvr
    if k == 1:
        return "DK" + cvr
    spaced = " ".join(cvr[i:i + 2] for i in range(0, 8, 2))
    return "DK " + spaced if k == 2 else spaced


def make_phone(rng: random.Random) -> str:
    """Eight Danish digits (landline 3x/4x/7x/8x/9x or mobile 2x/5x/6x... as issued)."""
    return str(rng.choice((2, 3, 4, 5, 6, 7, 8, 9))) + "".join(str(rng.randint(0, 9)) for _ in range(7))


PHONE_FORMATS = ("+45 {a} {b} {c} {d}", "{n}", "0045-{a}{b} {c}{d}", "{a} {b} {c} {d}", "+45{n}", "{a}{b} {c}{d}",
                 "(+45) {n}", "+45 {a}{b}{c}{d}")


def format_phone(rng: random.Random, digits: str, weights: tuple[int, ...] = (30, 30, 8, 15, 6, 6, 3, 2)) -> str:
    a, b, c, d = digits[0:2], digits[2:4], digits[4:6], digits[6:8]
    return rng.choices(PHONE_FORMATS, weights)[0].format(a=a, b=b, c=c, d=d, n=digits)


def make_ean(rng: random.Random) -> str:
    """A 13-digit Danish public-sector GLN/EAN (5798...) with a GS1 check digit."""
    body = "5798" + "".join(str(rng.randint(0, 9)) for _ in range(8))
    total = sum(int(x) * (3 if i % 2 else 1) for i, x in enumerate(body))
    return body + str((10 - total % 10) % 10)


def make_foreign_vat(rng: random.Random, prefix: str) -> str:
    n = {"DE": 9, "SE": 12, "NO": 9, "US": 9, "NL": 12}.get(prefix, 9)
    digits = "".join(str(rng.randint(0, 9)) for _ in range(n))
    if prefix == "NL":
        digits = digits[:9] + "B" + digits[10:]
    if prefix == "NO":
        return digits + "MVA"
    if prefix == "US":
        return digits[:2] + "-" + digits[2:]
    return prefix + digits


# --- text ----------------------------------------------------------------------------------------------------

_TRANS = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa", "é": "e", "É": "E",
                        "ü": "ue", "Ü": "Ue", "ö": "oe", "Ö": "Oe", "ä": "ae", "Ä": "Ae", "ß": "ss"})


def ascii_fold(s: str) -> str:
    """æøå → ae/oe/aa (how a name looks after passing through an ASCII-only system)."""
    return s.translate(_TRANS)


def slug(s: str) -> str:
    s = ascii_fold(s).lower().replace("&", "og")
    s = re.sub(r"\b(a/s|aps|i/s|p/s|k/s|ivs|gmbh|ab|as|inc\.|b\.v\.)$", "", s.strip())
    return re.sub(r"[^a-z0-9]+", "", s)[:28] or "firma"


LEGAL_SUFFIX_VARIANTS = {
    "A/S": ("Aktieselskab", "AS", "a/s", "A/S.", "A.S.", ""),
    "ApS": ("Anpartsselskab", "Aps", "APS", "ApS.", "aps", ""),
    "I/S": ("Interessentskab", "IS", ""),
    "P/S": ("Partnerselskab", "PS"),
    "K/S": ("Kommanditselskab",),
    "IVS": ("Iværksætterselskab", "ApS"),
    "GmbH": ("Gmbh", "GMBH", "G.m.b.H."),
    "AB": ("Aktiebolag", "ab"),
    "AS": ("A.S.", "as", "A/S"),
    "Inc.": ("Inc", "Incorporated", "INC"),
    "B.V.": ("BV", "B.V", "bv"),
}
SUFFIXES = ("A/S", "ApS", "I/S", "P/S", "K/S", "IVS", "")
SUFFIX_WEIGHTS = (30, 50, 4, 2, 1, 2, 11)


def split_suffix(name: str) -> tuple[str, str]:
    for suf in LEGAL_SUFFIX_VARIANTS:
        if name.endswith(" " + suf):
            return name[: -len(suf) - 1], suf
    return name, ""


def join_suffix(base: str, suffix: str) -> str:
    return f"{base} {suffix}" if suffix else base


_KEY_NEIGHBOURS = {
    "a": "sq", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh", "h": "gj", "i": "uo", "j": "hk",
    "k": "jl", "l": "kæ", "m": "n", "n": "bm", "o": "ip", "p": "oå", "r": "et", "s": "ad", "t": "ry", "u": "yi",
    "v": "cb", "y": "tu", "æ": "lø", "ø": "æå", "å": "pø",
}


def typo(rng: random.Random, s: str) -> str:
    """One keying error inside a word of at least 4 letters: swap, drop, double or neighbour-key."""
    words = [(m.start(), m.end()) for m in re.finditer(r"[A-Za-zÆØÅæøå]{4,}", s)]
    if not words:
        return s + s[-1:]
    a, b = rng.choice(words)
    i = rng.randint(a + 1, b - 2)
    kind = rng.randrange(4)
    if kind == 0:
        return s[:i] + s[i + 1] + s[i] + s[i + 2:]
    if kind == 1:
        return s[:i] + s[i + 1:]
    if kind == 2:
        return s[:i] + s[i] + s[i:]
    ch = s[i]
    rep = rng.choice(_KEY_NEIGHBOURS.get(ch.lower(), "e"))
    return s[:i] + (rep.upper() if ch.isupper() else rep) + s[i + 1:]


def messy_name(rng: random.Random, name: str) -> str:
    """How the same company's name drifts between two systems without being misspelt: legal-form variants,
    case, æøå folding, '&' vs 'og', punctuation, 'Aarhus' vs 'Århus'. Always differs from ``name``."""
    base, suf = split_suffix(name)
    for _ in range(8):
        b, s, comma = base, suf, False
        for op in rng.sample(range(7), k=rng.choice((1, 1, 2))):
            if op == 0 and s:
                s = rng.choice(LEGAL_SUFFIX_VARIANTS[suf])
            elif op == 1:
                b = b.upper() if rng.random() < 0.5 else b.lower().title()
            elif op == 2:
                b = ascii_fold(b)
            elif op == 3:
                b = b.replace(" & ", " og ") if "&" in b else b.replace(" og ", " & ")
            elif op == 4:
                b = b.replace("Aarhus", "Århus") if "Aarhus" in b else b.replace("-", " ").replace(".", "")
            elif op == 5:
                comma = True  # "Hansen Byg, ApS"
            elif op == 6 and s:
                s = s.lower()
        out = f"{b}, {s}" if comma and s else join_suffix(b, s)
        if out != name:
            return out
    return join_suffix(base, LEGAL_SUFFIX_VARIANTS[suf][0]) if suf else name.upper()


def other_legal_form(name: str) -> str:
    """'Hansen A/S' → 'Hansen ApS' and vice versa (a different company with a confusingly similar name)."""
    base, suf = split_suffix(name)
    return join_suffix(base, "ApS" if suf != "ApS" else "A/S")
