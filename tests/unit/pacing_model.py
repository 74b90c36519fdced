"""A discrete-event model of HubSpot's rolling window and clients pacing against it (fake clock).

HubSpot counts a request when it arrives (``up`` seconds after it was sent) and answers it after the
rest of the latency; the answer carries the window's ``Max`` and ``Remaining`` after counting it, or
is a 429 (not counted). Each client keeps at most ``in_flight_for`` requests in flight and observes
every answer, aligned with the moment it sent the request, as ``Transport`` does.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import deque
from dataclasses import dataclass, field

from requests.structures import CaseInsensitiveDict

from airflow_provider_hubspot_assoc.hubspot.pacing import RateLimiter, in_flight_for


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@dataclass
class Outcome:
    accepted: int
    refused: int
    steady_rate: float  # accepted per second, whole limits' worth after the first window
    mean_rate: float  # accepted per second after the first window, until the end
    per_client: list[int] = field(default_factory=list)
    refused_at: list[float] = field(default_factory=list)  # seconds after the start, when sent

    @property
    def refused_share(self) -> float:
        return self.refused / max(1, self.accepted + self.refused)


def run_model(
    limit: int,
    *,
    interval: float,
    latencies: list[float],
    seconds: float,
    up_part: float = 0.1,
    starts: list[float] | None = None,
    jitter: float = 0.0,
    send_cost: float = 0.0,
    seed: int = 14,
) -> Outcome:
    """``len(latencies)`` clients of one app, each with its own limiter, sending for ``seconds``.

    ``jitter``: a request's way to HubSpot takes up to this many seconds more (at random: the draws
    of ``seed``), so requests sent close together may arrive in another order. ``send_cost``: seconds
    a client takes to send one request (its threads send one after another, not at one instant).
    """
    chance = random.Random(seed)
    clock = FakeClock()
    start = clock.now
    limiters = [RateLimiter(limit, interval, clock=clock) for _ in latencies]
    arrivals: deque[float] = deque()
    accepted_at: list[float] = []
    per_client = [0] * len(latencies)
    refused_at: list[float] = []
    in_flight = [0] * len(latencies)
    measured: list[float | None] = [None] * len(latencies)
    events: list[tuple[float, int, str, int, float]] = []
    order = itertools.count()
    begin = starts or [0.0] * len(latencies)
    for client, offset in enumerate(begin):
        heapq.heappush(events, (start + offset, next(order), "wake", client, 0.0))
    answers: dict[int, tuple[int, int]] = {}  # event id -> (status, remaining)

    busy_until = [0.0] * len(latencies)
    woken = [start + offset for offset in begin]  # each client's next wake: one at a time, the earliest asked

    def wake(client: int, at: float) -> None:
        if clock.now < woken[client] <= at:
            return  # an earlier wake is due already
        woken[client] = at
        heapq.heappush(events, (at, next(order), "wake", client, 0.0))

    def send_what_may_go(client: int) -> None:
        limiter = limiters[client]
        while in_flight[client] < in_flight_for(limiter.rate, measured[client], 10_000):
            if clock.now < busy_until[client]:  # still sending the one before
                wake(client, busy_until[client])
                return
            wait = limiter.try_acquire()
            if wait > 0:
                wake(client, clock.now + wait)
                return
            in_flight[client] += 1
            busy_until[client] = clock.now + send_cost
            up = latencies[client] * up_part + chance.uniform(0.0, jitter)
            heapq.heappush(events, (clock.now + up, next(order), "arrive", client, clock.now))

    end = start + seconds
    while events:
        when, number, kind, client, sent_at = heapq.heappop(events)
        if when > end:
            break
        clock.now = when
        if kind == "wake":
            if when == woken[client]:  # else a later wake, superseded by an earlier one
                send_what_may_go(client)
        elif kind == "arrive":
            while arrivals and arrivals[0] <= when - interval:
                arrivals.popleft()
            if len(arrivals) >= limit:
                status, remaining = 429, 0
            else:
                arrivals.append(when)
                accepted_at.append(when)
                per_client[client] += 1
                status, remaining = 204, limit - len(arrivals)
            back = sent_at + latencies[client]
            answer = next(order)
            answers[answer] = (status, remaining)
            heapq.heappush(events, (back, answer, "answer", client, sent_at))
        else:
            status, remaining = answers.pop(number)
            in_flight[client] -= 1
            measured[client] = latencies[client]
            headers = CaseInsensitiveDict(
                {
                    "X-HubSpot-RateLimit-Max": str(limit),
                    "X-HubSpot-RateLimit-Remaining": str(remaining),
                    "X-HubSpot-RateLimit-Interval-Milliseconds": str(round(interval * 1000)),
                }
            )
            if status == 429:
                refused_at.append(sent_at - start)
                limiters[client].refused(sent_at, headers)
            else:
                limiters[client].observe(headers, sent_at)
            send_what_may_go(client)
    # Whole windows' worth of requests after the first window (a burst, when nobody else sends): from
    # the first request past it to the one ``limit * k`` later, so that bursts do not skew the figure.
    after = [t for t in sorted(accepted_at) if t > start + max(begin) + interval]
    whole = (len(after) - 1) // limit * limit
    mean = len(after) / (end - start - max(begin) - interval)
    return Outcome(
        len(accepted_at), len(refused_at), whole / (after[whole] - after[0]), mean, per_client, refused_at
    )
