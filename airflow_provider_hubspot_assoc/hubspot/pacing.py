"""Client-side pacing: HubSpot's rolling limit per app, shared by clients that do not talk to each other.

HubSpot counts a request when it arrives, in a rolling window per app, and states the count in the
``X-HubSpot-RateLimit-Max`` / ``-Remaining`` / ``-Interval-Milliseconds`` headers of each answer
(https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines). Those headers are
the one state all clients of an app share, and the limiter reads them this way:

* its own sends it counts exactly, in a window stretched by a small travel margin (HubSpot counts
  arrivals, not sends);
* an answer tells what HubSpot had counted when the request arrived, so it is set against our sends
  up to that request (not up to the answer, which would count the requests sent since as someone
  else's): the rest of the count is other clients'. Requests sent together arrive in any order:
  a count that our sends within the travel margin of either end of the window could make up alone
  is taken as ours alone;
* others' count is the highest seen in the last ``HOLD_PART`` of the interval: a slot another client
  is about to refill (its old request left the window moments before the new one arrives) is not free;
* free room (by the others' count held, not by a passing dip in the latest answer) is taken in
  proportion to our part of the window, so clients that see the same room split it instead of
  each taking all of it; a full window is kept full by each client replacing its own requests as
  they leave it;
* while others share the app, our sends keep at least half an even spacing of the app's limit
  (``SPREAD_PART``). Clients that start together send their first windows in one burst; replacing
  each request the moment it leaves the window brought that burst back every window, and in it the
  requests of all clients cross the window's edge together: each answer's count then splits between
  ours and others' by a few milliseconds, and at high latency it is a burst old. Spaced, the burst
  spreads out within a few windows (a client alone keeps its burst: nobody else's count to misread).

A 429 takes the refused request out of our count (HubSpot did not count it) and slows this client a
little, for less than one window. Requests in flight follow the latency (``in_flight_for``). All of
it is shared by every thread of one client. No Airflow import.
"""

from __future__ import annotations

import math
import threading
import time
from bisect import bisect_left, bisect_right, insort
from collections import deque
from collections.abc import Callable, Mapping
from typing import NamedTuple

from airflow_provider_hubspot_assoc.hubspot.peaks import PeakQueue

# Requests per 10 s and per day for each HubSpot account tier (usage guidelines, 2025). The daily
# figure is only shown by the connection test: it is no budget (see ``daily.DailyBudget``).
TIER_LIMITS: dict[str, tuple[int, int | None]] = {
    "free": (100, 250_000),
    "starter": (100, 250_000),
    "professional": (190, 625_000),
    "enterprise": (190, 1_000_000),
    "api_limit_increase": (250, 2_000_000),
    "oauth_marketplace": (110, None),
}

TRAVEL_PART = 0.005  # of the interval: the window's margin for a request's way to HubSpot ...
TRAVEL_SECONDS = 0.05  # ... at least this many seconds (coarse clocks, busy hosts) ...
TRAVEL_MOST_PART = 0.02  # ... doubled after a 429 we caused alone, up to this part of the interval
ROUND_TRIPS = 32  # the fastest of this many round trips is the one without delay on the way
PROBE_PART = 0.5  # a request sent blind holds the next ones this part of the interval at most
HOLD_PART = 0.5  # others' count is the highest seen in this part of the interval
RESERVE_PART = 0.01  # of the limit, left free while other clients share the app
ROUNDING = 0.5  # a share of the room of at least this rounds up to one more request
GROWTH = 0.3  # the part of its share of the free room a client takes before it looks again
BURST_PART = 0.1  # 429s less than this part of the interval apart are one burst: one slow-down
PAUSE_PART = 0.1  # a 429 that tells nothing of the window holds every thread this part of it
SPREAD_PART = 0.5  # while others share the app, our sends are this part of interval / limit apart, at least
SHORTEST_WAIT = 0.001  # seconds; a waiter never spins on a zero timeout

FIRST_IN_FLIGHT = 4  # requests in flight before a round trip was measured
LEAST_IN_FLIGHT = 2  # never fewer: one slow request must not idle the run
# Latency varies from request to request: half as many again as the average needs keeps the rate.
IN_FLIGHT_HEADROOM = 1.5


def in_flight_for(rate: float, latency: float | None, most: int) -> int:
    """Requests in flight that reach ``rate`` per second at the measured ``latency`` (at most ``most``)."""
    if latency is None:
        return min(most, FIRST_IN_FLIGHT)
    return max(LEAST_IN_FLIGHT, min(most, math.ceil(rate * latency * IN_FLIGHT_HEADROOM) + 1))


class Seen(NamedTuple):
    """One answer's count, as of the moment we sent its request."""

    sent_at: float
    others: int  # requests of the app HubSpot counted that were not ours
    ours: int  # ours HubSpot counted
    ours_paced: int  # ours in the window we pace by (``RateLimiter.window``), then


class RateLimiter:
    """Paces sends to ``share`` of HubSpot's per-app limit per rolling ``interval``, for all threads.

    Several clients of one app (mapped tasks on many workers) pace together through HubSpot's headers
    (see the module's docstring); a ``share`` below 1 caps this client's part of the limit instead.

    :param limit: requests per ``interval`` of the app (HubSpot's ``Max`` replaces it).
    :param interval: seconds of the rolling window (HubSpot's ``Interval-Milliseconds`` replaces it).
    :param share: the part of the app's limit this client may use (1: as much as is free).
    :param travel: the window's margin in seconds (None: ``TRAVEL_PART`` of the interval, at least
        ``TRAVEL_SECONDS``).
    :param clock: monotonic seconds (tests move a fake one).
    """

    SLOWDOWN = 0.7  # the part of the current limit kept after a 429 ...
    FLOOR = 0.1  # ... never below this part of the limit; the limit is whole again one window later

    def __init__(
        self,
        limit: int,
        interval: float = 10.0,
        *,
        share: float = 1.0,
        travel: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1 or interval <= 0:
            raise ValueError("a rate limit needs limit >= 1 and interval > 0")
        if not 0 < share <= 1:
            raise ValueError(f"share must be in (0, 1], got {share!r}")
        self.app_limit = limit
        self.share = share
        self.announced: dict[str, int] = {}  # the limits HubSpot's last headers stated
        self.interval = interval
        self._travel = travel
        self._travel_doubled = 0
        self._clock = clock
        self._sent: list[float] = []  # our sends, oldest first (``_first`` on: the ones kept)
        self._first = 0
        self._round_trips: deque[float] = deque(maxlen=ROUND_TRIPS)  # the latest, in seconds
        # answers of the last HOLD_PART of the interval, with the highest others' count (the latest of equals)
        self._seen: PeakQueue[Seen] = PeakQueue(lambda seen: (seen.others, seen.sent_at))
        self._latest: Seen | None = None  # the answer to our latest send that was answered
        self._probe_at: float | None = None  # a request sent blind, not answered yet
        self._headerless = False  # an answer came without a count: probing would find out nothing
        self._paused_until = 0.0
        self._slowdown = 1.0  # the part of the limit in use, after 429s
        self._slowed_at = -math.inf
        self._condition = threading.Condition()

    # ------------------------------------------------------------------ figures
    @property
    def travel(self) -> float:
        """Seconds the window is stretched by, for the time a request takes to reach HubSpot."""
        base = self._travel if self._travel is not None else max(TRAVEL_SECONDS, TRAVEL_PART * self.interval)
        return min(base * float(2**self._travel_doubled), max(base, TRAVEL_MOST_PART * self.interval))

    @property
    def window(self) -> float:
        """The window we pace by: the interval plus the travel margin."""
        return self.interval + self.travel

    @property
    def limit(self) -> int:
        """Requests per window this limiter may send: its share of the app's limit, slowed after 429s."""
        return max(1, math.floor(self.app_limit * self.share * self._factor(self._clock())))

    @property
    def rate(self) -> float:
        """Allowed requests per second."""
        return self.limit / self.interval

    def others(self) -> int:
        """Requests of the app in the window that other clients sent, as far as HubSpot's answers tell."""
        with self._condition:
            return self._others_entry(self._clock())[0]

    def _factor(self, now: float) -> float:
        if self._slowdown >= 1.0:
            return 1.0
        return min(1.0, self._slowdown + (1 - self.SLOWDOWN) * (now - self._slowed_at) / self.interval)

    def _ours(self, start: float, end: float) -> int:
        """Our sends in ``(start, end]``."""
        sent, first = self._sent, self._first
        return bisect_right(sent, end, first) - bisect_right(sent, start, first)

    def _trim(self, now: float) -> None:
        # Sends are kept two windows: an answer is set against the sends of the window before it.
        oldest = now - 2 * self.window
        first = bisect_right(self._sent, oldest, self._first)
        if first > 1024 and first * 2 > len(self._sent):
            del self._sent[:first]
            first = 0
        self._first = first
        held_since = now - HOLD_PART * self.interval
        self._seen.popleft_while(lambda seen: seen.sent_at <= held_since)

    def _others_entry(self, now: float) -> tuple[int, float | None, float]:
        """(others' count, our cap, when that estimate may change) as of ``now``."""
        self._trim(now)
        latest = self._latest
        if self._seen:
            held = self._seen.peak()
            others, expires = held.others, held.sent_at + HOLD_PART * self.interval
        elif latest is not None and latest.sent_at > now - self.window:
            others, expires = latest.others, latest.sent_at + self.window
        else:
            return 0, None, math.inf
        if latest is None or not others:
            return others, None, expires
        # Clients that see the same free room split it, each by its part of the window, and take part
        # of their part at a time: what the others took meanwhile shows before the rest is taken. The
        # room is what the held count leaves, not a dip in the latest answer (others' requests that
        # left the window, their owners about to refill them: clients that started together do so
        # together, window after window).
        aim = self.app_limit * (1 - RESERVE_PART)
        used = latest.ours + others
        grow = max(0.0, aim - used) * latest.ours / used * GROWTH if used else aim
        return others, max(latest.ours_paced + math.floor(grow + ROUNDING), 1.0), expires

    def _blind(self, now: float) -> bool:
        latest = self._latest
        if latest is None:
            return not self._headerless
        return latest.others > 0 and latest.sent_at <= now - self.window

    # ------------------------------------------------------------------ sending
    def try_acquire(self) -> float:
        """Take a slot if one is free now (0.0), else the seconds after which to ask again."""
        with self._condition:
            return self._try(self._clock())

    def _try(self, now: float) -> float:
        if now < self._paused_until:
            return self._paused_until - now
        self._trim(now)
        ours = self._ours(now - self.window, now)
        others, cap, expires = self._others_entry(now)
        limit = self.limit if cap is None else min(self.limit, cap)
        if self._blind(now):
            # Nothing known of the others (a start, or a window after they filled it): one request
            # finds out before more follow it.
            if self._probe_at is not None and now < self._probe_at + PROBE_PART * self.interval:
                return self._probe_at + PROBE_PART * self.interval - now
            limit = min(limit, ours + 1)
        if cap is not None and len(self._sent) > self._first:  # others share the app: no bursts
            spaced = self._sent[-1] + SPREAD_PART * self.interval / self.app_limit
            if now < spaced:
                return max(spaced - now, SHORTEST_WAIT)
        if ours < limit and ours + others < self.app_limit:
            self._sent.append(now)
            self._probe_at = now if self._blind(now) else None
            return 0.0
        waits = [expires - now]
        if ours:  # our oldest send in the window leaves it
            waits.append(
                self._sent[bisect_right(self._sent, now - self.window, self._first)] + self.window - now
            )
        return max(min(waits), SHORTEST_WAIT)

    def acquire(self) -> float:
        """Block until a request may be sent; returns the moment it was sent (this limiter's clock),
        which its answer is set against (``observe``)."""
        with self._condition:
            while True:
                now = self._clock()
                wait = self._try(now)
                if not wait:
                    return now
                self._condition.wait(timeout=wait)

    # ------------------------------------------------------------------ answers
    def observe(
        self, headers: Mapping[str, str], sent_at: float | None = None, took: float | None = None
    ) -> None:
        """Correct the pacing from HubSpot's rate-limit headers (case-insensitive mapping) of the answer
        to the request sent at ``sent_at`` (None: now), whose round trip ``took`` seconds."""
        with self._condition:
            if sent_at is not None and took is not None:
                self._late(sent_at, took)
            self._observe(headers, self._clock() if sent_at is None else sent_at)
            self._condition.notify_all()

    def _late(self, sent_at: float, took: float) -> None:
        """Count a request that took longer than the fastest recent ones as sent that much later.

        The extra time may have been spent on the way to HubSpot (a new connection, a busy host): then
        it arrived that much later than we stamped it, and its slot frees that much later for HubSpot.
        """
        self._round_trips.append(took)
        late = took - min(self._round_trips)
        if late <= self.travel / 2:
            return
        at = bisect_left(self._sent, sent_at, self._first)
        if at < len(self._sent) and self._sent[at] == sent_at:
            del self._sent[at]
            insort(self._sent, sent_at + late, lo=self._first)

    def _observe(self, headers: Mapping[str, str], sent_at: float) -> int | None:
        """Adopt the headers; the others' count they give (None: they give none)."""
        max_value = header_int(headers.get("X-HubSpot-RateLimit-Max"))
        remaining = header_int(headers.get("X-HubSpot-RateLimit-Remaining"))
        interval_ms = header_int(headers.get("X-HubSpot-RateLimit-Interval-Milliseconds"))
        for name, value in (
            ("max", max_value),
            ("remaining", remaining),
            ("interval_ms", interval_ms),
            ("daily", header_int(headers.get("X-HubSpot-RateLimit-Daily"))),
            ("daily_remaining", header_int(headers.get("X-HubSpot-RateLimit-Daily-Remaining"))),
        ):
            if value is not None:
                self.announced[name] = value
        if interval_ms and interval_ms > 0:
            self.interval = interval_ms / 1000
        if self._probe_at is not None and sent_at >= self._probe_at:
            self._probe_at = None
            self._headerless = self._headerless or max_value is None or remaining is None
        if not max_value or max_value <= 0:
            return None
        self.app_limit = max_value
        now = self._clock()
        if remaining is None or sent_at <= now - self.window:
            return None  # no count, or one of sends we no longer hold
        # HubSpot's window (not ours, with its margin) ended when that request arrived. Requests sent
        # together arrive in any order: a count that ours within the travel margin of either end could
        # make up is ours alone (else a client alone holds its own as others' and leaves their slots
        # empty); beyond it, others' are counted exactly (the margin would hide as many of theirs).
        counted = max_value - remaining
        ours = self._ours(sent_at - self.interval, sent_at)
        alone = counted <= self._ours(sent_at - self.interval - self.travel, sent_at + self.travel)
        others = 0 if alone else max(0, counted - ours)
        seen = Seen(sent_at, others, ours, self._ours(sent_at - self.window, sent_at))
        self._seen.append(seen)
        if self._latest is None or sent_at >= self._latest.sent_at:
            self._latest = seen
        return seen.others

    def refused(self, sent_at: float, headers: Mapping[str, str], retry_after: float | None = None) -> float:
        """A 429 TEN_SECONDLY_ROLLING for the request sent at ``sent_at``; returns the seconds it should
        wait before it is sent again.

        HubSpot did not count it, so neither do we. Its headers say the window was full: the part
        that was not ours is others'. If it was all ours, the travel margin was too short, and
        doubles. The 429s of requests in flight together (within ``BURST_PART`` of the interval)
        slow this client once. Every thread is held only when HubSpot asks (``retry_after``) or the
        answer tells nothing of the window.
        """
        with self._condition:
            now = self._clock()
            self._forget(sent_at)
            others = self._observe(headers, sent_at)
            if others is not None and others <= 1:
                # A full window of our own (the one other being ours that HubSpot still counted).
                self._travel_doubled = min(self._travel_doubled + 1, 8)
            if now - self._slowed_at >= self.interval * BURST_PART:
                self._slowdown = max(self.FLOOR, self._factor(now) * self.SLOWDOWN)
                self._slowed_at = now
            pause = (
                retry_after
                if retry_after is not None
                else (None if others is not None else PAUSE_PART * self.interval)
            )
            if pause is not None:
                self._paused_until = max(self._paused_until, now + pause)
            self._condition.notify_all()
            return pause if pause is not None else self.interval * HOLD_PART

    def forget(self, sent_at: float) -> None:
        """The request ``acquire`` let go at ``sent_at`` was not sent after all."""
        with self._condition:
            self._forget(sent_at)
            if self._probe_at == sent_at:
                self._probe_at = None
            self._condition.notify_all()

    def _forget(self, sent_at: float) -> None:
        at = bisect_left(self._sent, sent_at, self._first)
        if at < len(self._sent) and self._sent[at] == sent_at:
            del self._sent[at]

    def pause(self, seconds: float) -> None:
        """Hold every thread for ``seconds``."""
        with self._condition:
            self._paused_until = max(self._paused_until, self._clock() + seconds)
            self._condition.notify_all()


def header_int(value: str | None) -> int | None:
    """A header's whole number; None when absent or not a number."""
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
