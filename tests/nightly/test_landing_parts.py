"""A landing file written in parts (the invoice reads' windows): whole when done, absent when a part fails."""

from __future__ import annotations

import pytest

from tlsync.nightly import landing


def test_parts_make_one_file_and_a_failed_part_leaves_the_previous_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TLSYNC_OUT_DIR", str(tmp_path))
    path = landing.file_path(landing.root(), "run-1", "SITE:1", "timelog.invoice_lines")
    with landing.writer(path) as add:
        assert add({"ID": str(i)} for i in range(3)) == 3
        assert not path.exists(), "nothing at the path before the last part"
        assert add([{"ID": "3"}]) == 1
    assert [r["ID"] for batch in landing.read(path, chunk=10) for r in batch] == ["0", "1", "2", "3"]

    with pytest.raises(ConnectionError), landing.writer(path) as add:
        add([{"ID": "new"}])
        raise ConnectionError("the API went away in the second window")
    assert [r["ID"] for batch in landing.read(path, chunk=10) for r in batch] == ["0", "1", "2", "3"]
