"""``send_in_order``: results in the items' order, a bounded look-ahead, and a stop that finishes what
was sent. Pure: items are numbers, sending is a function."""

from __future__ import annotations

import threading
import time

import pytest

from airflow_provider_hubspot_assoc.hubspot.sender import look_ahead, send_in_order


def test_results_come_in_order_though_later_items_finish_first() -> None:
    def send(item: int) -> int:
        time.sleep(0.05 if item == 0 else 0.0)  # the first item is the slowest
        return item * 10

    sent = send_in_order(range(8), send, workers=4, in_flight=lambda: 4)
    assert [(item, job.result() if job else None) for item, job in sent] == [(n, n * 10) for n in range(8)]


def test_items_not_worth_sending_come_back_with_none_and_errors_stay_in_their_futures() -> None:
    def send(item: int) -> int:
        if item == 3:
            raise ValueError("three")
        return item

    sent = list(send_in_order(range(5), send, workers=2, in_flight=lambda: 2, worth_sending=lambda i: i != 1))
    assert [item for item, _ in sent] == [0, 1, 2, 3, 4]
    assert sent[1][1] is None
    job = sent[3][1]
    assert job is not None and isinstance(job.exception(), ValueError)


def test_reading_ahead_is_bounded_behind_one_slow_item() -> None:
    release = threading.Event()
    pulled = [0]

    def items() -> object:
        for n in range(10_000):
            pulled[0] += 1
            yield n

    def send(item: int) -> int:
        if item == 0:
            release.wait(5)
        return item

    sent = send_in_order(items(), send, workers=2, in_flight=lambda: 2)
    threading.Timer(0.2, release.set).start()
    first, _ = next(sent)
    assert first == 0 and pulled[0] <= look_ahead(2) + 1
    assert sum(1 for _ in sent) == 9_999


def test_a_stop_reads_no_further_and_finishes_what_was_sent() -> None:
    stop = threading.Event()
    started: list[int] = []

    def send(item: int) -> int:
        started.append(item)
        if item == 2:
            stop.set()
        return item

    sent = [
        item
        for item, _ in send_in_order(range(1_000), send, workers=1, in_flight=lambda: 1, stopped=stop.is_set)
    ]
    assert sent == started and 3 <= len(sent) < 1_000


@pytest.mark.parametrize("in_flight", [1, 4, 8])
def test_look_ahead_grows_with_the_requests_in_flight(in_flight: int) -> None:
    assert look_ahead(in_flight) == max(4 * in_flight, 16)


def test_each_step_looks_at_the_oldest_send_only_not_a_rescan_of_the_queue(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from concurrent.futures import Future

    looks = [0]
    real_done = Future.done

    def counted(self: Future[int]) -> bool:
        looks[0] += 1
        return real_done(self)

    monkeypatch.setattr(Future, "done", counted)
    gate = threading.Semaphore(0)

    def send(item: int) -> int:
        gate.acquire(timeout=5)  # sends finish one at a time, later than they are started
        return item

    releaser = threading.Thread(target=lambda: [gate.release() or time.sleep(0.0005) for _ in range(400)])
    releaser.start()
    sent = [item for item, _ in send_in_order(range(400), send, workers=16, in_flight=lambda: 16)]
    releaser.join()
    assert sent == list(range(400))
    assert looks[0] <= 3 * 400, f"{looks[0]} looks at futures for 400 items"
