"""The reliability suite (issue 17): kills, concurrent writers, faults, hostile input, secrets.

Sizes fit CI (S data, a few trials, ~1–2 minutes); ``TLSYNC_RELIABILITY_LONG=1`` runs the larger counts by hand
(figures in ``docs/reliability.md``). The invoice-transfer world (simulators, staged S data, linked customers) is
the one of ``tests/invoicing``.
"""

from __future__ import annotations

import os

from tests.invoicing.conftest import world  # noqa: F401 - the fixture, shared

LONG = bool(os.environ.get("TLSYNC_RELIABILITY_LONG"))
TRIALS = 6 if LONG else 1
KILLS = 40 if LONG else 4
