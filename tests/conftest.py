"""Shared fixtures: a real database per test on SQLite (embedded default) and on PostgreSQL (127.0.0.1:5432)."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

from simulators.generator import FIXED_TODAY

# Airflow reads its configuration at import time: give the test session its own home, never the user's.
ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="tlsync-airflow-home-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(ROOT / "dags"))
os.environ.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(ROOT / "plugins"))

import pytest
from sqlalchemy import create_engine, text

PG_ADMIN_URL = os.environ.get("TLSYNC_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def _pg_url(dbname: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + dbname


def pytest_collection_modifyitems(items):
    """The tests marked ``slow`` (each runs for minutes or most of one: real Airflow processes, whole nights) are
    collected first, the rest in their usual order. Decision (CI time): with two xdist workers, a long test handed
    out last kept one worker busy for minutes while the other had nothing left to do; handed out first, they run
    beside the short tests, which fill both workers up to the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture
def make_pg_database():
    """Factory of throw-away PostgreSQL databases (dropped after the test). Fails loudly if the server is down."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    names: list[str] = []

    def make() -> str:
        name = f"tlsync_test_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        names.append(name)
        return _pg_url(name)

    yield make
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_database(make_pg_database):
    return make_pg_database()


@pytest.fixture
def second_db_url(db_url, tmp_path, make_pg_database):
    """Another empty database of the same kind as ``db_url`` (to compare two runs side by side)."""
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'second.db'}"
    return make_pg_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """The same test on both databases the product supports."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'staging.db'}"
    else:
        yield request.getfixturevalue("pg_database")


@pytest.fixture
def engine(db_url):
    """A staging engine on the test's database, migrated to the code's revision (as ``tlsync deploy init`` does)."""
    from tlsync.staging.engine import create_staging_engine
    from tlsync.staging.migrate import upgrade

    eng = create_staging_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def use_staging(tmp_path, monkeypatch):
    """Point the product's configuration at a staging database: ``use_staging(url)`` sets ``TLSYNC_STAGING_URL``
    (and ``TLSYNC_OUT_DIR`` to the test's folder), migrates it (``migrate=False``: leave it as it is), empties the
    per-URL engine cache and returns ``staging_engine()``. May be called again with another URL; the
    engines are disposed and the cache emptied after the test. The one place tests do this."""
    from tlsync.staging.engine import staging_engine
    from tlsync.staging.migrate import upgrade
    monkeypatch.setenv("TLSYNC_OUT_DIR", str(tmp_path / "out"))
    handed_out = []

    def use(url: str, *, migrate: bool = True):
        if migrate:
            upgrade(url)
        monkeypatch.setenv("TLSYNC_STAGING_URL", url)
        staging_engine.cache_clear()
        handed_out.append(staging_engine())
        return handed_out[-1]

    staging_engine.cache_clear()
    yield use
    for eng in handed_out:
        eng.dispose()
    staging_engine.cache_clear()


@pytest.fixture(scope="session")
def staged_copy(tmp_path_factory):
    """``staged_copy(key, build, db_url, out_dir)``: fill the test's empty database ``db_url`` (nothing connected to
    it yet) and its output folder ``out_dir`` with a copy of a staging database that ``build(url, out_dir)`` filled
    once per session (per xdist worker), per ``key`` and database kind — SQLite: the file is copied; PostgreSQL:
    ``CREATE DATABASE … TEMPLATE``. For worlds that are expensive to stage (a nightly sync) and that every test then
    changes on its own copy; ``build`` must leave no connection open."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    built: dict[tuple[str, str], tuple[str, Path]] = {}     # (key, kind) → (SQLite file or PG database, out dir)
    pg_templates: list[str] = []

    def template(key: str, kind: str, build) -> tuple[str, Path]:
        if (key, kind) not in built:
            folder = tmp_path_factory.mktemp(f"staged-{key}-{kind}")
            if kind == "sqlite":
                name = str(folder / "staging.db")
                url = f"sqlite:///{name}"
            else:
                name = f"tlsync_test_tpl_{uuid.uuid4().hex[:10]}"
                with admin.connect() as conn:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
                pg_templates.append(name)                        # dropped at the end, also if the build fails
                url = _pg_url(name)
            build(url, folder / "out")
            built[key, kind] = (name, folder / "out")
        return built[key, kind]

    def copy(key: str, build, db_url: str, out_dir: Path) -> None:
        kind = "sqlite" if db_url.startswith("sqlite") else "postgresql"
        name, out = template(key, kind, build)
        if kind == "sqlite":
            target = db_url.removeprefix("sqlite:///")
            for suffix in ("", "-wal"):                          # a write-ahead log left behind holds the last writes
                if suffix == "" or os.path.exists(name + suffix):
                    shutil.copyfile(name + suffix, target + suffix)
        else:
            target = db_url.rsplit("/", 1)[1]
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE "{target}"'))
                conn.execute(text(f'CREATE DATABASE "{target}" TEMPLATE "{name}"'))
        if out.exists():
            shutil.copytree(out, out_dir, dirs_exist_ok=True)

    yield copy
    with admin.connect() as conn:
        for name in pg_templates:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def staging(db_url, use_staging):
    """The product's configuration pointed at the test's database (SQLite and PostgreSQL), migrated."""
    return use_staging(db_url)


@contextmanager
def served_simulators(timelog_app, uniconta_app):
    """Serve two simulator apps on real loopback ports; yields their URLs and the connection fields that point the
    product at them exactly as Airflow Connections would."""
    from simulators._common import serve_in_thread

    with serve_in_thread(timelog_app) as tl, serve_in_thread(uniconta_app) as uc:
        yield {
            "timelog_url": tl,
            "uniconta_url": uc,
            "timelog": {"conn_id": "timelog_default", "host": f"{tl}/tlsim", "login": "integration",
                        "password": "integration-pw",
                        "extra": {"reporting_site_code": "SIMSITE", "reporting_api_id": "apiuser",
                                  "reporting_api_password": "apipass", "rest_token": "sim-pat-token"}},
            "uniconta": {"conn_id": "uniconta_default", "host": uc, "login": "integration",
                         "password": "uniconta-pw", "extra": {}},
        }


class NumberAnswers:
    """ASGI wrapper around the real Uniconta simulator: the next ``count`` POSTs to ``path`` (an InsertList) are
    answered ``200 0`` — an ``ErrorCodes`` number instead of the stored rows, since InsertList's answer is not
    published (issue 13, evidence 7); ``store`` decides whether the simulator stored the rows first (only the answer
    was unusable) or never saw them. ``answered`` counts those answers, ``calls`` every POST to ``path``."""

    def __init__(self, app, path: str) -> None:
        self.app, self.path, self.count, self.store, self.answered, self.calls = app, path, 0, True, 0, 0

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == self.path:
            self.calls += 1
            if self.count > 0:
                self.count -= 1
                self.answered += 1
                if self.store:
                    async def swallow(message):
                        pass

                    await self.app(scope, receive, swallow)
                else:
                    while (await receive()).get("more_body"):
                        pass
                await send({"type": "http.response.start", "status": 200,
                            "headers": [(b"content-type", b"application/json"), (b"content-length", b"1")]})
                await send({"type": "http.response.body", "body": b"0"})
                return
        await self.app(scope, receive, send)


@pytest.fixture
def sims():
    """Both simulators on real loopback ports with the generator's S data (see :func:`served_simulators`)."""
    import simulators.timelog as timelog_sim
    import simulators.uniconta as uniconta_sim

    with served_simulators(timelog_sim.create_app(size="S", seed=42, today=FIXED_TODAY),
                           uniconta_sim.create_app(size="S", seed=42, today=FIXED_TODAY)) as served:
        yield served
