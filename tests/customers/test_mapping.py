"""The official customer/contact field mapping (rules T1, U1, L3, S4): pure functions, no I/O."""

from __future__ import annotations

import pytest

from tlsync.clients.uniconta.models import DebtorClient
from tlsync.customers.countries import timelog_country_id, uniconta_country
from tlsync.customers.mapping import (
    S4_FIELDS,
    contact_changes,
    contact_values,
    customer_changes,
    debtor_changes,
    new_contact,
    new_customer,
    new_debtor,
)
from tlsync.settings.models import DebtorDefaults, VatZone

DEFAULTS = DebtorDefaults(debtor_group="DK", payment_terms="N30", layout_group="Standard")

# A staged Reporting GetCustomersRaw record (values as the XML gives them: text)
CUSTOMER = {"ID": "7", "GUID": "g", "Name": "Nordlys Consulting A/S", "No": "10007", "Address1": "Åboulevard 21",
            "Address2": "", "Address3": "", "ZipCode": "8000", "City": "Aarhus C", "State": "", "CountryID": "208",
            "Country": "Danmark", "Phone": "0045-8797 0176", "Fax": "", "Email": "info@nordlys.dk",
            "WebPage": "www.nordlys.dk", "VATNo": "31457896", "EanNo": "5790001234567"}
DEBTOR = {"Account": "10007", "Name": "Nordlys Consulting A/S", "Address1": "Åboulevard 21", "ZipCode": "8000",
          "City": "Aarhus C", "Country": "Denmark", "Phone": "87 97 01 76", "ContactEmail": "INFO@Nordlys.dk ",
          "CompanyRegNo": "DK31457896", "EAN": "5790001234567", "Group": "EU", "VatZone": "EU", "Payment": "KONT",
          "LayoutGroup": "Engelsk", "Vat": "UEUY"}

HOSTILE = [
    "<script>alert('x')</script> & Co A/S",
    'O\'Brien "Quoted" ApS; DROP TABLE customers;--',
    "Kaffe ☕ og Kage 🎂 ApS \u200b",
    "Æ" * 300,
    "=HYPERLINK(\"http://evil\")",
]


def test_identical_data_in_different_formats_is_no_change_in_either_direction():
    assert debtor_changes(CUSTOMER, DEBTOR) == {}
    assert customer_changes(DEBTOR, CUSTOMER) == {}


def test_none_and_empty_do_not_flap():
    c = {**CUSTOMER, "Address2": None, "Address3": "  "}
    d = {**DEBTOR, "Address2": "", "Address3": None}
    assert debtor_changes(c, d) == {} and customer_changes(d, c) == {}


def test_empty_timelog_fields_never_overwrite():
    blank = {**CUSTOMER, "Phone": "", "Email": None, "City": "   ", "VATNo": "", "CountryID": "0", "Country": ""}
    d = {**DEBTOR, "City": "Skjern"}
    changes = debtor_changes(blank, d)
    assert changes == {}, "L3.1: empty TimeLog fields never overwrite Uniconta's"


def test_empty_uniconta_fields_are_not_copied():
    d = {"Account": "1", "Name": "", "Phone": None, "City": "", "Country": "", "CompanyRegNo": " "}
    assert customer_changes(d, CUSTOMER) == {}


def test_changed_timelog_values_are_returned_as_uniconta_fields():
    c = {**CUSTOMER, "Phone": "+45 22 33 44 55", "Email": "ny@nordlys.dk", "CountryID": "276", "Country": "Tyskland",
         "VATNo": "DE123456789", "Address2": "2. sal", "EanNo": "5790009999999"}
    assert debtor_changes(c, DEBTOR) == {"Phone": "+45 22 33 44 55", "ContactEmail": "ny@nordlys.dk",
                                         "Country": "Germany", "CompanyRegNo": "DE123456789",
                                         "Address2": "2. sal", "EAN": "5790009999999"}


def test_s4_default_fields_are_never_part_of_changes():
    d = {**DEBTOR, **{f: "something else" for f in S4_FIELDS}}
    assert not set(debtor_changes({**CUSTOMER, "Name": "Ny"}, d)) & set(S4_FIELDS)
    assert debtor_changes({**CUSTOMER, "Name": "Ny"}, d) == {"Name": "Ny"}


def test_changed_uniconta_values_are_returned_as_customer_update_attributes():
    d = {**DEBTOR, "City": "Risskov", "Country": "Sweden", "Phone": "+46 8 123 456 78", "EAN": "1"}
    assert customer_changes(d, CUSTOMER) == {"city": "Risskov", "country_id": 752, "phone": "+46 8 123 456 78"}, \
        "EAN is not in REST's update model, so it is not returned"


def test_unknown_countries_are_left_alone():
    assert "country_id" not in customer_changes({**DEBTOR, "Country": "Atlantis"}, CUSTOMER)
    assert "Country" not in debtor_changes({**CUSTOMER, "CountryID": "999", "Country": "Atlantis"}, DEBTOR)
    assert uniconta_country("208") == "Denmark" and uniconta_country(None, "Tyskland") == "Germany"
    assert timelog_country_id("UnitedKingdom") == 826 and timelog_country_id("Holland") == 528


def test_real_changes_that_only_look_alike_are_written():
    assert debtor_changes({**CUSTOMER, "Name": "Nordlys Consulting ApS"}, DEBTOR) == {"Name": "Nordlys Consulting ApS"}
    assert debtor_changes({**CUSTOMER, "Name": "nordlys consulting a/s"}, DEBTOR) == {"Name": "nordlys consulting a/s"}
    assert debtor_changes({**CUSTOMER, "VATNo": "31457897"}, DEBTOR) == {"CompanyRegNo": "31457897"}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_survive_unchanged(name):
    c = {**CUSTOMER, "Name": name, "City": name}
    assert debtor_changes(c, DEBTOR)["Name"] == name
    created = new_debtor(c, "20001", DEFAULTS)
    assert created.Name == name and created.City == name
    assert DebtorClient.model_validate(created.to_payload()).Name == name
    d = {**DEBTOR, "Name": name}
    assert customer_changes(d, CUSTOMER)["name"] == name
    assert new_customer(d).name == name


def test_new_debtor_sets_the_s4_defaults_and_the_mapped_fields():
    d = new_debtor(CUSTOMER, "10007", DebtorDefaults(debtor_group="OFF", vat_zone=VatZone.EU, vat="UEUY",
                                                     payment_terms="LM30", layout_group="OIOUBL"))
    p = d.to_payload()
    assert {k: p[k] for k in ("Account", "Group", "VatZone", "Vat", "Payment", "LayoutGroup")} == {
        "Account": "10007", "Group": "OFF", "VatZone": "EU", "Vat": "UEUY", "Payment": "LM30", "LayoutGroup": "OIOUBL"}
    assert (p["Name"], p["Phone"], p["ContactEmail"], p["CompanyRegNo"], p["Country"], p["EAN"]) == (
        "Nordlys Consulting A/S", "0045-8797 0176", "info@nordlys.dk", "31457896", "Denmark", "5790001234567")
    assert "Address2" not in p, "empty TimeLog fields are left out"
    assert "Vat" not in new_debtor(CUSTOMER, "1", DEFAULTS).to_payload(), "no VAT code default: the group's applies"


def test_new_debtor_without_name_names_the_customer_and_the_rule():
    with pytest.raises(ValueError, match=r"customer 7 \(no. 10007\).*rule T1"):
        new_debtor({**CUSTOMER, "Name": " "}, "1", DEFAULTS)


def test_new_customer_uses_the_debtor_account_unless_a_number_is_given():
    c = new_customer(DEBTOR)
    assert c.customer_no == "10007" and c.vat_no == "DK31457896" and c.country_id == 208 and c.ean_no
    api = c.to_api()
    assert api["CustomerNo"] == "10007" and api["VatNo"] == "DK31457896" and api["Address"] == "Åboulevard 21"
    assert new_customer(DEBTOR, "T-1").customer_no == "T-1"
    with pytest.raises(ValueError, match="rule L3.3"):
        new_customer({**DEBTOR, "Name": ""})


CONTACT = {"ID": "3", "FirstName": "Niels", "LastName": "Søndergaard", "FullName": "Niels Søndergaard",
           "CustomerID": "7", "Phone": "", "Mobile": "76792851", "Email": "niels@x.dk"}


def test_contact_mapping():
    assert contact_values(CONTACT, "10007") == {"DCAccount": "10007", "Name": "Niels Søndergaard",
                                                "Mobil": "76792851", "Email": "niels@x.dk"}
    assert contact_values({**CONTACT, "Phone": "11223344"}, "1")["Mobil"] == "11223344", "official: Phone → Mobile"
    uc = {"DCAccount": "10007", "Name": "Niels Søndergaard", "Mobil": "76 79 28 51", "Email": "NIELS@x.dk"}
    assert contact_changes(CONTACT, uc, "10007") == {}
    assert contact_changes({**CONTACT, "Email": "", "LastName": "S."}, uc, "10008") == {
        "Name": "Niels S.", "DCAccount": "10008"}
    assert new_contact(CONTACT, "10007").to_payload() == {"DCAccount": "10007", "DCType": "Debtor",
                                                          "Name": "Niels Søndergaard", "Mobil": "76792851",
                                                          "Email": "niels@x.dk"}
