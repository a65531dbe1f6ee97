-- A second database on the same server for tlsync's staging, ledger and reports (the metadata DB is "airflow").
CREATE DATABASE tlsync OWNER airflow;
