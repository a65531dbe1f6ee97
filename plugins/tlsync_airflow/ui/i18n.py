"""The pages' words in Danish (default) and English, and Danish number and date formats.

The Danish words are those of TimeLog's own help page for the integration (*Ét forslag*, *Flere forslag*,
*Ingen forslag*, *Ignorerede kunder*, *Sammenkæd og anvend data fra TimeLog*, *NULSTIL*, *AKTIVÉR* …), so an
administrator who knows TimeLog's pages finds the same labels. A small dictionary instead of gettext catalogs:
the pages have a few hundred words, and a dictionary keeps the two languages side by side for review.

Numbers and money: Babel's ``da_DK`` patterns (``1.234,56``, rounded half-up as the domain does); dates
``02-12-2026`` in both languages (the users' accounting convention).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import format_decimal

LANGUAGES = ("da", "en")
DEFAULT = "da"

WORDS: dict[str, tuple[str, str]] = {
    # key: (Danish, English)
    "title": ("TimeLog ⇄ Uniconta", "TimeLog ⇄ Uniconta"),
    "integration": ("Integration", "Integration"),
    "linking": ("Sammenkædning af kunder", "Customer linking"),
    "invoices": ("Fakturaer", "Invoices"),
    "items": ("Varenumre", "Item numbers"),
    "legal_entity": ("Juridisk enhed", "Legal entity"),
    "company": ("Uniconta-firma", "Uniconta company"),
    "view.one": ("Ét forslag", "One suggestion"),
    "view.several": ("Flere forslag", "Several suggestions"),
    "view.none": ("Ingen forslag", "No suggestion"),
    "view.ignored": ("Ignorerede kunder", "Ignored customers"),
    "uniconta_debtor": ("Uniconta-debitor", "Uniconta debtor"),
    "timelog_customer": ("TimeLog-kunde", "TimeLog customer"),
    "account": ("Konto", "Account"),
    "name": ("Navn", "Name"),
    "cvr": ("CVR", "CVR"),
    "city": ("By", "City"),
    "number": ("Nummer", "Number"),
    "score": ("Score", "Score"),
    "reasons": ("Begrundelse", "Reasons"),
    "no_candidate": ("(intet forslag)", "(no candidate)"),
    "select_all": ("Markér alle på siden", "Select all on this page"),
    "choose_action": ("Vælg handling", "Choose action"),
    "action.link-timelog": ("Sammenkæd og anvend data fra TimeLog", "Link, TimeLog data wins"),
    "action.link-uniconta": ("Sammenkæd og anvend data fra Uniconta", "Link, Uniconta data wins"),
    "action.import": ("Importér som en ny kunde i TimeLog", "Import as a new TimeLog customer"),
    "action.ignore": ("Ignorér kunde(r)", "Ignore customer(s)"),
    "action.unignore": ("Fjern ignorering", "Un-ignore"),
    "preview": ("Vis ændringer", "Preview"),
    "preview_title": ("Det her bliver skrevet", "What will be written"),
    "preview_intro": ("Intet er skrevet endnu. Kontrollér felterne og klik på OK.",
                      "Nothing has been written yet. Check the fields and click OK."),
    "ok": ("OK", "OK"),
    "cancel": ("Annullér", "Cancel"),
    "side_uniconta_gets": ("Uniconta-debitoren får", "The Uniconta debtor gets"),
    "side_timelog_gets": ("TimeLog-kunden får", "The TimeLog customer gets"),
    "nothing_changes": ("ingen felter ændres", "no field changes"),
    "new_customer": ("ny TimeLog-kunde", "new TimeLog customer"),
    "moves_to_ignored": ("flyttes til Ignorerede kunder", "moves to Ignored customers"),
    "moves_back": ("flyttes tilbage til forslagene", "moves back to the suggestions"),
    "filter": ("Filtrér (navn, nummer, CVR)", "Filter (name, number, CVR)"),
    "search": ("Søg", "Search"),
    "page_of": ("Side {page} af {pages} · {total} debitorer", "Page {page} of {pages} · {total} debtors"),
    "previous": ("Forrige", "Previous"),
    "next": ("Næste", "Next"),
    "next_number": ("Næste ledige kundenummer i begge systemer: {n}", "Next customer number free in both systems: {n}"),
    "number_advice": (("Ret nummerserien i TimeLog (Systemadministration → Generelle indstillinger → Nummerserier) "
                       "til {n}."), ("Set TimeLog's customer number series (System administration → General settings "
                                     "→ Number series) to {n}.")),
    "nothing_selected": ("Markér mindst én række.", "Select at least one row."),
    "applied": ("{changed} handling(er) udført, {same} var allerede på plads, {refused} afvist.",
                "{changed} action(s) applied, {same} already in place, {refused} refused."),
    "read_only": ("Du har kun læseadgang; ændringer kræver en rolle, der må redigere variabler/forbindelser.",
                  "You have read-only access; changes need a role that may edit variables/connections."),
    "no_company": ("Intet Uniconta-firma valgt endnu (regel S1). Vælg det på siden Integration.",
                   "No Uniconta company chosen yet (rule S1). Choose it on the Integration page."),
    "gate_open": ("Fakturaoverførsel: ÅBEN", "Invoice transfer: OPEN"),
    "gate_closed": ("Fakturaoverførsel: LUKKET", "Invoice transfer: CLOSED"),
    "connection": ("Forbindelse", "Connection"),
    "test": ("Test", "Test"),
    "reset": ("NULSTIL", "RESET"),
    "reset_confirm": ("Ja, slet loginoplysninger, firmavalg og sammenkædninger for denne juridiske enhed",
                      "Yes, forget the login, the company and the links of this legal entity"),
    "reset_done": ("Forbindelsen til Uniconta er afbrudt (NULSTIL, regel S1).",
                   "The connection to Uniconta was reset (rule S1)."),
    "choose_company": ("Vælg firma", "Choose company"),
    "companies_visible": ("Firmaer brugeren kan se", "Companies the user can see"),
    "customer_master": ("Kundemaster (S3)", "Customer master (S3)"),
    "cm.manual": ("Foretages manuelt på kunder og kontaktpersoner", "Manually, per customer"),
    "cm.automatic": ("Sker automatisk ved overførsel af første faktura", "Automatically with the first invoice"),
    "debtor_defaults": ("Standardværdier for nye debitorer (S4)", "Defaults for new debtors (S4)"),
    "debtor_group": ("Debitorgruppe", "Debtor group"),
    "vat_zone": ("Momszone", "VAT zone"),
    "vat": ("Momskode", "VAT code"),
    "payment_terms": ("Betalingsbetingelse", "Payment terms"),
    "layout_group": ("Layoutgruppe", "Layout group"),
    "invoice_project_category": ("Projektkategori for fakturaer (S5)", "Invoice project category (S5)"),
    "expense_gl_accounts": ("Finanskonti for udgiftsimport (S6)", "Expense GL accounts (S6)"),
    "project_group": ("Projektgruppe (S7)", "Project group (S7)"),
    "item_defaults": ("Standardvarenumre (I1–I4)", "Default item numbers (I1–I4)"),
    "kind.time": ("Tid", "Time"),
    "kind.fixed_price": ("Fastpris", "Fixed price"),
    "kind.expenses": ("Udgifter", "Expenses"),
    "kind.mileage": ("Kørsel", "Mileage"),
    "kind.per_diem": ("Diæter", "Per diem"),
    "kind.accommodation": ("Logi", "Accommodation"),
    "on_line": ("Vælg ved fakturering", "Choose on the invoice line"),
    "none_chosen": ("— vælg —", "— choose —"),
    "save": ("Gem", "Save"),
    "saved": ("Gemt.", "Saved."),
    "checklist": ("Aktivering (S8)", "Activation (S8)"),
    "cl.configuration_complete": ("Alle konfigurationssektioner er sat op", "Every configuration section is set up"),
    "cl.customers_linked": ("Sammenkædning af kunder er håndteret", "Customer linking is done"),
    "cl.item_numbers_imported": ("Varenumre er importeret og aktiveret i TimeLog",
                                 "Item numbers are imported and activated in TimeLog"),
    "activate": ("AKTIVÉR", "ACTIVATE"),
    "activated_by": ("Aktiveret af {who} den {when}", "Activated by {who} on {when}"),
    "activated": ("Integrationen er aktiveret (S8).", "The integration is activated (S8)."),
    "checklist_saved": ("Tjeklisten er gemt; integrationen er ikke aktiveret.",
                        "The checklist is saved; the integration is not activated."),
    "item": ("Varenummer", "Item number"),
    "in_timelog": ("I TimeLog", "In TimeLog"),
    "used_by": ("Gives af reglerne for", "Handed out by the rules for"),
    "blocked": ("spærret i Uniconta", "blocked in Uniconta"),
    "is.active": ("aktiv", "active"),
    "is.inactive": ("inaktiv", "inactive"),
    "is.not imported": ("ikke importeret", "not imported"),
    "activate_items": ("Aktivér", "Activate"),
    "deactivate_items": ("Deaktivér", "Deactivate"),
    "items_intro": ("Linjer af en art uden standardvarenummer vælger varenummer på fakturalinjen (I5).",
                    "Lines of a kind without a default item choose their item on the invoice line (I5)."),
    "rules_title": ("Hvad en fakturalinje får med de nuværende regler",
                    "What an invoice line gets under the current rules"),
    "rules_intro": (("Beregnet af den samme regel som overførslen bruger, ud fra indstillingerne på "
                     "Integration-siden. En linje med sit eget varenummer beholder det, undtagen ved en dimension "
                     "med tilknytning eller en finanskonto."),
                    ("Decided by the same rule the transfer uses, from the settings on the Integration page. A line "
                     "with an item of its own keeps it, except under a mapped dimension or a GL account.")),
    "rules_none": ("Reglerne kunne ikke læses.", "The rules could not be read."),
    "case": ("Tilfælde", "Case"),
    "principle": ("Princip", "Principle"),
    "gets": ("Linjen får", "The line gets"),
    "rule": ("Regel", "Rule"),
    "result": ("Resultat", "Result"),
    "case.no_item": ("linje uden eget varenummer", "a line without an item of its own"),
    "case.unmapped": ("{n} andre uden tilknytning", "{n} others without a mapping"),
    "case.unknown": ("værdi ukendt", "value unknown"),
    "mode.on_line": ("Vælg ved fakturering", "On the invoice line"),
    "mode.by_dimension": ("Efter {dimension}", "By {dimension}"),
    "mode.specific_item": ("Ét bestemt varenummer", "One specific item"),
    "mode.gl_account": ("Finanskonto", "GL account"),
    "dim.project_type": ("projekttype", "project type"),
    "dim.project_category": ("projektkategori", "project category"),
    "dim.task_type": ("opgavetype", "task type"),
    "dim.hourly_rate": ("timepris", "hourly rate"),
    "dim.expense_type": ("udgiftstype", "expense type"),
    "gl": ("finanskonto {account}", "GL account {account}"),
    "no_item_gets": ("intet varenummer", "no item"),
    "outcome.ok": ("overføres", "transferred"),
    "outcome.no_item": ("vælges i hånden på fakturalinjen; uden varenummer overføres linjen ikke (I5)",
                        "chosen by hand on the invoice line; without an item the line is not transferred (I5)"),
    "items_list": ("Uniconta-varer", "Uniconta's items"),
    "reports": ("Afstemning", "Reconciliation"),
    "period": ("Periode", "Period"),
    "from": ("Fra", "From"),
    "to": ("Til", "To"),
    "make_report": ("Lav rapport", "Make report"),
    "open": ("Åbn", "Open"),
    "report_written": ("Rapporten er skrevet: {name}", "The report is written: {name}"),
    "no_reports": ("Ingen rapporter endnu.", "No reports yet."),
    "backfill": ("Overfør historiske fakturaer (backfill)", "Transfer historical invoices (backfill)"),
    "first_month": ("Første måned", "First month"),
    "last_month": ("Sidste måned", "Last month"),
    "show_plan": ("Vis plan (prøvekørsel)", "Show plan (dry run)"),
    "plan": ("Plan (prøvekørsel, intet skrevet)", "Plan (dry run, nothing written)"),
    "start_backfill": ("Start backfill", "Start backfill"),
    # the dry run's counts (tlsync.invoicing.runner.transfer_period)
    "plan_transferred": ("overføres", "transferred"),
    "plan_planned_total": ("skrivninger i alt", "writes planned"),
    "plan_lines": ("linjer", "lines"),
    "plan_pending": ("afventer", "pending"),
    "plan_failed": ("fejler", "failed"),
    "plan_elsewhere": ("overført andetsteds", "transferred elsewhere"),
    "plan_ignored": ("ignoreret", "ignored"),
    "plan_unchanged": ("uændret", "unchanged"),
    "plan_calls": ("Uniconta-kald", "Uniconta calls"),
    "expenses": ("Udgifter", "Expenses"),
    "creditor": ("Kreditor", "Supplier"),
    "text": ("Tekst", "Text"),
    "expense_type": ("Udgiftstype", "Expense type"),
    "project": ("Projekt", "Project"),
    "import_expense": ("Importér som projektudgift", "Import as project expense"),
    "ignore_expense": ("Ignorér", "Ignore"),
    "nothing_waiting": ("Ingen udgifter venter på en beslutning.", "No expense waits for a decision."),
    "not_activated": ("Ikke aktiveret", "Not activated"),
    "gate_counts": ("Tilbage at sammenkæde: Ét forslag {one}, Flere forslag {several}, Ingen forslag {none}",
                    "Left to link: One suggestion {one}, Several {several}, No suggestion {none}"),
    "problems": ("Problemer", "Problems"),
    "state": ("Status", "State"),
    "invoice": ("Faktura", "Invoice"),
    "kind": ("Art", "Kind"),
    "date": ("Dato", "Date"),
    "total": ("Beløb", "Total"),
    "reason": ("Årsag", "Reason"),
    "st.pending": ("Afventer", "Pending"),
    "st.in_flight": ("Under overførsel", "In flight"),
    "st.done": ("Overført", "Transferred"),
    "st.failed": ("Fejlet", "Failed"),
    "st.ignored": ("Ignoreret", "Ignored"),
    "st.elsewhere": ("Overført andetsteds", "Transferred elsewhere"),
    "st.review": ("Til gennemsyn", "For review"),
    "st.all": ("Alle", "All"),
    "inv.invoice": ("Faktura", "Invoice"),
    "inv.credit_note": ("Kreditnota", "Credit note"),
    "vz.Domestic": ("Indland", "Domestic"),
    "vz.EU": ("EU", "EU"),
    "vz.Abroad": ("Udland", "Abroad"),
    "vz.VatFree": ("Momsfri", "VAT free"),
    "retry": ("Prøv igen", "Retry"),
    "ignore": ("Ignorér", "Ignore"),
    "unignore": ("Fjern ignorering", "Un-ignore"),
    "no_invoices": ("Ingen fakturaer i denne visning.", "No invoices in this view."),
    "language": ("English", "Dansk"),
    "logged_in_as": ("Logget ind som {who}", "Logged in as {who}"),
    "not_linked_yet": ("Ikke matchet endnu: {n}", "Not matched yet: {n}"),
    "linked": ("Sammenkædet: {n}", "Linked: {n}"),
}


def lang_of(value: str | None) -> str:
    return value if value in LANGUAGES else DEFAULT


def translate(lang: str, key: str, **kw: object) -> str:
    pair = WORDS.get(key)
    if pair is None:
        return key
    text = pair[0] if lang == "da" else pair[1]
    return text.format(**kw) if kw else text


def money(value: object) -> str:
    """``1234.5`` → ``1.234,50`` (Danish grouping and decimal comma; half-up to the øre)."""
    if value in (None, ""):
        return ""
    try:
        d = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return str(value)
    return format_decimal(d, format="#,##0.00", locale="da_DK")


def day(value: object) -> str:
    """A date (or ISO text) as ``02-12-2026``."""
    if value in (None, ""):
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d-%m-%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d-%m-%Y")
    text = str(value)
    try:
        return date.fromisoformat(text[:10]).strftime("%d-%m-%Y") + (
            " " + text[11:16] if len(text) > 10 and text[10] in "T " else "")
    except ValueError:
        return text
