"""TimeLog **Reporting API** client — bulk, read-only XML over ``service.asmx`` (plain HTTP POST binding).

Wire facts (TimeLog's API docs (api.timelog.com, TimeLogApiSdk), "Reporting API wire details" and method signatures):

* ``POST {site}/service.asmx/{Method}`` with an ``application/x-www-form-urlencoded`` body whose first three
  fields are ``siteCode``, ``apiID``, ``apiPassword``, then the method's filters. Credentials go in the body,
  never the URL, so they cannot end up in access logs or our own log lines.
* Filters use ``0`` (ids) and ``-1`` (most status filters) for "all"; ``GetProjectsRaw`` uses ``-2`` for all
  project statuses (SDK constant ``ProjectStatus.All``).
* Answers are raw XML in ``http://www.timelog.com/XML/Schema/tlp/v4_4``: a plural root with singular items
  carrying an ``ID`` attribute (and ``GUID`` where the schema has one). ``GetWorkUnitsRawPaged`` is the only paged
  method (1-based ``page``/``pageSize``; root attributes ``Page, PageSize, TotalPages, TotalRecords``).
* Wrong credentials answer HTTP 401 and bad filters HTTP 500, each with an ``Errors`` root whose children carry
  the messages (TimeLog's SDK docs, since 2021; older sites answered 200 with the same root — both are read); a 500
  carrying ``Errors`` is a rejection, not retried. An empty result is the plural root with ``resultEmpty="true"``.

Each read method returns an **iterator** of models; the ``*_raw`` variant yields :class:`RawRecord` pairs
``(model | None, raw_dict)`` so staging can quarantine an invalid row with its original payload. A whole answer
(one page for work units) is parsed before the first record is handed out, so a truncated body is retried as a
unit and no record is yielded twice.

The machinery — settings, the form POST, root checks, paging and error mapping — is the base class
:class:`~.reporting_wire.ReportingWire` (split for issue 12); this module holds the typed method catalog.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterator, Mapping
from datetime import date
from typing import Any

from ..errors import AuthenticationError, MalformedResponseError
from . import _xml
from ._common import RawRecord
from .models import (
    Contact,
    Customer,
    Employee,
    Expense,
    HourlyRate,
    Invoice,
    InvoiceLine,
    InvoiceLineDetail,
    InvoiceStatus,
    LegalEntity,
    Mileage,
    Project,
    ProjectCategory,
    ProjectType,
    Task,
    TaskType,
    WorkUnit,
)
from .reporting_wire import (
    SETTING_API_ID,
    SETTING_API_PASSWORD,
    SETTING_SITE_CODE,
    SYSTEM,
    ReportingSettings,
    ReportingWire,
    date_filter,
)

__all__ = ["ALL", "ALL_PROJECT_STATUSES", "ALL_STATUSES", "SYSTEM", "ReportingClient", "ReportingSettings"]

ALL = 0
"""Id filters: 0 = no filter."""
ALL_STATUSES = -1
"""Most status filters (customers, tasks, employees, legal entities, hourly rates, invoices): -1 = all."""
ALL_PROJECT_STATUSES = -2
"""``GetProjectsRaw``/``GetProjectsShortList``: ``ProjectStatus.All`` is -2 (0 = inactive, 1 = active)."""


class ReportingClient(ReportingWire):
    """Typed client for the Reporting API methods the sync uses. Use as a context manager or call :meth:`close`.

    Transient failures (429, 5xx, timeouts, truncated XML) are retried by the shared
    :class:`~tlsync.clients._http.ResilientClient`; credential problems, unknown methods and rejected filters
    fail at once with a typed error that names the setting or method, never a secret.
    """

    # -- methods ---------------------------------------------------------------------------------------------

    def validate_credentials(self) -> bool:
        """``ValidateCredentials``: ``True``, or :class:`AuthenticationError` naming the setting to check.

        The method answers ``<boolean xmlns="http://www.timelog.com/ws/tlp/v4_4">true|false</boolean>`` (ASMX
        HTTP binding of ``bool ValidateCredentials(siteCode, apiID, apiPassword)``) or an ``Errors`` root.
        """
        root = self._call("ValidateCredentials", {})
        if _xml.localname(root.tag).lower() != "boolean":
            raise MalformedResponseError(SYSTEM, f"expected a <boolean> root, got <{_xml.localname(root.tag)}>",
                                         where="ValidateCredentials line 1")
        if (root.text or "").strip().lower() in ("true", "1"):
            return True
        raise AuthenticationError(
            SYSTEM, "ValidateCredentials answered false: the site code, API ID or API password is not accepted",
            setting=f"{SETTING_API_ID} / {SETTING_API_PASSWORD} / {SETTING_SITE_CODE}",
        )

    def legal_entities(self, *, status: int = ALL_STATUSES) -> Iterator[LegalEntity]:
        """``GetLegalEntitiesRaw(status)`` — one Uniconta company per legal entity (rule S2)."""
        return self._models(self.legal_entities_raw(status=status))

    def legal_entities_raw(self, *, status: int = ALL_STATUSES) -> Iterator[RawRecord[LegalEntity]]:
        return self._records("GetLegalEntitiesRaw", {"status": status}, "LegalEntities", "LegalEntity", LegalEntity)

    def customers(self, *, customer_id: int = ALL, customer_status_id: int = ALL_STATUSES,
                  account_manager_id: int = ALL) -> Iterator[Customer]:
        """``GetCustomersRaw(customerID, customerStatusID, accountManagerID)``."""
        return self._models(self.customers_raw(customer_id=customer_id, customer_status_id=customer_status_id,
                                               account_manager_id=account_manager_id))

    def customers_raw(self, *, customer_id: int = ALL, customer_status_id: int = ALL_STATUSES,
                      account_manager_id: int = ALL) -> Iterator[RawRecord[Customer]]:
        params = {"customerID": customer_id, "customerStatusID": customer_status_id,
                  "accountManagerID": account_manager_id}
        return self._records("GetCustomersRaw", params, "Customers", "Customer", Customer)

    def contacts(self, *, customer_id: int = ALL, contact_id: int = ALL) -> Iterator[Contact]:
        """``GetContactsRaw(customerID, contactID)``."""
        return self._models(self.contacts_raw(customer_id=customer_id, contact_id=contact_id))

    def contacts_raw(self, *, customer_id: int = ALL, contact_id: int = ALL) -> Iterator[RawRecord[Contact]]:
        params = {"customerID": customer_id, "contactID": contact_id}
        return self._records("GetContactsRaw", params, "Contacts", "Contact", Contact)

    def employees(self, *, employee_id: int = ALL, initials: str = "", department_id: int = ALL,
                  status: int = ALL_STATUSES) -> Iterator[Employee]:
        """``GetEmployeesRaw(employeeID, initials, departmentID, status)``."""
        return self._models(self.employees_raw(employee_id=employee_id, initials=initials,
                                               department_id=department_id, status=status))

    def employees_raw(self, *, employee_id: int = ALL, initials: str = "", department_id: int = ALL,
                      status: int = ALL_STATUSES) -> Iterator[RawRecord[Employee]]:
        params = {"employeeID": employee_id, "initials": initials, "departmentID": department_id, "status": status}
        return self._records("GetEmployeesRaw", params, "Employees", "Employee", Employee)

    def projects(self, *, project_id: int = ALL, status: int = ALL_PROJECT_STATUSES, customer_id: int = ALL,
                 project_manager_id: int = ALL) -> Iterator[Project]:
        """``GetProjectsRaw(projectID, status, customerID, projectManagerID)`` — status -2 = all."""
        return self._models(self.projects_raw(project_id=project_id, status=status, customer_id=customer_id,
                                              project_manager_id=project_manager_id))

    def projects_raw(self, *, project_id: int = ALL, status: int = ALL_PROJECT_STATUSES, customer_id: int = ALL,
                     project_manager_id: int = ALL) -> Iterator[RawRecord[Project]]:
        params = {"projectID": project_id, "status": status, "customerID": customer_id,
                  "projectManagerID": project_manager_id}
        return self._records("GetProjectsRaw", params, "Projects", "Project", Project)

    def project_types(self) -> Iterator[ProjectType]:
        """``GetProjectTypesShortList()``."""
        return self._models(self.project_types_raw())

    def project_types_raw(self) -> Iterator[RawRecord[ProjectType]]:
        return self._records("GetProjectTypesShortList", {}, "ProjectTypes", "ProjectType", ProjectType)

    def project_categories(self) -> Iterator[ProjectCategory]:
        """``GetProjectCategoriesShortList()``."""
        return self._models(self.project_categories_raw())

    def project_categories_raw(self) -> Iterator[RawRecord[ProjectCategory]]:
        return self._records("GetProjectCategoriesShortList", {}, "ProjectCategories", "ProjectCategory",
                             ProjectCategory)

    def tasks(self, *, task_id: int = ALL, project_id: int = ALL, status: int = ALL_STATUSES,
              task_type_id: int = ALL) -> Iterator[Task]:
        """``GetTasksRaw(taskID, projectID, status, taskTypeID)`` — ``TaskStatus.All`` is -1."""
        return self._models(self.tasks_raw(task_id=task_id, project_id=project_id, status=status,
                                           task_type_id=task_type_id))

    def tasks_raw(self, *, task_id: int = ALL, project_id: int = ALL, status: int = ALL_STATUSES,
                  task_type_id: int = ALL) -> Iterator[RawRecord[Task]]:
        params = {"taskID": task_id, "projectID": project_id, "status": status, "taskTypeID": task_type_id}
        return self._records("GetTasksRaw", params, "Tasks", "Task", Task)

    def task_types(self) -> Iterator[TaskType]:
        """``GetTaskTypesShortList()``."""
        return self._models(self.task_types_raw())

    def task_types_raw(self) -> Iterator[RawRecord[TaskType]]:
        return self._records("GetTaskTypesShortList", {}, "TaskTypes", "TaskType", TaskType)

    def hourly_rates(self, *, customer_id: int = ALL, status: int = ALL_STATUSES) -> Iterator[HourlyRate]:
        """``GetHourlyRatesRaw(CustomerID, Status)`` (these two parameters are capitalised in the WSDL)."""
        return self._models(self.hourly_rates_raw(customer_id=customer_id, status=status))

    def hourly_rates_raw(self, *, customer_id: int = ALL, status: int = ALL_STATUSES
                         ) -> Iterator[RawRecord[HourlyRate]]:
        params = {"CustomerID": customer_id, "Status": status}
        return self._records("GetHourlyRatesRaw", params, "HourlyRates", "HourlyRate", HourlyRate)

    def invoices(self, start: date, end: date, *, status: InvoiceStatus | int | None = None,
                 invoice_id: int = ALL, customer_id: int = ALL) -> Iterator[Invoice]:
        """``GetInvoicesRaw(invoiceID, customerID, status, startDate, endDate)`` by invoice date.

        ``status=None`` means all statuses (-1; 0 is Draft). Pass :attr:`InvoiceStatus.BOOKED` for rule T2.
        """
        return self._models(self.invoices_raw(start, end, status=status, invoice_id=invoice_id,
                                              customer_id=customer_id))

    def invoices_raw(self, start: date, end: date, *, status: InvoiceStatus | int | None = None,
                     invoice_id: int = ALL, customer_id: int = ALL, of_legal_entity: str | None = None,
                     skipped: Callable[[str | None], object] | None = None) -> Iterator[RawRecord[Invoice]]:
        """``of_legal_entity``: another legal entity's invoice (its ``LegalEntityID`` set to another) is skipped
        unparsed and its ID handed to ``skipped``; one without a ``LegalEntityID`` is kept (the method takes no
        legal entity filter: the read is site-wide)."""
        params = {"invoiceID": invoice_id, "customerID": customer_id,
                  "status": ALL_STATUSES if status is None else int(status),
                  "startDate": date_filter(start), "endDate": date_filter(end)}
        return self._records("GetInvoicesRaw", params, "Invoices", "Invoice", Invoice,
                             keep=_xml.owned_by("LegalEntityID", of_legal_entity, skipped))

    def invoice_lines(self, start: date, end: date, *, invoice_id: int = ALL, customer_id: int = ALL,
                      project_id: int = ALL, invoice_line_id: int = ALL) -> Iterator[InvoiceLine]:
        """``GetInvoiceLinesRaw(invoiceLineID, customerID, projectID, invoiceID, startDate, endDate)``."""
        return self._models(self.invoice_lines_raw(start, end, invoice_id=invoice_id, customer_id=customer_id,
                                                   project_id=project_id, invoice_line_id=invoice_line_id))

    def invoice_lines_raw(self, start: date, end: date, *, invoice_id: int = ALL, customer_id: int = ALL,
                          project_id: int = ALL, invoice_line_id: int = ALL,
                          of_invoices: Container[str] | None = None) -> Iterator[RawRecord[InvoiceLine]]:
        params = {"invoiceLineID": invoice_line_id, "customerID": customer_id, "projectID": project_id,
                  "invoiceID": invoice_id, "startDate": date_filter(start), "endDate": date_filter(end)}
        return self._records("GetInvoiceLinesRaw", params, "InvoiceLines", "InvoiceLine", InvoiceLine,
                             keep=_xml.child_text_in("InvoiceID", of_invoices))

    def invoice_line_details(self, start: date, end: date, *, invoice_id: int = ALL, customer_id: int = ALL,
                             project_id: int = ALL, invoice_line_detail_id: int = ALL
                             ) -> Iterator[InvoiceLineDetail]:
        """``GetInvoiceLineDetailsRaw(invoiceLineDetailID, customerID, projectID, invoiceID, startDate, endDate)``."""
        return self._models(self.invoice_line_details_raw(
            start, end, invoice_id=invoice_id, customer_id=customer_id, project_id=project_id,
            invoice_line_detail_id=invoice_line_detail_id))

    def invoice_line_details_raw(self, start: date, end: date, *, invoice_id: int = ALL, customer_id: int = ALL,
                                 project_id: int = ALL, invoice_line_detail_id: int = ALL,
                                 of_invoices: Container[str] | None = None
                                 ) -> Iterator[RawRecord[InvoiceLineDetail]]:
        params = {"invoiceLineDetailID": invoice_line_detail_id, "customerID": customer_id,
                  "projectID": project_id, "invoiceID": invoice_id, "startDate": date_filter(start),
                  "endDate": date_filter(end)}
        return self._records("GetInvoiceLineDetailsRaw", params, "InvoiceLineDetails", "InvoiceLineDetail",
                             InvoiceLineDetail, keep=_xml.child_text_in("InvoiceID", of_invoices))

    def expenses(self, start: date, end: date, *, customer_id: int = ALL, project_id: int = ALL,
                 supplier_customer_id: int = ALL, employee_id: int = ALL, employee_department_id: int = ALL,
                 expense_type_id: int = ALL, payment_method_id: int = ALL) -> Iterator[Expense]:
        """``GetExpensesRaw(customerID, projectID, supplierCustomerID, employeeID, employeeDepartmentID,
        expenseTypeID, paymentMethodID, startDate, endDate)``."""
        return self._models(self.expenses_raw(
            start, end, customer_id=customer_id, project_id=project_id, supplier_customer_id=supplier_customer_id,
            employee_id=employee_id, employee_department_id=employee_department_id,
            expense_type_id=expense_type_id, payment_method_id=payment_method_id))

    def expenses_raw(self, start: date, end: date, *, customer_id: int = ALL, project_id: int = ALL,
                     supplier_customer_id: int = ALL, employee_id: int = ALL, employee_department_id: int = ALL,
                     expense_type_id: int = ALL, payment_method_id: int = ALL) -> Iterator[RawRecord[Expense]]:
        params = {"customerID": customer_id, "projectID": project_id, "supplierCustomerID": supplier_customer_id,
                  "employeeID": employee_id, "employeeDepartmentID": employee_department_id,
                  "expenseTypeID": expense_type_id, "paymentMethodID": payment_method_id,
                  "startDate": date_filter(start), "endDate": date_filter(end)}
        return self._records("GetExpensesRaw", params, "Expenses", "Expense", Expense)

    def mileage(self, start: date, end: date, *, customer_id: int = ALL, project_id: int = ALL,
                employee_id: int = ALL, department_id: int = ALL, self_payment: int = ALL_STATUSES,
                travel_car_id: int = ALL, transport_rate_id: int = ALL) -> Iterator[Mileage]:
        """``GetMileageRaw(customerID, projectID, employeeID, departmentID, startDate, endDate, selfPayment,
        travelCarID, transportRateID)`` — ``selfPayment`` -1 = both."""
        return self._models(self.mileage_raw(
            start, end, customer_id=customer_id, project_id=project_id, employee_id=employee_id,
            department_id=department_id, self_payment=self_payment, travel_car_id=travel_car_id,
            transport_rate_id=transport_rate_id))

    def mileage_raw(self, start: date, end: date, *, customer_id: int = ALL, project_id: int = ALL,
                    employee_id: int = ALL, department_id: int = ALL, self_payment: int = ALL_STATUSES,
                    travel_car_id: int = ALL, transport_rate_id: int = ALL) -> Iterator[RawRecord[Mileage]]:
        params = {"customerID": customer_id, "projectID": project_id, "employeeID": employee_id,
                  "departmentID": department_id, "startDate": date_filter(start), "endDate": date_filter(end),
                  "selfPayment": self_payment, "travelCarID": travel_car_id, "transportRateID": transport_rate_id}
        return self._records("GetMileageRaw", params, "Mileages", "Mileage", Mileage)

    def work_units(self, start: date, end: date, *, employee_id: int = ALL, project_id: int = ALL,
                   task_id: int = ALL, department_id: int = ALL, allocation_id: int = ALL,
                   work_unit_id: int = ALL, page_size: int | None = None) -> Iterator[WorkUnit]:
        """``GetWorkUnitsRawPaged`` (time registrations), every page from 1 to ``TotalPages``."""
        return self._models(self.work_units_raw(
            start, end, employee_id=employee_id, project_id=project_id, task_id=task_id,
            department_id=department_id, allocation_id=allocation_id, work_unit_id=work_unit_id,
            page_size=page_size))

    def work_units_raw(self, start: date, end: date, *, employee_id: int = ALL, project_id: int = ALL,
                       task_id: int = ALL, department_id: int = ALL, allocation_id: int = ALL,
                       work_unit_id: int = ALL, page_size: int | None = None) -> Iterator[RawRecord[WorkUnit]]:
        size = page_size or self.settings.work_units_page_size
        params = {"workUnitID": work_unit_id, "employeeID": employee_id, "allocationID": allocation_id,
                  "taskID": task_id, "projectID": project_id, "departmentID": department_id,
                  "startDate": date_filter(start), "endDate": date_filter(end)}
        return self._paged("GetWorkUnitsRawPaged", params, "WorkUnits", "WorkUnit", WorkUnit, size)

    def fetch(self, method: str, params: Mapping[str, Any] | None = None, *, root: str, item: str
              ) -> Iterator[dict[str, Any]]:
        """Any other Reporting method, untyped: the items of ``<root>`` as raw dicts (API field names, text values).

        For methods the sync reads rarely (e.g. ``GetCustomerStatusShortList``); filters go in ``params`` by their
        WSDL names. Errors, retries and namespace checks are the same as for the typed methods.
        """
        doc = self._call(method, params or {})
        self._check_root(doc, method, root)
        for el in list(doc):
            if isinstance(el.tag, str) and _xml.localname(el.tag) == item:
                yield _xml.element_to_dict(el)
