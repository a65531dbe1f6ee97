"""The second process of a large match (issue 15, fourth round) changes nothing but the time.

A match large enough (:data:`tlsync.matching.parallel.MIN_ROWS`) normalises its debtors in a forked child while
the customer index is built; every suggestion must be exactly what one process computes, and wherever no child can
be started or the child fails, the work is done in the process itself.
"""

from __future__ import annotations

import multiprocessing
import os
import time

import pytest
from test_matching_golden import GOLDEN, suggestions_digest

from simulators.generator.linkage import linkage
from tlsync.matching import build_index, match_customers
from tlsync.matching import parallel as P


@pytest.fixture
def small_threshold(monkeypatch):
    """Every match of more than 100 records uses the second process (however busy the machine is)."""
    monkeypatch.delenv(P.ENV, raising=False)
    monkeypatch.setattr(P, "MIN_ROWS", 100)
    monkeypatch.setattr(P, "spare_core", lambda: True)


@pytest.fixture
def forked(monkeypatch) -> list[int]:
    """The pids of the children ``os.fork`` starts during the test."""
    pids: list[int] = []
    real_fork = os.fork

    def recording_fork() -> int:
        pid = real_fork()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", recording_fork)
    return pids


def _match(profile: str, seed: int):
    debtors, customers, _truth = linkage(3000, seed, profile)
    return match_customers(debtors, index=build_index(customers), ignored={debtors[0]["Account"]})


@pytest.mark.parametrize(("profile", "seed"), sorted(GOLDEN))
def test_two_processes_give_the_pinned_suggestions(small_threshold, monkeypatch, profile, seed) -> None:
    forks = []
    real_fork = os.fork

    def counting_fork() -> int:
        forks.append(1)
        return real_fork()

    monkeypatch.setattr(os, "fork", counting_fork)
    result = _match(profile, seed)
    assert forks, "the match used a second process"
    counts, digest = GOLDEN[(profile, seed)]
    assert result.counts() == counts
    assert suggestions_digest(result) == digest


def test_setting_one_process_forks_nothing(small_threshold, monkeypatch) -> None:
    monkeypatch.setenv(P.ENV, "1")
    monkeypatch.setattr(os, "fork", _no_fork)
    assert P.processes() == 1 and not P.worthwhile(10**6)
    assert suggestions_digest(_match("default", 42)) == GOLDEN[("default", 42)][1]


def test_a_setting_other_than_one_or_two_is_one_line_naming_it(monkeypatch) -> None:
    from tlsync import config

    monkeypatch.setenv(P.ENV, "3")
    with pytest.raises(config.SettingError, match="TLSYNC_MATCH_PROCESSES must be 1 or 2"):
        P.processes()
    monkeypatch.setenv(P.ENV, "1")
    assert P.processes() == 1


def test_a_failing_fork_falls_back_to_one_process(small_threshold, monkeypatch) -> None:
    def failing_fork() -> int:
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", failing_fork)
    assert suggestions_digest(_match("hard", 9)) == GOLDEN[("hard", 9)][1]


def test_a_failing_child_is_replaced_by_this_process() -> None:
    parent = os.getpid()

    def work() -> list[int]:
        if os.getpid() != parent:
            raise RuntimeError("only in the child")
        return [1, 2, 3]

    assert P.in_child(work, lambda: "here") == ([1, 2, 3], "here")

    def dies() -> list[int]:
        if os.getpid() != parent:
            os._exit(3)                        # killed without an answer
        return [4]

    assert P.in_child(dies, lambda: None) == ([4], None)


def test_a_child_that_never_answers_is_killed_and_its_work_done_here(monkeypatch, forked) -> None:
    """A fork copies only the forking thread: a lock another thread held stays locked in the child, which may then
    wait for ever. The match waits for it only so long, then kills it and does the work itself."""
    parent = os.getpid()
    monkeypatch.setattr(P, "CHILD_TIMEOUT_S", 0.5)

    def stuck() -> list[int]:
        if os.getpid() != parent:
            time.sleep(3600)                   # as a deadlocked child would
        return [5]

    t0 = time.monotonic()
    assert P.in_child(stuck, lambda: "here") == ([5], "here")
    assert time.monotonic() - t0 < 10
    (child,) = forked
    with pytest.raises(ChildProcessError):   # killed and reaped: no such child any more
        os.waitpid(child, os.WNOHANG)


def test_the_child_changes_nothing_here_and_its_result_comes_back_whole(forked) -> None:
    seen: list[int] = []

    def work() -> list[int]:
        seen.extend(range(1000))               # in the child: not visible here
        return list(range(1000))

    assert P.in_child(work, lambda: "here") == (list(range(1000)), "here")
    assert forked and seen == []


def test_an_error_here_ends_the_child_and_propagates(small_threshold, forked) -> None:
    def boom() -> None:
        raise ValueError("here")

    with pytest.raises(ValueError, match="here"):
        P.in_child(lambda: time.sleep(60), boom)
    assert forked
    with pytest.raises(ChildProcessError):
        os.waitpid(forked[0], os.WNOHANG)      # ended and reaped: no child left behind


def test_spare_core_reads_the_runnable_tasks_and_the_cpu_pressure(monkeypatch, tmp_path) -> None:
    import builtins
    real_open = builtins.open
    files = {"/proc/pressure/cpu": tmp_path / "cpu", "/proc/loadavg": tmp_path / "loadavg"}

    def fake_open(path, *args, **kwargs):
        return real_open(files.get(path, path), *args, **kwargs)

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(builtins, "open", fake_open)
    files["/proc/loadavg"].write_text("0.50 0.40 0.30 1/252 28376\n")
    files["/proc/pressure/cpu"].write_text("some avg10=81.80 avg60=73.00 avg300=63.75 total=500977821\n")
    assert not P.spare_core(), "tasks waited for a CPU lately"
    files["/proc/pressure/cpu"].write_text("some avg10=1.20 avg60=3.00 avg300=2.75 total=500977821\n")
    assert P.spare_core()
    files["/proc/loadavg"].write_text("0.50 0.40 0.30 2/252 28376\n")
    assert not P.spare_core(), "another task is running now"
    files["/proc/loadavg"].write_text("0.50 0.40 0.30 1/252 28376\n")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert not P.spare_core(), "one CPU: nothing spare"


def _no_fork() -> int:
    raise AssertionError("must not fork")


def _match_in_daemon(queue) -> None:
    P.MIN_ROWS = 100
    P.spare_core = lambda: True
    queue.put(suggestions_digest(_match("default", 42)))


def test_inside_a_daemonic_process_the_match_still_runs() -> None:
    # a Celery prefork pool process is daemonic: multiprocessing refuses it children, os.fork does not
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_match_in_daemon, args=(queue,), daemon=True)
    proc.start()
    digest = queue.get(timeout=120)
    proc.join(30)
    assert proc.exitcode == 0
    assert digest == GOLDEN[("default", 42)][1]


def test_a_deferred_index_is_built_once_for_threads_using_it_at_once(monkeypatch) -> None:
    import threading

    from tlsync.matching.blocking import Index

    monkeypatch.setattr(P, "spare_core", lambda: False)      # the threads, not a child, build it here
    debtors, customers, _truth = linkage(1500, 42, "default")
    index = Index.deferred(customers)
    assert index.pending
    built = []
    real_build = Index._build

    def counting_build(self, *args):
        built.append(1)
        return real_build(self, *args)

    monkeypatch.setattr(Index, "_build", counting_build)
    results: list = [None, None]

    def run(k: int) -> None:
        results[k] = suggestions_digest(match_customers(debtors, index=index))

    threads = [threading.Thread(target=run, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(built) == 1 and not index.pending
    assert results[0] == results[1] == suggestions_digest(match_customers(debtors, customers))
