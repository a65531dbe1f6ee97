"""TimeLog models: API field names as aliases, Decimal money, open enums, and the official samples' quirks."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import httpx
import pytest
from pydantic import ValidationError

from tlsync.clients.timelog import ReportingClient, ReportingSettings
from tlsync.clients.timelog.models import (
    Customer,
    CustomerCreate,
    CustomerUpdate,
    Employee,
    ExecutionStatus,
    Invoice,
    InvoiceStatus,
    InvoiceType,
    Mileage,
    Project,
    RegistrationType,
    SecurityToken,
    TxInvoice,
    api_alias,
)


def test_alias_generator_spells_timelog_names():
    assert api_alias("customer_id") == "CustomerID"
    assert api_alias("vat_no") == "VATNo"
    assert api_alias("currency_iso_code") == "CurrencyISOCode"
    assert api_alias("pm_initials") == "PMInitials"
    assert api_alias("bar_hours") == "BARHours"


def test_models_validate_by_api_name_and_by_attribute_name():
    a = Customer.model_validate({"ID": "5", "Name": "X", "VATNo": "DK1", "CreatedByEmployeeId": "3"})
    b = Customer(id=5, name="X", vat_no="DK1", created_by_employee_id=3)
    assert a == b


def test_write_models_dump_with_the_write_side_names():
    body = CustomerCreate(name="Kunde A/S", customer_no="1001", vat_no="DK12345678", primary_kam_id=4,
                          vat_percentage=Decimal("25"), calculate_vat=True).to_api()
    assert body == {"Name": "Kunde A/S", "CustomerNo": "1001", "VatNo": "DK12345678", "PrimaryKAMID": 4,
                    "VatPercentage": Decimal("25"), "CalculateVat": True}


def test_customer_update_from_reporting_carries_the_write_only_fields():
    c = Customer(id=9, name="A", no="1", address1="Gade 1", zip_code="1000", city="Kbh", web_page="a.dk",
                 phone="+45 1", account_manager_id=2, secondary_account_manager_id=3, vat_no="DK9",
                 customer_since="2011-08-12")
    u = CustomerUpdate.from_reporting(c)
    assert (u.customer_id, u.customer_no, u.address, u.website, u.primary_kam_id, u.secondary_kam_id) == (
        9, "1", "Gade 1", "a.dk", 2, 3)
    assert u.customer_since == datetime(2011, 8, 12)


def test_enums_known_and_unknown_values():
    assert InvoiceStatus(1) is InvoiceStatus.BOOKED and InvoiceStatus("3") is InvoiceStatus.PAID
    assert InvoiceType(2) is InvoiceType.CREDIT_NOTE
    odd = InvoiceType(0)
    assert odd == 0 and odd.name == "UNKNOWN_0"
    assert RegistrationType(16) is RegistrationType.MILEAGE
    assert ExecutionStatus.parse("Success") is ExecutionStatus.SUCCESS
    assert ExecutionStatus.parse("Invalid") is ExecutionStatus.INVALID


def test_money_is_decimal_and_required_fields_are_enforced():
    inv = Invoice.model_validate({"ID": "1", "InvoiceDate": "2024-01-31T00:00:00", "Amount": "0.1000",
                                  "Status": "1", "Type": "1", "CustomerID": "4"})
    assert inv.amount == Decimal("0.1") and isinstance(inv.amount, Decimal)
    with pytest.raises(ValidationError) as err:
        Invoice.model_validate({"ID": "1", "InvoiceDate": "2024-01-31T00:00:00", "Status": "1", "Type": "1",
                                "CustomerID": "4"})
    assert "Amount" in str(err.value)


def test_sample_quirks_are_accepted():
    project = Project.model_validate({"ID": "740", "ProjectLink": "https://x", "ProjectStartDate": "2015-03-01",
                                      "BudgetAmountFixedPriceTasks": "[OBSOLETE from v6.0.5]",
                                      "BudgetAmount": "23000", "InternalProject": "0", "PMID": "20"})
    assert project.link == "https://x" and project.budget_amount_fixed_price_tasks is None
    assert project.project_start_date == datetime(2015, 3, 1) and project.pm_id == 20
    assert project.internal_project is False
    employee = Employee.model_validate({"ID": "17", "EmployeeUserId": "2", "EmployeeTypeId": "2",
                                        "HiredDate": "2011-01-18T00:00:00.000", "CostPrice": "1200.00"})
    assert employee.employee_type_id == 2 and employee.employee_user_id == 2
    assert employee.cost_price == Decimal("1200.00")
    mileage = Mileage.model_validate({"ID": "1499", "TravelForm": "Egen Bil", "TravelKM": "12",
                                      "TravelSelfPayment": "1"})
    assert mileage.travel_car == "Egen Bil" and mileage.travel_km == Decimal("12")


def test_transactional_nil_and_dotnet_min_date_are_none():
    inv = TxInvoice.model_validate({"ID": "1", "DueDate": "0001-01-01T00:00:00", "ExternalKeys": None,
                                    "InvoiceLines": []})
    assert inv.due_date is None and inv.external_keys == [] and inv.invoice_lines == []


def test_security_token_hash_is_not_in_repr():
    token = SecurityToken(initials="INT", expires=datetime(2030, 1, 1), hash="very-secret-hash")
    assert "very-secret-hash" not in repr(token)


NS = 'xmlns:tlp="http://www.timelog.com/XML/Schema/tlp/v4_4"'


def _client(body: str) -> ReportingClient:
    settings = ReportingSettings(base_url="http://sim/tlsim", site_code="S", api_id="a", api_password="p-secret")
    return ReportingClient(settings, transport=httpx.MockTransport(lambda r: httpx.Response(200, text=body)))


def test_official_mileage_sample_with_unqualified_children_reads():
    body = (f'<tlp:Mileages {NS}><tlp:Mileage ID="1499"><CustomerName>TimeLog A/S</CustomerName>'
            "<CustomerID>4312</CustomerID><TravelStartDate>2015-04-01T00:00:00</TravelStartDate>"
            "<TravelCostAmount>4.00</TravelCostAmount><TravelKM>12</TravelKM><IsBillable>1</IsBillable>"
            "</tlp:Mileage></tlp:Mileages>")
    with _client(body) as client:
        (m,) = client.mileage(datetime(2015, 1, 1), datetime(2015, 12, 31))
    assert (m.id, m.customer_id, m.travel_cost_amount, m.is_billable) == (1499, 4312, Decimal("4.00"), True)


def test_official_line_details_sample_in_schema_v5_0_reads():
    body = ('<tlp:InvoiceLineDetails xmlns:tlp="http://www.timelog.com/XML/Schema/tlp/v5_0">'
            '<tlp:InvoiceLineDetail ID="1001088"><tlp:InvoiceLineID>145352</tlp:InvoiceLineID>'
            "<tlp:Quantity>0.7000</tlp:Quantity><tlp:Rate>1080.0000</tlp:Rate><tlp:Amount>756.0000</tlp:Amount>"
            "<tlp:RegistrationType>2</tlp:RegistrationType></tlp:InvoiceLineDetail></tlp:InvoiceLineDetails>")
    with _client(body) as client:
        (d,) = client.invoice_line_details(datetime(2018, 1, 1), datetime(2018, 12, 31))
    assert d.quantity * d.rate == d.amount and d.registration_type is RegistrationType.WORK_UNIT
