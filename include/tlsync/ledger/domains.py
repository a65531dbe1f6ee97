"""The ledger's write domains — one name per kind of record tlsync writes exactly once (docs/rules.md T1–T4, U1–U4,
L3). A ``StrEnum``: the values are what the ledger stores (``sync_ledger.domain``), so rows written before this
enum existed are the same rows; code names a domain by member, never by a loose string."""

from __future__ import annotations

from enum import StrEnum


class Domain(StrEnum):
    INVOICE = "invoice"                 # a TimeLog invoice → one Uniconta draft order (T2); key: invoice GUID
    PROJECT = "project"                 # a TimeLog project → a Uniconta project (T3); key: project id
    DEBTOR = "debtor"                   # a TimeLog customer → a Uniconta debtor (T1); key: customer id
    EMPLOYEE = "employee"               # a TimeLog employee → a Uniconta employee (T2 lines); key: employee id
    CONTACT = "contact"                 # a TimeLog contact → a Uniconta contact (T1); key: contact id
    CUSTOMER_SYNC = "customer_sync"     # the nightly customer sync's updates (T1/U1/T4); key: side + record
    CUSTOMER_LINK = "customer_link"     # customer linking's actions (L3); key: debtor account
    EXPENSE = "expense"                 # a Uniconta posting → a TimeLog project expense (U4); key: posting row
    PRODUCT = "product"                 # an item-number change in TimeLog (U2); key: item number
