"""Every page a first night reads from the simulators at S (seed 42) is byte for byte what it was before the
memory work of issue 18 (item 3): each simulator reads only its own section of the fixture file, keeps the
start-up state by reference, caches rendered XML within a budget and streams the large Reporting documents —
none of which may change a served byte. ``served_pages_S42.txt`` holds the status, SHA-256 and size of each page
as the simulators served them before that work (``sim_pages.py`` against ``python -m simulators.timelog`` and
``simulators.uniconta`` on the generator's S fixture); regenerate it only for a deliberate change of the data."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sim_pages import pages

from simulators._common import read_fixture, serve_in_thread
from simulators.generator import FIXED_TODAY, write_fixture
from simulators.timelog import create_app as timelog_app
from simulators.timelog import reporting
from simulators.uniconta import create_app as uniconta_app

EXPECTED = Path(__file__).with_name("served_pages_S42.txt")


@pytest.fixture(scope="module")
def fixture_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("served") / "fixture-S.json"
    write_fixture(path, size="S", seed=42, today=FIXED_TODAY)
    return path


def served(path: Path, reset: bool = False) -> list[str]:
    """The page lines of a first night against both simulators loaded as their commands load ``path`` (with
    ``reset``: read once, then again after ``POST /_sim/reset`` — the TimeLog store re-reads the file)."""
    tl = timelog_app(read_fixture(str(path), "timelog"), reread=lambda: read_fixture(str(path), "timelog"))
    uc = uniconta_app(read_fixture(str(path), "uniconta"), daily_quota=1_000_000,
                      reread=lambda: read_fixture(str(path), "uniconta"))
    with serve_in_thread(tl) as tl_url, serve_in_thread(uc) as uc_url:
        if reset:
            list(pages(f"{tl_url}/tlsim", uc_url))
            tl.store.update("Customers", tl.store.snapshot("Customers")[0]["ID"], {"Name": "changed"})
            httpx.post(f"{uc_url}/_sim/touch", json={"company": 10001, "class": "DebtorClient", "count": 1}
                       ).raise_for_status()
            for url in (tl_url, uc_url):
                httpx.post(f"{url}/_sim/reset").raise_for_status()
        return [f"{status} {sha} {size:>12} {request}"
                for request, status, sha, size in pages(f"{tl_url}/tlsim", uc_url)]


def test_every_first_night_page_is_served_as_before(fixture_file):
    assert served(fixture_file) == EXPECTED.read_text(encoding="utf-8").splitlines()


def test_a_reset_reads_the_fixture_file_again_and_serves_the_same_pages(fixture_file):
    assert served(fixture_file, reset=True) == EXPECTED.read_text(encoding="utf-8").splitlines()


def test_streamed_documents_and_an_exhausted_fragment_cache_serve_the_same_bytes(fixture_file, monkeypatch):
    """The same pages with every Reporting list streamed in small pieces and no rendered item cached."""
    monkeypatch.setattr(reporting, "STREAM_ROWS", 1)
    monkeypatch.setattr(reporting, "CHUNK_ITEMS", 7)
    monkeypatch.setattr(reporting, "FRAG_CACHE_CHARS", 0)
    assert served(fixture_file) == EXPECTED.read_text(encoding="utf-8").splitlines()


def test_a_simulator_reads_only_its_own_section(fixture_file):
    tl, uc = read_fixture(str(fixture_file), "timelog"), read_fixture(str(fixture_file), "uniconta")
    whole = read_fixture(str(fixture_file))
    assert tl["uniconta"] == {} and tl["timelog"] == whole["timelog"]
    assert uc["timelog"] == {} and uc["uniconta"] == whole["uniconta"]
    assert list(tl) == list(uc) == list(whole)   # other top-level keys (``_meta``) kept, in order
