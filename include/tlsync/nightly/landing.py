"""The landing area between extract and stage: a local folder by default, S3-compatible object storage in
production, through one path API (issue 11, item 6).

With the CeleryExecutor the extract task and the validate-and-stage task of the same tenant may run on different
worker hosts that share no disk, so the landing files live under a configurable base URL:

- ``TLSYNC_LANDING_URL``: where runs land, ``<TLSYNC_OUT_DIR>/landing`` by default (a local folder, as before);
  in production e.g. ``s3://tlsync-landing/prod`` (any S3-compatible store: AWS, MinIO, Ceph, …).
- ``TLSYNC_LANDING_CONN``: the Airflow Connection with the object store's credentials, default
  ``tlsync_landing`` (type ``aws``: *login* = access key id, *password* = secret access key, extras
  ``endpoint_url``, ``region_name``, optional ``aws_session_token``). Found in the environment
  (``AIRFLOW_CONN_TLSYNC_LANDING``) or Airflow's metadata DB/secrets backend. Without that Connection, s3fs uses
  the usual AWS chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, ``AWS_ENDPOINT_URL``, an instance role).
  A ``TLSYNC_LANDING_CONN`` that is set but names no Connection stops the task with one line saying what to set.
  The credentials stay in the path's storage options: never in a log line, a manifest (which holds the URL of
  each file, without credentials) or an error message.

Layout: ``<base>/<run id>/<tenant>/<entity>.jsonl`` plus ``<entity>.invalid.jsonl`` for the records the client's
model refused. Every operation goes through the pathlib-like API of ``universal_pathlib`` (``upath.UPath``), so
both backends run the same code:

- **atomic writes**: a landing file is either complete or absent (the validate step prunes vanished rows only
  after reading a *complete* full read, docs/staging-deletions.md). Locally: a ``.part`` sibling renamed over the
  final name. In object storage: the records are streamed into a local temporary file and uploaded to the final
  key only when complete — an S3 object appears whole at the end of its PUT (or multipart completion), so a
  reader never sees half a file and a failed extract leaves the previous attempt's object as it was.
- **bounded memory**: files are read line by line through the store's buffered reader and handed on in chunks.
- **clean-up**: runs older than the ``TLSYNC_LANDING_KEEP_RUNS`` newest are deleted (a run's age is its
  folder's time locally, its newest object's ``LastModified`` in object storage).

Decision (recorded): Airflow's ``airflow.sdk.ObjectStoragePath`` is not used here. In the installed Airflow 3.3.2
it resolves ``s3://`` through a filesystem the Amazon provider registers (``airflow.sdk.io.fs.get_fs`` raises "No
filesystem registered for scheme s3" without it — checked), and that provider is not part of the stack, while
``s3fs`` is. Attaching an ``s3fs.S3FileSystem`` by hand (``airflow.sdk.io.attach("s3", fs=…)``) would work, but the
credentials would still be read from the Connection here, into a process-wide store cache, and ``include/`` has no
Airflow import. So the landing area is a plain ``upath.UPath`` (``ObjectStoragePath`` is itself a proxy of
``UPath`` over the same fsspec filesystems) with storage options from the Connection (:func:`storage_options`).
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson
from upath import UPath

from tlsync import config

LANDING_URL_ENV = "TLSYNC_LANDING_URL"
LANDING_CONN_ENV = "TLSYNC_LANDING_CONN"
DEFAULT_CONN_ID = "tlsync_landing"
LOCAL_PROTOCOLS = ("", "file", "local")


class LandingSettingError(ValueError):
    """The landing area's setting or Connection is missing or wrong; the message names what to set."""


def base_url() -> str:
    """``TLSYNC_LANDING_URL``, else the local folder ``<TLSYNC_OUT_DIR>/landing``."""
    return str(config.value(LANDING_URL_ENV)) or str(config.out_dir() / "landing")


def is_local(path: Any) -> bool:
    return isinstance(path, pathlib.Path) or getattr(path, "protocol", "") in LOCAL_PROTOCOLS


def options_from_connection(fields: Mapping[str, Any]) -> dict[str, Any]:
    """An ``aws``-type Connection's fields as s3fs storage options (secrets stay in this dict, never logged)."""
    extra = dict(fields.get("extra") or {})
    options: dict[str, Any] = {}
    if fields.get("login"):
        options["key"] = fields["login"]
    if fields.get("password"):
        options["secret"] = fields["password"]
    if extra.get("aws_session_token"):
        options["token"] = extra["aws_session_token"]
    client_kwargs = {k: extra[k] for k in ("endpoint_url", "region_name") if extra.get(k)}
    if not client_kwargs.get("endpoint_url") and fields.get("host"):
        client_kwargs["endpoint_url"] = fields["host"]
    if client_kwargs:
        options["client_kwargs"] = client_kwargs
    return options


def storage_options(url: str) -> dict[str, Any]:
    """The storage options of the object store at ``url``: from the landing Connection when there is one, else
    empty (s3fs then takes the usual AWS environment / instance credentials). Listings are never cached: another
    worker host writes the files this one reads."""
    from tlsync import connections

    explicit = str(config.value(LANDING_CONN_ENV))
    conn_id = explicit or DEFAULT_CONN_ID
    env = tuple(os.environ.get(n) for n in connections.env_names(conn_id))
    return dict(_storage_options(_display(url), conn_id, bool(explicit), env))


@lru_cache(maxsize=16)
def _storage_options(url: str, conn_id: str, explicit: bool, _env: tuple) -> tuple:
    """Once per process and setting (a task resolves every file of its manifest; one Connection lookup)."""
    from tlsync import connections

    # Inside an Airflow task the SDK is loaded and Airflow's lookup (metadata DB, secrets backend) is asked; a plain
    # command-line run (``python -m tlsync.nightly.local``) does not import Airflow only to learn there is none.
    try:
        fields = connections.connection_fields(conn_id, airflow="airflow.sdk" in sys.modules)
    except connections.ConnectionSettingError:
        if explicit:
            raise LandingSettingError(
                f"{LANDING_URL_ENV} is {url} and {LANDING_CONN_ENV} names the Airflow Connection "
                f"'{conn_id}', which is not available: add it (type aws: login = access key id, password = secret, "
                f"extra endpoint_url) or set {connections.env_names(conn_id)[0]}") from None
        fields = {}
    return tuple({**options_from_connection(fields), "use_listings_cache": False}.items())


def _display(url: str) -> str:
    """``url`` without any user info (``s3://key:secret@bucket`` is never shown)."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rsplit('@', 1)[-1]}" if sep else url


def root() -> UPath:
    """The landing area's base (created when local)."""
    return resolve(base_url())


def resolve(location: str | os.PathLike) -> UPath:
    """A landing location — the base URL, or a file's URL as a manifest names it — as a path with the store's
    credentials attached."""
    text = str(location)
    if text.startswith("file://"):
        text = text[len("file://"):]
    if "://" not in text:
        return UPath(text)
    return UPath(text, **storage_options(text))


def file_path(base: UPath, run_id: str, tenant: str, qualified: str) -> UPath:
    safe_run = safe_name(run_id)
    return base / safe_run / tenant / f"{qualified}.jsonl"


def safe_name(run_id: str) -> str:
    """A run id as a folder name / key segment (``scheduled__2026-12-06T01:00:00+00:00`` → ``…T01_00_00_00_00``)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in run_id)


def invalid_path(landing: Any) -> Any:
    """Where records refused by the client's model wait (``{"raw": …, "error": …}`` per line)."""
    return landing.with_name(landing.name.replace(".jsonl", ".invalid.jsonl"))


def write(path: Any, records: Iterable[dict]) -> int:
    """Stream ``records`` as JSON lines into ``path`` atomically (see module doc); return how many."""
    with writer(path) as add:
        return add(records)


@contextmanager
def writer(path: Any) -> Iterator[Callable[[Iterable[dict]], int]]:
    """``with writer(path) as add: add(records); add(more)`` — one landing file written in parts (the nightly's
    invoice reads, window by window), appearing at ``path`` whole when the block ends without an error, never in
    part; ``add`` returns how many records it wrote."""
    if is_local(path):
        path = UPath(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        with tmp.open("wb") as fh:
            yield lambda records: _dump(records, fh)
        os.replace(tmp, path)
        return
    fd, tmp_name = tempfile.mkstemp(prefix="tlsync-landing-", suffix=".jsonl")
    try:
        with os.fdopen(fd, "wb") as fh:
            yield lambda records: _dump(records, fh)
        path.fs.put_file(tmp_name, path.path)      # the object appears only now, whole
    finally:
        os.unlink(tmp_name)


_ORJSON = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _line(record: dict) -> bytes:
    """One record as a UTF-8 JSON line — orjson (issue 18: ``json.dumps`` was a tenth of the extraction), with
    ``json``'s meaning kept: anything JSON lacks (Decimal, dates) as ``str()``; what orjson refuses (an integer
    beyond 64 bits) is written by ``json`` itself."""
    try:
        return orjson.dumps(record, default=str, option=_ORJSON) + b"\n"
    except orjson.JSONEncodeError:
        return (json.dumps(record, ensure_ascii=False, default=str) + "\n").encode("utf-8")


def _dump(records: Iterable[dict], fh) -> int:
    n = 0
    write = fh.write
    for record in records:
        write(_line(record))
        n += 1
    return n


def _load(line: str) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:   # e.g. an integer beyond 64 bits, which json reads
        return json.loads(line)


def remove(path: Any) -> None:
    """Delete one landing file if it exists (a retried extract that no longer has refused records)."""
    if path.exists():
        path.unlink()


def read(path: Any, chunk: int) -> Iterator[list[dict]]:
    """The records of ``path`` in lists of at most ``chunk`` (nothing when the file does not exist)."""
    batch: list[dict] = []
    if not path.exists():
        return
    with path.open("r", encoding="utf-8") as fh:
        for line in fh:
            batch.append(_load(line))
            if len(batch) >= chunk:
                yield batch
                batch = []
    if batch:
        yield batch


def prune(base: Any, keep: int) -> list[Any]:
    """Delete all but the ``keep`` newest runs under ``base`` (they are only needed to retry a run's tasks and to
    look into a recent run; staging and quarantine hold what lasts). Returns the removed run folders."""
    base = UPath(base) if isinstance(base, (str, pathlib.Path)) else base
    if not base.exists() or not base.is_dir():
        return []
    runs = [p for p in base.iterdir() if p.is_dir()]
    if is_local(base):
        age = {p.name: p.stat().st_mtime for p in runs}
    else:
        age = {p.name: 0.0 for p in runs}
        prefix = base.path.rstrip("/") + "/"
        for key, info in base.fs.find(base.path, detail=True).items():
            run = key[len(prefix):].split("/", 1)[0] if key.startswith(prefix) else None
            if run in age:
                age[run] = max(age[run], _modified(info))
    removed = sorted(runs, key=lambda p: age[p.name], reverse=True)[keep:]
    for path in removed:
        if is_local(path):
            import shutil

            shutil.rmtree(path, ignore_errors=True)
        else:
            path.fs.rm(path.path, recursive=True)
    return removed


def _modified(info: Mapping[str, Any]) -> float:
    value = info.get("LastModified") or info.get("mtime") or info.get("created") or 0
    return value.timestamp() if isinstance(value, datetime) else float(value)
