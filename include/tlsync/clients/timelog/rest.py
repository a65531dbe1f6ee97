"""TimeLog **REST API v1** client — JSON with a personal access token, TAF envelopes, ``$page``/``$pagesize``.

Wire facts (TimeLog's REST v1 swagger (TimeLogApiSdk) and its "REST API v1" pages):

* ``{site}/api/v1/<resource>``, header ``Authorization: Bearer <PAT>``; JSON both ways.
* TAF envelopes: a list is ``{"Properties": {"TotalRecord", "TotalPage", "PageNumber"}, "Entities":
  [{"Properties": {...}}], "Links": [...]}`` (the counters may be strings), a single record
  ``{"Properties": {...}, "Links": [...], "Actions": [...]}``.
* Without ``$pagesize`` a list silently returns only the first **10** rows, so every list here asks for
  ``$pagesize=page_size`` (500 by default) and walks ``$page`` = 1 … ``TotalPage``.
* ``PUT`` replaces the **whole** record: a field left out is blanked (timelog-mcp ADR 0005), so
  :meth:`RestClient.update_customer` is a read-modify-write that always sends a complete body.
* Errors: 401 "Invalid authentication token"; 400/500 with ``ResponseError {Code, Details, Message, Parameters,
  Url, DeveloperNote}``. A 500 carrying that shape is the API's answer (not retried); any other 5xx is retried.

JSON numbers are read as :class:`~decimal.Decimal` (``parse_float=Decimal``) so money never passes through float.

The machinery — settings, paging, single records, JSON and error mapping — is the base class
:class:`~.rest_wire.RestWire` (split for issue 12); this module holds the resources and the settling of creates.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from ..errors import (
    MalformedResponseError,
    SyncAPIError,
    UnknownMethodError,
    WriteOutcomeUnknownError,
)
from ._common import RawRecord, models_only
from .models import (
    Currency,
    CustomerCreate,
    CustomerUpdate,
    ExpenseType,
    PaymentTerm,
    Product,
    ProductCreate,
    ProjectExpense,
    ProjectExpenseCreate,
    RestCustomer,
    RestHourlyRate,
    RestLegalEntity,
    RestProjectCategory,
    RestProjectType,
    RestTaskType,
)
from .rest_wire import SETTING_TOKEN, SETTING_URL, SYSTEM, RestSettings, RestWire

__all__ = ["PRODUCT_CREATE_PATH", "SETTING_TOKEN", "SETTING_URL", "STATUS_ACTIVE", "STATUS_ALL", "STATUS_INACTIVE",
           "SYSTEM", "RestClient", "RestSettings", "settle_write"]

log = logging.getLogger(__name__)
W = TypeVar("W")   # what a create answers (settle_write)

STATUS_ALL, STATUS_ACTIVE, STATUS_INACTIVE = -1, 1, 0
"""Path status filters of ``currency/{status}`` and ``expense-type/{status}`` (swagger enum ``{0, 1, -1}``)."""


class RestClient(RestWire):
    """Typed client for the REST v1 resources the sync reads and writes."""

    # -- customers -------------------------------------------------------------------------------------------

    def customers(self) -> Iterator[RestCustomer]:
        """``GET /v1/customer`` — all customers (the 8-field ``CustomerApiReadModel``)."""
        return models_only(self.customers_raw(), SYSTEM)

    def customers_raw(self) -> Iterator[RawRecord[RestCustomer]]:
        return self._list("customer", RestCustomer)

    def customer(self, customer_id: int) -> RestCustomer:
        """``GET /v1/customer/{customerID}``; :class:`NotFoundError` if there is none."""
        return self._single("GET", f"customer/{int(customer_id)}", RestCustomer, record=f"customer {customer_id}")

    def create_customer(self, customer: CustomerCreate) -> RestCustomer:
        """``POST /v1/customer/create`` — answers the small read model of the new customer."""
        record = f"customer {customer.customer_no or customer.name!r}"

        def lookup() -> RestCustomer | None:
            for c in self.customers():
                if (customer.customer_no and (c.no or "").strip() == customer.customer_no.strip()) or \
                        (not customer.customer_no and (c.name or "").strip() == (customer.name or "").strip()):
                    return c
            return None

        def send() -> RestCustomer:
            try:
                return self._single("POST", "customer/create", RestCustomer, record=record, body=customer.to_api())
            except MalformedResponseError:
                # A 2xx answer without the new customer's CustomerID (the swagger's create model has none): the
                # customer was created. Find it by number; never send the create again (issue 13, evidence 8).
                found = lookup()
                if found is not None:
                    log.info("%s: %s created; its id was not in the answer, found by number", SYSTEM, record)
                    return found
                raise _CreatedWithoutId() from None

        try:
            return settle_write(send, lookup, record)
        except _CreatedWithoutId:
            raise WriteOutcomeUnknownError(
                SYSTEM, "TimeLog answered the create without a CustomerID and no customer with that number was "
                "found yet; the next run looks it up again", record=record) from None

    def update_customer(self, customer_id: int, changes: Mapping[str, Any] | None = None, *,
                        base: CustomerUpdate | None = None) -> RestCustomer:
        """``PUT /v1/customer/update`` as a read-modify-write: the body is always the complete record.

        * **read**: ``GET /v1/customer/{id}`` gives the current values of the 8 read-model fields (name, number,
          status, VAT and organisation numbers). The other update fields (address, phone, e-mail, KAMs …) are not
          readable over REST, so pass ``base`` — the full prior state, normally
          :meth:`CustomerUpdate.from_reporting` of the Reporting ``GetCustomersRaw`` record. Without it those
          fields would be blanked by the full-replace PUT (timelog-mcp docs/timelog-api/customer.md); the client
          logs a warning naming them.
        * **modify**: ``changes`` (snake_case attribute names or API names) are applied last.
        * **write**: the merged record, ``None`` fields left out.
        """
        record = f"customer {customer_id}"
        current = self.customer(customer_id)
        merged: dict[str, Any] = base.model_dump(exclude_none=True) if base is not None else {}
        merged.update({k: v for k, v in {
            "name": current.name, "customer_no": current.no, "customer_status_id": current.customer_status_id,
            "vat_no": current.vat_no, "organization_no": current.organization_no,
        }.items() if v is not None})
        merged.update(_to_attribute_names(CustomerUpdate, changes or {}))
        merged["customer_id"] = int(customer_id)
        update = CustomerUpdate.model_validate(merged)
        if base is None:
            unknown = sorted(name for name, value in update.model_dump().items() if value is None)
            if unknown:
                log.warning("%s: updating %s without a full prior state; these fields will be blank after the "
                            "full-replace PUT: %s", SYSTEM, record, ", ".join(unknown))
        return self._single("PUT", "customer/update", RestCustomer, record=record, body=update.to_api())

    # -- product numbers -------------------------------------------------------------------------------------

    def products(self) -> Iterator[Product]:
        """``GET /v1/product`` — product numbers (rule U2)."""
        return models_only(self.products_raw(), SYSTEM)

    def products_raw(self) -> Iterator[RawRecord[Product]]:
        return self._list("product", Product)

    def product_writes_available(self) -> bool:
        """Whether product numbers can be written here: only the simulator (it says so in every REST answer) or a
        server ``RestSettings.product_writes`` vouches for. TimeLog's public API has no product-number write
        (REST v1 has only ``GET /product``; the Transactional ``FinancialService`` only reads them), so against
        the real service the item-number changes become a list to make by hand (``tlsync items todo``, rule U2).
        At most one read (``GET /product``) to find out, remembered."""
        if self.settings.product_writes:
            return True
        if getattr(self, "_simulator", None) is None:
            self._simulator = False
            next(iter(self.products_raw()), None)      # one read: does the server say it is the simulator?
        return bool(self._simulator)

    def _require_product_writes(self, what: str) -> None:
        """Refused before anything is sent where :meth:`product_writes_available` says no."""
        if not self.product_writes_available():
            raise UnknownMethodError(
                SYSTEM, f"{what}: product-number writes are not in TimeLog's public API (REST v1 has only GET "
                "/product); create or activate the item number in TimeLog by hand — `tlsync items` lists what is "
                "missing (rule U2)")

    def create_product(self, product: ProductCreate) -> Product:
        """Create a product number from a Uniconta item (rule U2).

        The public swagger lists only ``GET /v1/product``; the write path follows the simulator's documented
        choice (``POST /v1/product/create``, body in ``ProductApiReadModel`` names; activation at
        ``PUT /v1/product/{id}/activate`` / ``.../deactivate``).
        """
        self._require_product_writes(f"product {product.product_number!r}")

        def lookup() -> Product | None:
            return next((p for p in self.products() if (p.product_number or "").strip() ==
                         product.product_number.strip()), None)

        return settle_write(lambda: self._single("POST", PRODUCT_CREATE_PATH, Product,
                                                 record=f"product {product.product_number!r}",
                                                 body=product.to_api()), lookup, f"product {product.product_number!r}")

    def activate_product(self, product_number_id: int) -> Product | None:
        """Mark a product number active (the administrator "activates" a Uniconta item for TimeLog, rule U2)."""
        return self._set_product_active(product_number_id, True)

    def deactivate_product(self, product_number_id: int) -> Product | None:
        """Mark a product number inactive. Posted invoices keep the item numbers they were posted with."""
        return self._set_product_active(product_number_id, False)

    def update_product(self, product_number_id: int, *, product_name: str,
                       description: str | None = None) -> Product | None:
        """Rename a product number when its Uniconta item is renamed (rule U2; simulator extension
        ``PUT /v1/product/{id}/update``). The number stays, so posted invoices keep what they were posted with."""
        self._require_product_writes(f"product {product_number_id}")
        body: dict[str, Any] = {"ProductName": product_name}
        if description is not None:
            body["Description"] = description
        return self._single_or_none("PUT", PRODUCT_UPDATE_PATH.format(id=int(product_number_id)), Product,
                                    record=f"product {product_number_id}", body=body)

    def _set_product_active(self, product_number_id: int, active: bool) -> Product | None:
        self._require_product_writes(f"product {product_number_id}")
        path = (PRODUCT_ACTIVATE_PATH if active else PRODUCT_DEACTIVATE_PATH).format(id=int(product_number_id))
        # An empty JSON object as body: a PUT without one is refused by some ASP.NET stacks (and the simulator).
        return self._single_or_none("PUT", path, Product, record=f"product {product_number_id}", body={})

    # -- dimensions with default item numbers (rules I1-I3) --------------------------------------------------

    def project_types(self) -> Iterator[RestProjectType]:
        """``GET /v1/ProjectType`` (each with its ``ProductNo``)."""
        return models_only(self.project_types_raw(), SYSTEM)

    def project_types_raw(self) -> Iterator[RawRecord[RestProjectType]]:
        return self._list("ProjectType", RestProjectType)

    def project_categories(self) -> Iterator[RestProjectCategory]:
        """``GET /v1/ProjectCategory``."""
        return models_only(self.project_categories_raw(), SYSTEM)

    def project_categories_raw(self) -> Iterator[RawRecord[RestProjectCategory]]:
        return self._list("ProjectCategory", RestProjectCategory)

    def task_types(self) -> Iterator[RestTaskType]:
        """``GET /v1/TaskType``."""
        return models_only(self.task_types_raw(), SYSTEM)

    def task_types_raw(self) -> Iterator[RawRecord[RestTaskType]]:
        return self._list("TaskType", RestTaskType)

    def hourly_rates(self) -> Iterator[RestHourlyRate]:
        """``GET /v1/hourly-rate``."""
        return models_only(self.hourly_rates_raw(), SYSTEM)

    def hourly_rates_raw(self) -> Iterator[RawRecord[RestHourlyRate]]:
        return self._list("hourly-rate", RestHourlyRate)

    def expense_types(self, status: int = STATUS_ALL) -> Iterator[ExpenseType]:
        """``GET /v1/expense-type/{status}`` — with ``AccountNo`` (rule U4) and ``ProductNo`` (rule I3)."""
        return models_only(self.expense_types_raw(status), SYSTEM)

    def expense_types_raw(self, status: int = STATUS_ALL) -> Iterator[RawRecord[ExpenseType]]:
        return self._list(f"expense-type/{int(status)}", ExpenseType)

    # -- project expenses (rule U4) --------------------------------------------------------------------------

    def create_project_expense(self, expense: ProjectExpenseCreate) -> ProjectExpense | None:
        """``POST /v1/project-expense`` — a supplier expense from Uniconta becomes a TimeLog project expense.

        ``external_id`` should carry the Uniconta posting's key so a re-run can recognise what it already wrote.
        The swagger documents no response body; when TimeLog sends the read model back it is returned.
        """
        record = f"project expense {expense.external_id or expense.expense_no or expense.project_id}"

        def send() -> ProjectExpense | None:
            return self._single_or_none("POST", "project-expense", ProjectExpense, record=record,
                                        body=expense.to_api())

        if not expense.external_id:          # nothing to look it up by: an unknown outcome stays unknown
            return send()

        def lookup() -> ProjectExpense | None:
            return next((x for x in self.project_expenses(int(expense.project_id))
                         if (x.external_id or "") == expense.external_id), None)

        return settle_write(send, lookup, record)

    def project_expenses(self, project_id: int) -> Iterator[ProjectExpense]:
        """``GET /v1/project-expense?projectID=`` — one project's expenses; the expense import looks here for
        its ``ExternalID`` marker after an interrupted write (rule U4) instead of writing again blindly."""
        return models_only(self._list("project-expense", ProjectExpense, {"projectID": int(project_id)}), SYSTEM)

    # -- reference data --------------------------------------------------------------------------------------

    def legal_entities(self) -> Iterator[RestLegalEntity]:
        """``GET /v1/legal-entity``."""
        return models_only(self.legal_entities_raw(), SYSTEM)

    def legal_entities_raw(self) -> Iterator[RawRecord[RestLegalEntity]]:
        return self._list("legal-entity", RestLegalEntity)

    def payment_terms(self) -> Iterator[PaymentTerm]:
        """``GET /v1/payment-term``."""
        return models_only(self.payment_terms_raw(), SYSTEM)

    def payment_terms_raw(self) -> Iterator[RawRecord[PaymentTerm]]:
        return self._list("payment-term", PaymentTerm)

    def currencies(self, status: int = STATUS_ALL) -> Iterator[Currency]:
        """``GET /v1/currency/{status}`` — rates are per 100 units."""
        return models_only(self.currencies_raw(status), SYSTEM)

    def currencies_raw(self, status: int = STATUS_ALL) -> Iterator[RawRecord[Currency]]:
        return self._list(f"currency/{int(status)}", Currency)


class _CreatedWithoutId(Exception):
    """A create answered 2xx without the new record's id and the record is not found yet (never re-sent)."""


def settle_write(send: Callable[[], W], lookup: Callable[[], W | None], record: str, *,
                 attempts: int = 3) -> W:
    """Send a create that is not idempotent; when its answer is lost or unreadable
    (:class:`WriteOutcomeUnknownError`, see :mod:`tlsync.clients._http`), look the record up before anything is
    sent again (issue 17, rule T2): found → that is the result; not found → it did not land, send it again (at
    most ``attempts`` sends). If the look-up itself fails, the outcome stays unknown and the error is raised: the
    caller's ledger keeps the claim ``in_flight`` for the next run's recovery, which looks again."""
    for attempt in range(1, attempts + 1):
        try:
            return send()
        except WriteOutcomeUnknownError as exc:
            log.warning("%s: %s; looking it up before sending anything again", SYSTEM, exc.message)
            try:
                found = lookup()
            except SyncAPIError as lookup_error:   # still unknown: never re-sent blindly
                raise exc from lookup_error
            if found is not None:
                log.info("%s: %s had landed; not sent again", SYSTEM, record)
                return found
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


PRODUCT_CREATE_PATH = "product/create"
PRODUCT_ACTIVATE_PATH = "product/{id}/activate"
PRODUCT_DEACTIVATE_PATH = "product/{id}/deactivate"
PRODUCT_UPDATE_PATH = "product/{id}/update"


def _to_attribute_names(model: type[BaseModel], values: Mapping[str, Any]) -> dict[str, Any]:
    """Accept both ``phone`` and ``Phone`` in ``changes``; unknown names are an error, not silently dropped."""
    by_alias = {field.alias: name for name, field in model.model_fields.items() if field.alias}
    out = {}
    for key, value in values.items():
        if key in model.model_fields:
            out[key] = value
        elif key in by_alias:
            out[by_alias[key]] = value
        else:
            raise ValueError(f"{model.__name__} has no field {key!r}")
    return out
