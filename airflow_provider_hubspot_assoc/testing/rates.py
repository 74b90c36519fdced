"""What rate a client kept at the simulator, measured by when its requests arrived there.

HubSpot's burst limit counts the requests of any rolling window
(https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines). A client that
starts with an empty window may send a whole window's worth at once: the opening burst. Windows
counted from the first request therefore hold that burst and overstate what the client sustains, and
more so the fewer windows a run has. The steady span here leaves the burst out: it starts
``skip_windows`` windows after the first accepted arrival and holds the consecutive whole windows
up to the end of the steady part of the run (given by the caller: when the client stopped sending).
Its accepted requests, by their arrival time at the simulator, are counted per window (to show
how even the rate is) and, for the sustained rate, over whole cycles of the limit (``cycles``).

Pure functions over arrival times (the ``at`` of ``RequestRecord``), so benchmarks and tests share one
definition of every figure.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from airflow_provider_hubspot_assoc.testing.server.stats import RequestRecord

MIN_WINDOWS = 20  # fewer whole windows than this is too short a span to call the rate sustained
NOT_COUNTED = frozenset({"oauth_token"})  # endpoints the rate limit does not count
REFUSED = frozenset({0, 401, 429})  # answers to requests the rate limit did not count


@dataclass(frozen=True)
class Arrival:
    """One API request as the rate limit saw it.

    :param at: when it arrived at the simulator (seconds, any fixed origin).
    :param status: its answer's status (0: closed without one).
    :param pairs: (from, to) pairs in its body.
    """

    at: float
    status: int = 204
    pairs: int = 0

    @property
    def accepted(self) -> bool:
        """The limit counted it: answered, and not refused (401 before the limit, 429 by it)."""
        return self.status not in REFUSED


def arrivals(records: Iterable[RequestRecord]) -> list[Arrival]:
    """The simulator's request records as arrivals, oldest first (token calls left out)."""
    found = [Arrival(r.at, r.status, r.pairs) for r in records if r.endpoint not in NOT_COUNTED]
    return sorted(found, key=lambda a: a.at)


@dataclass(frozen=True)
class Span:
    """Consecutive whole windows: ``windows`` of ``window_seconds`` from ``start``.

    :param start: the first window's start.
    :param windows: how many whole windows.
    :param window_seconds: one window's length.
    """

    start: float
    windows: int
    window_seconds: float

    @property
    def end(self) -> float:
        return self.start + self.windows * self.window_seconds

    @property
    def seconds(self) -> float:
        return self.windows * self.window_seconds


def steady_span(first: float, last: float, window_seconds: float, skip_windows: int = 1) -> Span:
    """The whole windows from ``skip_windows`` windows after ``first`` up to ``last`` at most.

    :param first: the first accepted arrival (the opening burst starts there).
    :param last: the end of the steady part: no window reaches past it.
    :param window_seconds: the rate limit's window.
    :param skip_windows: windows left out at the start, the opening burst in them.
    """
    start = first + skip_windows * window_seconds
    whole = int((last - start) // window_seconds) if last > start else 0
    return Span(start, whole, window_seconds)


def per_window(arrived: Sequence[Arrival], span: Span, *, pairs: bool = False) -> list[int]:
    """Accepted requests (or their pairs) that arrived in each window of ``span``; ``arrived`` sorted."""
    times = [a.at for a in arrived]
    counts = []
    for index in range(span.windows):
        low = bisect_left(times, span.start + index * span.window_seconds)
        high = bisect_left(times, span.start + (index + 1) * span.window_seconds)
        inside = [a for a in arrived[low:high] if a.accepted]
        counts.append(sum(a.pairs for a in inside) if pairs else len(inside))
    return counts


def busiest_window(arrived: Sequence[Arrival], window_seconds: float) -> int:
    """Most accepted requests in any rolling window (as the limit counts: arrivals in ``(t - w, t]``)."""
    return _busiest([a.at for a in arrived if a.accepted], window_seconds)


def _busiest(times: Sequence[float], window_seconds: float) -> int:
    busiest, oldest = 0, 0
    for newest, moment in enumerate(times):
        while times[oldest] <= moment - window_seconds:
            oldest += 1
        busiest = max(busiest, newest - oldest + 1)
    return busiest


@dataclass(frozen=True)
class Cycles:
    """Accepted requests counted from one arrival to another: ``requests`` in ``seconds``.

    :param requests: accepted requests from the first measured one up to (not with) the last.
    :param seconds: from the first measured arrival to the last.
    :param cycle: requests in one cycle (0: too few arrivals for one; every arrival was used).
    """

    requests: int
    seconds: float
    cycle: int


def cycles(accepted: Sequence[float], start: float, last: float, window_seconds: float) -> Cycles:
    """The accepted arrivals from ``start`` to ``last`` to measure a rate over: whole cycles.

    A client at the limit sends in cycles of ``limit`` requests, each a little longer than a window
    (a pacing margin) or bunched into a burst; windows laid on such a run can each catch one cycle
    for dozens of windows in a row and say 100% of a lower rate, and a count from the first to the
    last request catches one burst too many. The time from request ``i`` to request ``i + k x cycle``
    holds whole cycles wherever ``i`` falls. A cycle is the most requests accepted in one rolling
    window of the steady part: the limit, for a client at the limit (the simulator lets no window
    hold more); one window's worth for a client below it. With too few arrivals for one cycle,
    every one is used.

    :param accepted: accepted arrival times, oldest first.
    :param start: the steady part's start (the opening burst before it).
    :param last: the steady part's end.
    :param window_seconds: the window.
    """
    low = bisect_left(accepted, start)
    high = bisect_left(accepted, last) - 1  # the last arrival of the steady part
    if high <= low:
        return Cycles(0, 0.0, 0)
    cycle = _busiest(accepted[low : high + 1], window_seconds)
    whole = (high - low) // cycle * cycle
    if whole:
        return Cycles(whole, accepted[low + whole] - accepted[low], cycle)
    return Cycles(high - low, accepted[high] - accepted[low], 0)


@dataclass(frozen=True)
class SteadyRate:
    """The sustained rate of one run against its limit.

    :param span: the steady windows (the opening burst left out).
    :param counts: accepted requests per window of ``span``.
    :param measured: what the share is computed over (``cycles``).
    :param limit: requests the limit allows per window.
    :param requests: every API request of the run.
    :param rate_limited: the 429 answers among them.
    :param busiest: most accepted requests in any rolling window of the whole run (burst included).
    """

    span: Span
    counts: list[int]
    measured: Cycles
    limit: int
    requests: int
    rate_limited: int
    busiest: int

    @property
    def share(self) -> float | None:
        """Accepted requests per second over the allowed rate; None without anything to measure."""
        if not self.measured.seconds:
            return None
        allowed = self.limit / self.span.window_seconds
        return self.measured.requests / self.measured.seconds / allowed

    @property
    def windows(self) -> float:
        """Windows the share covers."""
        return self.measured.seconds / self.span.window_seconds

    @property
    def share_429(self) -> float:
        return self.rate_limited / self.requests if self.requests else 0.0

    @property
    def enough(self) -> bool:
        """The share covers ``MIN_WINDOWS`` windows or more: long enough to be called sustained."""
        return self.windows >= MIN_WINDOWS


def steady_rate(
    arrived: Sequence[Arrival], *, limit: int, window_seconds: float, last: float, skip_windows: int = 1
) -> SteadyRate:
    """The run's sustained share of ``limit``, its 429s and its busiest window.

    :param arrived: the run's arrivals, oldest first (``arrivals``).
    :param limit: requests allowed per window.
    :param window_seconds: the window.
    :param last: the end of the steady part (e.g. when the first client stopped sending).
    :param skip_windows: windows left out after the first accepted arrival (the opening burst).
    """
    accepted = [a.at for a in arrived if a.accepted]
    if accepted:
        span = steady_span(accepted[0], last, window_seconds, skip_windows)
    else:
        span = Span(last, 0, window_seconds)
    return SteadyRate(
        span=span,
        counts=per_window(arrived, span),
        measured=cycles(accepted, span.start, last, window_seconds),
        limit=limit,
        requests=len(arrived),
        rate_limited=sum(1 for a in arrived if a.status == 429),
        busiest=busiest_window(arrived, window_seconds),
    )
