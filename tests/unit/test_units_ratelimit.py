"""Pacing on fake clocks: the RateLimiter's window, margin, HubSpot's headers, shares and pauses; the
daily budget; requests in flight.

The limiter waits on a condition variable; the fake clock only moves when a test moves it, and
``observe({})`` (an answer without rate-limit headers) wakes the waiters to look at the clock again.
A fresh limiter sends one request blind and waits for its answer before more; ``told`` gives it the
answer of a window nobody used, as after a connection test.
"""

from __future__ import annotations

import random
import threading
from collections import deque

import pendulum
import pytest
from requests.structures import CaseInsensitiveDict

from airflow_provider_hubspot_assoc.exceptions import HubSpotDailyLimitError
from airflow_provider_hubspot_assoc.hubspot.daily import DailyBudget, next_midnight
from airflow_provider_hubspot_assoc.hubspot.pacing import TIER_LIMITS, RateLimiter, in_flight_for
from airflow_provider_hubspot_assoc.hubspot.peaks import PeakQueue

STILL = 0.15  # real seconds a blocked acquire is given to (wrongly) get through


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def told(limiter: RateLimiter) -> RateLimiter:
    """The limiter, after an answer that says nobody used the window."""
    limit = str(limiter.app_limit)
    limiter.observe(
        CaseInsensitiveDict({"X-HubSpot-RateLimit-Max": limit, "X-HubSpot-RateLimit-Remaining": limit})
    )
    return limiter


class Waiter:
    """``limiter.acquire()`` in a thread, to see whether (and when) it gets through."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter
        self.sent_at: float | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.sent_at = self.limiter.acquire()
        self.done.set()

    def passes_after(self, clock: FakeClock, at: float) -> bool:
        """Move the clock to ``at``, wake the limiter, and tell whether the acquire got through."""
        clock.now = at
        self.limiter.observe({})
        return self.done.wait(STILL)


def headers(**values: str) -> CaseInsensitiveDict[str]:
    """Rate-limit headers as ``requests`` hands them over (lower case here: lookups must not care)."""
    names = {
        "max": "x-hubspot-ratelimit-max",
        "remaining": "x-hubspot-ratelimit-remaining",
        "interval_ms": "x-hubspot-ratelimit-interval-milliseconds",
        "daily_remaining": "x-hubspot-ratelimit-daily-remaining",
    }
    return CaseInsensitiveDict({names[key]: value for key, value in values.items()})


def test_acquire_lets_the_limit_through_then_waits_for_the_oldest_send_to_leave_the_window() -> None:
    clock = FakeClock()
    limiter = told(RateLimiter(3, 10.0, travel=0.0, clock=clock))
    assert [limiter.acquire() for _ in range(3)] == [1000.0, 1000.0, 1000.0]  # the moment each went

    fourth = Waiter(limiter)
    assert not fourth.done.wait(STILL)
    assert not fourth.passes_after(clock, 1005.0)  # half a window later: still three sends in it
    assert not fourth.passes_after(clock, 1009.99)
    assert fourth.passes_after(clock, 1010.5)
    assert fourth.sent_at == pytest.approx(1010.5)

    # The three sends of 1000 have left the window and 1010.5 is in it: two more fit, not three.
    assert limiter.acquire() == 1010.5
    assert limiter.acquire() == 1010.5
    assert not Waiter(limiter).done.wait(STILL)


def test_window_is_stretched_by_the_margin_for_travel_time() -> None:
    clock = FakeClock(0.0)
    limiter = told(RateLimiter(1, 10.0, clock=clock))  # default margin 0.5 %: window 10.05 s
    assert limiter.window == pytest.approx(10.05)
    assert RateLimiter(1, 1.0).window == pytest.approx(1.05)  # at least 50 ms
    limiter.acquire()
    second = Waiter(limiter)
    assert not second.passes_after(clock, 10.0)  # HubSpot's window has passed, ours not yet
    assert not second.passes_after(clock, 10.04)
    assert second.passes_after(clock, 10.06)


def test_share_takes_part_of_the_apps_limit() -> None:
    clock = FakeClock()
    limiter = told(RateLimiter(10, 10.0, share=0.5, clock=clock))
    assert (limiter.limit, limiter.rate) == (5, 0.5)
    for _ in range(5):
        assert limiter.acquire() == 1000.0
    assert not Waiter(limiter).done.wait(STILL)


@pytest.mark.parametrize(("limit", "interval", "share"), [(0, 10.0, 1.0), (5, 0.0, 1.0), (5, 10.0, 0.0)])
def test_nonsense_limits_are_refused(limit: int, interval: float, share: float) -> None:
    with pytest.raises(ValueError, match=r"limit|share"):
        RateLimiter(limit, interval, share=share)


def test_observe_adopts_hubspots_max_and_interval() -> None:
    clock = FakeClock()
    limiter = RateLimiter(190, 10.0, travel=0.0, clock=clock)
    limiter.observe(headers(max="2", interval_ms="1000", remaining="2"))
    assert (limiter.app_limit, limiter.limit, limiter.interval) == (2, 2, 1.0)
    assert limiter.rate == 2.0

    limiter.acquire()
    limiter.acquire()
    third = Waiter(limiter)
    assert not third.passes_after(clock, 1000.5)
    assert third.passes_after(clock, 1001.001)  # the adopted 1 s window, not the configured 10 s


def test_observe_counts_what_other_clients_of_the_app_sent() -> None:
    clock = FakeClock()
    limiter = told(RateLimiter(10, 10.0, travel=0.0, clock=clock))
    limiter.acquire()
    clock.now += 0.01
    second = limiter.acquire()
    # HubSpot has counted 7 requests of the app when ``second`` arrived: our 2 and 5 from someone else.
    limiter.observe(headers(max="10", remaining="3", interval_ms="10000"), second)
    assert limiter.others() == 5
    sent = 2
    while not limiter.try_acquire():
        sent += 1
    assert 2 <= sent <= 5  # ours and theirs stay within the app's limit
    blocked = Waiter(limiter)
    assert not blocked.done.wait(STILL)
    # When our own sends and the others' leave the window, there is room again.
    assert blocked.passes_after(clock, 1010.5)


def test_only_other_clients_fill_the_budget_until_their_count_ages_out() -> None:
    clock = FakeClock()
    limiter = told(RateLimiter(10, 10.0, travel=0.0, clock=clock))
    limiter.observe(headers(max="10", remaining="0"))  # someone else used all 10
    blocked = Waiter(limiter)
    assert not blocked.passes_after(clock, 1009.0)
    assert blocked.passes_after(clock, 1010.01)


def test_observe_keeps_what_hubspot_announced_and_ignores_garbage() -> None:
    limiter = RateLimiter(100, 10.0)
    limiter.observe(headers(daily_remaining="4321"))
    assert limiter.announced["daily_remaining"] == 4321
    limiter.observe(headers(max="lots", interval_ms="soon", remaining="-", daily_remaining="x"))
    assert (limiter.app_limit, limiter.interval, limiter.announced["daily_remaining"]) == (100, 10.0, 4321)
    limiter.observe(headers(max="0", interval_ms="0"))
    assert (limiter.app_limit, limiter.interval) == (100, 10.0)


def test_pause_holds_every_request_until_it_ends() -> None:
    clock = FakeClock()
    limiter = told(RateLimiter(100, 10.0, clock=clock))
    limiter.pause(5.0)
    first, second = Waiter(limiter), Waiter(limiter)
    assert not first.passes_after(clock, 1004.9)
    assert not second.done.is_set()
    assert first.passes_after(clock, 1005.0)
    assert second.done.wait(STILL)
    assert first.sent_at == pytest.approx(1005.0)
    limiter.pause(2.0)
    limiter.pause(1.0)  # a shorter pause never shortens a longer one
    third = Waiter(limiter)
    assert not third.passes_after(clock, 1006.5)
    assert third.passes_after(clock, 1007.0)


def test_tier_limits_match_hubspots_published_figures() -> None:
    assert TIER_LIMITS["free"][0] == TIER_LIMITS["starter"][0] == 100
    assert TIER_LIMITS["professional"][0] == TIER_LIMITS["enterprise"][0] == 190
    assert TIER_LIMITS["api_limit_increase"][0] == 250
    assert TIER_LIMITS["oauth_marketplace"] == (110, None)  # OAuth apps: no daily limit


def test_a_429_slows_the_limiter_once_per_burst_and_it_is_whole_again_one_window_later() -> None:
    clock = FakeClock()
    limiter = told(RateLimiter(100, 10.0, clock=clock))
    first, second = limiter.acquire(), limiter.acquire()
    assert limiter.refused(first, headers(max="100", remaining="0")) >= 0  # someone else filled it
    limiter.refused(second, headers(max="100", remaining="0"))  # the same burst (in flight together)
    assert limiter.limit == 70
    clock.now += 5.0
    assert limiter.limit == 85
    clock.now += 5.0  # one window later
    assert limiter.limit == 100
    for _ in range(30):  # however many 429s, a tenth of the limit stays
        clock.now += 1.0
        limiter.refused(clock.now, headers(max="100", remaining="0"))
    assert limiter.limit == 10


def test_a_429_without_counts_holds_every_thread_and_with_retry_after_as_long_as_asked() -> None:
    clock = FakeClock()
    limiter = told(RateLimiter(100, 10.0, clock=clock))
    assert limiter.refused(limiter.acquire(), {}) == pytest.approx(1.0)  # a tenth of the window
    held = Waiter(limiter)
    assert not held.passes_after(clock, 1000.9)
    assert held.passes_after(clock, 1001.0)
    assert limiter.refused(limiter.acquire(), headers(max="100", remaining="0"), 3.0) == 3.0
    assert not Waiter(limiter).passes_after(clock, 1003.9)


def test_a_429_of_a_window_full_of_our_own_requests_widens_the_margin() -> None:
    clock = FakeClock()
    limiter = told(RateLimiter(10, 10.0, clock=clock))
    sent = [limiter.acquire() for _ in range(10)]
    assert limiter.travel == pytest.approx(0.05)
    limiter.refused(sent[-1], headers(max="10", remaining="0"))  # HubSpot still counted 10 of ours
    assert limiter.travel == pytest.approx(0.1)


class DayClock:
    """A settable ``pendulum`` clock for the daily budget."""

    def __init__(self, moment: str) -> None:
        self.now = pendulum.parse(moment)

    def __call__(self) -> pendulum.DateTime:
        assert isinstance(self.now, pendulum.DateTime)
        return self.now


def test_the_daily_budget_refuses_the_request_past_it_and_renews_at_the_accounts_midnight() -> None:
    clock = DayClock("2026-03-10T03:30:00Z")  # 23:30 on March 9 in New York (EDT, UTC-4)
    budget = DailyBudget(2, "America/New_York", now=clock)
    budget.take("one")
    budget.take("two")
    with pytest.raises(HubSpotDailyLimitError, match="requests_per_day 2") as spent:
        budget.take("three")
    assert spent.value.reset_at == pendulum.parse("2026-03-10T04:00:00Z")  # midnight in New York
    assert budget.used == 2  # the refused request was not counted: it was not sent
    clock.now = clock.now.add(minutes=31)  # a new day in New York
    budget.take("four")
    assert budget.used == 1


def test_after_the_clock_is_set_back_the_day_renews_when_its_refusal_said() -> None:
    """A clock set back across midnight (NTP stepping a clock that ran ahead) starts no new day: the
    requests already sent still count. The day then ends at the midnight the refusal names, not a
    whole day later."""
    clock = DayClock("2026-03-11T00:30:00Z")  # a clock two hours ahead
    budget = DailyBudget(2, "UTC", now=clock)
    budget.take("one")
    budget.take("two")
    clock.now = pendulum.parse("2026-03-10T22:30:00Z")  # set right: both were sent on March 10
    with pytest.raises(HubSpotDailyLimitError, match="requests_per_day 2") as spent:
        budget.take("three")
    assert spent.value.reset_at == pendulum.parse("2026-03-11T00:00:00Z")
    assert budget.used == 2
    clock.now = spent.value.reset_at.add(seconds=1)
    budget.take("four")  # the day the refusal named is over
    assert budget.used == 1


def test_a_day_whose_midnight_is_skipped_renews_when_it_begins_not_an_hour_early() -> None:
    """Santiago moves its clocks from 00:00 to 01:00 on 2026-09-06: that day begins at 04:00 UTC.
    From the first hour of September 5, pendulum's start of the next day is 23:00 on September 5
    (-04:00), an hour early: a run deferred to it wakes while the account's day is still spent."""
    assert next_midnight("America/Santiago", pendulum.parse("2026-09-05T04:30:00Z")) == pendulum.parse(
        "2026-09-06T04:00:00Z"
    )
    clock = DayClock("2026-09-05T04:30:00Z")  # 00:30 in Santiago
    budget = DailyBudget(1, "America/Santiago", now=clock)
    budget.take("one")
    with pytest.raises(HubSpotDailyLimitError) as spent:
        budget.take("two")
    assert spent.value.reset_at == pendulum.parse("2026-09-06T04:00:00Z")
    clock.now = spent.value.reset_at.add(seconds=1)
    budget.take("three")


def test_the_daily_budget_counts_the_accounts_day_from_hubspots_headers() -> None:
    budget = DailyBudget(100, now=DayClock("2026-03-10T12:00:00Z"))
    ticket = budget.take("ours")
    budget.observe(
        CaseInsensitiveDict(
            {"x-hubspot-ratelimit-daily": "1000", "x-hubspot-ratelimit-daily-remaining": "940"}
        ),
        ticket,
    )  # other apps of the account used 59 today: 40 more of ours make the budget of 100
    budget.observe(headers(max="100"), ticket)  # no daily headers (OAuth apps get none)
    budget.observe(
        CaseInsensitiveDict({"X-HubSpot-RateLimit-Daily": "10", "X-HubSpot-RateLimit-Daily-Remaining": "x"}),
        ticket,
    )
    budget.observe(
        CaseInsensitiveDict(
            {"X-HubSpot-RateLimit-Daily": "1000", "X-HubSpot-RateLimit-Daily-Remaining": "990"}
        ),
        ticket,
    )  # an answer that left earlier never gives back what a later one took
    for n in range(40):
        budget.take(f"more {n}")
    with pytest.raises(HubSpotDailyLimitError, match="requests_per_day 100"):
        budget.take("one too many")


def test_requests_in_flight_follow_the_rate_and_the_latency() -> None:
    assert in_flight_for(19.0, None, 32) == 4  # nothing measured yet
    assert in_flight_for(19.0, 0.01, 32) == 2  # fast answers: a floor of two
    assert in_flight_for(19.0, 0.5, 32) == 16  # ceil(19 * 0.5 * 1.5) + 1
    assert in_flight_for(19.0, 5.0, 32) == 32  # slow answers: capped by the pool


@pytest.mark.parametrize("seed", range(20))
def test_the_peak_queue_gives_what_max_over_its_entries_gives(seed: int) -> None:
    """Others' count is the peak of the answers held: kept as they come, not searched at every send."""
    chance = random.Random(seed)
    peaks: PeakQueue[tuple[int, float, int]] = PeakQueue(lambda entry: (entry[0], entry[1]))
    plain: deque[tuple[int, float, int]] = deque()
    for step in range(2000):
        if plain and chance.random() < 0.45:
            head = plain.popleft()
            peaks.popleft_while(lambda entry, head=head: entry is head)  # entries differ: one goes
        else:  # few distinct counts and send times: ties are common, as between answers
            entry = (chance.randrange(6), float(chance.randrange(8)), step)
            peaks.append(entry)
            plain.append(entry)
        assert len(peaks) == len(plain)
        if plain:
            best = max(plain, key=lambda entry: (entry[0], entry[1]))
            assert peaks.peak()[:2] == best[:2]
        else:
            assert not peaks
