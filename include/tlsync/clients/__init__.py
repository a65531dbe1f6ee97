"""Typed httpx clients, one per API surface: TimeLog Reporting (XML), Transactional (SOAP), REST v1;
Uniconta OData reads and JSON CRUD writes. Shared transport concerns live in ``_http`` and ``errors``."""
