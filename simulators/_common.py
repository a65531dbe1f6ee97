"""Pieces both simulators share: seeded fault injection, call counters, the common admin routes, and a way
to serve an ASGI app on a real loopback port from a test or a command.

Fault injection is an ASGI middleware so that the simulated API code stays clean. It never touches the admin
surface (``/_sim/...``). For each API request, one seeded draw decides: 429 with ``Retry-After``, a 5xx, a slow
answer, a truncated body (the body is cut and ``Content-Length`` set to the cut length, so the client sees a
syntactically broken document, not a protocol error), or a normal answer.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, Field

ADMIN_PREFIX = "/_sim"


class FaultConfig(BaseModel):
    """Rates are probabilities per API request (0..1); they are drawn in this order and are exclusive."""

    rate_429: float = Field(0.0, ge=0, le=1)
    rate_5xx: float = Field(0.0, ge=0, le=1)
    rate_slow: float = Field(0.0, ge=0, le=1)
    rate_truncated: float = Field(0.0, ge=0, le=1)
    retry_after: int = Field(1, ge=0, description="seconds sent in Retry-After with a 429")
    slow_seconds: float = Field(2.0, ge=0)
    seed: int = 0


class CallCounters:
    """Counts API requests by surface and by user (thread-safe, served at ``/_sim/counters``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_surface: Counter[str] = Counter()
        self.by_user: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()

    def hit(self, surface: str, user: str | None = None) -> None:
        with self._lock:
            self.by_surface[surface] += 1
            self.by_surface["total"] += 1
            if user:
                self.by_user[user] += 1

    def fault(self, kind: str) -> None:
        with self._lock:
            self.faults[kind] += 1

    def reset(self) -> None:
        with self._lock:
            self.by_surface.clear()
            self.by_user.clear()
            self.faults.clear()

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {"by_surface": dict(self.by_surface), "by_user": dict(self.by_user), "faults": dict(self.faults)}


class FaultInjector:
    """ASGI middleware applying :class:`FaultConfig` to every non-admin HTTP request."""

    def __init__(self, app: Any, config: FaultConfig | None = None, counters: CallCounters | None = None) -> None:
        self.app = app
        self.counters = counters or CallCounters()
        self.configure(config or FaultConfig())

    def configure(self, config: FaultConfig) -> None:
        self.config = config
        self._rng = random.Random(config.seed)
        self._lock = threading.Lock()

    def _draw(self) -> str | None:
        c = self.config
        with self._lock:
            x = self._rng.random()
        for kind, rate in (("429", c.rate_429), ("5xx", c.rate_5xx), ("slow", c.rate_slow), ("truncated", c.rate_truncated)):
            if x < rate:
                return kind
            x -= rate
        return None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        kind = self._draw()
        if kind is None:
            await self.app(scope, receive, send)
            return
        self.counters.fault(kind)
        if kind == "429":
            await _plain(send, 429, b"Too Many Requests", [(b"retry-after", str(self.config.retry_after).encode())])
        elif kind == "5xx":
            await _plain(send, 503, b"Service Unavailable")
        elif kind == "slow":
            await asyncio.sleep(self.config.slow_seconds)
            await self.app(scope, receive, send)
        else:
            await self._truncated(scope, receive, send)

    async def _truncated(self, scope: dict, receive: Any, send: Any) -> None:
        start: dict | None = None
        chunks: list[bytes] = []

        async def capture(message: dict) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        cut = body[: max(1, len(body) // 2)] if body else b""
        assert start is not None
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(cut)).encode()))
        await send({"type": "http.response.start", "status": start["status"], "headers": headers})
        await send({"type": "http.response.body", "body": cut})


async def _plain(send: Any, status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + (extra or [])})
    await send({"type": "http.response.body", "body": body})


def add_common_admin(app: FastAPI, injector_ref: dict[str, FaultInjector], counters: CallCounters) -> None:
    """Mount ``GET/PUT /_sim/faults`` and ``GET /_sim/counters``, ``POST /_sim/counters/reset`` on ``app``.

    ``injector_ref["injector"]`` is filled in by :func:`wrap_with_faults` once the middleware exists.
    """

    @app.get(f"{ADMIN_PREFIX}/faults")
    def get_faults() -> FaultConfig:
        return injector_ref["injector"].config

    @app.put(f"{ADMIN_PREFIX}/faults")
    def put_faults(config: FaultConfig) -> FaultConfig:
        injector_ref["injector"].configure(config)
        return config

    @app.get(f"{ADMIN_PREFIX}/counters")
    def get_counters() -> dict[str, Any]:
        return counters.as_dict()

    @app.post(f"{ADMIN_PREFIX}/counters/reset")
    def reset_counters() -> dict[str, Any]:
        counters.reset()
        return counters.as_dict()


def wrap_with_faults(app: FastAPI, counters: CallCounters, config: FaultConfig | None = None) -> FaultInjector:
    """Return the ASGI app to serve: ``app`` behind a :class:`FaultInjector` sharing ``counters``,
    with the common admin routes mounted."""
    ref: dict[str, FaultInjector] = {}
    add_common_admin(app, ref, counters)
    injector = FaultInjector(app, config, counters)
    ref["injector"] = injector
    return injector


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_process(module: str, port: int, fixture: Any, *extra: str, cwd: Any = None, wait_s: float = 600,
                  stderr: Any = None) -> Any:
    """Start ``python -m <module> --port <port> --fixture <fixture> [extra…]`` (a simulator as its own process,
    as the benchmarks run them) and wait until it answers ``/_sim/counters``; returns the ``Popen``. A simulator
    that exits or does not answer in ``wait_s`` seconds ends the caller with one line (``SystemExit``).
    ``stderr``: where its log goes (default: discarded)."""
    import subprocess
    import sys

    import httpx

    proc = subprocess.Popen([sys.executable, "-m", module, "--port", str(port), "--fixture", str(fixture), *extra],
                            cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL if stderr is None else stderr)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/_sim/counters", timeout=2)
            return proc
        except httpx.HTTPError:
            if proc.poll() is not None:
                log = f"; see {stderr.name}" if isinstance(getattr(stderr, "name", None), str) else ""
                raise SystemExit(f"simulator {module} exited with {proc.returncode}{log}") from None
            time.sleep(0.5)
    proc.kill()
    raise SystemExit(f"simulator {module} did not start")


@contextlib.contextmanager
def serve_in_thread(app: Any, port: int | None = None, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``app`` with uvicorn on a real loopback port in a daemon thread; yield its base URL.

    Tests use this so that clients speak real HTTP to the simulator, exactly as to the real system.
    """
    port = port or free_port()
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"sim-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"simulator did not start on {host}:{port}")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def simulator_arguments(prog: str, description: str, port: int) -> argparse.ArgumentParser:
    """The command-line options both simulators share: where to listen, which data, which faults."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=port)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--fixture", help="fixture JSON file (the whole document or this simulator's section)")
    source.add_argument("--size", choices=["S", "M", "L"], help="generate data of this size")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--today", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                        help="with --size: the generated data's 'today' (default: today in Denmark)")
    parser.add_argument("--fault-rate-429", type=float, default=0.0)
    parser.add_argument("--fault-rate-5xx", type=float, default=0.0)
    parser.add_argument("--fault-rate-slow", type=float, default=0.0)
    parser.add_argument("--fault-rate-truncated", type=float, default=0.0)
    parser.add_argument("--retry-after", type=int, default=1)
    parser.add_argument("--slow-seconds", type=float, default=2.0)
    parser.add_argument("--fault-seed", type=int, default=0)
    parser.add_argument("--log-level", default="warning")
    return parser


SYSTEMS = ("timelog", "uniconta")


class _Amounts(dict):
    """Number text → its Decimal, made on first sight (a hit is a plain dict look-up)."""

    def __missing__(self, text: str) -> Decimal:
        value = self[text] = Decimal(text)
        return value


def read_fixture(path: str, system: str | None = None) -> dict:
    """A fixture file (money as Decimal); with ``system``, only what that simulator loads.

    A whole document's other system section is skipped record by record as the file is read, never held: it is
    the bulk of the file (at L gigabytes of TimeLog history the Uniconta simulator would otherwise parse and keep
    for nothing) and each simulator serves its own section only (issue 18, item 3). The other section's key stays,
    with an empty value, so that a simulator still tells a whole document from a bare section. A file that is one
    section (no ``"timelog"``/``"uniconta"`` key) is read whole."""
    if system is None:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh, parse_float=Decimal)
    from simulators.generator.stream import stream_fixture

    doc: dict[str, Any] = {}
    key = {}.setdefault
    text = {}.setdefault
    # One object per distinct number text (same text, same Decimal: digits and exponent alike): amounts,
    # quantities and rates repeat, and a Decimal is 104 bytes (at M 2.6M of them, 258 MB).
    amounts = _Amounts()

    def shared(rec: Any) -> Any:
        # One object per field name, as json.load shares them within a document (a record decoded on its own
        # has its own copies), and per repeated text or integer (names, dates, ids copied onto every line).
        if type(rec) is not dict:
            return rec
        out = {}
        for k, v in rec.items():
            t = type(v)
            out[key(k, k)] = text(v, v) if t is str or t is int else v
        return out

    for where, value in stream_fixture(path, parse_float=amounts.__getitem__):
        top = where[0]
        if top in SYSTEMS and top != system:
            doc.setdefault(top, {})            # an iterator left unread is skipped by the walk
            continue
        if isinstance(value, Iterator):
            value = [shared(rec) for rec in value]
        if top not in SYSTEMS:
            doc[top] = value
        elif len(where) == 1:
            doc[top] = value                   # a system key whose value is not an object (kept as written)
        elif len(where) == 2:
            doc.setdefault(top, {})[where[1]] = value
        else:                                  # ("uniconta", "companies", i, attribute or class)
            companies = doc.setdefault(top, {}).setdefault(where[1], [])
            while len(companies) <= where[2]:
                companies.append({})
            companies[where[2]][where[3]] = value
    return doc


def fixture_and_faults(args: argparse.Namespace, system: str | None = None) -> tuple[dict | None, FaultConfig]:
    """Read ``--fixture`` (money as Decimal; with ``system`` only that simulator's part, see
    :func:`read_fixture`) and build the :class:`FaultConfig` from the parsed options."""
    fixture = None
    if args.fixture:
        fixture = read_fixture(args.fixture, system)
    faults = FaultConfig(rate_429=args.fault_rate_429, rate_5xx=args.fault_rate_5xx, rate_slow=args.fault_rate_slow,
                         rate_truncated=args.fault_rate_truncated, retry_after=args.retry_after,
                         slow_seconds=args.slow_seconds, seed=args.fault_seed)
    return fixture, faults
