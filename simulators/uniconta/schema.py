"""The Uniconta classes the simulator serves: names, keys, known fields, field types and defaults.

Field names are the C# property names of Uniconta's client classes (``Uniconta.ClientTools.DataModel``), as
listed in Uniconta's API docs (Uniconta.WindowsAPI, Uniconta-Pages) (taken from Uniconta's own UI source). A field that is not
listed here but appears in a fixture row is also known for that class (so a generator may add more).

Documented choices (the public material is silent):
- Keys are strings (``Account``, ``Item``, ``Number``, ``Group``, ``Payment``, ``Vat``); ``OrderNumber`` and
  ``InvoiceNumber`` are integers (``OrderNumber(int key)`` in the reference; ``InvoiceNumber`` taken as an integer
  number series). ``LineNumber`` is an integer here (Uniconta stores a double; whole numbers are what we use).
- Classes without a natural key (``ContactClient``, ``GLTransClient``, ``DebtorInvoiceLines``) are identified by
  ``RowId`` only. Every row of every class has an integer ``RowId`` assigned by the server on insert.
- Enum-backed fields (``Country``, ``VatZone``, ``ItemType``, ``CatType``, ``AccountType``, ``DCType``) are served
  as the enum member *name* string (e.g. ``"Denmark"``, ``"Domestic"``), as seen in real REST output.
- Dates are strings ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM:SS``; amounts are JSON numbers.
- ``DebtorInvoiceLines`` name the customer ``DCAccount`` (not ``Account``): Uniconta-Pages
  ``DebtorInvoiceLinesPage.xaml`` binds ``DCAccount``, and public Power BI queries of the OData feed select it.
  A fixture row still carrying ``Account`` is loaded as ``DCAccount``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def _expand(spec: str) -> list[str]:
    """``"Address1..3 Dimension1..5 Name"`` → explicit field names."""
    out: list[str] = []
    for tok in spec.split():
        if ".." in tok:
            head, last = tok.split("..")
            base = head.rstrip("0123456789")
            first = int(head[len(base):])
            out.extend(f"{base}{i}" for i in range(first, int(last) + 1))
        else:
            out.append(tok)
    return out


DELIVERY = ("DeliveryName DeliveryAddress1..3 DeliveryZipCode DeliveryCity DeliveryCountry DeliveryContactPerson "
            "DeliveryPhone DeliveryContactEmail DeliveryAccount")

# Field *types* by name (consistent across Uniconta's classes). Anything else is a string.
INT_FIELDS = frozenset(_expand(
    "RowId CompanyId OrderNumber InvoiceNumber LineNumber ContactRef Days GraceDays CashDiscountDays Voucher "
    "VoucherLine JournalPostedId Decimals DeliveryTime Invoice Sorting NoLines"
))
NUM_FIELDS = frozenset(_expand(
    "SalesPrice1..3 SalesPrice CostPrice PurchasePrice Price Qty Discount DiscountPct Total CreditMax EndDiscountPct "
    "LineDiscountPct CurBalance Overdue CurBalanceCur OverdueCur Debit Credit Amount AmountVat AmountCur AmountBase "
    "DebitCur CreditCur NetAmount LineAmount TotalAmount VatAmount AmountLocalCur CostValue SalesValue Margin "
    "MarginRatio ExchangeRate InvoiceQty NetDiscount InvoiceTotal InvoiceNetAmount GrossAmount AmountInclVat "
    "SalesPriceCur Rate Rate2 Pct1 Pct2 CashDiscountPct CashDiscount FixedPrice Completion QtyOnStock QtyReserved "
    "QtyOrdered Available AvailableForReservation TotalVat TotalInclVat OrderTotal TotalQty TotalBeforeVAT "
    "PaymentFee QtyNow QtyDelivered QtyInvoiced Weight NetWeight Volume Cartons Percentage CostPctCharge "
    "CostAmountCharge SalesPctCharge SalesAmountCharge MinStockLevel MaxStockLevel PurchaseQty PurchaseMin SalesQty "
    "AmountOpen AmountOpenCur"
))
BOOL_FIELDS = frozenset(_expand(
    "Blocked IsDefault AutoNumber Invoiceable PricesInclVat ProjectModule DoInvoice HideInSales HideInPurchase "
    "UseStorage EndOfMonth Weekend2Monday MandatoryTax BlockedInJournal Deleted Exempt HasVoucher Canceled "
    "Correction Approved RevenueFollowDC CompressPosting ExemptDuty MandatoryItem UseFirstIfBlank UseCostInWIP "
    "AutoWIP PostOnDC PartialPayment EndOfMonthCashDiscount ReverseVatOnCachdiscount PageBreak HideInBalance "
    "Reconciled PrimoAccount MandatoryCategory SaveTotal VoidInvoice CashPayment IsOneTimeDebtor InvoiceInXML "
    "EmailDocuments PackagingConsumer MicroEnterprise DirectDebitActive DeliveryIsInvoiceAddress DeleteOrder "
    "DeleteLines SubscriptionEnded Split UpdatingItems ProjectOrder CanAggregate Summation AggregateEmployee "
    "AggregateItem AggregatePayroll Forward Accrued Allocated Modified PostCalculated VatEntered UsedSalesVat "
    "Withholding UseAlternative UseVariants MandatoryVariant DeliveryDateConfirmed ApproveOnEmail AllowMergePayment "
    "CreditorBankApprovement"
))
DATE_FIELDS = frozenset(_expand(
    "Date Created DueDate DeliveryDate InvoiceDate StartDate EndDate DocumentDate UpdatedAt CreatedTime OrderCreated "
    "SendTime CashDiscountDate CreditnoteDate Hired Terminated NextInvoice ApprovedDate TMCloseDate TMApproveDate "
    "RateAfterDate PurchaseDate LastInvoice"
))


def field_type(name: str) -> str:
    """``"int"``, ``"num"``, ``"bool"``, ``"date"`` or ``"str"``."""
    if name in INT_FIELDS:
        return "int"
    if name in NUM_FIELDS:
        return "num"
    if name in BOOL_FIELDS:
        return "bool"
    if name in DATE_FIELDS:
        return "date"
    return "str"


@dataclass(frozen=True)
class EntitySchema:
    """One Uniconta class as served at ``/odata/{CompanyId}/{name}`` and ``/api/Entities/.../{name}``."""

    name: str
    keys: tuple[str, ...]
    fields: frozenset[str]
    defaults: dict[str, Any] = field(default_factory=dict)
    project: bool = False           # refused when the company lacks the project module
    auto_key: str | None = None     # integer key numbered by the server when absent or 0
    # (field, target class, target key): checked on insert/update when the field is set and the target
    # table has rows (so short hand-written fixtures need not carry every master table).
    references: tuple[tuple[str, str, str], ...] = ()
    required: tuple[str, ...] = ()  # must be non-blank on insert/update (besides the keys)
    types: dict[str, str] = field(default_factory=dict)  # per-class overrides of :func:`field_type`

    def type_of(self, name: str) -> str:
        return self.types.get(name) or field_type(name)


def _schema(name: str, keys: str, spec: str, defaults: dict[str, Any] | None = None, **kw: Any) -> EntitySchema:
    key_t = tuple(keys.split())
    fields = frozenset(["RowId", *key_t, *_expand(spec)])
    return EntitySchema(name, key_t, fields, dict(defaults or {}), **kw)


SCHEMAS: dict[str, EntitySchema] = {s.name: s for s in [
    _schema("CompanyClient", "CompanyId",
            "Name Country Currency CompanyRegNo VatNumber Address1..3 ZipCode City Phone ProjectModule",
            {"Name": "", "Country": "Denmark", "Currency": "DKK", "ProjectModule": False}),
    _schema("DebtorClient", "Account",
            "Name CompanyRegNo VatNumber EAN EORI Address1..3 ZipCode City Country UserLanguage Phone ContactPerson "
            "ContactEmail Www MobilPhone Blocked IndustryCode CompanyState Group PaymentFormat Payment EndDiscountPct "
            "LineDiscountPct CreditMax Employee VatZone Vat VatOperation Currency BankAccountType BankAccount SWIFT "
            "RefInPayment D2CAccount Created CrmGroup Interests Products InvoiceEmail EmailDocuments InvoiceInXML "
            "BalanceMethod PostingAccount TransType InvoiceAccount PriceGroup PriceList Shipment DeliveryTerm "
            "LayoutGroup ItemNameGroup PricesInclVat OurAccount LastInvoice PaymentFee " + DELIVERY +
            " DeliveryId PackagingConsumer MicroEnterprise DirectDebitActive Dimension1..5 CurBalance Overdue "
            "CurBalanceCur OverdueCur HasNotes HasDocs KeyStr",
            {"Name": "", "Blocked": False, "Country": "Denmark", "VatZone": "Domestic", "CreditMax": 0.0,
             "CurBalance": 0.0},
            references=(("Group", "DebtorGroupClient", "Group"), ("Payment", "PaymentTermClient", "Payment"),
                        ("LayoutGroup", "DebtorLayoutGroupClient", "Name"), ("Vat", "GLVatClient", "Vat"))),
    _schema("CreditorClient", "Account",
            "CompanyRegNo Name Address1..3 ZipCode City Country UserLanguage Phone ContactPerson ContactEmail Www "
            "MobilPhone Blocked IndustryCode CompanyState Group Shipment DeliveryTerm Employee VatZone Vat "
            "VatOperation Withholding Currency EndDiscountPct LineDiscountPct DeliveryTime PrCategory D2CAccount "
            "Created CreditorBankApprovement PaymentMethod PaymentId SWIFT BankMessage AllowMergePayment "
            "PaymentFormat Payment RefInPayment CrmGroup InvoiceEmail EAN VatNumber EORI BalanceMethod PostingAccount "
            "TransType InvoiceAccount LayoutGroup ItemNameGroup PriceList OurAccount LastInvoice " + DELIVERY +
            " Dimension1..5 CurBalance",
            {"Name": "", "Blocked": False, "Country": "Denmark", "VatZone": "Domestic"}),
    _schema("DebtorGroupClient", "Group",
            "Name IsDefault AutoNumber RevenueFollowDC CompressPosting ExemptDuty MandatoryItem PriceGroup PriceList "
            "LayoutGroup ItemNameGroup InvoiceSerie SummeryAccount EndDiscountAccount SettlementDiscountAccount "
            "CurrencyAdjustment DiscountAccount DiscountAccountOffset RevenueAccount SalesVat SalesVatOpr "
            "UseFirstIfBlank RevenueAccount1..4 SalesVat1..4 SalesVatOpr1..4 PaymentFee",
            {"Name": "", "IsDefault": False, "AutoNumber": False}),
    _schema("PaymentTermClient", "Payment",
            "Name IsDefault PaymentMethod Weekend2Monday Account PostOnDC OffsetAccount DebtorAccount Pct1 Pct2 Days "
            "EndOfMonth PartialPayment GraceDays CashDiscountPct EndOfMonthCashDiscount CashDiscountDays "
            "CashdiscountMethod ReverseVatOnCachdiscount",
            {"Name": "", "IsDefault": False, "Days": 0, "EndOfMonth": False}),
    _schema("DebtorLayoutGroupClient", "Name", "IsDefault Invoice Creditnote Packnote OrderConfirmation Offer",
            {"IsDefault": False}, types={"Invoice": "str"}),
    _schema("ContactClient", "",  # fields: Uniconta-Pages Contact/ContactPage2.xaml
            "Name Email Mobil Title DCType DCAccount EAN ReferenceId Interests Products Invoice AccountStatement "
            "InterestNote CollectionLetter Packnote Confirmation Offer GetEmailIfContact",
            {"Name": "", "DCType": "Debtor"},
            types={k: "bool" for k in ("Invoice", "AccountStatement", "InterestNote", "CollectionLetter", "Packnote",
                                       "Confirmation", "Offer", "GetEmailIfContact")}),
    _schema("EmployeeClient", "Number",
            "Name Title Group Address1..2 ZipCode City Mobil PrivateMobil Email PrivateEmail PersonalId PayId "
            "VechicleRegNo PayrollCategory MNENo Approver Approver2 UserLoginId UserName Invoice Confirmation Offer "
            "ApproveOnEmail Blocked Warehouse CostPrice SalesPrice TMCloseDate TMApproveDate Hired Terminated",
            {"Name": "", "Blocked": False},
            types={"Invoice": "bool", "Confirmation": "bool", "Offer": "bool"}),
    _schema("InvItemClient", "Item",
            "Name ItemType Blocked Photo URL InvoiceAttachment CostPrice SalesPrice1..3 SalesUnit PurchasePrice "
            "PurchaseUnit Group DiscountGroup DutyGroup Unit UnitGroup Decimals PurchaseAccount SupplierItemId EAN "
            "StockPosition UNSPSC Warehouse Location CostModel UseStorage SerialOrBatch HideInSales HideInPurchase "
            "QtyOnStock QtyReserved QtyOrdered Available AvailableForReservation Weight NetWeight Volume Cartons "
            "BrandGroup CategoryGroup StatisticsGroup MinStockLevel MaxStockLevel PurchaseQty PurchaseMin "
            "DeliveryTime SalesQty UseAlternative AlternativeItem TariffNumber CountryOfOrigin IntraUnit PrCategory "
            "PayrollCategory StandardVariant UseVariants MandatoryVariant KeyName",
            {"Name": "", "ItemType": "Item", "Blocked": False, "SalesPrice1": 0.0, "CostPrice": 0.0}),
    _schema("ProjectGroupClient", "Group",
            "Name IsDefault Invoiceable AutoNumber UseCostInWIP AutoWIP WorkInProgress WorkInProgressOffset Outlay "
            "OutlayOffset Materials MaterialsOffset Adjustment AdjustmentOffset InvoiceAdjustment "
            "InvoiceAdjustmentOffset ReversedWIP ReversedWIPOffset",
            {"Name": "", "IsDefault": False, "Invoiceable": True}, project=True),
    _schema("ProjectClient", "Number",
            "Name Created Group Account DebtorName MasterProject RootProject InvoicingMethod PrType ContactName Phase "
            "Completion FixedPrice SalesPrice EndDiscountPct PriceList Payment Vat Currency Blocked StartDate EndDate "
            "WorkAddress1..3 ZipCode City WorkCountry Installation YourRef OurRef Requisition Email Mobil Description "
            "PersonInCharge Purchaser PrStandard Dimension1..5",
            {"Name": "", "Blocked": False}, project=True, required=("Group",),
            references=(("Group", "ProjectGroupClient", "Group"), ("Account", "DebtorClient", "Account"))),
    _schema("PrCategoryClient", "Number",
            "Name CatType Sum Item ItemName Sorting Unit IsDefault Invoiceable ProjectOrder CanAggregate Summation "
            "AggregateEmployee AggregateItem AggregatePayroll CostRecognition RevenueRecognition Forward Account "
            "OffsetAccount",
            {"Name": "", "CatType": "Revenue", "IsDefault": False, "Invoiceable": True}, project=True),
    _schema("DebtorOrderClient", "OrderNumber",
            "Account Name Group Created CreatedTime DeliveryDate DeliveryDateConfirmed ContactName ContactRef YourRef "
            "OurRef Requisition RelatedOrder CustomsNo Remark EndDiscountPct PaymentFormat Payment DueDate Shipment "
            "DeliveryTerm Employee Settlements TransType Currency ExchangeRate PricesInclVat Vat Offer " + DELIVERY +
            " Installation CompanyAddress DeliveryIsInvoiceAddress PostingAccount PostingText "
            "InvoiceAccount DeleteOrder DeleteLines InvoiceInterval LastInvoice NextInvoice SubscriptionEnded "
            "PriceList LayoutGroup InvoiceDate Split UpdatingItems Project PrCategory Task WorkSpace Approver "
            "Approved ApprovedDate UpdatedAt OrderTotal NoLines TotalQty Margin MarginRatio CostValue SalesValue "
            "TotalBeforeVAT Dimension1..5",
            {"EndDiscountPct": 0.0, "PricesInclVat": False},
            auto_key="OrderNumber", required=("Account",),
            references=(("Account", "DebtorClient", "Account"), ("Project", "ProjectClient", "Number"),
                        ("PrCategory", "PrCategoryClient", "Number"), ("Employee", "EmployeeClient", "Number"))),
    _schema("DebtorOrderLineClient", "OrderNumber LineNumber",
            "Item Variant1..5 Text Qty Unit UnitGroup SerieBatch EAN CustomerItemNumber Price Discount DiscountPct "
            "Total SalesValue CostValue Margin MarginRatio DoInvoice QtyNow QtyDelivered QtyInvoiced Currency "
            "CostPrice Warehouse Location Storage Task ReferenceNumber Week Date PostingAccount PostingText "
            "PurchaseAccount Vat Employee Project PrCategory WorkSpace Subtotal Note DeliveryDate UpdatedAt "
            "Dimension1..5 TotalVat TotalInclVat",
            {"Qty": 0.0, "Price": 0.0, "Discount": 0.0, "DiscountPct": 0.0, "Total": 0.0},
            references=(("OrderNumber", "DebtorOrderClient", "OrderNumber"), ("Item", "InvItemClient", "Item"),
                        ("PrCategory", "PrCategoryClient", "Number"))),
    _schema("DebtorInvoiceClient", "InvoiceNumber",
            "Account Name Date OrderNumber OrderCreated SendTime NetAmount LineAmount TotalAmount AmountLocalCur "
            "CostValue SalesValue Currency Margin MarginRatio Payment PaymentText Employee Voucher JournalPostedId "
            "EndDiscountPct CashDiscount CashDiscountDate DueDate Deleted VatAmount PricesInclVat Vat Vat2 Vat3 "
            "Project PrCategory WorkSpace LayoutGroup " + DELIVERY + " YourRef OurRef Remark Requisition "
            "ReferenceNumber VoidInvoice ExchangeRate CustomsNo OrderGroup CashPayment NumberSerie IsOneTimeDebtor "
            "CreditnoteDate ContactName ContactRef Dimension1..5",
            {"NetAmount": 0.0, "LineAmount": 0.0, "TotalAmount": 0.0, "VatAmount": 0.0, "AmountLocalCur": 0.0}),
    _schema("DebtorInvoiceLines", "",
            "DCAccount Item Text InvoiceQty Unit SalesPrice NetDiscount DiscountPct InvoiceTotal CostPrice Margin "
            "Warehouse Location Project PrCategory Task WorkSpace Currency Vat Date OrderNumber LineNumber "
            "InvoiceNumber InvoiceNetAmount GrossAmount Employee PostingAccount CostValue AmountInclVat SalesPriceCur "
            "Dimension1..5",
            {"InvoiceQty": 0.0, "SalesPrice": 0.0, "InvoiceNetAmount": 0.0, "AmountInclVat": 0.0}),
    _schema("GLAccountClient", "Account",
            "Name AccountType SystemAccount Currency Lookup Comment Sum CalculationExpression Percentage SaveTotal "
            "Vat MandatoryTax VatOperation LegalIdent Withholding DefaultOffsetAccountType DefaultOffsetAccount "
            "DebetCredit PrCategory MandatoryCategory PrimoAccount BlockedInJournal Blocked PageBreak HideInBalance "
            "ConsolidationAccount ExternalNo ExternalName Reconciled StandardAccount Interest",
            {"Name": "", "AccountType": "PL", "Blocked": False}),
    _schema("GLTransClient", "",
            "Date Account Name NumberSerie Voucher JournalPostedId VoucherLine Text TransType Debit Credit Amount Vat "
            "VatOperation AmountVat HasVoucher Currency AmountCur AmountBase DebitCur CreditCur Origin DCType "
            "DCAccount DCName LegalIdent Invoice DocumentDate DocumentRef Qty ReferenceNumber Correction Canceled "
            "Accrued Allocated Modified PostCalculated VatEntered Project PrCategory Dimension1..5 "
            "JournalPostedComment",
            {"Debit": 0.0, "Credit": 0.0, "Amount": 0.0, "AmountVat": 0.0}),
    _schema("GLVatClient", "Vat",
            "Name VatType TypeSales TypeBuy UsedSalesVat Blocked Method Rate Exempt Rate2 Date RateAfterDate Account "
            "OffsetAccount Id VatCountry BusinessCountry ShipmentCountry RateType MOSSType ExternalCode",
            {"Name": "", "Rate": 0.0, "Blocked": False}),
]}

#: Master → detail: deleting a master row deletes its detail rows (Uniconta deletes an order's lines with it).
CASCADES: dict[str, tuple[str, str, str]] = {
    "DebtorOrderClient": ("DebtorOrderLineClient", "OrderNumber", "OrderNumber"),
}

def generic_schema(name: str) -> EntitySchema:
    """Schema for an extra class found only in a fixture (served read/write, keyed by RowId)."""
    return EntitySchema(name, (), frozenset(["RowId"]))
