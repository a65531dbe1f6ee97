"""Customer sync in both directions (issue 5 item 5; rules T1, U1, T4, S3, S4).

- :mod:`.mapping` — the official TimeLog customer ⇄ Uniconta debtor (and contact) field mapping:
  ``debtor_changes``, ``customer_changes``, ``new_debtor``, ``new_customer``, contact helpers.
- :mod:`.sync` — ``ensure_debtors`` (links, and debtor creation in the S3b "automatic" mode),
  ``ensure_employees`` (T4) and ``sync_customers`` (the nightly T1/U1 sync per legal entity).
- :mod:`.countries` — TimeLog ``CountryID`` ⇄ Uniconta ``CountryCode``.

See ``docs/customers.md`` for what runs in which mode and which side wins.
"""
