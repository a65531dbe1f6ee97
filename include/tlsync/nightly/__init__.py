"""The nightly read, free of Airflow: extract to landing files, validate (quality gate), stage, and the run
bookkeeping (summary, watermarks). ``dags/nightly_sync.py`` wires these into tasks; ``python -m tlsync.nightly.local``
runs them in one process. What is written back afterwards is :mod:`tlsync.writeback` (issue 12: the package was
``tlsync.sync``, which meant both)."""
