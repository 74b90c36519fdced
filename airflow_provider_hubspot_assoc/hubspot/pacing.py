"""Client-side pacing: HubSpot's rolling 10-second limit, the daily budget, and requests in flight.

The limiter keeps the send times of the last window and lets a request go only while fewer than
``limit`` were sent in the last ``interval`` (stretched by a small margin, because HubSpot counts
arrivals, not sends). HubSpot's ``X-HubSpot-RateLimit-*`` headers correct it: a different ``Max``
or interval is adopted, and a server count above ours (another client of the same app) is added.
A 429 pauses every thread and slows the limiter down (to 70%, recovering by 5% of the limit per
window), the way TCP shares a link: clients of one app that race for the same headroom settle
on shares that fit instead of answering each other's 429s with more requests.

The daily budget (a connection's ``requests_per_day``) refuses, unsent, a request past it. All of it is
shared by every thread of one client. No Airflow import.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

import pendulum

from airflow_provider_hubspot_assoc.exceptions import HubSpotDailyLimitError

# Requests per 10 s and per day for each HubSpot account tier (usage guidelines, 2025). The daily
# figure is only shown by the connection test: it is no budget (see ``DailyBudget``).
TIER_LIMITS: dict[str, tuple[int, int | None]] = {
    "free": (100, 250_000),
    "starter": (100, 250_000),
    "professional": (190, 625_000),
    "enterprise": (190, 1_000_000),
    "api_limit_increase": (250, 2_000_000),
    "oauth_marketplace": (110, None),
}

TRAVEL_MARGIN = 0.02  # the window is stretched by this part: HubSpot counts arrivals, not sends
CLOCK_SLACK = 0.01  # seconds more, for clocks that tick coarser than a request
BURST_PART = 0.1  # 429s less than this part of the interval apart are one burst: one slow-down
SHORTEST_WAIT = 0.001  # seconds; a waiter never spins on a zero timeout

FIRST_IN_FLIGHT = 4  # requests in flight before a round trip was measured
LEAST_IN_FLIGHT = 2  # never fewer: one slow request must not idle the run
# Latency varies from request to request: half as many again as the average needs keeps the rate.
IN_FLIGHT_HEADROOM = 1.5


def in_flight_for(rate: float, latency: float | None, most: int) -> int:
    """Requests in flight that reach ``rate`` per second at the measured ``latency`` (at most ``most``)."""
    if latency is None:
        return FIRST_IN_FLIGHT
    return max(LEAST_IN_FLIGHT, min(most, math.ceil(rate * latency * IN_FLIGHT_HEADROOM) + 1))


def daily_reset_at(
    timezone: str, retry_after: float | None = None, now: pendulum.DateTime | None = None
) -> pendulum.DateTime:
    """When HubSpot's daily limit resets (in UTC): after ``retry_after`` seconds when HubSpot said so,
    else at the next midnight in the account's ``timezone``."""
    now = (now or pendulum.now(timezone)).in_timezone(timezone)
    if retry_after is not None:
        return now.add(seconds=retry_after).in_timezone("UTC")
    return now.add(days=1).start_of("day").in_timezone("UTC")


class RateLimiter:
    """Paces sends to ``share`` of HubSpot's per-app limit per rolling ``interval``, for all threads.

    HubSpot counts the limit per app. Several tasks may share one app (mapped tasks in a pool);
    each then takes a ``share``. The headers tell how much of the app's budget is used in total;
    what this limiter did not send is someone else's, and this limiter keeps the sum under the
    app's limit as well. The headers arrive a request late, so clients sending at once can still
    overshoot together; the slow-down after a 429 is what keeps that from becoming a storm.
    Giving each task its ``share`` (with a pool) avoids the 429s altogether.
    """

    SLOWDOWN = 0.7  # the part of the current limit kept after a 429
    RECOVERY = 0.05  # the part of the full limit regained per interval without a 429
    FLOOR = 0.1  # never below this part of the limit

    def __init__(
        self,
        limit: int,
        interval: float = 10.0,
        *,
        share: float = 1.0,
        margin: float = TRAVEL_MARGIN,
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
        self.margin = margin
        self._clock = clock
        self._sent: deque[float] = deque()
        self._paused_until = 0.0
        self._others = 0  # the app's requests in the window that someone else sent
        self._others_seen_at = -math.inf
        self._condition = threading.Condition()
        self.daily_remaining: int | None = None
        self._slowdown = 1.0  # the part of the limit in use, after 429s
        self._slowed_at = -math.inf

    @property
    def limit(self) -> int:
        """Requests per window this limiter may send: its share of the app's limit, slowed after 429s."""
        return max(1, math.floor(self.app_limit * self.share * self._factor(self._clock())))

    def _factor(self, now: float) -> float:
        if self._slowdown >= 1.0:
            return 1.0
        return min(1.0, self._slowdown + self.RECOVERY * (now - self._slowed_at) / self.interval)

    @property
    def window(self) -> float:
        """The window we pace by: the interval plus a margin for the travel time of a request."""
        return self.interval * (1 + self.margin) + CLOCK_SLACK

    @property
    def rate(self) -> float:
        """Allowed requests per second."""
        return self.limit / self.interval

    def _trim(self, now: float) -> None:
        while self._sent and self._sent[0] <= now - self.window:
            self._sent.popleft()

    def _others_now(self, now: float) -> int:
        return self._others if now - self._others_seen_at < self.window else 0

    def acquire(self) -> float:
        """Block until a request may be sent; returns the seconds waited."""
        started = self._clock()
        with self._condition:
            while True:
                now = self._clock()
                self._trim(now)
                used = len(self._sent)
                if now < self._paused_until:
                    wait = self._paused_until - now
                elif used < self.limit and used + self._others_now(now) < self.app_limit:
                    self._sent.append(now)
                    return now - started
                elif self._sent:
                    wait = self._sent[0] + self.window - now
                else:  # only others' requests fill the app's budget: wait for them to age out
                    wait = self._others_seen_at + self.window - now
                self._condition.wait(timeout=max(wait, SHORTEST_WAIT))

    def pause(self, seconds: float) -> None:
        """After a 429: hold every thread for ``seconds`` and slow down.

        The 429s of requests that were in flight together count as one (within ``BURST_PART`` of
        the interval), so one burst slows the limiter once.
        """
        with self._condition:
            now = self._clock()
            self._paused_until = max(self._paused_until, now + seconds)
            if now - self._slowed_at >= self.interval * BURST_PART:
                self._slowdown = max(self.FLOOR, self._factor(now) * self.SLOWDOWN)
                self._slowed_at = now
            self._condition.notify_all()

    def observe(self, headers: Mapping[str, str]) -> None:
        """Correct the pacing from HubSpot's rate-limit headers (case-insensitive mapping)."""
        max_value = _int(headers.get("X-HubSpot-RateLimit-Max"))
        remaining = _int(headers.get("X-HubSpot-RateLimit-Remaining"))
        interval_ms = _int(headers.get("X-HubSpot-RateLimit-Interval-Milliseconds"))
        daily_remaining = _int(headers.get("X-HubSpot-RateLimit-Daily-Remaining"))
        daily = _int(headers.get("X-HubSpot-RateLimit-Daily"))
        with self._condition:
            for name, value in (
                ("max", max_value),
                ("remaining", remaining),
                ("interval_ms", interval_ms),
                ("daily", daily),
                ("daily_remaining", daily_remaining),
            ):
                if value is not None:
                    self.announced[name] = value
            if daily_remaining is not None:
                self.daily_remaining = daily_remaining
            if interval_ms and interval_ms > 0:
                self.interval = interval_ms / 1000
            if max_value and max_value > 0:
                self.app_limit = max_value
                if remaining is not None:
                    now = self._clock()
                    self._trim(now)
                    self._others = max(0, (max_value - remaining) - len(self._sent))
                    self._others_seen_at = now
            self._condition.notify_all()


class DailyBudget:
    """At most ``limit`` requests a day of the account (midnight to midnight in ``timezone``).

    Until HubSpot's daily headers arrive, the requests this budget let through are all it knows of
    the day. Once ``X-HubSpot-RateLimit-Daily`` and ``-Daily-Remaining`` arrive, the day's use is
    what HubSpot counted for the whole account (the daily limit is the account's, shared by its
    apps), when that is more. OAuth apps get no daily headers: their budget counts their own requests.

    :param limit: requests a day (a connection's ``requests_per_day``).
    :param timezone: the account's time zone; its midnight starts a new day.
    :param now: the clock (tests move it).
    """

    def __init__(
        self,
        limit: int,
        timezone: str = "UTC",
        *,
        now: Callable[[], pendulum.DateTime] | None = None,
    ) -> None:
        self.limit = limit
        self.timezone = timezone
        self._now = now or (lambda: pendulum.now(timezone))
        self._lock = threading.Lock()
        self._day = self._today()
        self.used = 0  # requests of the account today, as far as this budget knows
        self.from_headers = False  # ``used`` includes HubSpot's count of the day

    def _today(self) -> pendulum.Date:
        return self._now().in_timezone(self.timezone).date()

    def _roll(self) -> None:
        today = self._today()
        if today != self._day:
            self._day, self.used, self.from_headers = today, 0, False

    def take(self, what: str) -> None:
        """Count a request about to go out; if the budget is spent, raise ``HubSpotDailyLimitError``
        instead (the request is not sent, and a deferred run goes on after the account's midnight)."""
        with self._lock:
            self._roll()
            if self.used < self.limit:
                self.used += 1
                return
            used = self.used
        reset_at = daily_reset_at(self.timezone, now=self._now())
        counted = "as HubSpot counts the account's day" if self.from_headers else "by this client"
        raise HubSpotDailyLimitError(
            f"{what}: not sent: the connection's daily budget (requests_per_day {self.limit:,}) is spent, "
            f"{used:,} requests today {counted}; it renews at {reset_at.to_iso8601_string()}",
            reset_at=reset_at,
            category="DAILY",
        )

    def observe(self, headers: Mapping[str, str]) -> None:
        """Take the day's use from HubSpot's daily headers (case-insensitive mapping), when they came."""
        daily = _int(headers.get("X-HubSpot-RateLimit-Daily"))
        remaining = _int(headers.get("X-HubSpot-RateLimit-Daily-Remaining"))
        if daily is None or remaining is None or not 0 <= remaining <= daily:
            return
        with self._lock:
            self._roll()
            self.used = max(self.used, daily - remaining)
            self.from_headers = True


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
