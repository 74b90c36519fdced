"""What a running task tells a person: a progress line now and then, and a table of the buckets at the end.

One vocabulary: every count is for the whole run, across tries and deferrals, with this try's share
in parentheses. No Airflow import.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from airflow_provider_hubspot_assoc.outcomes import Tally

PROGRESS_EVERY_SECONDS = 30.0


def _count(number: float) -> str:
    return f"{int(number):,}"


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


@dataclass
class ProgressReporter:
    """Builds the progress lines of one try.

    :param total_rows: input rows of the whole run when known (a list), None when streaming SQL.
    :param rows_before: rows an earlier try (or deferral) confirmed; this try's share is the rest.
    :param requests_before: requests earlier tries sent.
    :param every_seconds: how often ``due()`` says a line is wanted.
    """

    total_rows: int | None
    rows_before: int = 0
    requests_before: int = 0
    removals_before: int = 0
    every_seconds: float = PROGRESS_EVERY_SECONDS
    clock: Callable[[], float] = time.monotonic
    started: float = field(default=0.0)
    _last: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self.started = self._last = self.clock()

    def due(self) -> bool:
        """True about every ``every_seconds`` (never twice in one interval)."""
        now = self.clock()
        if now - self._last < self.every_seconds:
            return False
        self._last = now
        return True

    def line(
        self, rows_done: int, rows_read: int, tally: Tally, requests: int, allowed_per_second: float
    ) -> str:
        """``rows_done``: confirmed rows of the run; ``rows_read``: rows read so far (streams);
        ``requests``: requests of the run; ``allowed_per_second``: the pace this client may keep."""
        elapsed = max(self.clock() - self.started, 1e-9)
        rows_now = rows_done - self.rows_before
        removals_now = tally.archived + tally.failed + tally.unknown - self.removals_before
        requests_now = requests - self.requests_before
        if self.total_rows:
            share = rows_done / self.total_rows
            done = f"{_count(rows_done)}/{_count(self.total_rows)} rows ({share:.1%})"
        else:
            done = f"{_count(rows_done)} rows done, {_count(rows_read)} read so far (total unknown: SQL)"
        pace = (
            f"{removals_now / elapsed:,.1f} pairs/s, {requests_now / elapsed:.1f} requests/s "
            f"of {allowed_per_second:.1f} allowed"
        )
        if self.total_rows and rows_now > 0:
            eta = f"ETA {_duration((self.total_rows - rows_done) * elapsed / rows_now)}"
        else:
            eta = "ETA unknown"
        return (
            f"Progress: {done}, this try {_count(rows_now)}; {pace}; requests {_count(requests)} "
            f"(this try {_count(requests_now)}); {eta}"
        )


def bucket_table(tally: Tally, requests: int, requests_this_try: int) -> str:
    """The closing lines: one aligned row per bucket, then the requests."""
    rows = [("received", tally.received), *tally.named()]
    width = max(len(name) for name, _ in rows)
    digits = max(len(_count(value)) for _, value in [*rows, ("requests", requests)])
    lines = [f"  {name:<{width}}  {_count(value):>{digits}}" for name, value in rows]
    lines[1] += f"  (already absent: {_count(tally.already_absent)})" if tally.already_absent else ""
    lines.append(
        f"  {'requests':<{width}}  {_count(requests):>{digits}}  (this try: {_count(requests_this_try)})"
    )
    return "\n".join(lines)
