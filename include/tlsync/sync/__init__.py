"""The nightly sync's steps, free of Airflow: extract to landing files, validate (quality gate), stage, and the
run bookkeeping (summary, watermarks). ``dags/nightly_sync.py`` wires these into tasks."""
