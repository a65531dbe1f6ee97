"""The report's language: Danish by default, English selectable — words, numbers and dates for people.

One setting chooses it: ``TLSYNC_REPORT_LANGUAGE`` (``da`` or ``en``; the command's ``--language`` overrides it).
Danish uses the terms of TimeLog's help page for the integration ("Afstemning af fakturaer", "Mangler i
Uniconta", "kladde", "bogført", "debitor"). Numbers are formatted with Babel (``1.234,56`` in Danish, ``1,234.56``
in English), after rounding half-up to the øre with :func:`tlsync.money.q2` (Babel's own rounding is
half-even, so the amount is rounded first and only formatted here). Dates are ``dd-mm-åååå`` in both languages
(the users are Danish companies; ``02-12-2026``).

Decisions: the machine outputs (the machine CSV files, the JSON headline of the DAG task) keep their English code
names and plain ``1234.56`` numbers whatever the language, so other systems never depend on the setting; the
findings and hints the comparison writes (:mod:`tlsync.reconcile.compare`) are translated by :func:`Lang.phrase`
from a table of their fixed wordings — a wording not in the table is shown as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from datetime import date as calendar_date  # ``Lang.date`` hides the type inside the class
from decimal import Decimal

from babel.numbers import format_decimal

from tlsync import config
from tlsync.money import q2
from tlsync.reconcile.model import (
    AMOUNTS_DIFFER,
    CURRENCY_DIFFERS,
    DEBTOR_DIFFERS,
    DRAFT_IN_UNICONTA,
    LABELS,
    LINES_EDITED,
    MATCHED,
    MEANING,
    MISSING_IN_TIMELOG,
    MISSING_IN_UNICONTA,
)

LANGUAGES = ("da", "en")
DEFAULT_LANGUAGE = "da"
ENV = "TLSYNC_REPORT_LANGUAGE"
LOCALES = {"da": "da_DK", "en": "en_GB"}


def language(value: str | None = None) -> str:
    """The report language: ``value``, else ``TLSYNC_REPORT_LANGUAGE``, else Danish. Anything else than ``da`` or
    ``en`` is refused with one line naming the setting."""
    raw = (value or str(config.value(ENV)) or DEFAULT_LANGUAGE).strip().lower()
    if raw not in LANGUAGES:
        raise ValueError(f"report language {raw!r} is not supported: set {ENV} (or --language) to da or en")
    return raw


DA_LABELS = {
    MATCHED: "Afstemt",
    AMOUNTS_DIFFER: "Beløb afviger",
    MISSING_IN_UNICONTA: "Mangler i Uniconta",
    MISSING_IN_TIMELOG: "Mangler i TimeLog",
    DEBTOR_DIFFERS: "Debitor afviger",
    CURRENCY_DIFFERS: "Valuta afviger",
    DRAFT_IN_UNICONTA: "Stadig kladde i Uniconta",
    LINES_EDITED: "Linjer ændret i Uniconta",
}
DA_MEANING = {
    MATCHED: "samme beløb (inden for tolerancen), debitor, valuta og linjer; bogført i Uniconta",
    AMOUNTS_DIFFER: "linjerne stemmer, men netto, moms eller total afviger (slutrabat, momskode eller -zone i "
                    "Uniconta)",
    MISSING_IN_UNICONTA: "bogført i TimeLog, ikke fundet i Uniconta — se årsagen",
    MISSING_IN_TIMELOG: "findes i Uniconta, men ingen TimeLog-faktura henviser til den (ofte faktureret direkte i "
                        "Uniconta)",
    DEBTOR_DIFFERS: "Uniconta-fakturaen står på en anden debitor end kundens tilknyttede",
    CURRENCY_DIFFERS: "TimeLog og Uniconta har fakturaen i forskellige valutaer",
    DRAFT_IN_UNICONTA: "overført som kladde, som ingen har bogført endnu",
    LINES_EDITED: "en linjes pris, antal, rabat eller varenummer er ændret, eller en linje er tilføjet eller "
                  "fjernet, i Uniconta",
}

# Words of the page, the workbook and the mail. English is the key's own text where it is a sentence.
WORDS: dict[str, dict[str, str]] = {
    "title": {"da": "Afstemning af fakturaer TimeLog ⇄ Uniconta", "en": "Invoice reconciliation TimeLog ⇄ Uniconta"},
    "subtitle": {"da": "Juridisk enhed {le} ↔ Uniconta-firma {company} · periode {period} · opgjort {as_of} · "
                       "tolerance {tolerance}",
                 "en": "Legal entity {le} ↔ Uniconta company {company} · period {period} · as of {as_of} · "
                       "tolerance {tolerance}"},
    "sign": {"da": "Fortegn: difference = TimeLog − Uniconta", "en": "Sign: difference = TimeLog − Uniconta"},
    "summary": {"da": "Overblik", "en": "Summary"},
    "bridge": {"da": "Afstemning af beløb", "en": "Amount bridge"},
    "bridge_note": {"da": "Hver linje er summen af differencerne (TimeLog − Uniconta) i kategorien; linjerne summer "
                          "til differencen på øren.",
                    "en": "Each line is the sum of the differences (TimeLog − Uniconta) of its category; the lines "
                          "add up to the difference to the øre."},
    "timelog_total": {"da": "TimeLog, bogførte fakturaer inkl. moms", "en": "TimeLog, booked invoices incl. VAT"},
    "uniconta_total": {"da": "Uniconta, bogførte fakturaer inkl. moms", "en": "Uniconta, posted invoices incl. VAT"},
    "difference": {"da": "Difference (TimeLog − Uniconta)", "en": "Difference (TimeLog − Uniconta)"},
    "explained": {"da": "Forklaret af kategorierne", "en": "Explained by the categories"},
    "rounding": {"da": "Øreafrunding på afstemte fakturaer (moms afrundet pr. linje i Uniconta)",
                 "en": "Rounding on matched invoices (VAT rounded per line in Uniconta)"},
    "rounding_short": {"da": "Øreafrunding", "en": "Rounding"},
    "rounding_line": {"da": "Øreafrunding på afstemte fakturaer", "en": "Rounding on matched invoices"},
    "rounding_why": {"da": "moms afrundet pr. linje i Uniconta", "en": "VAT rounded per line in Uniconta"},
    "rounding_finding": {"da": "afstemt med øreafrunding: {what} (moms afrundet pr. linje i Uniconta)",
                         "en": "matched with rounding: {what} (VAT rounded per line in Uniconta)"},
    "count": {"da": "Antal", "en": "Count"},
    "amount": {"da": "Beløb", "en": "Amount"},
    "category": {"da": "Kategori", "en": "Category"},
    "meaning": {"da": "Hvad det betyder", "en": "What it means"},
    "total": {"da": "I alt", "en": "Total"},
    "total_note": {"da": "hver faktura tælles i præcis én kategori", "en": "each invoice is counted in exactly one "
                                                                          "category"},
    "count_per_category": {"da": "Antal pr. kategori", "en": "Count per category"},
    "matched": {"da": "Afstemt", "en": "Matched"},
    "open": {"da": "Åbne differencer", "en": "Open differences"},
    "weak": {"da": "Svagere match (debitor + dato + beløb)", "en": "Weaker matches (debtor + date + amount)"},
    "months": {"da": "Totaler pr. måned og system", "en": "Totals per month and system"},
    "plots": {"da": "Grafer", "en": "Plots"},
    "search": {"da": "Søg i {what}…", "en": "Search {what}…"},
    "rows_shown": {"da": "{shown} af {total} rækker", "en": "{shown} of {total} rows"},
    "tech": {"da": "Vis tekniske kolonner", "en": "Show technical columns"},
    "show_rows": {"da": "vis rækkerne", "en": "show the rows"},
    "other_currencies": {"da": "Der er også fakturaer i {cur}: de har deres egen afstemning nedenfor.",
                         "en": "Also invoiced in {cur}: each currency has its own bridge below."},
    "how_to_read": {"da": "Sådan læses rapporten: docs/reconciliation.md. Dannet af tlsync {generated}.",
                    "en": "How to read this report: docs/reconciliation.md. Generated by tlsync {generated}."},
    "reconciliation": {"da": "Afstemning", "en": "Reconciliation"},
    "entity": {"da": "juridisk enhed {le} ↔ Uniconta-firma {company}", "en": "legal entity {le} ↔ Uniconta "
                                                                           "company {company}"},
    "period": {"da": "Periode", "en": "Period"},
    "as_of": {"da": "Opgjort", "en": "As of"},
    "tolerance": {"da": "Tolerance", "en": "Tolerance"},
    "currency": {"da": "Valuta", "en": "Currency"},
    "waterfall": {"da": "Fra Uniconta til TimeLog ({cur})", "en": "From Uniconta to TimeLog ({cur})"},
    "trend": {"da": "Totaler pr. måned inkl. moms ({cur})", "en": "Monthly totals incl. VAT ({cur})"},
    "open_per_month": {"da": "Åbne differencer pr. måned", "en": "Open differences per month"},
    "ageing": {"da": "Alder af åbne differencer (pr. {as_of})", "en": "Ageing of open differences (as of {as_of})"},
    "days": {"da": "dage", "en": "days"},
    "over_days": {"da": "over {n} dage", "en": "over {n} days"},
    "invoices": {"da": "fakturaer", "en": "invoices"},
    "invoice_one": {"da": "faktura", "en": "invoice"},
    "no_rows": {"da": "Ingen rækker.", "en": "No rows."},
    "pdf_more": {"da": "… og {n} rækker mere: alle rækker står i Excel-projektmappen og på HTML-siden.",
                 "en": "… and {n} more rows: every row is in the Excel workbook and on the HTML page."},
    "mail_subject": {"da": "Afstemning af fakturaer, juridisk enhed {le}, {period}: difference {diff}",
                     "en": "Invoice reconciliation, legal entity {le}, {period}: difference {diff}"},
    "mail_intro": {"da": "Månedens afstemning af fakturaer mellem TimeLog og Uniconta er klar. Rapporten er "
                         "vedhæftet som PDF (til arkivet) og Excel.",
                   "en": "This month's invoice reconciliation between TimeLog and Uniconta is ready. The report is "
                         "attached as PDF (for the archive) and Excel."},
    "mail_files": {"da": "Rapporten ligger også her: {path}", "en": "The report is also here: {path}"},
    "page": {"da": "Side", "en": "Page"},
    "of": {"da": "af", "en": "of"},
    "signature": {"da": "Gennemgået og godkendt (dato, underskrift)", "en": "Reviewed and approved (date, "
                                                                            "signature)"},
    "timelog": {"da": "TimeLog", "en": "TimeLog"},
    "uniconta": {"da": "Uniconta", "en": "Uniconta"},
}

# Column headers for people; the key is the machine export's header (English code name).
DA_HEADERS = {
    "Period": "Måned", "Category": "Kategori", "Paired by": "Parret via", "TimeLog invoice": "TimeLog-faktura",
    "Kind": "Type", "TimeLog date": "TimeLog-dato", "Customer no.": "Kundenr.", "Customer": "Kunde",
    "TimeLog currency": "TimeLog-valuta", "TimeLog net": "TimeLog netto", "TimeLog VAT": "TimeLog moms",
    "TimeLog total": "TimeLog total", "Uniconta no.": "Uniconta-nr.", "Uniconta status": "Uniconta-status",
    "Uniconta date": "Uniconta-dato", "Debtor": "Debitor", "Debtor name": "Debitornavn",
    "Uniconta currency": "Uniconta-valuta", "Uniconta net": "Uniconta netto", "Uniconta VAT": "Uniconta moms",
    "Uniconta total": "Uniconta total", "Draft net (Uniconta)": "Kladde netto (Uniconta)",
    "Difference (total)": "Difference (TimeLog − Uniconta)", "What differs": "Hvad afviger",
    "Root-cause hint": "Sandsynlig årsag", "Ledger state": "Status i loggen", "Open (days)": "Åben (dage)",
    "TimeLog GUID": "TimeLog GUID", "Currency": "Valuta", "TimeLog invoices": "TimeLog fakturaer",
    "Uniconta invoices": "Uniconta fakturaer", "Open differences": "Åbne differencer", "Date": "Dato",
    "Invoice": "Faktura", "Customer / debtor": "Kunde / debitor",
    "Quarantined at": "Sat i karantæne", "Entity": "Datatype", "Tenant": "Site/firma", "Record key": "Nøgle",
    "Rule": "Regel", "Reason": "Årsag", "Note": "Bemærkning",
    # expenses imported (U4): the expense import's code names
    "legal_entity_id": "Juridisk enhed", "posting_key": "Posteringsnøgle", "date": "Dato",
    "purchase_date": "Købsdato", "account": "Konto", "creditor": "Kreditor", "creditor_name": "Kreditornavn",
    "voucher": "Bilag", "invoice": "Faktura", "text": "Tekst", "amount": "Beløb ekskl. moms", "vat": "Moms",
    "amount_incl_vat": "Beløb inkl. moms", "currency": "Valuta", "posting_currency": "Posteringsvaluta",
    "amount_cur": "Beløb i valuta", "exchange_rate": "Kurs", "uniconta_project": "Uniconta-projekt",
    "expense_type_id": "Udgiftstype-id", "expense_type": "Udgiftstype", "project_id": "Projekt-id",
    "project": "Projekt", "state": "Status", "reason": "Årsag", "review_codes": "Koder til gennemsyn",
    "reversal_of": "Tilbageførsel af", "timelog_expense_id": "TimeLog-udgift", "updated_at": "Opdateret",
}
EN_HEADERS = {
    "Difference (total)": "Difference (TimeLog − Uniconta)",
    "legal_entity_id": "Legal entity", "posting_key": "Posting key", "date": "Date", "purchase_date": "Purchase date",
    "account": "Account", "creditor": "Creditor", "creditor_name": "Creditor name", "voucher": "Voucher",
    "invoice": "Invoice", "text": "Text", "amount": "Amount excl. VAT", "vat": "VAT",
    "amount_incl_vat": "Amount incl. VAT", "currency": "Currency", "posting_currency": "Posting currency",
    "amount_cur": "Amount in currency", "exchange_rate": "Exchange rate", "uniconta_project": "Uniconta project",
    "expense_type_id": "Expense type ID", "expense_type": "Expense type", "project_id": "Project ID",
    "project": "Project", "state": "State", "reason": "Reason", "review_codes": "Review codes",
    "reversal_of": "Reversal of", "timelog_expense_id": "TimeLog expense", "updated_at": "Updated",
}
DA_VALUES = {   # short code values shown in cells
    "invoice": "faktura", "credit note": "kreditnota", "posted": "bogført", "draft": "kladde",
    "ledger": "tlsyncs log", "external invoice number": "eksternt fakturanr.",
    "debtor + date + amount (weaker match)": "debitor + dato + beløb (svagere match)",
    "done": "udført", "failed": "fejlet", "pending": "venter", "in_flight": "i gang", "ignored": "ignoreret",
    "review": "til gennemsyn", "elsewhere": "overført af TimeLogs integration",
}

# The comparison's fixed wordings (tlsync.reconcile.compare), Danish. Each pattern matches a whole finding or hint.
_N = r"(?P<{}>.+?)"
DA_PHRASES: list[tuple[str, str]] = [
    (r"booked (?P<kind>invoice|credit note) (?P<no>\S+) is not in Uniconta",
     "bogført {kind} {no} findes ikke i Uniconta"),
    (r"Uniconta (?P<kind>draft order|invoice|credit note) (?P<no>\S+) has no TimeLog counterpart",
     "Uniconta-{kind} {no} har ingen modpart i TimeLog"),
    (r"still a draft in Uniconta \(order (?P<no>\S+)\)", "stadig kladde i Uniconta (ordre {no})"),
    (r"currency (?P<a>\S+) in TimeLog, (?P<b>\S+) in Uniconta", "valuta {a} i TimeLog, {b} i Uniconta"),
    (r"debtor (?P<a>.+?) in Uniconta, (?P<b>.+?) expected", "debitor {a} i Uniconta, {b} forventet"),
    (r"(?P<what>net|VAT|total) (?P<a>\S+) in TimeLog, (?P<b>\S+) in Uniconta", "{what} {a} i TimeLog, {b} i Uniconta"),
    (r"line (?P<n>\d+) added in Uniconta: (?P<rest>.*)", "linje {n} tilføjet i Uniconta: {rest}"),
    (r"line (?P<n>\d+) missing in Uniconta: (?P<rest>.*)", "linje {n} mangler i Uniconta: {rest}"),
    (r"line (?P<n>\d+) has no item number \(rule I5\)", "linje {n} har intet varenummer (regel I5)"),
    (r"line (?P<n>\d+): item (?P<item>.+?) does not exist in Uniconta \(rule U2\)",
     "linje {n}: varenummer {item} findes ikke i Uniconta (regel U2)"),
    (r"line (?P<n>\d+): (?P<rest>.*)", "linje {n}: {rest}"),
    (r"Uniconta's daily API quota ran out during the transfer: (?P<r>.*)",
     "Unicontas daglige API-kvote slap op under overførslen: {r}"),
    (r"transfer failed: (?P<r>.*)", "overførslen fejlede: {r}"),
    (r"transfer failed \(no reason recorded\)", "overførslen fejlede (ingen årsag registreret)"),
    (r"waiting for transfer: the daily API quota ran out \((?P<r>.*)\)",
     "venter på overførsel: den daglige API-kvote slap op ({r})"),
    (r"waiting for transfer \(next run\)", "venter på overførsel (næste kørsel)"),
    (r"waiting for transfer: (?P<r>.*)", "venter på overførsel: {r}"),
    (r"the transfer was interrupted; the next run checks Uniconta for it before writing again",
     "overførslen blev afbrudt; næste kørsel tjekker Uniconta, før der skrives igen"),
    (r"ignored by an administrator: (?P<r>.*)", "ignoreret af en administrator: {r}"),
    (r"ignored by an administrator", "ignoreret af en administrator"),
    (r"waiting for review: (?P<r>.*)", "venter på gennemsyn: {r}"),
    (r"waiting for review", "venter på gennemsyn"),
    (r"transferred by TimeLog's built-in integration \(adopted by tlsync\)",
     "overført af TimeLogs indbyggede integration (overtaget af tlsync)"),
    (r"transferred by tlsync as draft order (?P<no>\S+), but neither that draft nor a posted invoice with order "
     r"number (?P<no2>\S+) is in Uniconta \(deleted there\?\)",
     "overført af tlsync som kladdeordre {no}, men hverken kladden eller en bogført faktura med ordrenr. {no2} "
     "findes i Uniconta (slettet dér?)"),
    (r"marked 'ignore when transferring' in TimeLog", "markeret 'ignorer ved overførsel' i TimeLog"),
    (r"TimeLog says it was transferred as Uniconta (?P<what>draft order|invoice) (?P<no>\S+) \((?P<st>.*?)\), but "
     r"Uniconta has no such (?P<what2>draft order|invoice)",
     "TimeLog angiver, at den er overført som Uniconta-{what} {no} ({st}), men Uniconta har ingen sådan {what2}"),
    (r"(?P<e>\S+) (?P<k>\S+) was quarantined by the quality gate \((?P<rule>.*?)\): (?P<r>.*)",
     "{e} {k} er sat i karantæne af kvalitetskontrollen ({rule}): {r}"),
    (r"customer (?P<c>.+) is not linked to a Uniconta debtor \(rules L2/S8\)",
     "kunde {c} er ikke tilknyttet en debitor i Uniconta (regel L2/S8)"),
    (r"not transferred yet: the sync ledger has no record of it", "ikke overført endnu: tlsyncs log kender den ikke"),
    (r"tlsync transferred TimeLog invoice (?P<no>\S+) as order (?P<o>\S+), but that invoice is no longer booked in "
     r"TimeLog for this period \(deleted or reopened\?\)",
     "tlsync overførte TimeLog-faktura {no} som ordre {o}, men fakturaen er ikke længere bogført i TimeLog i "
     "perioden (slettet eller genåbnet?)"),
    (r"a draft in Uniconta that no TimeLog invoice refers to", "en kladde i Uniconta, som ingen TimeLog-faktura "
                                                              "henviser til"),
    (r"invoiced directly in Uniconta: debtor (?P<d>.+?) is not linked to a TimeLog customer",
     "faktureret direkte i Uniconta: debitor {d} er ikke tilknyttet en TimeLog-kunde"),
    (r"invoiced directly in Uniconta: no TimeLog invoice refers to it",
     "faktureret direkte i Uniconta: ingen TimeLog-faktura henviser til den"),
    (r"transferred(?: by (?P<by>tlsync|TimeLog's built-in integration))?(?: on (?P<on>\S+))? as draft order "
     r"(?P<no>\S+); not posted in Uniconta yet",
     "overført{by}{on} som kladdeordre {no}; endnu ikke bogført i Uniconta"),
    (r"Uniconta used (?P<c>\S+): check the currency of debtor (?P<d>.+?) in Uniconta against the invoice's in "
     r"TimeLog", "Uniconta brugte {c}: tjek valutaen på debitor {d} i Uniconta mod fakturaens i TimeLog"),
    (r"customer (?P<c>.+) was relinked to debtor (?P<d>.+) after the transfer",
     "kunde {c} er tilknyttet debitor {d} igen efter overførslen"),
    (r"the invoice is on debtor (?P<d>.+?) \((?P<n>.*?)\) but customer (?P<c>.+) is linked to debtor (?P<w>.+?): "
     r"changed in Uniconta after transfer",
     "fakturaen står på debitor {d} ({n}), men kunde {c} er tilknyttet debitor {w}: ændret i Uniconta efter "
     "overførslen"),
    (r"edited in Uniconta after transfer(?: by (?P<by>tlsync|TimeLog's built-in integration))?(?: on (?P<on>\S+))?",
     "ændret i Uniconta efter overførsel{by}{on}"),
    (r"VAT rounded per line in Uniconta: at most half an øre on each of the (?P<n>\d+) lines explains (?P<a>\S+) — "
     r"not an error", "moms afrundet pr. linje i Uniconta: højst en halv øre på hver af de {n} linjer forklarer {a} "
                      "— ikke en fejl"),
    (r"VAT differs though the lines agree: check the VAT zone/code of the debtor in Uniconta",
     "momsen afviger, selv om linjerne stemmer: tjek debitorens momszone/-kode i Uniconta"),
    (r"the lines agree but the header differs: an end discount or header edit in Uniconta",
     "linjerne stemmer, men hovedet afviger: slutrabat eller ændring af hovedet i Uniconta"),
    (r"paired by debtor, date and amount only \(no ledger record, no external invoice number\): check that it is "
     r"the same invoice", "parret alene via debitor, dato og beløb (ingen post i loggen, intet eksternt fakturanr.): "
                          "tjek at det er samme faktura"),
    (r"points to Uniconta posted (?P<a>\S+), which is already paired with TimeLog invoice (?P<b>\S+)(?P<rest>.*)",
     "henviser til Unicontas bogførte {a}, som allerede er parret med TimeLog-faktura {b}{rest}"),
]
_DA_LINE_PARTS = [(re.compile(r"\bitem\b"), "vare"), (re.compile(r"\bquantity\b"), "antal"),
                  (re.compile(r"\bprice\b"), "pris"), (re.compile(r"\bdiscount\b"), "rabat"),
                  (re.compile(r"\bamount\b"), "beløb"), (re.compile(r"\(none\)"), "(intet)"),
                  (re.compile(r"\(no item\)"), "(intet varenr.)")]
_DA_WORDS = {"invoice": "faktura", "credit note": "kreditnota", "draft order": "kladdeordre", "net": "netto",
             "VAT": "moms", "total": "total", "tlsync": "tlsync", "TimeLog's built-in integration":
             "TimeLogs indbyggede integration"}
_COMPILED = [(re.compile(p + r"\Z", re.S), out) for p, out in DA_PHRASES]
_AMOUNT = re.compile(r"(?<![\w.,])-?\d{1,3}(?:,\d{3})*\.\d{2}(?![\d])")


@dataclass(frozen=True)
class Lang:
    """Words and formats of one report language."""
    code: str = DEFAULT_LANGUAGE

    @property
    def locale(self) -> str:
        return LOCALES[self.code]

    def t(self, key: str, **values) -> str:
        text = WORDS[key][self.code]
        return text.format(**values) if values else text

    def category(self, category: str) -> str:
        return DA_LABELS[category] if self.code == "da" else LABELS[category]

    def meaning(self, category: str) -> str:
        return DA_MEANING[category] if self.code == "da" else MEANING[category]

    def header(self, name: str) -> str:
        table = DA_HEADERS if self.code == "da" else EN_HEADERS
        return table.get(name, name)

    def value(self, text: str) -> str:
        return DA_VALUES.get(text, text) if self.code == "da" else text

    # ---- numbers and dates ----
    def money(self, amount: Decimal | None, currency: str | None = None, *, signed: bool = False) -> str:
        """``1.234,56`` (da) / ``1,234.56`` (en), rounded half-up to the øre; ``currency`` appended; ``signed``
        puts a ``+`` on positive amounts (the bridge's lines)."""
        if amount is None:
            return ""
        value = q2(Decimal(amount))
        text = format_decimal(value, format="#,##0.00", locale=self.locale)
        text = text.replace("-", "−")
        if signed and value > 0:
            text = "+" + text
        return f"{text} {currency}" if currency else text

    def number(self, value: int | Decimal | None) -> str:
        if value is None:
            return ""
        if isinstance(value, Decimal) and value != value.to_integral():
            return format_decimal(value, format="#,##0.######", locale=self.locale)
        return format_decimal(int(value), format="#,##0", locale=self.locale)

    @staticmethod
    def date(value: date | datetime | None) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return value.strftime("%d-%m-%Y %H:%M")
        return value.strftime("%d-%m-%Y")

    def period(self, start: calendar_date, end: calendar_date) -> str:
        return f"{self.date(start)} – {self.date(end)}"

    # ---- the comparison's sentences ----
    def phrase(self, text: str) -> str:
        """A finding or hint in this language (amounts inside in this language's number format)."""
        if self.code != "da" or not text:
            return text
        out = text
        for rx, template in _COMPILED:
            m = rx.match(text)
            if m:
                groups = {k: (v or "") for k, v in m.groupdict().items()}
                for k in ("kind", "what", "what2"):
                    if k in groups:
                        groups[k] = _DA_WORDS.get(groups[k], groups[k])
                if "by" in groups:
                    groups["by"] = f" af {_DA_WORDS.get(groups['by'], groups['by'])}" if groups["by"] else ""
                if "on" in groups:
                    groups["on"] = f" den {_iso_to_dk(groups['on'])}" if groups["on"] else ""
                if "rest" in groups and template.startswith("linje {n}: "):
                    for prx, word in _DA_LINE_PARTS:
                        groups["rest"] = prx.sub(word, groups["rest"])
                out = template.format(**groups)
                break
        return _AMOUNT.sub(lambda m: self.money(Decimal(m.group(0).replace(",", ""))), out)

    def phrases(self, texts: list[str]) -> str:
        seen: list[str] = []
        for t in texts:
            p = self.phrase(t)
            if p not in seen:
                seen.append(p)
        return "; ".join(seen)


def _iso_to_dk(text: str) -> str:
    try:
        return date.fromisoformat(text).strftime("%d-%m-%Y")
    except ValueError:
        return text
