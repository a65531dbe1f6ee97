"""``tlsync.cli_common``: settings file → legal entity (rules S1/S2) → staging database, and exit code 2 with one
line per problem when any of it is not usable."""

from __future__ import annotations

import argparse
import io

import pytest
from sqlalchemy import inspect

from tlsync import cli_common
from tlsync.cli_common import SetupError

TWO = "version: 1\nlegal_entities:\n  1:\n    uniconta_company_id: 10001\n  2:\n    uniconta_company_id: 10002\n"


@pytest.fixture
def settings_file(tmp_path):
    path = tmp_path / "integration.yaml"
    path.write_text(TWO, encoding="utf-8")
    return path


def _args(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    cli_common.add_setup_arguments(p)
    return p.parse_args(list(argv))


def test_the_legal_entity_is_chosen_or_the_only_one(settings_file, tmp_path):
    assert cli_common.legal_entity(settings_file, 2).uniconta_company_id == 10002
    with pytest.raises(SetupError, match=r"several legal entities \(1, 2\); choose one with --legal-entity N"):
        cli_common.legal_entity(settings_file, None)
    with pytest.raises(SetupError, match="legal entity 7 is not in the settings; configured: 1, 2"):
        cli_common.legal_entity(settings_file, 7)
    one = tmp_path / "one.yaml"
    one.write_text("version: 1\nlegal_entities:\n  3:\n    uniconta_company_id: 10003\n", encoding="utf-8")
    assert cli_common.legal_entity(one, None).legal_entity_id == 3


def test_settings_problems_are_one_line_each(tmp_path, monkeypatch):
    monkeypatch.setenv("TLSYNC_SETTINGS", str(tmp_path / "missing.yaml"))
    with pytest.raises(SetupError) as exc:
        cli_common.load_settings(None)                              # $TLSYNC_SETTINGS is the default
    assert "missing.yaml does not exist" in str(exc.value)
    out = io.StringIO()
    assert cli_common.setup_failed(exc.value, file=out, prefix="error: ") == 2
    assert out.getvalue().startswith("error: settings file ") and out.getvalue().endswith("\n")


def test_entity_and_staging_from_the_common_options(settings_file, tmp_path):
    from tlsync.staging.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'staging.db'}"
    argv = ("--file", str(settings_file), "--legal-entity", "1", "--staging-url", url)
    with pytest.raises(cli_common.SetupError, match=r"never migrated.*run `tlsync deploy init`"):
        cli_common.entity_and_staging(_args(*argv))        # the commands never create the schema themselves
    upgrade(url)                                           # the set-up step (tlsync deploy init) does
    le, engine = cli_common.entity_and_staging(_args(*argv))
    try:
        assert le.legal_entity_id == 1 and str(engine.url) == url
        assert "customer_links" in inspect(engine).get_table_names()          # the staging tables exist
    finally:
        engine.dispose()
    args = _args("--file", str(settings_file), "--timelog-conn", "tl_other")
    assert args.timelog_conn == "tl_other" and args.legal_entity is None and args.staging_url is None


def test_review_commands_export_and_import_decisions():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command", required=True)
    cli_common.add_review_commands(sub, export_help="write it", dry_run_help="check only")
    args = p.parse_args(["export", "--out", "review.xlsx"])
    assert args.command == "export" and args.out.name == "review.xlsx"
    args = p.parse_args(["import-decisions", "filled.xlsx", "--dry-run"])
    assert args.command == "import-decisions" and args.path.name == "filled.xlsx" and args.dry_run
    with pytest.raises(SystemExit):
        p.parse_args(["export"])                                    # --out is required


def test_setup_errors_anywhere_in_main_exit_2_on_the_chosen_stream(capsys):
    from tlsync.connections import ConnectionSettingError

    @cli_common.setup_errors_exit_2()
    def main(argv=None) -> int:
        if argv == ["conn"]:
            raise ConnectionSettingError("Airflow Connection 'x': the field 'Site URL (host)' is empty")
        if argv == ["boom"]:
            raise RuntimeError("not a setup problem")
        raise SetupError("legal entity 7 is not in the settings; configured: 1, 2")

    assert main() == 2 and capsys.readouterr().err == "legal entity 7 is not in the settings; configured: 1, 2\n"
    assert main(["conn"]) == 2 and "the field 'Site URL (host)' is empty" in capsys.readouterr().err
    with pytest.raises(RuntimeError):
        main(["boom"])                                              # anything else is not swallowed

    @cli_common.setup_errors_exit_2(stdout=True, prefix="error: ")
    def other() -> int:
        raise SetupError("two\nlines")

    assert other() == 2 and capsys.readouterr().out == "error: two\nlines\n"


def test_verbs_take_the_common_options_before_or_after_them():
    import argparse

    p = argparse.ArgumentParser(prog="x")
    cli_common.add_setup_arguments(p)
    p.add_argument("--verbose", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list").add_argument("--state")
    cli_common.options_anywhere(p)
    before = p.parse_args(["--legal-entity", "1", "--settings", "a.yaml", "list", "--state", "done"])
    after = p.parse_args(["list", "--legal-entity", "1", "--file", "a.yaml", "--state", "done", "--verbose"])
    assert (before.legal_entity, str(before.file), before.state, before.verbose) == (1, "a.yaml", "done", False)
    assert (after.legal_entity, str(after.file), after.state, after.verbose) == (1, "a.yaml", "done", True)
    neither = p.parse_args(["list"])
    assert neither.legal_entity is None and neither.file is None and neither.staging_url is None
    assert p.parse_args(["list", "--db", "sqlite://"]).staging_url == "sqlite://"   # the old name still works


@pytest.mark.parametrize("area", ["items", "expenses", "customers", "linking", "settings", "invoicing", "projects"])
def test_every_area_says_a_legal_entity_it_does_not_have_in_one_line_exit_2(area, tmp_path, monkeypatch, capsys):
    from tlsync.__main__ import main as tlsync
    from tlsync.settings import store
    from tlsync.settings.models import IntegrationSettings, LegalEntitySettings
    from tlsync.staging.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'staging.db'}"
    upgrade(url)
    path = tmp_path / "integration.yaml"
    store.save(IntegrationSettings(legal_entities={1: LegalEntitySettings(legal_entity_id=1)}), path)
    monkeypatch.setenv("TLSYNC_STAGING_URL", url)
    verb = {"items": "list", "expenses": "list", "customers": "sync", "linking": "status", "settings": "reset",
            "invoicing": "list", "projects": "transfer"}[area]
    args = [area, verb, "--legal-entity", "9", "--settings", str(path)]
    code = tlsync(args)
    err = capsys.readouterr()
    lines = [ln for ln in (err.err + err.out).splitlines() if ln.strip()]
    assert code == 2, (code, lines)
    assert any("legal entity 9" in ln for ln in lines) and "Traceback" not in err.err, lines
