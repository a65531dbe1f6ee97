"""Where the sync keeps its data — moved: the environment settings are :mod:`tlsync.config` (the one reader of
``TLSYNC_*``), the staging engine is :func:`tlsync.staging.engine.staging_engine`. This module keeps the old names
for the callers not yet moved (issue 12) and goes away with them."""

from __future__ import annotations

from tlsync.config import (
    PROJECT_ROOT,
    SettingError,
    history_start,
    landing_keep_runs,
    lookback_days,
    modified_overlap_minutes,
    out_dir,
)
from tlsync.staging.engine import default_url as staging_url
from tlsync.staging.engine import staging_engine

__all__ = ["PROJECT_ROOT", "SettingError", "history_start", "landing_keep_runs", "lookback_days",
           "modified_overlap_minutes", "out_dir", "staging_engine", "staging_url"]
