"""Send items concurrently and hand back their results in the items' order, at bounded memory.

Generic: it knows items, a function that sends one, and how many may be in flight; nothing about
HubSpot. Results come back in order because a run confirms its rows in order (a checkpoint says
"rows 1..N are done"). No Airflow import.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

# Items held from the oldest unfinished one on: this many per request in flight, and at least
# LEAST_LOOK_AHEAD, so that items needing no request (empty batches) do not stall the sends while
# one slow request keeps the oldest item waiting.
LOOK_AHEAD_PER_SLOT = 4
LEAST_LOOK_AHEAD = 16


def look_ahead(in_flight: int) -> int:
    """The most items held at once when ``in_flight`` requests may run."""
    return max(LOOK_AHEAD_PER_SLOT * in_flight, LEAST_LOOK_AHEAD)


def _always(_: object) -> bool:
    return True


def _never() -> bool:
    return False


def send_in_order(
    items: Iterable[Item],
    send: Callable[[Item], Result],
    *,
    workers: int,
    in_flight: Callable[[], int],
    worth_sending: Callable[[Item], bool] = _always,
    stopped: Callable[[], bool] = _never,
    thread_name_prefix: str = "sender",
) -> Iterator[tuple[Item, Future[Result] | None]]:
    """Yield ``(item, finished future)`` in the order the items came, sending them concurrently.

    :param items: what to send; read only as far as the look-ahead allows.
    :param send: sends one item (in a worker thread); its return value or exception is the future's.
    :param workers: threads, so the most sends that can ever run at once.
    :param in_flight: how many sends to keep running; asked again before each new send, so it may
        follow the measured latency.
    :param worth_sending: an item for which it is false is not sent and comes back with ``None``
        (an empty batch, say).
    :param stopped: once true, no further item is read or sent; those already sent are finished and
        yielded (the caller saw a result that makes the rest pointless).
    :param thread_name_prefix: names the worker threads in logs and thread dumps.
    """
    source = iter(items)
    queue: deque[tuple[Item, Future[Result] | None]] = deque()
    # Sends not finished, counted as they start and end (no scan of the queue at each step), and a
    # signal that one ended, which a step clears before it looks at anything.
    running = [0]
    lock = threading.Lock()
    ended = threading.Event()

    def end(_: Future[Result]) -> None:
        with lock:
            running[0] -= 1
        ended.set()

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=thread_name_prefix) as pool:
        exhausted = False
        while True:
            ended.clear()
            limit = in_flight()
            while not exhausted and not stopped() and len(queue) < look_ahead(limit):
                if running[0] >= limit:
                    break
                try:
                    item = next(source)
                except StopIteration:
                    exhausted = True
                    break
                job: Future[Result] | None = None
                if worth_sending(item):
                    with lock:
                        running[0] += 1
                    job = pool.submit(send, item)
                    job.add_done_callback(end)
                queue.append((item, job))
            if not queue:
                return
            item, job = queue[0]
            if job is not None and not job.done():
                ended.wait()  # a send ended (this one or another, whose slot can take the next item)
                continue
            queue.popleft()
            yield item, job
