"""Expense import (rules U4, S6): supplier postings on the administrator's GL accounts in Uniconta become TimeLog
project expenses — exactly once, with the expense type chosen by account number and the project by number, and
a review list (CLI + Excel round trip) for what cannot be decided automatically.

- :mod:`.postings`   the staged supplier postings, their stable key, and reversal pairs
- :mod:`.reference`  TimeLog expense types / projects and the company currency from staging
- :mod:`.plan`       what happens to each posting (write / review with reason / ignore / unchanged)
- :mod:`.importer`   the writes through the sync ledger (domain ``expense``); :func:`import_expenses`
- :mod:`.report`     :func:`imported_expenses` for the finance report and the review list
- :mod:`.excel`, :mod:`.decisions`, :mod:`.cli`   the administrator's review round trip

Administrators' guide: ``docs/expenses.md``.
"""

from .importer import DOMAIN, ExpenseImport, import_expenses
from .report import imported_expenses, waiting

__all__ = ["DOMAIN", "ExpenseImport", "import_expenses", "imported_expenses", "waiting"]
