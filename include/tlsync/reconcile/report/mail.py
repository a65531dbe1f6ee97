"""The reconciliation report as an e-mail: who gets it, and what the message says (the bridge in the body).

No Airflow here: the monthly DAG sends the message through the smtp provider's ``SmtpHook`` on the Airflow
connection :data:`SMTP_CONN_ID` (:mod:`tlsync_airflow.mail`); this module only decides.

**Recipients** — decision: the Airflow Variable ``tlsync_report_recipients`` (env ``AIRFLOW_VAR_TLSYNC_REPORT_
RECIPIENTS``), addresses separated by commas, semicolons or new lines. One list for the whole installation, because
the people who sign off the month (the controller, the CFO) are the same for every legal entity; an empty or
missing Variable means **nothing is sent** (the report is still written). An address that is not an address is
refused with one line naming the Variable.

**The message** — subject with the legal entity, the period and the difference (TimeLog − Uniconta); an HTML body
with the amount bridge per currency (the lines summing to the difference), the counts and where the files are;
the PDF (archive) and the workbook attached.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from html import escape
from typing import Any

from .i18n import Lang

SMTP_CONN_ID = "tlsync_smtp"
RECIPIENTS_VARIABLE = "tlsync_report_recipients"
_ADDRESS = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+\Z")


def recipients(raw: str | None) -> list[str]:
    """The addresses in the Variable's value (empty: nobody, nothing is sent)."""
    out: list[str] = []
    for part in re.split(r"[,;\n]+", raw or ""):
        addr = part.strip()
        if not addr:
            continue
        if not _ADDRESS.match(addr):
            raise ValueError(f"{addr!r} in the Airflow Variable {RECIPIENTS_VARIABLE} is not an e-mail address "
                             f"(separate addresses with commas)")
        if addr not in out:
            out.append(addr)
    return out


def _category(key: str, lang: Lang) -> str:
    return lang.t("rounding") if key == "rounding" else lang.category(key)


def compose(report: dict[str, Any]) -> tuple[str, str]:
    """Subject and HTML body for a report summary (what :func:`tlsync.reconcile.flow.run_report` returns)."""
    lang = Lang(report.get("language", "da"))
    start, end = (date.fromisoformat(x) for x in (report["start"], report["end"]))
    period = lang.period(start, end)
    home = next((b for b in report["bridge"] if b["currency"] == report["currency"]), None)
    diff = lang.money(Decimal(home["difference"]) if home else Decimal(report["difference"]), report["currency"],
                      signed=True)
    subject = lang.t("mail_subject", le=report["legal_entity_id"], period=period, diff=diff)
    parts = [f"<p>{escape(lang.t('mail_intro'))}</p>",
             f"<p><b>{escape(lang.t('entity', le=report['legal_entity_id'], company=report['company_id']))}</b>, "
             f"{escape(period)}</p>", f"<p><i>{escape(lang.t('sign'))}</i></p>"]
    td = 'style="padding:3px 10px;text-align:right;white-space:nowrap"'
    tl = 'style="padding:3px 10px"'
    for b in report["bridge"]:
        cur = b["currency"]
        rows = [(lang.t("timelog_total"), "", lang.money(Decimal(b["timelog_total"]), cur), True),
                (lang.t("uniconta_total"), "", lang.money(Decimal(b["uniconta_total"]), cur), True),
                (lang.t("difference"), "", lang.money(Decimal(b["difference"]), cur, signed=True), True)]
        rows += [("&nbsp;&nbsp;" + escape(_category(ln["key"], lang)), lang.number(ln["count"]),
                  lang.money(Decimal(ln["amount"]), cur, signed=True), False) for ln in b["lines"]]
        body = "".join(f"<tr><td {tl}>{label if not bold else '<b>' + escape(label) + '</b>'}</td>"
                       f"<td {td}>{escape(str(n))}</td><td {td}>{'<b>' if bold else ''}{escape(v)}"
                       f"{'</b>' if bold else ''}</td></tr>" for label, n, v, bold in rows)
        parts.append(f"<h3>{escape(lang.t('bridge'))} ({escape(cur)})</h3>"
                     f"<table style=\"border-collapse:collapse\"><tr><th {tl}></th><th {td}>"
                     f"{escape(lang.t('count'))}</th><th {td}>{escape(lang.t('amount'))}</th></tr>{body}</table>")
    counts = report.get("counts") or {}
    if counts:
        parts.append(f"<p>{escape(lang.t('count_per_category'))}: " + ", ".join(
            f"{escape(lang.category(c))} {lang.number(n)}" for c, n in counts.items()) + "</p>")
    if report.get("html"):
        parts.append(f"<p class=\"muted\">{escape(lang.t('mail_files', path=report['html']))}</p>")
    return subject, "<html><body style=\"font-family:sans-serif\">" + "".join(parts) + "</body></html>"
