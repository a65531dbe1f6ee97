"""The one object the pipeline uses to talk to Uniconta: :class:`UnicontaClient`.

It composes a :class:`~.session.UnicontaSession` (auth, company, counting, retries, errors), an
:class:`~.odata.ODataReader` (reads) and a :class:`~.crud.CrudAPI` (writes), and adds typed readers named after
what the sync needs (``debtors()``, ``items()`` …). Typical use (rule S1: connect, then choose the company)::

    settings = UnicontaSettings(base_url=..., username="integration", password=SecretStr(...))
    with UnicontaClient(settings, counter=CallCounter(budgets={"Uniconta": 4000})) as uc:
        company = uc.companies()[0]
        with uc.for_company(company.CompanyId) as c:
            for debtor in c.debtors(filter=Field("Blocked") == False):
                ...
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import httpx

from .._http import CallCounter, RetryPolicy
from ..errors import MalformedResponseError, UnknownCompanyError
from .crud import DEFAULT_BATCH_SIZE, CrudAPI
from .fields import Detected, canonical
from .models import (
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
    GLAccountClient,
    GLTransClient,
    GLVatClient,
    InvItemClient,
    PaymentTermClient,
    PrCategoryClient,
    ProjectClient,
    ProjectGroupClient,
    UnicontaEntity,
    loads,
)
from .odata import ODataReader, validate_rows
from .query import FilterLike, OrderLike
from .session import UnicontaSession
from .settings import COMPANY_SETTING, SYSTEM, UnicontaSettings
from .transport import CallAllowance

E = TypeVar("E", bound=UnicontaEntity)

COMPANIES_PATH = "/api/Entities/CompanyClient"
"""Where the companies a user can see are listed (signed in as the bare user, no company chosen) — the path public
clients use; rows carry ``PrimaryKeyId``/``CompanyName``/``Project``, read here as ``CompanyId``/``Name``/
``ProjectModule`` (see :mod:`.fields`)."""


class UnicontaClient:
    """Typed Uniconta client: companies, OData reads, CRUD writes — all counted, retried and typed.

    ``counter`` is shared with the rest of the run so the daily quota (5,000 calls/user/day) is planned across
    every task; ``retry``/``transport``/``sleep`` are injectable for tests. The client is bound to
    ``settings.company_id``; :meth:`for_company` returns a sibling bound to another company sharing the counter.
    """

    def __init__(
        self,
        settings: UnicontaSettings,
        counter: CallCounter | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        timeout: httpx.Timeout | float = httpx.Timeout(60.0, connect=10.0),
        seed: int | None = None,
        detected: Detected | None = None,
        allowance: CallAllowance | None = None,
        owns_allowance: bool = True,
    ) -> None:
        detected = detected or Detected()
        self._init_args = dict(counter=counter, retry=retry, transport=transport, sleep=sleep, timeout=timeout,
                               seed=seed, detected=detected, allowance=allowance, owns_allowance=False)
        self._owns_allowance = owns_allowance and allowance is not None
        self.session = UnicontaSession(settings, counter=counter, retry=retry, transport=transport, sleep=sleep,
                                       timeout=timeout, seed=seed, detected=detected, allowance=allowance)
        self.odata = ODataReader(self.session)
        self.crud = CrudAPI(self.session)

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def close(self) -> None:
        """Close the connection; the client that was given the allowance gives its unused reservation back."""
        self.session.close()
        if self._owns_allowance and self.session.allowance is not None:
            self.session.allowance.release()

    def __enter__(self) -> UnicontaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"UnicontaClient(user={self.settings.username!r}, company_id={self.settings.company_id})"

    @property
    def settings(self) -> UnicontaSettings:
        return self.session.settings

    @property
    def counter(self) -> CallCounter:
        return self.session.counter

    @property
    def company_id(self) -> int | None:
        return self.session.company_id

    @property
    def calls_used(self) -> int:
        return self.session.calls_used

    @property
    def calls_remaining(self) -> int | None:
        return self.session.calls_remaining

    def can_afford(self, calls: int) -> bool:
        return self.session.can_afford(calls)

    # -- companies (rule S1) -----------------------------------------------------------------------------------
    def companies(self) -> list[CompanyClient]:
        """The companies this user can see — what setup offers to choose from. One call."""
        return validate_rows(CompanyClient, self.companies_raw(), f"GET {COMPANIES_PATH}")

    def companies_raw(self) -> list[dict[str, Any]]:
        """Like :meth:`companies`, as dicts with Uniconta's field names. One call."""
        where = f"GET {COMPANIES_PATH}"

        def parse(resp: httpx.Response) -> list[dict[str, Any]]:
            try:
                body = loads(resp.content)
            except ValueError as exc:
                raise MalformedResponseError(SYSTEM, f"body is not JSON ({exc})", where=where) from None
            rows = body.get("value") if isinstance(body, dict) else body
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise MalformedResponseError(SYSTEM, "expected a JSON array of companies", where=where)
            for row in rows:
                canonical("CompanyClient", row, None)
                if row.get("CompanyId") is None:
                    raise MalformedResponseError(
                        SYSTEM, f"a company without an id (neither PrimaryKeyId nor CompanyId; fields: "
                        f"{', '.join(sorted(row)[:12])})", where=where)
            return rows

        companies: list[dict[str, Any]] = self.session.call("GET", COMPANIES_PATH, parse=parse, company=False)
        return companies

    def for_company(self, company_id: int) -> UnicontaClient:
        """A client bound to ``company_id`` sharing this one's call counter (close it when done)."""
        args: dict[str, Any] = dict(self._init_args)
        args["counter"] = self.counter
        return UnicontaClient(self.settings.with_company(company_id), **args)

    def choose_company(self, company_id: int) -> UnicontaClient:
        """Rule S1: check that ``company_id`` is among :meth:`companies` (one call), then bind to it.

        Raises :class:`UnknownCompanyError` naming the company id (and the ids the user *can* see) otherwise.
        """
        visible = self.companies()
        if not any(c.CompanyId == company_id for c in visible):
            ids = ", ".join(str(c.CompanyId) for c in visible) or "none"
            raise UnknownCompanyError(
                SYSTEM,
                f"user {self.settings.username!r} cannot see company {company_id} (visible companies: {ids}); "
                "choose one of those (rule S1)",
                setting=COMPANY_SETTING,
            )
        return self.for_company(company_id)

    # -- generic read & write ----------------------------------------------------------------------------------
    def read(
        self,
        cls: type[E] | str,
        filter: FilterLike = None,
        orderby: OrderLike = None,
        top: int | None = None,
        skip: int | None = None,
        page_size: int | None = None,
    ) -> Iterator[E]:
        """Stream records of ``cls`` (a model or a Uniconta class name) — see :meth:`ODataReader.pages`."""
        return self.odata.iter(cls, filter=filter, orderby=orderby, top=top, skip=skip, page_size=page_size)

    def read_pages(self, cls: type[E] | str, **kwargs: Any) -> Iterator[list[E]]:
        """Like :meth:`read`, one list per HTTP page (for chunked staging loads)."""
        return self.odata.pages(cls, **kwargs)

    def read_raw(
        self,
        cls: type[UnicontaEntity] | str,
        filter: FilterLike = None,
        orderby: OrderLike = None,
        top: int | None = None,
        skip: int | None = None,
        page_size: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Like :meth:`read` but yields the rows as dicts (Uniconta's field names, money as Decimal), unvalidated:
        for staging, where a row that does not fit goes to quarantine instead of stopping the read."""
        return self.odata.iter_raw(cls, filter=filter, orderby=orderby, top=top, skip=skip, page_size=page_size)

    def insert(self, obj: E, *, class_name: str | None = None) -> E:
        return self.crud.insert(obj, class_name=class_name)

    def insert_list(self, objs: Iterable[E], batch_size: int = DEFAULT_BATCH_SIZE, *,
                    class_name: str | None = None) -> list[E]:
        return self.crud.insert_list(objs, batch_size=batch_size, class_name=class_name)

    def iter_insert_list(self, objs: Iterable[E], batch_size: int = DEFAULT_BATCH_SIZE, *,
                         class_name: str | None = None) -> Iterator[list[E]]:
        return self.crud.iter_insert_list(objs, batch_size=batch_size, class_name=class_name)

    def update(self, obj: E, *, class_name: str | None = None) -> E:
        return self.crud.update(obj, class_name=class_name)

    def update_list(self, objs: Iterable[E], batch_size: int = DEFAULT_BATCH_SIZE, *,
                    class_name: str | None = None) -> list[E]:
        return self.crud.update_list(objs, batch_size=batch_size, class_name=class_name)

    def delete(self, obj: E, *, class_name: str | None = None) -> None:
        self.crud.delete(obj, class_name=class_name)

    def get_by(self, cls: type[E] | str, name: str, value: Any) -> list[E]:
        return self.crud.get_by(cls, name, value)

    # -- typed readers -----------------------------------------------------------------------------------------
    def debtors(self, **kw: Any) -> Iterator[DebtorClient]:
        return self.read(DebtorClient, **kw)

    def debtor_groups(self, **kw: Any) -> Iterator[DebtorGroupClient]:
        return self.read(DebtorGroupClient, **kw)

    def payment_terms(self, **kw: Any) -> Iterator[PaymentTermClient]:
        return self.read(PaymentTermClient, **kw)

    def layout_groups(self, **kw: Any) -> Iterator[DebtorLayoutGroupClient]:
        return self.read(DebtorLayoutGroupClient, **kw)

    def contacts(self, **kw: Any) -> Iterator[ContactClient]:
        return self.read(ContactClient, **kw)

    def employees(self, **kw: Any) -> Iterator[EmployeeClient]:
        return self.read(EmployeeClient, **kw)

    def items(self, **kw: Any) -> Iterator[InvItemClient]:
        return self.read(InvItemClient, **kw)

    def project_groups(self, **kw: Any) -> Iterator[ProjectGroupClient]:
        return self.read(ProjectGroupClient, **kw)

    def projects(self, **kw: Any) -> Iterator[ProjectClient]:
        return self.read(ProjectClient, **kw)

    def project_categories(self, **kw: Any) -> Iterator[PrCategoryClient]:
        return self.read(PrCategoryClient, **kw)

    def orders(self, **kw: Any) -> Iterator[DebtorOrderClient]:
        return self.read(DebtorOrderClient, **kw)

    def order_lines(self, **kw: Any) -> Iterator[DebtorOrderLineClient]:
        return self.read(DebtorOrderLineClient, **kw)

    def invoices(self, **kw: Any) -> Iterator[DebtorInvoiceClient]:
        return self.read(DebtorInvoiceClient, **kw)

    def invoice_lines(self, **kw: Any) -> Iterator[DebtorInvoiceLines]:
        return self.read(DebtorInvoiceLines, **kw)

    def gl_accounts(self, **kw: Any) -> Iterator[GLAccountClient]:
        return self.read(GLAccountClient, **kw)

    def gl_transactions(self, **kw: Any) -> Iterator[GLTransClient]:
        return self.read(GLTransClient, **kw)

    def vat_codes(self, **kw: Any) -> Iterator[GLVatClient]:
        return self.read(GLVatClient, **kw)

    def creditors(self, **kw: Any) -> Iterator[CreditorClient]:
        return self.read(CreditorClient, **kw)
