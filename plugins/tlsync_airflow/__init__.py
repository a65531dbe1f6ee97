"""The thin Airflow-facing layer of tlsync: hooks on Airflow Connections, and the provider metadata that
registers the ``timelog`` and ``uniconta`` connection types (fields, labels, placeholders) with Airflow."""
