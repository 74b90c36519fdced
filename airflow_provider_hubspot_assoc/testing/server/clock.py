"""The simulator's wall clock: the account's day, and the ``Date`` header of every answer.

HubSpot's daily limit resets at midnight in the account's time zone on HubSpot's clock, and a client
can only learn that clock from the standard HTTP ``Date`` header. So the simulator's days follow its
own clock, which runs at real speed but may start shortly before the account's midnight
(``day_ends_in``), so a test sees a day end without waiting for one; with ``day_seconds`` every day
lasts that long (the clock skips the rest of each day at its end), so a test sees several.
"""

from __future__ import annotations

import threading
import time
from email.utils import formatdate

import pendulum


class AccountClock:
    """The simulator's time in the account's ``timezone``.

    :param timezone: the account's time zone: its days end at midnight there.
    :param day_ends_in: real seconds until the first day ends (None: ``day_seconds``, else the real
        clock's midnight).
    :param day_seconds: real seconds each later day lasts (None: a whole day).
    """

    def __init__(
        self, timezone: str, day_ends_in: float | None = None, day_seconds: float | None = None
    ) -> None:
        self.timezone = timezone
        self.day_seconds = day_seconds
        self._lock = threading.Lock()
        self._started = time.monotonic()
        now = pendulum.now(timezone)
        self._day_end = now.add(days=1).start_of("day")  # on this clock
        real_left = (self._day_end - now).total_seconds()
        first = day_ends_in if day_ends_in is not None else day_seconds
        self._ends_after = real_left if first is None else first  # real seconds from the start

    def _elapsed(self) -> float:
        return time.monotonic() - self._started

    def _advance(self, elapsed: float) -> None:
        while elapsed >= self._ends_after:
            following = self._day_end.add(days=1).start_of("day")
            length = (following - self._day_end).total_seconds()
            self._ends_after += self.day_seconds or length
            self._day_end = following

    def now(self) -> pendulum.DateTime:
        """The simulator's time, in the account's time zone."""
        with self._lock:
            elapsed = self._elapsed()
            self._advance(elapsed)
            return self._day_end.subtract(seconds=self._ends_after - elapsed)

    def today(self) -> pendulum.Date:
        """The account's day now."""
        return self.now().date()

    def seconds_until_midnight(self) -> float:
        """Real seconds until the account's day ends."""
        with self._lock:
            elapsed = self._elapsed()
            self._advance(elapsed)
            return self._ends_after - elapsed

    def http_date(self) -> str:
        """The time for a ``Date`` header (RFC 9110: GMT, whole seconds)."""
        return formatdate(self.now().timestamp(), usegmt=True)
