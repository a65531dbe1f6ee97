"""The daily Uniconta call tally (tlsync.quota): one allowance per Danish day shared by every process, booked before
each call, atomic; a client stops before sending a call the allowance has no room for (issue 13)."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
from pydantic import SecretStr

from tlsync.clients.errors import CallBudgetExceededError
from tlsync.clients.uniconta import UnicontaClient, UnicontaSettings
from tlsync.quota import DailyTally, quota_day, stop_line, tally_of, tally_report


def test_the_quota_day_is_denmarks():
    assert quota_day(datetime(2026, 12, 5, 22, 59, tzinfo=timezone.utc)) == "2026-12-05"
    assert quota_day(datetime(2026, 12, 5, 23, 0, tzinfo=timezone.utc)) == "2026-12-06"   # CET = UTC+1
    assert quota_day(datetime(2026, 7, 1, 22, 0, tzinfo=timezone.utc)) == "2026-07-02"    # CEST = UTC+2


def test_blocks_are_reserved_atomically_and_unused_calls_given_back(engine):
    first = DailyTally(engine, "integration", allowance=30, block=25)
    second = DailyTally(engine, "integration", allowance=30, block=25)
    assert all(first.acquire() for _ in range(3))
    assert tally_of(engine, "integration") == (25, 0)            # a whole block is reserved at once
    granted = sum(second.acquire() for _ in range(10))
    assert granted == 5 and second.refused                        # the last calls one by one, then no more
    first.release()
    assert tally_of(engine, "integration") == (3 + 5, 0)          # the unused 22 are back
    assert sum(second.acquire() for _ in range(40)) == 22
    other = DailyTally(engine, "someone-else", allowance=30)
    assert other.acquire()                                         # the quota is per user


def test_concurrent_tallies_never_hand_out_more_than_the_allowance(engine):
    got: list[int] = []

    def spend() -> None:
        tally = DailyTally(engine, "integration", allowance=60, block=7)
        got.append(sum(tally.acquire() for _ in range(40)))
        tally.release()

    threads = [threading.Thread(target=spend) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(got) == 60 and tally_of(engine, "integration")[0] == 60


def test_a_new_danish_day_starts_a_new_allowance(engine):
    now = [datetime(2026, 12, 5, 22, 30, tzinfo=timezone.utc)]
    tally = DailyTally(engine, "integration", allowance=2, block=1, clock=lambda: now[0])
    assert tally.acquire() and tally.acquire() and not tally.acquire()
    now[0] = datetime(2026, 12, 5, 23, 30, tzinfo=timezone.utc)    # 00:30 in Copenhagen
    assert tally.acquire()
    assert tally_of(engine, "integration", "2026-12-05") == (2, 0)
    assert tally_of(engine, "integration", "2026-12-06") == (1, 0)


def test_slow_answers_are_booked_and_reported(engine, monkeypatch):
    monkeypatch.setenv("TLSYNC_UNICONTA_DAILY_CALLS", "100")
    tally = DailyTally(engine, "integration", slow_seconds=1.0)
    assert tally.acquire() and tally.acquire()
    tally.observe(0.2)
    tally.observe(2.5)
    tally.release()
    assert tally_of(engine, "integration")[1] == 1
    line = tally_report(engine)
    assert "user integration: 2 of 100 calls, 98 left" in line and "throttling" in line
    assert "98 left" in stop_line("projects", engine, "integration")


def test_a_client_stops_before_a_call_the_allowance_cannot_pay(engine):
    import httpx

    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        return httpx.Response(200, json={"value": [{"RowId": 1, "Account": "1"}]})

    settings = UnicontaSettings(base_url="http://uniconta.test", username="integration",
                                password=SecretStr("pw"), company_id=10001)
    tally = DailyTally(engine, "integration", allowance=2, block=1)
    with UnicontaClient(settings, transport=httpx.MockTransport(handler), allowance=tally) as uc:
        with uc.for_company(10002) as other:                      # siblings share the allowance
            assert list(other.debtors())
        assert list(uc.debtors())
        with pytest.raises(CallBudgetExceededError) as err:
            list(uc.debtors())
    assert len(sent) == 2 and "allowance" in str(err.value) and "pw" not in str(err.value)
    assert tally_of(engine, "integration")[0] == 2
