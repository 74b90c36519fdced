"""Server-side rate limits of the simulator: a rolling 10-second window per app and a daily count.

HubSpot's burst limit is ``TEN_SECONDLY_ROLLING`` (per app); the daily limit is per account and resets
at midnight in the account's time zone (or, time-scaled for tests, every ``reset_seconds``).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

import pendulum


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
