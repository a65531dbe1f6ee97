"""``stream_fixture`` reads a fixture record by record and gives exactly what ``load_fixture`` gives (the L
backfill bench stages and serves the >1M-line fixture without holding it in memory; issue 6, rule T2)."""

from __future__ import annotations

import pytest

from simulators.generator import FIXED_TODAY, load_fixture, stream, stream_fixture, write_fixture


def _rebuild(path) -> dict:
    doc: dict = {"timelog": {}, "uniconta": {"companies": []}}
    for where, value in stream_fixture(path):
        if where[0] == "timelog":
            doc["timelog"][where[1]] = list(value) if where[1] != "auth" else value
        elif where[:2] == ("uniconta", "companies"):
            companies = doc["uniconta"]["companies"]
            while len(companies) <= where[2]:
                companies.append({})
            companies[where[2]][where[3]] = list(value) if isinstance(value, stream.Iterator) else value
        elif where[0] == "uniconta":
            doc["uniconta"][where[1]] = value
        else:
            doc[where[0]] = value
    return doc


@pytest.mark.parametrize("chunk", [97, 1 << 22])
def test_stream_equals_load(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(stream, "CHUNK", chunk)    # tiny buffers: records and numbers cut at every boundary
    path = write_fixture(tmp_path / "fixture.json", size="S", seed=7, today=FIXED_TODAY)
    assert _rebuild(path) == load_fixture(path)


def test_unconsumed_collections_are_skipped(tmp_path):
    path = write_fixture(tmp_path / "fixture.json", size="S", seed=7, today=FIXED_TODAY)
    seen = [where for where, _ in stream_fixture(path)]        # nothing consumed
    assert ("timelog", "InvoiceLines") in seen and ("_meta",) in seen
    full = load_fixture(path)
    first = next(value for where, value in stream_fixture(path) if where == ("timelog", "Invoices"))
    assert next(first) == full["timelog"]["Invoices"][0]


def test_truncated_file_is_an_error(tmp_path):
    path = write_fixture(tmp_path / "fixture.json", size="S", seed=7, today=FIXED_TODAY)
    cut = tmp_path / "cut.json"
    cut.write_bytes(path.read_bytes()[:-5000])
    with pytest.raises(ValueError):
        for _, value in stream_fixture(cut):
            if isinstance(value, stream.Iterator):
                list(value)
