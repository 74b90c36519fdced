"""Server-side rate limits of the simulator: a rolling 10-second window per app and a daily count.

HubSpot's burst limit is ``TEN_SECONDLY_ROLLING`` (per app); the daily limit is per account and resets
at midnight in the account's time zone (or, time-scaled for tests, every ``reset_seconds``). Both show
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

import pendulum

from airflow_provider_hubspot_assoc.testing.config import SimulatorConfig
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

    def _trim(self, hits: deque[float], now: float) -> None:
        while hits and hits[0] <= now - self.seconds:
            hits.popleft()

    def try_acquire(self, key: str, enforce: bool = True) -> tuple[bool, WindowState, float]:
        """Count one request. Returns (accepted, state after it, seconds until a slot frees up)."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            self._trim(hits, now)
            if enforce and len(hits) >= self.limit:
                wait = hits[0] + self.seconds - now
                return False, self._state(hits), max(wait, 0.0)
            hits.append(now)
            return True, self._state(hits), 0.0

    def _state(self, hits: deque[float]) -> WindowState:
        return WindowState(
            limit=self.limit,
            remaining=max(self.limit - len(hits), 0),
            interval_ms=round(self.seconds * 1000),
        )


class DailyCounter:
    """Requests per account per day; ``None`` limit means no daily limit (OAuth apps)."""

    def __init__(self, limit: int | None, timezone: str = "UTC", reset_seconds: float | None = None) -> None:
        self.limit = limit
        self.timezone = timezone
        self.reset_seconds = reset_seconds
        self._started = time.monotonic()
        self._period: object = None
        self._used = 0
        self._lock = threading.Lock()

    def _current_period(self) -> object:
        if self.reset_seconds:
            return int((time.monotonic() - self._started) // self.reset_seconds)
        return pendulum.now(self.timezone).date()

    def seconds_until_reset(self) -> float:
        if self.reset_seconds:
            elapsed = time.monotonic() - self._started
            return self.reset_seconds - (elapsed % self.reset_seconds)
        now = pendulum.now(self.timezone)
        return float((now.add(days=1).start_of("day") - now).total_seconds())

    def try_acquire(self) -> tuple[bool, int | None]:
        """Count one request. Returns (accepted, remaining after it)."""
        if self.limit is None:
            return True, None
        with self._lock:
            period = self._current_period()
            if period != self._period:
                self._period, self._used = period, 0
            if self._used >= self.limit:
                return False, 0
            self._used += 1
            return True, self.limit - self._used

    def remaining(self) -> int | None:
        if self.limit is None:
            return None
        with self._lock:
            if self._current_period() != self._period:
                return self.limit
            return self.limit - self._used


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

    :param config: the simulator's settings (read live: ``retry_after_on_429`` may change).
    """

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.window = RollingWindow(config.ten_second_limit, config.window_seconds)
        self.daily = DailyCounter(config.daily_limit, config.account_timezone, config.daily_reset_seconds)

    def admit(self, app: str, oauth: bool, answer: dict[str, str]) -> None:
        """Count one request of ``app``; put the limit headers into ``answer``; raise a 429 if refused."""
        daily_ok, daily_remaining = (True, None) if oauth else self.daily.try_acquire()
        if not daily_ok:
            window_state = self.window.try_acquire(app, enforce=False)[1]
            self._headers(answer, window_state, oauth, 0)
            raise self.refusal("DAILY", self.daily.seconds_until_reset(), answer)
        accepted, window_state, wait = self.window.try_acquire(app, self.config.enforce_ten_secondly)
        self._headers(answer, window_state, oauth, daily_remaining)
        if not accepted:
            raise self.refusal("TEN_SECONDLY_ROLLING", wait, answer)

    def refusal(self, policy: Policy, wait: float, headers: dict[str, str]) -> RateLimited:
        """A 429 for ``policy``; ``Retry-After`` (whole seconds) only if configured."""
        extra = {"Retry-After": str(max(int(wait + 0.999), 1))} if self.config.retry_after_on_429 else {}
        return RateLimited(policy, {**headers, **extra})

    def _headers(
        self, answer: dict[str, str], state: WindowState, oauth: bool, daily_remaining: int | None
    ) -> None:
        answer.update(
            {
                "X-HubSpot-RateLimit-Max": str(state.limit),
                "X-HubSpot-RateLimit-Remaining": str(state.remaining),
                "X-HubSpot-RateLimit-Interval-Milliseconds": str(state.interval_ms),
                "X-HubSpot-RateLimit-Secondly": str(state.limit // 10),
                "X-HubSpot-RateLimit-Secondly-Remaining": str(state.remaining // 10),
            }
        )
        if not oauth and self.config.daily_limit is not None:
            remaining = daily_remaining if daily_remaining is not None else self.daily.remaining()
            answer["X-HubSpot-RateLimit-Daily"] = str(self.config.daily_limit)
            answer["X-HubSpot-RateLimit-Daily-Remaining"] = str(remaining)
