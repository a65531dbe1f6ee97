# Two commands do everything on a fresh clone (only Python 3.11 and the machine's services assumed):
#   make run    — venv from the lock, both simulators with generated demo data, the nightly sync DAG via
#                 `airflow dags test` on a SQLite Airflow home inside the project, a scripted set-up of legal
#                 entity 1, the write-back DAG, and the finance reconciliation report.
#   make test   — the whole test suite (SQLite and the PostgreSQL server at 127.0.0.1:5432).
SHELL   := /bin/bash
PYTHON  ?= python3.11
VENV    := .venv
PY      := $(VENV)/bin/python
UV_VERSION := 0.13.9
SIZE    ?= S
SEED    ?= 42
TEST_WORKERS ?= 2   # pytest-xdist processes; TEST_WORKERS=0 runs the suite in one process

.PHONY: venv run ui test lock ddl bench bench-all clean

$(VENV)/.installed: requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	@$(VENV)/bin/uv pip sync --quiet --python $(PY) requirements.lock
	@$(VENV)/bin/uv pip install --quiet --python $(PY) --no-deps -e .
	@touch $@

venv: $(VENV)/.installed

run: venv
	@$(PY) scripts/run_demo.py --size $(SIZE) --seed $(SEED)

# The Airflow UI with tlsync's pages on the demo data `make run` left (http://127.0.0.1:8080, UI_PORT to change).
ui: venv
	@$(PY) scripts/run_ui.py --size $(SIZE) --seed $(SEED)

# Bytecode for the test run: the suite starts hundreds of Python processes (Airflow CLIs and components, tlsync
# commands, killed runs); where PYTHONDONTWRITEBYTECODE is set (this machine, CI) and with the lock's packages
# installed without .pyc files, each one compiled Airflow, Great Expectations … from source again (an Airflow CLI
# start: 4.3 s CPU, 2.7 s from bytecode). The first process writes it to .venv/pycache, never beside the sources —
# as bench/nightly.py keeps it (docs/performance.md).
test: venv
	@env -u PYTHONDONTWRITEBYTECODE PYTHONPYCACHEPREFIX=$(CURDIR)/$(VENV)/pycache \
	  $(VENV)/bin/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# Regenerate the full lock from the direct pins (documented in the README).
lock: venv
	$(VENV)/bin/uv pip compile requirements.txt --python-version 3.11 -o requirements.lock

# Render the staging DDL for both dialects from the SQLAlchemy metadata into sql/.
ddl: venv
	$(PY) -m tlsync.staging.ddl sql

bench: venv
	$(PY) bench/staging_load.py

# Every benchmark in sequence, then one verdict line per issue-18 target (docs/performance.md).
# BENCH_ARGS e.g. "--backfill L" (adds the invoice backfill) or "--rows 200000 --size S" (a quick pass).
bench-all: venv
	$(PY) bench/all.py $(BENCH_ARGS)

clean:
	rm -rf airflow_home out .pytest_cache
