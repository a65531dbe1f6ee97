"""Typed clients for Uniconta ERP: OData reads, JSON CRUD writes, company selection, quota accounting.

Modules, one concern each: :mod:`.models` (pydantic models named after Uniconta's classes), :mod:`.query`
(``$filter`` / ``$orderby`` builders), :mod:`.odata` (paging reader), :mod:`.crud` (Insert / InsertList / Update /
Delete / lookup), :mod:`.settings` (where and as whom to connect), :mod:`.transport` (error answers, the quota
guard), :mod:`.session` (auth, company selection, error mapping), :mod:`.client` (the facade).
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
from .odata import ODataReader
from .query import Field, Filter, literal, render_filter, render_orderby
from .session import UnicontaSession
from .settings import DAILY_QUOTA, SYSTEM, UnicontaSettings

__all__ = [
    "DAILY_QUOTA", "MODELS", "SYSTEM",
    "CompanyClient", "ContactClient", "CreditorClient", "CrudAPI", "DebtorClient", "DebtorGroupClient",
    "DebtorInvoiceClient", "DebtorInvoiceLines", "DebtorLayoutGroupClient", "DebtorOrderClient",
    "DebtorOrderLineClient", "EmployeeClient", "Field", "Filter", "GLAccountClient", "GLTransClient", "GLVatClient",
    "GenericEntity", "InvItemClient", "ODataReader", "PaymentTermClient", "PrCategoryClient", "ProjectClient",
    "ProjectGroupClient", "UnicontaClient", "UnicontaEntity", "UnicontaSession", "UnicontaSettings", "literal",
    "render_filter", "render_orderby",
]
