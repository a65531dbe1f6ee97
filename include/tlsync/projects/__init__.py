"""Projects (rule T3): TimeLog projects become Uniconta projects in the configured project group (rule S7).

:func:`~tlsync.projects.transfer.transfer_projects` does the whole legal entity (``python -m tlsync.projects``);
:func:`~tlsync.projects.transfer.ensure_projects` makes sure the projects a batch of invoices refers to exist
before their drafts are written (rule T2 puts the project on the draft). A company without Uniconta's project
module gets one clear message and nothing is written; invoices then travel without project references.
"""

from __future__ import annotations

from .transfer import PROJECT_DOMAIN, ProjectResult, ensure_projects, project_payload, transfer_projects

__all__ = ["PROJECT_DOMAIN", "ProjectResult", "ensure_projects", "project_payload", "transfer_projects"]
