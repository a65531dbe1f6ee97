"""``python -m tlsync.settings``: show, validate, init, reset; problems one per line; exit code 1 when any."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from simulators.generator import FIXED_TODAY, generate
from tlsync.settings import load
from tlsync.settings.cli import main
from tlsync.staging.engine import create_staging_engine
from tlsync.staging.entities import get
from tlsync.staging.loader import StagingLoader
from tlsync.staging.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "integration.example.yaml"
CLASSES = {"DebtorGroupClient": "debtor_groups", "GLVatClient": "vat_zones", "PaymentTermClient": "payment_terms",
           "DebtorLayoutGroupClient": "layout_groups", "ProjectGroupClient": "project_groups",
           "PrCategoryClient": "project_categories", "GLAccountClient": "gl_accounts", "InvItemClient": "items"}


@pytest.fixture
def env(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'staging.db'}"
    monkeypatch.setenv("TLSYNC_STAGING_URL", url)
    monkeypatch.setenv("TLSYNC_OUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("TLSYNC_SETTINGS", str(tmp_path / "integration.yaml"))
    engine = create_staging_engine(url)
    upgrade(engine)
    loader = StagingLoader(engine)
    for company in generate("S", seed=42, today=FIXED_TODAY)["uniconta"]["companies"]:
        for cls, entity in CLASSES.items():
            loader.load(get(f"uniconta.{entity}"), str(company["CompanyId"]), "test-run", company.get(cls, []))
    engine.dispose()
    return tmp_path / "integration.yaml"


def test_validate_ok_and_with_problems(env, capsys):
    shutil.copy(EXAMPLE, env)
    assert main(["validate"]) == 0
    assert "2 legal entities, no problems" in capsys.readouterr().out

    env.write_text(EXAMPLE.read_text(encoding="utf-8").replace("debtor_group: DK ", "debtor_group: XX ")
                   .replace("project_group: null", "project_group: KUNDE"), encoding="utf-8")
    assert main(["validate"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "legal entity 1 (company 10001): debtor group 'XX' does not exist in Uniconta (rule S4); "
        "choose one of: DK, EU, OFF, UDL",
        "legal entity 2 (company 10002): the Uniconta company has no project module (no project groups or "
        "categories staged), so projects cannot be transferred (rules S7, T3); enable the project module in "
        "Uniconta or leave project_group empty"]


def test_invalid_file_prints_one_problem_per_line(env, capsys):
    env.write_text("legal_entities:\n  1:\n    customer_master: sometimes\n    pasword: x\n", encoding="utf-8")
    assert main(["show"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "legal entity 1: customer_master: Input should be 'manual' or 'automatic' (rule S3)",
        "legal entity 1: pasword: is not a known setting (secrets belong in Airflow Connections, not here)"]


def test_init_show_and_refuse_to_overwrite(env, capsys):
    assert main(["init", "--pair", "1=10001", "--pair", "2=10002"]) == 0
    s = load(env)
    assert {k: v.uniconta_company_id for k, v in s.legal_entities.items()} == {1: 10001, 2: 10002}
    assert main(["init"]) == 1
    assert "exists already" in capsys.readouterr().out
    assert main(["init", "--force", "--pair", "1=10001", "--pair", "2=10001"]) == 1   # S2: one company each
    assert main(["show"]) == 0
    out = capsys.readouterr().out
    assert "uniconta_company_id: 10001" in out and "(rule S8)" in out
    assert main(["validate"]) == 0            # nothing chosen yet is not wrong, only incomplete


def test_show_knows_which_company_has_no_project_module(env, capsys):
    shutil.copy(EXAMPLE, env)
    assert main(["show"]) == 0
    blockers = [line for line in capsys.readouterr().out.splitlines() if line.startswith("# legal entity")]
    assert [b.rsplit("(rule ", 1)[1] for b in blockers] == ["S8)", "S8)"]     # 10002: no S5 without the module


def test_reset_clears_the_entity_in_the_file(env, capsys):
    shutil.copy(EXAMPLE, env)
    assert main(["reset", "--legal-entity", "2"]) == 0
    out = capsys.readouterr().out
    assert "airflow connections delete uniconta_default" in out
    s = load(env)
    assert s.entity(2).uniconta_company_id is None and s.entity(2).uniconta_connection_id is None
    assert s.entity(1).uniconta_company_id == 10001
    assert main(["reset", "--legal-entity", "5"]) == 2                    # a set-up mistake: exit 2, stderr
    assert "legal entity 5 is not in the settings; configured: 1, 2" in capsys.readouterr().err
    assert main(["validate"]) == 1           # entity 2 has no company now
    assert "legal entity 2 (no Uniconta company): no Uniconta company chosen" in capsys.readouterr().out


def test_module_entry_point_exit_codes(env):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "tlsync.settings", *args], capture_output=True, text=True,
                              check=False, env={**os.environ, "PYTHONPATH": str(ROOT / "include")}, cwd=ROOT)

    missing = run("show")
    assert missing.returncode == 1 and "does not exist" in missing.stdout
    shutil.copy(EXAMPLE, env)
    assert run("validate").returncode == 0
    with pytest.raises(SystemExit) as exc:      # usage errors: argparse's exit code 2
        main(["nonsense"])
    assert exc.value.code == 2
