"""The environment settings have one home (issue 12): ``tlsync.config`` reads every ``TLSYNC_*`` variable, a bad
value is one line naming it, and ``tlsync config`` lists them without secrets."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tlsync import config

ROOT = Path(__file__).resolve().parents[2]
#: a read of a TLSYNC_ variable: environ.get("…"), getenv("…"), environ["…"] (not an assignment to it)
READ = re.compile(r"""(?:environ\.get\(|getenv\()\s*["'](TLSYNC_[A-Z_]+)|environ\[\s*["'](TLSYNC_[A-Z_]+)["']\](?!\s*=[^=])""")


def test_no_module_reads_a_tlsync_variable_but_the_config_module():
    readers = {}
    for folder in ("include", "dags", "plugins"):
        for path in (ROOT / folder).rglob("*.py"):
            if path == ROOT / "include" / "tlsync" / "config.py":
                continue
            for pair in READ.findall(path.read_text(encoding="utf-8")):
                name = "".join(pair)
                readers.setdefault(name, []).append(str(path.relative_to(ROOT)))
    assert readers == {}, f"read these through tlsync.config.value(): {readers}"


def test_every_setting_in_the_docs_is_in_the_registry_and_back():
    documented = set(re.findall(r"`(TLSYNC_[A-Z_]+)`", (ROOT / "docs" / "configuration.md").read_text()))
    assert documented == set(config.SETTINGS)


def test_values_are_parsed_and_defaults_apply(monkeypatch):
    for name in config.SETTINGS:
        monkeypatch.delenv(name, raising=False)
    assert config.value("TLSYNC_LOOKBACK_DAYS") == 7
    assert config.value("TLSYNC_HISTORY_START") == date(2021, 1, 1)
    assert config.value("TLSYNC_RECONCILE_TOLERANCE") == Decimal("0.01")
    monkeypatch.setenv("TLSYNC_UNICONTA_DAILY_CALLS", "75_000")
    assert config.value("TLSYNC_UNICONTA_DAILY_CALLS") == 75_000
    monkeypatch.setenv("TLSYNC_LOOKBACK_DAYS", "  ")          # blank = not set
    assert config.value("TLSYNC_LOOKBACK_DAYS") == 7


@pytest.mark.parametrize(("name", "raw", "must"), [
    ("TLSYNC_LOOKBACK_DAYS", "seven", "a whole number ≥ 0"),
    ("TLSYNC_LANDING_KEEP_RUNS", "0", "a whole number ≥ 1"),
    ("TLSYNC_MAX_PRUNE_SHARE", "2", "a number between 0 and 1"),
    ("TLSYNC_PRUNE_CONFIRM_READS", "1", "0 (never) or at least 2 reads"),
    ("TLSYNC_HISTORY_START", "1/1/2021", "a date YYYY-MM-DD"),
    ("TLSYNC_RECONCILE_TOLERANCE", "-1", "an amount ≥ 0"),
    ("TLSYNC_REPORT_LANGUAGE", "fr", "da or en"),
])
def test_a_bad_value_is_one_line_naming_the_variable_the_value_and_the_rule(monkeypatch, name, raw, must):
    monkeypatch.setenv(name, raw)
    with pytest.raises(config.SettingError) as caught:
        config.value(name)
    message = str(caught.value)
    assert message.startswith(f"{name} must be {must}") and repr(raw) in message and "\n" not in message


def test_tlsync_config_lists_the_settings_hides_passwords_and_fails_on_a_bad_one(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "TLSYNC_OUT_DIR": str(tmp_path),
           "TLSYNC_STAGING_URL": "postgresql+psycopg2://tl:s3cret-pw@db.example/tlsync"}
    ok = subprocess.run([sys.executable, "-m", "tlsync", "config"], capture_output=True, text=True, env=env,
                        cwd=ROOT)
    assert ok.returncode == 0, ok.stderr
    assert "TLSYNC_STAGING_URL=postgresql+psycopg2://tl:***@db.example/tlsync  [set]" in ok.stdout
    assert "s3cret-pw" not in ok.stdout + ok.stderr
    assert f"TLSYNC_OUT_DIR={tmp_path}  [set]" in ok.stdout and "TLSYNC_LOOKBACK_DAYS=7  [default]" in ok.stdout

    bad = subprocess.run([sys.executable, "-m", "tlsync", "config", "--check"], capture_output=True, text=True,
                         env={**env, "TLSYNC_LEASE_TTL": "soon"}, cwd=ROOT)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stdout.strip().splitlines() == [
        "TLSYNC_LEASE_TTL=soon  [set] — how long a writer's lease lives without renewal before another writer may "
        "take it over  ✗ TLSYNC_LEASE_TTL must be a number of seconds > 0, not 'soon' (default 90)"]
