"""``tlsync contract probe --write-probe``: what Uniconta's ``InsertList`` does when one row of a call is bad.

Uniconta does not publish InsertList's partial-failure semantics or the shape of its answer (issue 13, evidence 7):
is a call with one bad row refused as a whole, or are the good rows stored? Is a 2xx answer the stored rows, a
status object, or an ``ErrorCodes`` number? tlsync assumes all-or-nothing and verifies a 2xx answer that is not the
stored rows by reading back (``crud.Unverified``). This probe finds out, on a **test company only**:

1. ``POST /api/Entities/InsertList/DebtorClient`` with two debtors, the second bad: it repeats the first one's
   account (a key clash inside the call), so the good row is the first;
2. ``GET /api/Entities/DebtorClient?Name=Account&Value=<the probe's account>`` — how many were stored;
3. ``DELETE /api/Entities/Delete/DebtorClient`` for each stored row, then the read again — nothing is left.

At most 6 calls. The probe's account is ``TLPROBE`` + six random hex digits and the name "tlsync write probe",
so a left-over row is recognisable. The result records the status codes, the answer's shape (its JSON type, keys,
error code and message shape — never a value), how many rows were stored and the semantics read from that:
``all-or-nothing`` (none stored), ``partial`` (the good row stored), ``no key check`` (both stored). Deleting is
recorded too; a row that could not be deleted is named by its account in ``cleanup.left`` so the operator can
remove it by hand.

Decision recorded: run only when the operator names the company (``--company``) and confirms it is a test company
(``--test-company``); the CLI refuses otherwise, before any call. Writing to a production company is never right
for a probe, and a flag is the one confirmation a script cannot make by accident.
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from . import Recorder, _json_error, json_type, shape

PROBE_CLASS = "DebtorClient"
PROBE_NAME = "tlsync write probe"
CALL_LIMIT = 6


def _answer_shape(resp: httpx.Response) -> dict[str, Any]:
    """The shape of a write's answer: JSON type, length of an array and its rows' fields, an object's keys and
    error code / message shape; a text's shape. No value survives."""
    if not resp.content.strip():
        return {"body": "empty"}
    try:
        body = resp.json()
    except ValueError:
        return {"body": "text", "message_shape": shape(resp.text)}
    out: dict[str, Any] = {"body": json_type(body)}
    if isinstance(body, list):
        out["length"] = len(body)
        out["row_fields"] = sorted({k for r in body if isinstance(r, dict) for k in r})[:60]
    elif isinstance(body, dict):
        out.update(_json_error(resp))
        err = body.get("error") if isinstance(body.get("error"), dict) else body
        if isinstance(err, dict) and "index" in err:
            out["names_index"] = True
    return out


def write_probe_uniconta(base_url: str, username: str, password: str, company_id: int, *,
                         transport: httpx.BaseTransport | None = None) -> dict[str, Any]:
    """Insert two debtors (one bad) with one InsertList into ``company_id``, see what was stored, delete it."""
    account = f"TLPROBE{secrets.token_hex(3).upper()}"
    auth = (f"00{int(company_id)}/{username}", password)
    good = {"Account": account, "Name": PROBE_NAME}
    bad = {"Account": account, "Name": f"{PROBE_NAME} (bad: same account)"}
    out: dict[str, Any] = {"class": PROBE_CLASS, "bad_row": "second row repeats the first row's account (key)"}
    with httpx.Client(base_url=base_url.rstrip("/"), headers={"Accept": "application/json"}, timeout=120,
                      transport=transport) as http:
        rec = Recorder(http, CALL_LIMIT)
        resp, info = rec.send("POST", f"/api/Entities/InsertList/{PROBE_CLASS}", json=[good, bad], auth=auth)
        if resp is not None:
            info["answer"] = _answer_shape(resp)
        out["insert_list"] = info

        def stored() -> tuple[list[dict] | None, dict[str, Any]]:
            """The probe's rows as Uniconta has them now; ``None`` when the read failed."""
            resp, info = rec.send("GET", f"/api/Entities/{PROBE_CLASS}", params={"Name": "Account", "Value": account},
                                  auth=auth)
            if resp is None or resp.status_code != 200:
                if resp is not None:
                    info["error"] = _json_error(resp)
                return None, info
            body = resp.json()
            body = body.get("value", body) if isinstance(body, dict) else body
            return [r for r in (body if isinstance(body, list) else [body]) if isinstance(r, dict)], info

        found, out["read_back"] = stored()
        rows = found or []
        n = len(rows)
        out["stored_rows"] = None if found is None else n
        out["semantics"] = ("unknown (the read-back failed)" if found is None else
                            {0: "all-or-nothing", 1: "partial"}.get(n, "no key check"))
        status = out["insert_list"].get("status")
        out["answer_kind"] = (
            "no answer" if status is None else
            ("refused" if n == 0 else "refused but stored") if status >= 400 else
            "2xx with the stored rows" if out["insert_list"].get("answer", {}).get("body") == "array" else
            "2xx without the stored rows")
        deleted = []
        for row in rows:
            resp, info = rec.send("DELETE", f"/api/Entities/Delete/{PROBE_CLASS}", json=row, auth=auth)
            deleted.append(info.get("status"))
        left = stored()[0] if rows else []
        out["cleanup"] = {"delete_status": deleted,
                          "left": ["(read-back failed)"] if left is None else [str(r.get("Account")) for r in left]}
        out["calls"] = rec.calls
    return out
