"""The administrator's and finance's pages inside the Airflow UI (Airflow ≥ 3.1 plugin interface, no Flask/FAB):
:mod:`.app` is the FastAPI app the api-server mounts under ``/tlsync``; :mod:`.security` who may see and change;
:mod:`.queries` what the pages read; :mod:`.i18n` Danish (default) and English. Registered by
``plugins/tlsync_pages.py``."""
