"""Every environment setting of tlsync in one place: its name, default, what it must be and what it does.

Operators tune a deployment with ``TLSYNC_*`` environment variables (the integration's own settings — companies,
defaults, item numbers — are the settings file or Variable, :mod:`tlsync.settings`; credentials are Airflow
Connections, :mod:`tlsync.connections`). Before issue 12 each variable was read where it was used, each with its own
default and its own idea of a bad value (some a bare ``ValueError``, some silently clamped to 0). Now:

- :data:`SETTINGS` is the registry: one :class:`Setting` per variable, in the order ``tlsync config`` lists them
  and ``docs/configuration.md`` documents them.
- :func:`value` reads one at the time of the call (never cached: a test or a task sets the environment first), and
  a value that is not what the setting must be raises :class:`SettingError` — one line naming the variable, the
  value given, what it must be and the default (docs/CONVENTIONS.md: one-line errors, no traceback).
- ``tlsync config`` prints every setting with its value and where it came from; values of settings marked
  ``secret`` (a database URL may carry a password) are shown without their password.

This module imports nothing from tlsync but :mod:`tlsync.errors`, so every layer — staging included — may use it.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from tlsync.errors import UserSettingError

#: the repository's root (``include/tlsync/config.py`` → three levels up): defaults for the laptop set-up
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class SettingError(UserSettingError):
    """An environment setting is not usable: the message names the variable, the value and what it must be."""


def _whole(raw: str) -> int:
    return int(raw.strip().replace("_", ""))


def _number(raw: str) -> float:
    return float(raw.strip())


def _amount(raw: str) -> Decimal:
    try:
        return Decimal(raw.strip())
    except InvalidOperation:
        raise ValueError(raw) from None


def _day(raw: str) -> date:
    return date.fromisoformat(raw.strip())


def _text(raw: str) -> str:
    return raw.strip()


@dataclass(frozen=True)
class Setting:
    """One environment variable: ``parse`` turns its text into the value (raising ``ValueError`` on a bad one);
    ``check`` returns what is wrong with a parsed value, or ``None``; ``must`` says what it must be, for the error."""

    name: str
    default: str
    must: str
    doc: str
    parse: Callable[[str], Any] = _text
    check: Callable[[Any], str | None] | None = None
    secret: bool = False

    def read(self, environ: Mapping[str, str] | None = None) -> Any:
        env: Mapping[str, str] = os.environ if environ is None else environ
        raw = env.get(self.name, "")
        given = raw.strip() != ""
        text = raw if given else self.default
        problem: str | None
        try:
            parsed = self.parse(text)
        except ValueError:
            parsed, problem = None, self.must
        else:
            problem = self.check(parsed) if self.check else None
        if problem is not None:
            shown = "<hidden>" if self.secret else repr(raw if given else text)
            raise SettingError(f"{self.name} must be {problem}, not {shown} (default {self.default or 'empty'})")
        return parsed


def _at_least(minimum: float, what: str) -> Callable[[Any], str | None]:
    return lambda v: None if v >= minimum else what


def _share(v: float) -> str | None:
    return None if 0 <= v <= 1 else "a number between 0 and 1 (e.g. 0.5)"


def _confirm(v: int) -> str | None:
    return None if v == 0 or v >= 2 else "0 (never) or at least 2 reads"


def _language(v: str) -> str | None:
    return None if v.lower() in ("da", "en") else "da or en"


SETTINGS: dict[str, Setting] = {s.name: s for s in (
    # where the data is
    Setting("TLSYNC_STAGING_URL", "", "a SQLAlchemy URL such as postgresql+psycopg2://user@host/tlsync",
            "the staging database; empty = SQLite staging.db in TLSYNC_OUT_DIR (the embedded default)", secret=True),
    Setting("TLSYNC_OUT_DIR", str(PROJECT_ROOT / "out"), "a folder",
            "landing files, reports and the embedded staging database"),
    Setting("TLSYNC_LANDING_URL", "", "a folder or an object-store URL such as s3://bucket/prefix",
            "where the nightly's landing files go; empty = <TLSYNC_OUT_DIR>/landing"),
    Setting("TLSYNC_LANDING_CONN", "", "an Airflow Connection id",
            "the Connection with the object store's credentials (default tlsync_landing when it exists)"),
    Setting("TLSYNC_LANDING_KEEP_RUNS", "7", "a whole number ≥ 1", "how many runs' landing files are kept",
            _whole, _at_least(1, "a whole number ≥ 1")),
    # what the nightly reads
    Setting("TLSYNC_LOOKBACK_DAYS", "7", "a whole number ≥ 0",
            "how far dated reads reach back behind the watermark (TimeLog's 'daily: last 7 days')",
            _whole, _at_least(0, "a whole number ≥ 0")),
    Setting("TLSYNC_MODIFIED_OVERLAP_MINUTES", "180", "a number ≥ 0",
            "how far 'modified since' reads reach back behind the previous run's start (clock and time-zone margin)",
            _number, _at_least(0, "a number ≥ 0")),
    Setting("TLSYNC_HISTORY_START", "2021-01-01", "a date YYYY-MM-DD",
            "the first date of an initial load of dated records", _day),
    Setting("TLSYNC_TIMELOG_READ_WINDOW_DAYS", "183", "a whole number ≥ 1",
            "the longest date range one TimeLog read of invoices, lines and line details spans: an initial load of "
            "years is read window by window, so one answer never holds the whole history",
            _whole, _at_least(1, "a whole number ≥ 1")),
    Setting("TLSYNC_UNICONTA_ROWID_OVERLAP", "0", "a whole number ≥ 0",
            "how many row ids below the highest staged one the posted classes read again",
            _whole, _at_least(0, "a whole number ≥ 0")),
    Setting("TLSYNC_UNICONTA_FULL_READ_EVERY_DAYS", "0", "a whole number ≥ 0",
            "every how many days the posted classes are read in full (0 = never)",
            _whole, _at_least(0, "a whole number ≥ 0")),
    Setting("TLSYNC_MAX_PRUNE_SHARE", "0.5", "a number between 0 and 1 (e.g. 0.5)",
            "the largest share of an entity's staged rows one run may remove as vanished", _number, _share),
    Setting("TLSYNC_PRUNE_CONFIRM_READS", "2", "0 (never) or at least 2 reads",
            "after how many full reads in a row without them rows held by the safety valve are removed",
            _whole, _confirm),
    # Uniconta's daily calls
    Setting("TLSYNC_UNICONTA_DAILY_CALLS", "5000", "a whole number ≥ 1",
            "Uniconta calls tlsync may spend per Danish day (higher when extra calls are bought)",
            _whole, _at_least(1, "a whole number ≥ 1")),
    Setting("TLSYNC_UNICONTA_INVOICE_RESERVE", "1000", "a whole number ≥ 0",
            "calls of the day the master-data steps leave for the invoices",
            _whole, _at_least(0, "a whole number ≥ 0")),
    Setting("TLSYNC_UNICONTA_SLOW_CALL_SECONDS", "1.0", "a number > 0",
            "an answer slower than this is booked as a slow call (Uniconta may be throttling)",
            _number, _at_least(1e-9, "a number > 0")),
    # writing
    Setting("TLSYNC_UNICONTA_ORDER_BATCH", "500", "a whole number between 1 and 5000",
            "invoice drafts (DebtorOrderClient) per InsertList call of the invoice transfer; lower it if Uniconta "
            "refuses a list as too large (docs/going-live.md §5)",
            _whole, lambda v: None if 1 <= v <= 5000 else "a whole number between 1 and 5000"),
    Setting("TLSYNC_UNICONTA_LINE_BATCH", "2000", "a whole number between 1 and 20000",
            "invoice lines (DebtorOrderLineClient) per InsertList call of the invoice transfer; lower it if "
            "Uniconta refuses a list as too large (docs/going-live.md §5)",
            _whole, lambda v: None if 1 <= v <= 20000 else "a whole number between 1 and 20000"),
    Setting("TLSYNC_MATCH_PROCESSES", "2", "1 or 2",
            "processes a large customer match may use: 2 = a second, forked one while a core is spare "
            "(docs/matching-engine.md), 1 = never fork", _whole, lambda v: None if v in (1, 2) else "1 or 2"),
    Setting("TLSYNC_WRITEBACK_THREADS", "8", "a whole number ≥ 1",
            "parallel Uniconta writes of the invoice transfer", _whole, _at_least(1, "a whole number ≥ 1")),
    Setting("TLSYNC_LEASE_TTL", "90", "a number of seconds > 0",
            "how long a writer's lease lives without renewal before another writer may take it over",
            _number, _at_least(1e-9, "a number of seconds > 0")),
    Setting("TLSYNC_LEASE_WAIT", "0", "a number of seconds ≥ 0",
            "how long a second writer waits for the lease before it stops with one line",
            _number, _at_least(0, "a number of seconds ≥ 0")),
    # reports
    Setting("TLSYNC_RECONCILE_TOLERANCE", "0.01", "an amount ≥ 0 such as 0.01",
            "the largest difference the reconciliation still counts as equal",
            _amount, _at_least(0, "an amount ≥ 0 such as 0.01")),
    Setting("TLSYNC_REPORT_LANGUAGE", "da", "da or en", "the language of reports and pages", _text, _language),
    # the deployment
    Setting("TLSYNC_TASK_RETRIES", "3", "a whole number ≥ 0", "Airflow retries of each task of the DAGs",
            _whole, _at_least(0, "a whole number ≥ 0")),
    Setting("TLSYNC_UI_WRITE_RESOURCE", "variable", "variable or connection",
            "which Airflow permission lets a user save on the tlsync pages (edit Variables, or edit Connections)",
            _text, lambda v: None if v.lower() in ("variable", "connection") else "variable or connection"),
    Setting("TLSYNC_DEBUG", "", "anything (non-empty = on)", "debug logging for `python -m tlsync.nightly.local`"),
    Setting("TLSYNC_SETTINGS", str(PROJECT_ROOT / "config" / "integration.yaml"), "a file",
            "the administrator's settings file (else the Airflow Variable tlsync_integration_settings)"),
)}


UNICONTA_LIST_SETTINGS = {"DebtorOrderClient": "TLSYNC_UNICONTA_ORDER_BATCH",
                          "DebtorOrderLineClient": "TLSYNC_UNICONTA_LINE_BATCH"}
"""The settings that size a Uniconta class's lists (docs/going-live.md §5), given to the Uniconta client so that a
list refused as too large names the one to lower; other classes go 100 records per call."""


def value(name: str) -> Any:
    """The current value of the setting ``name`` (a key of :data:`SETTINGS`), parsed and checked."""
    return SETTINGS[name].read()


def out_dir() -> Path:
    """``TLSYNC_OUT_DIR`` (created when missing): landing files, reports, the embedded staging database."""
    path = Path(value("TLSYNC_OUT_DIR"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def lookback_days() -> int:
    return int(value("TLSYNC_LOOKBACK_DAYS"))


def timelog_read_window_days() -> int:
    return int(value("TLSYNC_TIMELOG_READ_WINDOW_DAYS"))


def modified_overlap_minutes() -> float:
    return float(value("TLSYNC_MODIFIED_OVERLAP_MINUTES"))


def landing_keep_runs() -> int:
    return int(value("TLSYNC_LANDING_KEEP_RUNS"))


def history_start() -> date:
    day: date = value("TLSYNC_HISTORY_START")
    return day


def is_set(name: str) -> bool:
    """Whether the environment gives ``name`` a non-empty value (else its default applies)."""
    return os.environ.get(name, "").strip() != ""


def _shown(setting: Setting) -> str:
    raw = os.environ.get(setting.name, "").strip() or setting.default
    if setting.secret and "@" in raw and "://" in raw:       # user:password@host → user:***@host
        scheme, _, rest = raw.partition("://")
        auth, _, host = rest.rpartition("@")
        user = auth.partition(":")[0]
        raw = f"{scheme}://{user}{':***' if ':' in auth else ''}@{host}"
    return raw or "(empty)"


def main(argv: Sequence[str] | None = None) -> int:
    """``tlsync config``: every environment setting, its value now, whether it is set or the default, and — for a
    value that is not usable — what is wrong with it (exit 2 when any is)."""
    parser = argparse.ArgumentParser(prog="tlsync config", description=main.__doc__)
    parser.add_argument("--check", action="store_true", help="only check: print the unusable settings, if any")
    args = parser.parse_args(argv)
    bad = 0
    for setting in SETTINGS.values():
        try:
            setting.read()
            problem = ""
        except SettingError as exc:
            bad += 1
            problem = f"  ✗ {exc}"
        if args.check and not problem:
            continue
        origin = "set" if is_set(setting.name) else "default"
        print(f"{setting.name}={_shown(setting)}  [{origin}] — {setting.doc}{problem}")
    if args.check and not bad:
        print(f"all {len(SETTINGS)} settings usable")
    return 2 if bad else 0
