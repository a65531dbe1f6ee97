"""Typed clients for Uniconta ERP: OData reads, JSON CRUD writes, company selection, quota accounting.

Modules, one concern each: :mod:`.models` (pydantic models named after Uniconta's classes), :mod:`.odata`
(``$filter`` builder, paging reader), :mod:`.crud` (Insert / InsertList / Update / Delete / lookup),
:mod:`.session` (settings, auth, company selection, error mapping), :mod:`.client` (the facade).
"""

from __future__ import annotations

from .client import UnicontaClient
from .crud import CrudAPI
from .models import (
    MODELS,
    CompanyClient,
    ContactClient,
    CreditorClient,
    DebtorClient,
    DebtorGroupClient,
    DebtorInvoiceClient,
    DebtorInvoiceLines,
    DebtorLayoutGroupClient,
    DebtorOrderClient,
    DebtorOrderLineClient,
    EmployeeClient,
    GenericEntity,
    GLAccountClient,
    GLTransClient,
    GLVatClient,
    InvItemClient,
    PaymentTermClient,
    PrCategoryClient,
    ProjectClient,
    ProjectGroupClient,
    UnicontaEntity,
)
from .odata import Field, Filter, ODataReader, literal, render_filter, render_orderby
from .session import DAILY_QUOTA, SYSTEM, UnicontaSession, UnicontaSettings

__all__ = [
    "DAILY_QUOTA", "MODELS", "SYSTEM",
    "CompanyClient", "ContactClient", "CreditorClient", "CrudAPI", "DebtorClient", "DebtorGroupClient",
    "DebtorInvoiceClient", "DebtorInvoiceLines", "DebtorLayoutGroupClient", "DebtorOrderClient",
    "DebtorOrderLineClient", "EmployeeClient", "Field", "Filter", "GLAccountClient", "GLTransClient", "GLVatClient",
    "GenericEntity", "InvItemClient", "ODataReader", "PaymentTermClient", "PrCategoryClient", "ProjectClient",
    "ProjectGroupClient", "UnicontaClient", "UnicontaEntity", "UnicontaSession", "UnicontaSettings", "literal",
    "render_filter", "render_orderby",
]
