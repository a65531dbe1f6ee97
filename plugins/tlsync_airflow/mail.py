"""Sending the reconciliation report by e-mail through an Airflow SMTP connection (smtp provider's ``SmtpHook``).

What is sent and to whom is decided in :mod:`tlsync.reconcile.report.mail`; this is the Airflow side only:
the connection
``tlsync_smtp`` (host, port, login/password; extras ``from_email``, ``disable_tls``/``disable_ssl``, ``timeout`` as
the provider documents them), the PDF and the workbook attached. No recipients: nothing is sent.
"""

from __future__ import annotations

from typing import Any

from tlsync.reconcile.report.mail import SMTP_CONN_ID, compose, recipients


def send_report(report: dict[str, Any], raw_recipients: str | None, *, conn_id: str = SMTP_CONN_ID) -> dict:
    """Send ``report`` (the summary :func:`tlsync.reconcile.flow.run_report` returns) to the addresses in
    ``raw_recipients``; returns what was done (JSON-safe, no addresses' secrets — the addresses themselves)."""
    to = recipients(raw_recipients)
    if not to:
        return {"sent": False, "reason": "no recipients configured (Airflow Variable tlsync_report_recipients)"}
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    subject, body = compose(report)
    files = [p for p in (report.get("pdf"), report.get("xlsx")) if p]
    with SmtpHook(smtp_conn_id=conn_id) as hook:
        hook.send_email_smtp(to=to, subject=subject, html_content=body, files=files)
    return {"sent": True, "to": to, "subject": subject, "attachments": len(files)}
