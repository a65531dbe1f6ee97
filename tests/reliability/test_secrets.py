"""No secret in anything tlsync writes (issue 17): landing files, every staging table (ledger, quarantine,
leases, run bookkeeping) and the log of a nightly sync plus an invoice write-back, against the simulators.

The secrets are the connections' own values (passwords, the Reporting API password, the REST token) and their
Basic-auth encodings; each is searched in every file under the output folder, in every text cell of every
staging table, and in everything logged. Also after an API error (a refused password), whose message must name
the setting, not the value.
"""

from __future__ import annotations

import base64
import logging
import os

import pytest
from sqlalchemy import inspect, text

from tlsync.invoicing import transfer_invoices


def _secrets(sims) -> list[str]:
    tl, uc = sims["timelog"], sims["uniconta"]
    values = [tl["password"], tl["extra"]["reporting_api_password"], tl["extra"]["rest_token"], uc["password"]]
    encoded = [base64.b64encode(f"{user}:{pw}".encode()).decode() for user, pw in
               ((tl["login"], tl["password"]), (uc["login"], uc["password"]))]
    return values + encoded


def _staging_text(engine) -> str:
    parts = []
    with engine.connect() as conn:
        for table in inspect(engine).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                parts.extend(str(v) for v in row if v is not None)
    return "\n".join(parts)


def _files_text(root: str) -> tuple[int, str]:
    n, parts = 0, []
    for folder, _, files in os.walk(root):
        for name in files:
            n += 1
            with open(os.path.join(folder, name), "rb") as fh:
                parts.append(fh.read().decode("utf-8", errors="replace"))
    return n, "\n".join(parts)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_no_secret_in_files_staging_or_logs(world, caplog):
    caplog.set_level(logging.DEBUG)
    sims, engine = world["sims"], world["engine"]
    res = transfer_invoices(engine, world["le"](1), world["uniconta"](10001), world["tx"], ledger=world["ledger"])
    assert res["transferred"] > 0
    from tlsync import connections

    wrong = {**sims["uniconta"], "password": "not-the-pw"}          # an error path too
    with connections.uniconta_client(company_id=10001, **wrong) as bad:
        with pytest.raises(Exception) as refused:
            bad.companies()
    secrets = _secrets(sims) + ["not-the-pw"]
    n, files = _files_text(os.environ["TLSYNC_OUT_DIR"])
    assert n > 0
    haystacks = {"files": files, "staging": _staging_text(engine), "log": caplog.text, "error": str(refused.value)}
    leaks = [(where, s[:3] + "…") for where, hay in haystacks.items() for s in secrets if s and s in hay]
    assert leaks == []
