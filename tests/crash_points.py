"""Kills for the kill-at-every-point tests of the one exactly-once protocol (issue 12, ``tlsync.ledger.protocol``):
the first ``InsertList`` of one Uniconta class is interrupted at a named point, everything else goes through.

- ``after_claim``: killed before the ``InsertList`` (the claims are ``in_flight``, nothing landed);
- ``after_write`` (``after_orders`` for invoices): the records landed, killed before the ledger said done;
- ``answer_lost``: the records landed and the answer was lost (``WriteOutcomeUnknownError``: settled at once by
  looking them up);
- ``answer_and_look_up_lost``: the same, and every read after it fails too (the claims stay in flight; the next
  run's recovery settles them).
"""

from __future__ import annotations

from typing import Any

from tlsync.clients.errors import TransientError, WriteOutcomeUnknownError

POINTS = ("after_claim", "after_write", "answer_lost", "answer_and_look_up_lost")


class Crash(BaseException):
    """A kill: nothing in the product catches it."""


def crash_first_insert(monkeypatch: Any, client: Any, model: str, point: str) -> dict[str, bool]:
    """Patch ``client``'s class (undone with ``monkeypatch``): the first ``insert_list`` of ``model`` objects is
    interrupted at ``point``. Returns the switches (``armed``: not interrupted yet; ``down``: reads fail)."""
    real_insert, real_read = type(client).insert_list, type(client).read
    state = {"armed": True, "down": False}

    def insert_list(self: Any, objs: Any, *a: Any, **kw: Any) -> Any:
        if not state["armed"] or type(objs[0]).__name__ != model:
            return real_insert(self, objs, *a, **kw)
        state["armed"] = False
        if point == "after_claim":
            raise Crash(f"killed before the {model} InsertList")
        real_insert(self, objs, *a, **kw)
        if point in ("after_write", "after_orders"):
            raise Crash(f"killed after the {model} InsertList landed, before the ledger said done")
        state["down"] = point == "answer_and_look_up_lost"
        raise WriteOutcomeUnknownError("Uniconta", "the answer was lost")

    def read(self: Any, cls: Any, *a: Any, **kw: Any) -> Any:
        if state["down"]:
            raise TransientError("Uniconta", "unreachable while settling")
        return real_read(self, cls, *a, **kw)

    monkeypatch.setattr(type(client), "insert_list", insert_list)
    monkeypatch.setattr(type(client), "read", read)
    return state
