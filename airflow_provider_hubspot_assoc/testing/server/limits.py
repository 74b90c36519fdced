"""Server-side rate limits of the simulator: a rolling 10-second window per app and a daily count.

HubSpot's burst limit is ``TEN_SECONDLY_ROLLING`` (per app); the daily limit is per account and resets
at midnight in the account's time zone on the simulator's clock (``clock.AccountClock``). Both show
in ``X-HubSpot-RateLimit-*`` headers, and a refusal is a 429 with HubSpot's body for its policy
(https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Literal

from airflow_provider_hubspot_assoc.testing.config import SimulatorConfig
from airflow_provider_hubspot_assoc.testing.server.clock import AccountClock
from airflow_provider_hubspot_assoc.testing.server.errors import ApiError

Policy = Literal["DAILY", "TEN_SECONDLY_ROLLING"]
MESSAGES: dict[str, str] = {
    "DAILY": "You have reached your daily limit.",
    "TEN_SECONDLY_ROLLING": "You have reached your ten_secondly_rolling limit.",
}


@dataclass(frozen=True)
class WindowState:
    limit: int
    remaining: int
    interval_ms: int


class RollingWindow:
    """At most ``limit`` accepted requests per ``seconds`` (rolling), counted per key (the app)."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _current(self, key: str) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        now = time.monotonic()
        while hits and hits[0] <= now - self.seconds:
            hits.popleft()
        return hits

    def check(self, key: str) -> tuple[WindowState, float]:
        """The window of ``key`` now, and the seconds until a slot frees up (0: one is free)."""
        with self._lock:
            hits = self._current(key)
            wait = hits[0] + self.seconds - time.monotonic() if len(hits) >= self.limit else 0.0
            return self._state(hits), max(wait, 0.0)

    def take(self, key: str) -> WindowState:
        """Count one request of ``key``; the window after it."""
        with self._lock:
            hits = self._current(key)
            hits.append(time.monotonic())
            return self._state(hits)

    def give_back(self, key: str) -> None:
        """Uncount the latest request of ``key`` (it was refused after all)."""
        with self._lock:
            hits = self._current(key)
            if hits:
                hits.pop()

    def _state(self, hits: deque[float]) -> WindowState:
        return WindowState(
            limit=self.limit,
            remaining=max(self.limit - len(hits), 0),
            interval_ms=round(self.seconds * 1000),
        )


class DailyCounter:
    """Requests per account per day of ``clock``; ``None`` limit means no daily limit (OAuth apps)."""

    def __init__(self, limit: int | None, clock: AccountClock) -> None:
        self.limit = limit
        self.clock = clock
        self._period: object = None
        self._used = 0
        self._lock = threading.Lock()

    def _roll(self) -> None:
        period = self.clock.today()
        if period != self._period:
            self._period, self._used = period, 0

    def seconds_until_reset(self) -> float:
        return self.clock.seconds_until_midnight()

    def take(self) -> int | None:
        """Count one request; the requests left today after it (None: no daily limit)."""
        if self.limit is None:
            return None
        with self._lock:
            self._roll()
            self._used += 1
            return max(self.limit - self._used, 0)

    def give_back(self) -> None:
        """Uncount the latest request (it was refused after all)."""
        with self._lock:
            self._roll()
            self._used = max(self._used - 1, 0)

    def remaining(self) -> int | None:
        """Requests left today (None: no daily limit)."""
        if self.limit is None:
            return None
        with self._lock:
            self._roll()
            return max(self.limit - self._used, 0)


class RateLimited(ApiError):
    """A 429 with HubSpot's body for ``policy``: ``errorType`` ``RATE_LIMIT``, no ``category``."""

    def __init__(self, policy: Policy, headers: dict[str, str]) -> None:
        body = {
            "status": "error",
            "message": MESSAGES[policy],
            "errorType": "RATE_LIMIT",
            "correlationId": str(uuid.uuid4()),
            "policyName": policy,
            "requestId": str(uuid.uuid4()),
        }
        super().__init__(429, body, headers)
        self.policy = policy


class RateLimits:
    """The account's limits as they apply to one request, and the headers and 429s they give.

    A request is counted by both limits or by neither: one refused by the daily limit spends none of
    its app's window, and one refused by the window (or given an injected 429) spends no daily budget.

    :param config: the simulator's settings (read live: ``retry_after_on_429`` may change).
    """

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.window = RollingWindow(config.ten_second_limit, config.window_seconds)
        self.clock = AccountClock(config.account_timezone, config.day_ends_in, config.daily_reset_seconds)
        self.daily = DailyCounter(config.daily_limit, self.clock)
        self._lock = threading.Lock()  # check and count both limits as one step

    def admit(self, app: str, oauth: bool, answer: dict[str, str]) -> None:
        """Count one request of ``app``; put the limit headers into ``answer``; raise a 429 if refused."""
        with self._lock:
            window, wait = self.window.check(app)
            daily = None if oauth else self.daily.remaining()
            if daily == 0:
                self._headers(answer, window, daily)
                raise self.refusal("DAILY", self.daily.seconds_until_reset(), answer)
            if window.remaining == 0 and self.config.enforce_ten_secondly:
                self._headers(answer, window, daily)
                raise self.refusal("TEN_SECONDLY_ROLLING", wait, answer)
            window = self.window.take(app)
            daily = None if oauth else self.daily.take()
        self._headers(answer, window, daily)

    def injected(self, policy: Policy, app: str, oauth: bool, answer: dict[str, str]) -> RateLimited:
        """An injected 429 for an admitted request: uncounted, with the headers of a full ``policy``."""
        with self._lock:
            self.window.give_back(app)
            if not oauth:
                self.daily.give_back()
            window, _ = self.window.check(app)
            daily = None if oauth else self.daily.remaining()
        if policy == "TEN_SECONDLY_ROLLING":
            window = WindowState(window.limit, 0, window.interval_ms)
        elif daily is not None:
            daily = 0
        self._headers(answer, window, daily)
        return self.refusal(policy, 1.0, answer)

    def refusal(self, policy: Policy, wait: float, headers: dict[str, str]) -> RateLimited:
        """A 429 for ``policy``; ``Retry-After`` (whole seconds) only if configured."""
        extra = {"Retry-After": str(max(int(wait + 0.999), 1))} if self.config.retry_after_on_429 else {}
        return RateLimited(policy, {**headers, **extra})

    def _headers(self, answer: dict[str, str], window: WindowState, daily: int | None) -> None:
        """HubSpot's ``X-HubSpot-RateLimit-*`` headers; the daily pair only under a daily limit."""
        answer.update(
            {
                "X-HubSpot-RateLimit-Max": str(window.limit),
                "X-HubSpot-RateLimit-Remaining": str(window.remaining),
                "X-HubSpot-RateLimit-Interval-Milliseconds": str(window.interval_ms),
                "X-HubSpot-RateLimit-Secondly": str(window.limit // 10),
                "X-HubSpot-RateLimit-Secondly-Remaining": str(window.remaining // 10),
            }
        )
        if daily is not None and self.daily.limit is not None:
            answer["X-HubSpot-RateLimit-Daily"] = str(self.daily.limit)
            answer["X-HubSpot-RateLimit-Daily-Remaining"] = str(daily)
