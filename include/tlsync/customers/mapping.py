"""The official TimeLog customer ⇄ Uniconta debtor field mapping (rules T1, U1, L3, S4), in one place.

Source: TimeLog's Uniconta field mapping (api.timelog.com) ("Customer" and "Contacts" tables, TimeLog's own
Uniconta integration). The TimeLog side is the Reporting API's ``GetCustomersRaw`` record as staged (keys ``ID``,
``Name``, ``No``, ``Address1..3``, ``ZipCode``, ``City``, ``Country``/``CountryID``, ``Phone``, ``Email``,
``VATNo``, ``EanNo`` …); the Uniconta side is :class:`~tlsync.clients.uniconta.models.DebtorClient`; TimeLog is
written through the REST ``CustomerCreate``/``CustomerUpdate`` models.

====================  =====================  ======================  ==========================================
TimeLog (Reporting)   Uniconta (DebtorClient) TimeLog write attribute  notes
====================  =====================  ======================  ==========================================
Name                  Name                   name
Phone                 Phone                  phone                   compared as E.164 (``+45…``)
Email                 ContactEmail           email                   compared trimmed and case-folded
Address1..3           Address1..3            address, address2..3
ZipCode               ZipCode                zip_code
City                  City                   city
CountryID / Country   Country                country_id              via :mod:`.countries`; unknown = skipped
VATNo                 CompanyRegNo           vat_no                  the mapping's "LegalIdent" is the CVR field
                                                                     ``CompanyRegNo``; compared as CVR digits
EanNo                 EAN                    (create only)           REST's update model has no EAN field
====================  =====================  ======================  ==========================================

Not mapped, as in the official table: customer number (it becomes the debtor ``Account`` on creation only),
owner, fax, website, state, giro and organisation numbers. Currency is in the official table, but the staged
Reporting record carries no currency, so a new debtor gets the company currency (Uniconta's default).

Rules the functions keep:

- **Empty never overwrites** (L3.1/L3.2): a blank value on the source side is never copied.
- **No flapping**: values are compared normalised (whitespace runs, e-mail case, phone and CVR formatting,
  ``None`` vs ``""``), so a record that only differs in formatting is not written. What *is* written is the
  source's value exactly as it is — names with HTML, quotes, emoji or 300 characters pass unchanged.
- **S4 defaults only on creation**: :func:`new_debtor` is the only function that sets debtor group, VAT zone,
  VAT code, payment terms and layout group (:data:`S4_FIELDS`); :func:`debtor_changes` can never return them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tlsync.clients.timelog.models import CustomerCreate
from tlsync.clients.uniconta.models import ContactClient, DebtorClient
from tlsync.matching.normalize import cvr_digits, norm_phone
from tlsync.settings.models import DebtorDefaults

from .countries import timelog_country_id, uniconta_country

__all__ = [
    "CONTACT_FIELDS", "FIELDS", "S4_FIELDS", "FieldMap", "canonical", "contact_changes", "contact_values",
    "customer_changes", "debtor_changes", "is_empty", "new_contact", "new_customer", "new_debtor",
    "timelog_values", "uniconta_values", "value_of",
]

S4_FIELDS = ("Group", "VatZone", "Vat", "Payment", "LayoutGroup")
"""Debtor fields set from the S4 defaults when tlsync creates a debtor, and never written afterwards."""


@dataclass(frozen=True)
class FieldMap:
    """One row of the official Customer table."""

    timelog: str               # Reporting GetCustomersRaw key
    uniconta: str              # DebtorClient field
    update: str | None         # CustomerUpdate attribute (None: REST cannot update it)
    create: str                # CustomerCreate attribute
    kind: str = "text"         # how values are compared: text | email | phone | cvr | digits | country


FIELDS: tuple[FieldMap, ...] = (
    FieldMap("Name", "Name", "name", "name"),
    FieldMap("Phone", "Phone", "phone", "phone", "phone"),
    FieldMap("Email", "ContactEmail", "email", "email", "email"),
    FieldMap("Address1", "Address1", "address", "address"),
    FieldMap("Address2", "Address2", "address2", "address2"),
    FieldMap("Address3", "Address3", "address3", "address3"),
    FieldMap("ZipCode", "ZipCode", "zip_code", "zip_code"),
    FieldMap("City", "City", "city", "city"),
    FieldMap("CountryID", "Country", "country_id", "country_id", "country"),
    FieldMap("VATNo", "CompanyRegNo", "vat_no", "vat_no", "cvr"),
    FieldMap("EanNo", "EAN", None, "ean_no", "digits"),
)
_BY_UNICONTA = {f.uniconta: f for f in FIELDS}

CONTACT_FIELDS = ("Name", "Mobil", "Email")
"""ContactClient fields written from a TimeLog contact (official Contacts table; ``DCAccount`` is the link)."""
_CONTACT_KINDS = {"Name": "text", "Mobil": "phone", "Email": "email"}

_NON_ALNUM = re.compile(r"[^0-9A-Za-z]+")
_NON_DIGIT = re.compile(r"[^0-9]+")


# --------------------------------------------------------------------------------------------- primitives


def value_of(record: Any, key: str) -> Any:
    """A field of a dict-like payload or of a pydantic model (``DebtorClient``), ``None`` when absent."""
    if record is None:
        return None
    if isinstance(record, Mapping):
        return record.get(key)
    return getattr(record, key, None)


def is_empty(value: Any) -> bool:
    """``None``, blank text and a zero id are "no value" (so they never overwrite anything)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return value == 0
    return False


def _canonical_kind(kind: str, value: Any) -> str:
    if is_empty(value):
        return ""
    text = str(value)
    if kind == "email":
        return text.strip().casefold()
    if kind == "phone":
        return norm_phone(text) or " ".join(text.split())
    if kind == "cvr":
        return cvr_digits(text) or _NON_ALNUM.sub("", text).upper()
    if kind == "digits":
        return _NON_DIGIT.sub("", text) or text.strip()
    if kind == "country":
        return text.strip().casefold()
    return " ".join(text.split())


def canonical(uniconta_field: str, value: Any) -> str:
    """The comparable form of a value of a mapped field (named by its Uniconta field): equal canonical forms mean
    "the same data, only formatted differently" — no write. ``""`` for an empty value."""
    if uniconta_field in _CONTACT_KINDS and uniconta_field not in _BY_UNICONTA:
        return _canonical_kind(_CONTACT_KINDS[uniconta_field], value)
    return _canonical_kind(_BY_UNICONTA[uniconta_field].kind, value)


# ----------------------------------------------------------------------------------------- both directions


def timelog_values(customer: Mapping) -> dict[str, Any]:
    """A TimeLog customer's mapped values, keyed by Uniconta field, in Uniconta's form (country as the
    ``CountryCode`` member; ``None`` for a country the table does not know)."""
    out: dict[str, Any] = {}
    for f in FIELDS:
        if f.kind == "country":
            out[f.uniconta] = uniconta_country(value_of(customer, "CountryID"), value_of(customer, "Country"))
        else:
            out[f.uniconta] = value_of(customer, f.timelog)
    return out


def uniconta_values(debtor: Mapping) -> dict[str, Any]:
    """A debtor's mapped values, keyed by Uniconta field, as Uniconta holds them."""
    return {f.uniconta: value_of(debtor, f.uniconta) for f in FIELDS}


def _to_timelog(f: FieldMap, value: Any) -> Any:
    """A Uniconta value in the form TimeLog's write models take (country → ISO-numeric id)."""
    if f.kind == "country":
        return timelog_country_id(value)
    return value


def debtor_changes(customer: Mapping, debtor: Mapping) -> dict[str, Any]:
    """Rule T1 / L3.1 (link and use TimeLog data): ``{DebtorClient field: new value}`` for every mapped field
    whose TimeLog value is non-empty and differs (normalised) from the debtor's. Empty TimeLog fields never
    overwrite. Never contains the S4 default fields."""
    current = uniconta_values(debtor)
    out: dict[str, Any] = {}
    for field, value in timelog_values(customer).items():
        if is_empty(value):
            continue
        if canonical(field, value) != canonical(field, current[field]):
            out[field] = value
    return out


def customer_changes(debtor: Mapping, customer: Mapping) -> dict[str, Any]:
    """Rule U1 / L3.2 (link and use Uniconta data): ``{CustomerUpdate attribute: new value}`` for every mapped,
    REST-updatable field whose Uniconta value is non-empty and differs (normalised) from TimeLog's. Empty Uniconta
    fields are not copied; a Uniconta country the table does not know is left alone."""
    mine = timelog_values(customer)
    out: dict[str, Any] = {}
    for field, value in uniconta_values(debtor).items():
        f = _BY_UNICONTA[field]
        if f.update is None or is_empty(value):
            continue
        target = _to_timelog(f, value)
        if is_empty(target):
            continue
        if canonical(field, value) != canonical(field, mine[field]):
            out[f.update] = target
    return out


# ---------------------------------------------------------------------------------------------- creation


def new_debtor(customer: Mapping, account: str, defaults: DebtorDefaults) -> DebtorClient:
    """Rule T1 creation: a debtor from a TimeLog customer, numbered ``account``, with the S4 defaults (debtor
    group, VAT zone, optional VAT code, payment terms, layout group) — the only place those are ever set."""
    name = value_of(customer, "Name")
    if is_empty(name):
        raise ValueError(f"TimeLog customer {value_of(customer, 'ID')} (no. {value_of(customer, 'No')}) has no "
                         f"name; a Uniconta debtor needs one (rule T1)")
    if is_empty(account):
        raise ValueError(f"TimeLog customer {value_of(customer, 'ID')}: no debtor account given (rule T1)")
    values = {k: v for k, v in timelog_values(customer).items() if not is_empty(v)}
    values.update(Account=str(account), Group=defaults.debtor_group, VatZone=defaults.vat_zone.value,
                  Payment=defaults.payment_terms, LayoutGroup=defaults.layout_group)
    if defaults.vat:
        values["Vat"] = defaults.vat
    return DebtorClient(**values)


def new_customer(debtor: Mapping, customer_no: str | None = None) -> CustomerCreate:
    """Rule L3.3 (import as a new TimeLog customer): a REST create model from a Uniconta debtor. The customer
    number is ``customer_no``, else the debtor's ``Account`` (so the two systems share the number; rule L6 then
    advises aligning TimeLog's number series). Empty Uniconta fields are left out."""
    name = value_of(debtor, "Name")
    account = value_of(debtor, "Account")
    if is_empty(name):
        raise ValueError(f"Uniconta debtor {account} has no name; a TimeLog customer needs one (rule L3.3)")
    values: dict[str, Any] = {}
    for field, value in uniconta_values(debtor).items():
        f = _BY_UNICONTA[field]
        target = _to_timelog(f, value)
        if not is_empty(target):
            values[f.create] = target
    number = customer_no if not is_empty(customer_no) else account
    if not is_empty(number):
        values["customer_no"] = str(number)
    return CustomerCreate(**values)


# ---------------------------------------------------------------------------------------------- contacts


def contact_values(contact: Mapping, account: str) -> dict[str, Any]:
    """The ContactClient fields of a TimeLog contact (``GetContactsRaw`` record) on debtor ``account``:
    ``Name`` = first name + last name (the official table concatenates them; ``FullName`` as fall-back),
    ``Mobil`` = ``Phone`` (the official mapping), else the contact's ``Mobile``, ``Email``."""
    first, last = value_of(contact, "FirstName"), value_of(contact, "LastName")
    name = " ".join(str(p).strip() for p in (first, last) if not is_empty(p)) or value_of(contact, "FullName")
    phone = value_of(contact, "Phone")
    if is_empty(phone):
        phone = value_of(contact, "Mobile")
    return {"DCAccount": str(account), "Name": name, "Mobil": phone, "Email": value_of(contact, "Email")}


def contact_changes(contact: Mapping, uniconta_contact: Mapping, account: str) -> dict[str, Any]:
    """The ContactClient fields to change so ``uniconta_contact`` carries the TimeLog contact's data (non-empty
    TimeLog values that differ, normalised), plus ``DCAccount`` when the contact sits on another debtor."""
    wanted = contact_values(contact, account)
    out: dict[str, Any] = {}
    for field in CONTACT_FIELDS:
        value = wanted[field]
        if not is_empty(value) and canonical(field, value) != canonical(field, value_of(uniconta_contact, field)):
            out[field] = value
    if str(value_of(uniconta_contact, "DCAccount") or "") != str(account):
        out["DCAccount"] = str(account)
    return out


def new_contact(contact: Mapping, account: str) -> ContactClient:
    """A Uniconta contact on debtor ``account`` from a TimeLog contact (empty fields left out)."""
    values = {k: v for k, v in contact_values(contact, account).items() if not is_empty(v)}
    if "Name" not in values:
        raise ValueError(f"TimeLog contact {value_of(contact, 'ID')} has no name (rule T1, contacts)")
    return ContactClient(DCType="Debtor", **values)
