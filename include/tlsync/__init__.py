"""tlsync — the TimeLog PSA ⇄ Uniconta ERP sync.

The importable, Airflow-free domain package. DAGs (``dags/``) and hooks (``plugins/``) import from it;
it never imports Airflow at module level. See ``docs/rules.md`` for the rules cited in
docstrings (T1–T4, U1–U4, S1–S8, L1–L6, I1–I5).
"""

__version__ = "0.1.0"
