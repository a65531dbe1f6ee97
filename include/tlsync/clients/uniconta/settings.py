"""Uniconta connection settings: where and as whom to connect, and the names of the settings errors point at.

Rule S1 — "connect, then choose the company": a user signs in with user name + password, sees the companies it
has rights in (:meth:`~.client.UnicontaClient.companies`), and one is chosen (``company_id``). Uniconta's JSON API
chooses the company through the Basic-auth *user name* ``00<CompanyId>/<user>`` ("two zeros denote a company ID
follows"), which :meth:`UnicontaSettings.login_name` spells; the OData feed takes it in the path (:mod:`.odata`).

Secrets: the password is a :class:`~pydantic.SecretStr` (``repr``/``str`` print ``**********``). Error messages
name the *setting* to fix (:data:`CREDENTIALS_SETTING`, :data:`COMPANY_SETTING`), never its value.

Split from :mod:`.session` (issue 12); the session, the transport and the client import these from here.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from .fields import ROW_ID_CANDIDATES

SYSTEM = "Uniconta"
"""The system name used in errors, logs and the :class:`CallCounter`."""
DAILY_QUOTA = 5000
"""Uniconta's standard quota: 5,000 server calls per user per day (up to 75,000 can be bought)."""
CREDENTIALS_SETTING = "Uniconta user/password in the Airflow Connection"
COMPANY_SETTING = "Uniconta company id in the Airflow Connection"
PROJECT_MODULE_HINT = (
    "the Uniconta company has no project module, so projects cannot be transferred (rule T3); "
    "activate the project module in Uniconta or switch off project transfer"
)
DEFAULT_BASE_URL = "https://odata.uniconta.com"


class UnicontaSettings(BaseModel):
    """Where and as whom to connect. Built by the Airflow hook from a Connection (login, password, extra)."""

    model_config = ConfigDict(frozen=True)

    base_url: str = DEFAULT_BASE_URL
    username: str = Field(min_length=1)
    password: SecretStr
    company_id: int | None = None
    row_id_field: str | None = None
    """The name rows carry their id under (``RowId`` or ``PrimaryKeyId``); ``None``: detect it (see :mod:`.fields`)."""
    list_settings: dict[str, str] = Field(default_factory=dict)
    """``{class name: the caller's setting}`` that sizes that class's lists, named when Uniconta refuses one as too
    large (:class:`~.crud.ListTooLargeError`)."""

    @field_validator("row_id_field")
    @classmethod
    def _known_row_id(cls, v: str | None) -> str | None:
        if v in (None, ""):
            return None
        if v not in ROW_ID_CANDIDATES:
            raise ValueError(f"row_id_field must be one of {', '.join(ROW_ID_CANDIDATES)} (or empty: detect)")
        return v

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, v: str) -> str:
        return v.rstrip("/")

    def login_name(self, company_id: int | None = None) -> str:
        """Basic-auth user name: ``00<CompanyId>/<user>`` when a company is chosen, else the bare user."""
        cid = self.company_id if company_id is None else company_id
        return f"00{cid}/{self.username}" if cid else self.username

    def with_company(self, company_id: int | None) -> UnicontaSettings:
        return self.model_copy(update={"company_id": company_id})
