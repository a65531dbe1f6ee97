"""A second process for the per-record work of a large match (issue 15, fourth round: process wall).

Why: the matcher's process is one Python thread, and the machine has two cores. Normalising a side's records
into columns is work done record by record that nothing else waits on while the other side's index is being
built, so a large match normalises its debtors in a forked child while this process normalises and indexes the
customers (:func:`tlsync.matching.views.match_customers`); the child's columns come back through a pipe.

Decisions:

- ``os.fork`` (with a pipe), not ``multiprocessing`` or ``concurrent.futures``: the child inherits the records
  without copying them (copy-on-write), nothing is imported, nothing is pickled on the way in, and it works where
  ``multiprocessing`` refuses ("daemonic processes are not allowed to have children": inside a Celery prefork
  pool or another daemonic worker).
- One process (the same result) when ``TLSYNC_MATCH_PROCESSES=1`` is set, when the work is small (below
  :data:`MIN_ROWS` records forking and the copy-on-write page faults cost more than the overlap saves), when no
  second core is free (:func:`spare_core`), where ``os.fork`` does not exist, when the fork fails (``EAGAIN``,
  ``ENOMEM``), and when the child fails (an exception, killed, a short or unreadable answer): its work is then
  done here, after the rest.
- A second process costs ~0.25 s of CPU at 100k × 100k (the fork, the copy-on-write page faults of both
  processes, the columns through the pipe) to save ~0.4 s of wall — only when a core is idle. On a busy machine
  (Linux shares the CPU between sessions, not processes: a second process of the same session gets no more of
  it) the same fork made the match ~0.25 s slower, so it is used only when nothing else is runnable now and the
  kernel's CPU pressure says that tasks have rarely waited for a CPU lately (:func:`spare_core`;
  docs/matching-engine.md, fourth round).
- A child that has not answered :data:`CHILD_TIMEOUT_S` after this process's share is done is killed and its
  work done here: a fork copies only the forking thread, so a lock another thread of the parent held (a logging
  handler's, say, in a worker process with threads) stays locked in the child for good — the match must not wait
  for it.
- The child leaves with ``os._exit``: no ``atexit`` handlers, no flushing of buffers it inherited, no closing of
  the parent's database connections, whatever happens in it.
- The child's CPU time is the match's too: a caller measuring with ``time.process_time`` must add
  ``resource.getrusage(RUSAGE_CHILDREN)`` (``bench/matching.py`` does).
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["BUSY_PRESSURE", "CHILD_TIMEOUT_S", "ENV", "MIN_ROWS", "in_child", "processes", "spare_core", "threads",
           "worthwhile"]

T = TypeVar("T")
U = TypeVar("U")

MIN_ROWS = 20_000        # below this many records one process is as fast (see the module's decisions)
ENV = "TLSYNC_MATCH_PROCESSES"
BUSY_PRESSURE = 20.0     # % of the last 10 s in which some task waited for a CPU: above, no core is spare
CHILD_TIMEOUT_S = 120.0  # the child's answer is awaited this long after this process's share (1M records: ~5 s)


def processes() -> int:
    """How many processes a large match may use: the setting ``TLSYNC_MATCH_PROCESSES`` (2 by default; a value
    other than 1 or 2 stops with one line naming it), 1 where the platform cannot fork."""
    from tlsync import config

    if not hasattr(os, "fork"):
        return 1
    processes: int = config.value(ENV)
    return processes


def spare_core() -> bool:
    """Whether another core is free for a second process now: this process may run on two or more CPUs, no other
    task is runnable at this moment (``/proc/loadavg``'s runnable count, this process included, is below the CPUs),
    and tasks have rarely waited for a CPU lately (``/proc/pressure/cpu`` "some avg10", the share of the last 10 s
    in which a runnable task waited, below :data:`BUSY_PRESSURE`). Where the kernel offers neither, the 1-minute
    load average must leave a CPU besides this process."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    if cpus < 2:
        return False
    known = False
    try:
        with open("/proc/loadavg") as f:
            runnable = int(f.read().split()[3].split("/")[0])      # "7.11 8.32 6.63 3/252 28376"
        if runnable > cpus - 1:
            return False
        known = True
    except (OSError, IndexError, ValueError):
        pass
    try:
        with open("/proc/pressure/cpu") as f:
            some = f.readline().split()          # "some avg10=81.80 avg60=73.00 avg300=63.75 total=500977821"
        return float(some[1].removeprefix("avg10=")) < BUSY_PRESSURE
    except (OSError, IndexError, ValueError):
        pass
    if known:
        return True
    try:
        return os.getloadavg()[0] <= cpus - 1
    except OSError:
        return False


def threads() -> int:
    """The ``workers`` for ``rapidfuzz.process.cpdist``: every core (-1) when one is spare, else 1 — on a busy
    machine the split call waits for its slowest thread, and 50,000 name pairs took 0.1–0.3 s of wall instead
    of 0.02–0.05 s in one thread (the same CPU time, the same result)."""
    return -1 if processes() >= 2 and spare_core() else 1


def worthwhile(rows: int) -> bool:
    """Whether work over ``rows`` records is worth a second process here and now."""
    return rows >= MIN_ROWS and processes() >= 2 and spare_core()


def in_child(work: Callable[[], T], meanwhile: Callable[[], U]) -> tuple[T, U]:
    """``(work(), meanwhile())``, ``work`` run by a forked child at the same time as ``meanwhile`` runs here (its
    result pickled through a pipe), or after it here when no child can be started or the child fails. ``work``
    must not change anything this process needs (its changes stay in the child) and return something
    picklable."""
    try:
        read_fd, write_fd = os.pipe()
    except OSError:
        here = meanwhile()
        return work(), here
    try:
        pid = os.fork()
    except OSError:
        os.close(read_fd)
        os.close(write_fd)
        here = meanwhile()
        return work(), here
    if pid == 0:                                       # the child: the work, pickled into the pipe, then leave
        code = 1
        try:
            os.close(read_fd)
            data = pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL)
            view = memoryview(data)
            while view:
                view = view[os.write(write_fd, view):]
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    reaped = False
    try:
        here = meanwhile()
        chunks = []
        deadline = time.monotonic() + CHILD_TIMEOUT_S
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([read_fd], [], [], left)[0]:   # a stuck child: end it, work here
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                reaped = True
                return work(), here
            if not (chunk := os.read(read_fd, 1 << 20)):
                break
            chunks.append(chunk)
        _, status = os.waitpid(pid, 0)
        reaped = True
        if os.waitstatus_to_exitcode(status) == 0:
            try:
                return pickle.loads(b"".join(chunks)), here
            except Exception:  # noqa: BLE001 - a short or broken answer: the work is done here instead
                pass
        return work(), here
    finally:
        os.close(read_fd)
        if not reaped:                                 # this process failed or was interrupted: end the child
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except OSError:
                pass
