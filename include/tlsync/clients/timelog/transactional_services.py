"""The Transactional API's services and answers: where each WCF service lives, how its SOAPActions are spelled,
how a ``ResponseOfX`` answer is read, and the errors a refused operation raises.

Wire facts (TimeLog's API docs (api.timelog.com, TimeLogApiSdk), "Transactional SOAP wire format"; the SDK's
generated proxies ``Connected Services/*/Reference.cs``):

* each service is ``{site}/WebServices/<Area>/V<x>_<y>/<Name>ServiceSecure.svc`` (``<Name>Service.svc`` over plain
  HTTP) with its own target namespace (:class:`Service`; :data:`SECURITY`, :data:`CRM`,
  :data:`PROJECT_MANAGEMENT`, :data:`INVOICING`);
* every answer is ``ResponseOfX {Return[], ResponseState, Messages[], TotalPageCount, ...}`` (:func:`read_answer`);
  business errors are ``ResponseState`` ≠ ``Success`` with ``Messages`` (no SOAP fault), raised as
  :class:`TransactionalError`; a message about the session token (:func:`is_token_problem`) makes the client
  fetch a new token once.

Split from :mod:`.transactional` (issue 12), which re-exports the public names; the client there sends the
operations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from lxml import etree

from ..errors import MalformedResponseError, NotFoundError, RecordRejectedError
from . import _xml
from .models import APIMessage, ExecutionStatus

SYSTEM = "TimeLog Transactional API"
SETTING_CREDENTIALS = ("Transactional API user name / password (TransactionalSettings.username / "
                       "TransactionalSettings.password)")
SETTING_URL = "TimeLog site URL (TransactionalSettings.base_url)"

TOKEN_NS = "http://www.timelog.com/api/tlp/v1_3"
"""Namespace of the ``token`` parameter's members in every service but Security."""
RESPONSE_NS = "http://api.timelog.com"
"""Namespace of ``ResponseOfX`` members (``Return``, ``ResponseState`` …) outside the Security service."""


@dataclass(frozen=True)
class Service:
    """One WCF service: where it lives, its target namespace and how its operations' SOAPActions are spelled."""

    name: str
    path: str  # relative to the site URL; "{secure}" becomes "Secure" for HTTPS sites
    ns: str
    action_prefix: str | None = None  # "<ns>/<Contract>/" for contract-style actions, None for "<Op>Request"
    request_style_ops: frozenset[str] = frozenset()  # operations that use "<Op>Request" despite a prefix

    def url(self, secure: bool) -> str:
        return self.path.format(secure="Secure" if secure else "")


SECURITY = Service("SecurityService", "WebServices/Security/V1_2/SecurityService{secure}.svc",
                   "http://www.timelog.com/api/tlp/v1_2")
CRM = Service("CRMService", "WebServices/CRM/V1_4/CRMService{secure}.svc", "http://api.timelog.com/services/crm/1_4",
              action_prefix="http://api.timelog.com/services/crm/1_4/ICRMService/")
PROJECT_MANAGEMENT = Service("ProjectManagementService",
                             "WebServices/ProjectManagement/V1_8/ProjectManagementService{secure}.svc",
                             "http://www.timelog.com/api/tlp/v1_8",
                             action_prefix="http://www.timelog.com/api/tlp/v1_8/ProjectManagementService/")
INVOICING = Service("InvoicingService", "WebServices/Invoicing/V1_1/InvoicingService{secure}.svc",
                    "http://www.timelog.com/api/tlp/v1",
                    action_prefix="http://www.timelog.com/api/tlp/v1/InvoicingService/",
                    request_style_ops=frozenset({"GetInvoiceByID", "GetInvoiceByGUID", "GetCreditNoteByID",
                                                 "GetCreditNoteByGUID", "GetInvoiceSpecificationPDF",
                                                 "CreateInvoiceExternalMapping", "CreateCreditNoteExternalMapping"}))


def soap_action(service: Service, operation: str) -> str:
    """The ``SOAPAction`` header, as in the ``OperationContract(Action=...)`` of TimeLog's generated SDK proxies
    (TimeLog/TimeLogApiSdk ``Connected Services/*/Reference.cs``): some operations use the bare
    ``<Operation>Request`` (``GetTokenRequest``, ``GetInvoiceByIDRequest``), others ``<ns>/<Contract>/<Operation>``
    (``http://www.timelog.com/api/tlp/v1/InvoicingService/UpdateExternalData``). WCF dispatches on it; a wrong
    one is an ``a:ActionNotSupported`` fault."""
    if service.action_prefix is None or operation in service.request_style_ops:
        return f"{operation}Request"
    return f"{service.action_prefix}{operation}"


class TransactionalError(RecordRejectedError):
    """``ResponseState`` was not ``Success``: ``messages`` are TimeLog's ``APIMessage`` entries, ``state`` the state."""

    def __init__(self, operation: str, state: ExecutionStatus, messages: Sequence[APIMessage], *,
                 record: str | None = None, text: str | None = None) -> None:
        self.operation = operation
        self.state = state
        self.messages = list(messages)
        detail = text or "; ".join(m.message for m in messages if m.message) or "no message"
        super().__init__(SYSTEM, f"{operation} answered {state.name.title()}: {detail}", record=record or operation)


class TransactionalNotFoundError(TransactionalError, NotFoundError):
    """The record the operation was about does not exist (e.g. an unknown invoice GUID)."""


@dataclass
class Answer:
    """One ``ResponseOfX``: its state, messages, the ``Return`` items and ``TotalPageCount`` if the server says."""

    state: ExecutionStatus
    messages: list[APIMessage]
    items: list[etree._Element]
    total_pages: int | None


def operation_of(resp: httpx.Response) -> str | None:
    """The operation a request was for, read back from its ``SOAPAction`` header (either spelling)."""
    action: str = resp.request.headers.get("SOAPAction", "").strip('"')
    if action.endswith("Request"):
        return action[: -len("Request")].rsplit("/", 1)[-1]
    return action.rsplit("/", 1)[-1] or None


def read_answer(result: etree._Element, operation: str) -> Answer:
    """Read ``ResponseOfX`` members by local name (Security uses ``tlp/v1_1``, others ``http://api.timelog.com``)."""
    state = ExecutionStatus.parse(_xml.child_text(result, "ResponseState"))
    messages: list[APIMessage] = []
    msgs = _xml.child(result, "Messages")
    if msgs is not None:
        for m in msgs:
            if isinstance(m.tag, str):
                messages.append(APIMessage.model_validate(_xml.element_to_dict(m)))
    ret = _xml.child(result, "Return")
    items = [c for c in ret if isinstance(c.tag, str)] if ret is not None and not _xml.is_nil(ret) else []
    total_text = _xml.child_text(result, "TotalPageCount")
    try:
        total = int(total_text) if total_text not in (None, "") else None
    except ValueError:
        raise MalformedResponseError(SYSTEM, f"TotalPageCount is not a number: {total_text!r}",
                                     where=f"{operation} TotalPageCount") from None
    return Answer(state, messages, items, total)


_TOKEN_WORDS = ("token", "not authenticated", "session expired", "login expired", "log in again")


def is_token_problem(messages: Sequence[APIMessage]) -> bool:
    """Whether an answer's messages say the session token is invalid, expired or missing."""
    text = " ".join((m.message or "") for m in messages).lower()
    return any(w in text for w in _TOKEN_WORDS) and any(
        w in text for w in ("invalid", "expired", "not valid", "unknown", "missing", "not authenticated", "again"))
