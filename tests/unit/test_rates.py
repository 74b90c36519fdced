"""The sustained-rate measure of the benchmarks (``testing.rates``) on arrival lists made by hand.

A client with an opening burst: 100 requests in its first 0.1 s (limit 100 per 10 s), a 429 among
them, then exactly 97 accepted requests per 10 s. Its sustained rate is 97%. Windows counted from the
first request, burst included (the benchmark's former measure), say (100 + 21 x 97) / 22 = 97.1% over
22 windows, 98.5% over 2 and 100% over 1: the overstatement the measure must not make.
"""

from __future__ import annotations

import pytest

from airflow_provider_hubspot_assoc.testing.rates import (
    MIN_WINDOWS,
    Arrival,
    arrivals,
    busiest_window,
    per_window,
    steady_rate,
    steady_span,
)
from airflow_provider_hubspot_assoc.testing.server.stats import RequestRecord

LIMIT, WINDOW, STEADY = 100, 10.0, 97


def client(windows: int) -> list[Arrival]:
    """The burst, one 429 in it, then ``STEADY`` per window for ``windows`` windows from t = 10."""
    burst = [Arrival(k * 0.001, pairs=100) for k in range(LIMIT)]
    refused = [Arrival(0.0995, status=429, pairs=100)]
    # mid-interval times: none falls on a window's edge
    steady = [Arrival(WINDOW + (k + 0.5) * WINDOW / STEADY, pairs=100) for k in range(STEADY * windows)]
    return sorted(burst + refused + steady, key=lambda a: a.at)


def test_the_opening_burst_is_left_out_and_the_steady_windows_counted() -> None:
    arrived = client(21)
    rate = steady_rate(arrived, limit=LIMIT, window_seconds=WINDOW, last=220.0)
    assert rate.span.start == pytest.approx(10.0)
    assert rate.span.windows == 21
    assert rate.counts == [STEADY] * 21
    assert rate.share == pytest.approx(0.97)  # windows from the first request would say 0.971
    # cycles of 97 or 98 (the most in one rolling window, 97 gaps being 10.0 s): 20 of them, 200 s
    assert rate.measured.cycle in (STEADY, STEADY + 1)
    assert rate.measured.requests == 20 * rate.measured.cycle
    assert rate.windows == pytest.approx(20 * rate.measured.cycle / STEADY)
    assert rate.enough
    assert (rate.requests, rate.rate_limited) == (LIMIT + 1 + STEADY * 21, 1)
    assert rate.busiest == LIMIT  # the burst is the busiest rolling window, and stays reported


def test_a_short_run_is_not_called_sustained() -> None:
    """Three windows: the former measure said 98.5% (the burst window in); this one 97%, not enough."""
    rate = steady_rate(client(2), limit=LIMIT, window_seconds=WINDOW, last=20.0)
    assert rate.counts == [STEADY]
    assert rate.share == pytest.approx(0.97)
    assert not rate.enough
    assert MIN_WINDOWS == 20


def test_a_pacer_whose_cycle_is_longer_than_a_window_is_measured_over_whole_cycles() -> None:
    """Bursts of 100 every 10.21 s (a window and a 2% + 10 ms margin): 97.94% of 100 per 10 s.

    Each 10-s window laid from the first request, burst left out or not, holds exactly one burst for
    the 25 cycles of this run (the bursts drift 0.21 s a window): 100% per window. Whole cycles do not.
    """
    cycle = WINDOW * 1.02 + 0.01
    arrived = [Arrival(k * cycle + i * 0.01) for k in range(26) for i in range(LIMIT)]
    rate = steady_rate(arrived, limit=LIMIT, window_seconds=WINDOW, last=25 * cycle)
    assert rate.counts == [LIMIT] * rate.span.windows  # what windows say
    assert rate.share == pytest.approx(WINDOW / cycle)  # 0.9794
    assert rate.measured.cycle == LIMIT
    assert rate.enough
    # from the first to the last request of the steady part: one burst too many (and 0.1 s short)
    first_to_last = (len(arrived) - LIMIT - 1) / (arrived[-1].at - arrived[LIMIT].at) / (LIMIT / WINDOW)
    assert first_to_last > 1.0


def test_a_client_far_below_the_limit_is_measured_in_its_own_cycles() -> None:
    """Two requests a second against 250 per 10 s: a cycle is its 20 a window, not 250."""
    arrived = [Arrival(k * 0.5 + 0.25) for k in range(2 * 240)]
    rate = steady_rate(arrived, limit=250, window_seconds=WINDOW, last=240.0)
    assert rate.measured.cycle == 20
    assert rate.share == pytest.approx(20 / 250)
    assert rate.windows == pytest.approx(22)
    assert rate.enough


def test_too_few_arrivals_for_a_cycle_use_every_one() -> None:
    arrived = [Arrival(0.0), Arrival(10.5), Arrival(12.5)]
    rate = steady_rate(arrived, limit=100, window_seconds=WINDOW, last=30.0)
    assert (rate.measured.cycle, rate.measured.requests, rate.measured.seconds) == (0, 1, 2.0)


def test_only_whole_windows_before_the_end_count() -> None:
    """The span stops at the last whole window before the steady part ends (the tail left out)."""
    span = steady_span(first=0.0, last=219.99, window_seconds=WINDOW)
    assert (span.start, span.windows, span.end) == (10.0, 20, 210.0)
    skipped = steady_span(first=5.0, last=219.99, window_seconds=WINDOW, skip_windows=2)
    assert (skipped.start, skipped.windows) == (25.0, 19)
    assert steady_span(first=0.0, last=9.0, window_seconds=WINDOW).windows == 0


def test_pairs_per_window_count_accepted_requests_only() -> None:
    arrived = client(3)
    span = steady_span(first=0.0, last=40.0, window_seconds=WINDOW, skip_windows=0)
    assert per_window(arrived, span) == [LIMIT, STEADY, STEADY, STEADY]
    assert per_window(arrived, span, pairs=True) == [LIMIT * 100, *[STEADY * 100] * 3]


def test_the_busiest_window_is_rolling_not_aligned() -> None:
    """Two halves of a window's worth either side of an aligned edge: aligned windows see 50 + 50."""
    arrived = [Arrival(9.0 + k * 0.01) for k in range(100)]  # 9.00 .. 9.99, then 10.00 .. 10.99
    arrived += [Arrival(10.0 + k * 0.01) for k in range(100)]
    assert busiest_window(arrived, WINDOW) == 200
    assert busiest_window([*arrived, Arrival(19.5, status=429)], WINDOW) == 200


def test_arrivals_come_from_request_records_by_arrival_time() -> None:
    records = [
        RequestRecord(2.0, "POST", "/a", 429, "archive", pairs=100),
        RequestRecord(1.0, "POST", "/a", 204, "archive", pairs=100),
        RequestRecord(1.5, "POST", "/oauth/v1/token", 200, "oauth_token"),
        RequestRecord(3.0, "POST", "/a", 401, "archive"),
    ]
    found = arrivals(records)
    assert [(a.at, a.accepted) for a in found] == [(1.0, True), (2.0, False), (3.0, False)]
