"""Where the sync keeps its data, read from the environment (never from code), with laptop-friendly defaults.

- ``TLSYNC_STAGING_URL``: SQLAlchemy URL of the staging database. Default: SQLite at ``<project>/out/staging.db``
  (the embedded default: nothing to install). Production: ``postgresql+psycopg2://user:pw@host/tlsync``.
- ``TLSYNC_OUT_DIR``: landing files and reports. Default ``<project>/out``.
- ``TLSYNC_LOOKBACK_DAYS``: how far incremental reads reach back behind the watermark (default 7, the TimeLog
  guide's "daily: last 7 days" advice).
- ``TLSYNC_MODIFIED_OVERLAP_MINUTES``: how far a "modified since" read (TimeLog customers, projects, invoices and
  credit notes modified after their date) reaches back behind the previous successful run's start (default 180): a
  margin for this host's clock and time zone against the ones TimeLog stamps modifications with (a worker on
  Danish time reading stamps in UTC is up to 2 hours ahead), not the dated reads' look-back of days — records a
  night's write-back touched are then read once by the next night, not on every night of the look-back window.
- ``TLSYNC_HISTORY_START``: the first date of an initial load of dated records (default 2021-01-01).
- ``TLSYNC_LANDING_KEEP_RUNS``: how many runs' landing files to keep (default 7); older ones are deleted when a run
  finishes.
- ``TLSYNC_LANDING_URL`` / ``TLSYNC_LANDING_CONN``: where the landing files are (default ``<out>/landing``; object
  storage such as ``s3://bucket/prefix`` for workers on several hosts) and the Connection with its credentials —
  see :mod:`tlsync.sync.landing`.
"""

from __future__ import annotations

import os
from datetime import date
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine

from tlsync.errors import UserSettingError
from tlsync.staging.engine import create_staging_engine, default_url

PROJECT_ROOT = Path(__file__).resolve().parents[3]


def out_dir() -> Path:
    path = Path(os.environ.get("TLSYNC_OUT_DIR", PROJECT_ROOT / "out"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def staging_url() -> str:
    return default_url()


class SettingError(UserSettingError):
    """An environment setting of the sync is not usable: the message names the variable, the value and what it
    must be (one line, no traceback for an operator's mistake)."""


def _env_number(name: str, default: str, kind: type, *, minimum: float = 0):
    raw = os.environ.get(name, default)
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or value < minimum:
        what = "a whole number" if kind is int else "a number"
        raise SettingError(f"{name} must be {what} ≥ {minimum:g}, not {raw!r} (default {default})")
    return value


def lookback_days() -> int:
    return _env_number("TLSYNC_LOOKBACK_DAYS", "7", int)


def modified_overlap_minutes() -> float:
    return _env_number("TLSYNC_MODIFIED_OVERLAP_MINUTES", "180", float)


def landing_keep_runs() -> int:
    return _env_number("TLSYNC_LANDING_KEEP_RUNS", "7", int, minimum=1)


def history_start() -> date:
    raw = os.environ.get("TLSYNC_HISTORY_START", "2021-01-01")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise SettingError(f"TLSYNC_HISTORY_START must be a date YYYY-MM-DD, not {raw!r} (default 2021-01-01)") \
            from None


@lru_cache(maxsize=8)
def staging_engine(url: str | None = None) -> Engine:
    """One engine per URL and process (:func:`tlsync.staging.engine.create_staging_engine`: SQLite WAL and busy
    timeout, PostgreSQL pre-ping). Creates no table: the schema is migrated by the set-up step
    (:func:`tlsync.staging.migrate.upgrade`, docs/staging-migrations.md)."""
    return create_staging_engine(url or staging_url())
