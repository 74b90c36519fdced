"""The account's day: HubSpot's daily request limit and a connection's ``requests_per_day``.

HubSpot counts requests per account and day, and its day ends at midnight in the account's time
zone (https://developers.hubspot.com/docs/guides/apps/api-usage/usage-details). Each answer of a
private app says what is left (``X-HubSpot-RateLimit-Daily-Remaining``); once that is 0, nothing more
is sent: the request is refused here, unsent, with the moment the day ends, so a task defers
instead of collecting 429s. No 429 carries that moment, so it is computed: the next midnight in the
account's time zone on HubSpot's clock, read from the answer's ``Date`` header (the local clock when
there is none), so a local clock that is off does not matter. No Airflow import.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime

import pendulum

from airflow_provider_hubspot_assoc.exceptions import HubSpotDailyLimitError
from airflow_provider_hubspot_assoc.hubspot.pacing import header_int


def hubspot_offset(headers: Mapping[str, str], local: pendulum.DateTime) -> float:
    """Seconds HubSpot's clock (the answer's ``Date``) is ahead of ``local``; 0 without a date.

    ``Date`` has whole seconds and was written before the answer travelled: HubSpot's clock is never
    behind the figure, so a midnight computed from it is never early.
    """
    value = headers.get("Date")
    if not value:
        return 0.0
    try:
        said = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 0.0
    if said.tzinfo is None:
        return 0.0
    return (said - local).total_seconds()


def next_midnight(timezone: str, local: pendulum.DateTime, offset: float = 0.0) -> pendulum.DateTime:
    """When the account's day ends, in UTC on the local clock: the next midnight in ``timezone`` on a
    clock ``offset`` seconds ahead of ``local``."""
    tomorrow = local.add(seconds=offset).in_timezone(timezone).date().add(days=1)
    return day_start(tomorrow, timezone).subtract(seconds=offset).in_timezone("UTC")


def day_start(day: pendulum.Date, timezone: str) -> pendulum.DateTime:
    """The first instant of ``day`` in ``timezone``, where the clocks skip or repeat midnight too.

    Not ``start_of("day")`` of a time that day: where they skip it (Santiago, 00:00 -> 01:00), that
    gave 23:00 of the day before, an hour early. The first midnight of a repeated one is fold 0.
    """
    first, second = (
        pendulum.datetime(day.year, day.month, day.day, tz=timezone, fold=fold) for fold in (0, 1)
    )
    return first if first.date() == day else second


def daily_reset_at(
    timezone: str,
    retry_after: float | None = None,
    headers: Mapping[str, str] | None = None,
    now: pendulum.DateTime | None = None,
) -> pendulum.DateTime:
    """When HubSpot's daily limit resets (in UTC): after ``retry_after`` seconds when HubSpot said so,
    else at the next midnight in the account's ``timezone`` on HubSpot's clock (``headers``' Date)."""
    local = now or pendulum.now("UTC")
    if retry_after is not None:
        return local.add(seconds=retry_after).in_timezone("UTC")
    return next_midnight(timezone, local, hubspot_offset(headers or {}, local))


class DailyBudget:
    """The requests this client may still send today, by HubSpot's count and the connection's budget.

    Each request takes a ticket (``take``); an answer's ``Daily-Remaining`` says how many may follow
    the request it answers, so requests sent since (in flight) count against it. ``limit`` (a
    connection's ``requests_per_day``) caps the account's day as well: until HubSpot's daily headers
    arrive, by this client's own requests; once they do, by HubSpot's count of the account's day (the
    daily limit is the account's, shared by its apps). OAuth apps get no daily headers.

    :param limit: requests a day (a connection's ``requests_per_day``), or None: HubSpot's count only.
    :param timezone: the account's time zone; its midnight starts a new day.
    :param now: the local clock (tests move it).
    """

    def __init__(
        self,
        limit: int | None,
        timezone: str = "UTC",
        *,
        now: Callable[[], pendulum.DateTime] | None = None,
    ) -> None:
        self.limit = limit
        self.timezone = timezone
        self._now = now or (lambda: pendulum.now("UTC"))
        self._lock = threading.Lock()
        self._offset = 0.0  # HubSpot's clock ahead of ours, read once the day is spent
        self._said: tuple[str | None, pendulum.DateTime] = (None, self._now())  # latest Date, when
        self._tickets = 0  # requests taken, ever
        self._day, self._day_begins, self._day_ends = self._today()
        self._day_start = 0  # tickets taken before this day
        self._hubspot_cap: int | None = None  # the last ticket HubSpot's count leaves for today
        self._own_cap: int | None = None if limit is None else limit  # ... and the connection's budget

    @property
    def used(self) -> int:
        """Requests this client took today."""
        return self._tickets - self._day_start

    def _read_hubspots_clock(self) -> None:
        """Take HubSpot's clock from the latest answer's ``Date``: the day ends at its midnight (this
        day is kept, whatever the local clock's date)."""
        date, local = self._said
        if date is not None:
            self._offset = hubspot_offset({"Date": date}, local)
            self._day, self._day_begins, self._day_ends = self._today()

    def _today(self) -> tuple[pendulum.Date, float, float]:
        """The account's date now, and the local clock's timestamps when that day begins and ends."""
        local = self._now()
        today = local.add(seconds=self._offset).in_timezone(self.timezone).date()
        begins, ends = (
            day_start(day, self.timezone).timestamp() - self._offset for day in (today, today.add(days=1))
        )
        return today, begins, ends

    def _roll(self) -> None:
        # The date in the account's zone costs more than the rest of a request's pacing: the day's
        # bounds are computed once a day, and only compared here.
        now = self._now().timestamp()
        if self._day_begins <= now < self._day_ends:
            return
        set_back = now < self._day_begins
        today, self._day_begins, self._day_ends = self._today()
        if set_back:
            # The clock was set back past the day's start (it ran ahead): the requests sent still
            # count, as today's, and the day ends at this clock's next midnight (the one a refusal names).
            self._day = today
        elif today != self._day:
            self._day, self._day_start, self._hubspot_cap = today, self._tickets, None
            self._own_cap = None if self.limit is None else self._tickets + self.limit

    def take(self, what: str) -> int:
        """Count a request about to go out and return its ticket (for ``observe``); if the day's
        requests are spent, raise ``HubSpotDailyLimitError`` instead (the request is not sent, and a
        deferred run goes on after the account's midnight)."""
        with self._lock:
            self._roll()
            hubspot, own = self._hubspot_cap, self._own_cap
            if (hubspot is None or self._tickets < hubspot) and (own is None or self._tickets < own):
                self._tickets += 1
                return self._tickets
            if hubspot is not None and self._tickets >= hubspot:
                self._read_hubspots_clock()  # the day ends at HubSpot's midnight
            used, offset = self.used, self._offset
        local = self._now()
        reset_at = next_midnight(self.timezone, local, offset)
        renews = f"it renews at {reset_at.to_iso8601_string()} (midnight {self.timezone}, HubSpot's clock)"
        if hubspot is not None and self._tickets >= hubspot:
            raise HubSpotDailyLimitError(
                f"{what}: not sent: HubSpot's daily request limit is used up "
                "(X-HubSpot-RateLimit-Daily-Remaining 0, counting this client's requests in flight; "
                f"{used:,} requests by this client today); {renews}",
                reset_at=reset_at,
                category="DAILY",
            )
        raise HubSpotDailyLimitError(
            f"{what}: not sent: the connection's daily budget (requests_per_day {self.limit:,}) is spent "
            f"({used:,} requests today by this client, more by others as HubSpot counts); {renews}",
            reset_at=reset_at,
            category="DAILY",
        )

    def observe(self, headers: Mapping[str, str], ticket: int) -> None:
        """Take the day's count from the answer (case-insensitive headers) to request ``ticket``."""
        remaining = header_int(headers.get("X-HubSpot-RateLimit-Daily-Remaining"))
        if remaining is None or remaining < 0:
            return
        daily = header_int(headers.get("X-HubSpot-RateLimit-Daily"))
        with self._lock:
            self._said = (headers.get("Date"), self._now())  # read when the day is spent
            if ticket + remaining <= self._tickets:
                self._read_hubspots_clock()  # spent, with the requests sent since
            else:
                self._roll()
            if ticket <= self._day_start:
                return  # an answer of the day before
            cap = ticket + remaining
            self._hubspot_cap = cap if self._hubspot_cap is None else min(self._hubspot_cap, cap)
            if self.limit is not None and daily is not None and remaining <= daily:
                own = ticket + self.limit - (daily - remaining)
                self._own_cap = own if self._own_cap is None else min(self._own_cap, own)
