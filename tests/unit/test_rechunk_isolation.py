"""Sending a batch within the run's request size (``isolation.send_isolating`` with ``size``): the
cases the simulator cannot produce. A 400 naming a maximum the request was within is any other
refusal (bisected, as before); a run stopped part-way through a batch sent in parts keeps the
answers of the parts sent. The send function is a stand-in for HubSpot here; the real round trips
are in tests/integration/hook/test_hook_request_size.py."""

from __future__ import annotations

from typing import Any

from airflow_provider_hubspot_assoc.exceptions import HubSpotUnreachableError, HubSpotValidationError
from airflow_provider_hubspot_assoc.hubspot.config import ClientStats
from airflow_provider_hubspot_assoc.hubspot.isolation import send_isolating
from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.models import BatchResponse, archive_inputs, pairs_of
from airflow_provider_hubspot_assoc.request_size import RequestSize

MAXIMUM = (
    "The maximum number of inputs supported in a batch is {}. Please reduce the number of items and try again"
)
Inputs = list[dict[str, Any]]


def refusal(message: str) -> HubSpotValidationError:
    body = {"status": "error", "message": message, "category": "VALIDATION_ERROR"}
    return HubSpotValidationError.from_answer(400, body, "POST archive")


def test_a_maximum_the_request_was_within_is_bisected_as_before() -> None:
    """HubSpot naming 100 to a request of 10 inputs is not about its size: the caps stay."""
    inputs = archive_inputs([(str(f), "7") for f in range(1, 11)])
    sent: list[int] = []

    def send(batch: Inputs) -> BatchResponse:
        sent.append(len(batch))
        if any(item["from"]["id"] == "3" for item in batch):
            raise refusal(MAXIMUM.format(100))
        return BatchResponse.from_answer(204, None, pairs_of(Kind.ARCHIVE, batch))

    size, stats = RequestSize(100, 100), ClientStats()
    response = send_isolating(send, Kind.ARCHIVE, inputs, 40, stats, size)

    assert response.failed_pairs() == {("3", "7")}
    assert stats.isolation_requests > 0
    assert (size.max_inputs, size.max_pairs) == (100, 100)


def test_a_stop_part_way_through_a_batch_sent_in_parts_keeps_the_parts_answers() -> None:
    inputs = archive_inputs([(str(f), "7") for f in range(1, 6)])
    calls: list[Inputs] = []

    def send(batch: Inputs) -> BatchResponse:
        calls.append(batch)
        if len(calls) == 2:
            raise HubSpotUnreachableError("connection refused")
        return BatchResponse.from_answer(204, None, pairs_of(Kind.ARCHIVE, batch))

    try:
        send_isolating(send, Kind.ARCHIVE, inputs, 40, ClientStats(), RequestSize(2, 100))
    except HubSpotUnreachableError as error:
        partial = error.partial
    else:
        raise AssertionError("the stop was swallowed")

    assert [len(call) for call in calls] == [2, 2]  # the third part was not sent
    assert partial.pairs_sent == 5
    assert partial.failed_pairs() == {("3", "7"), ("4", "7"), ("5", "7")}  # not sent: failed, not lost
    assert all("not sent" in error.message for error in partial.errors)


def test_a_refused_oversize_request_goes_again_in_parts_none_failed() -> None:
    inputs = archive_inputs([(str(f), str(t)) for f in range(1, 8) for t in (7, 8)])
    sizes: list[tuple[int, int]] = []

    def send(batch: Inputs) -> BatchResponse:
        sizes.append((len(batch), len(pairs_of(Kind.ARCHIVE, batch))))
        if len(batch) > 3:
            raise refusal(MAXIMUM.format(3))
        return BatchResponse.from_answer(204, None, pairs_of(Kind.ARCHIVE, batch))

    size, stats = RequestSize(100, 100), ClientStats()
    response = send_isolating(send, Kind.ARCHIVE, inputs, 40, stats, size)

    assert sizes == [(7, 14), (3, 6), (3, 6), (1, 2)]
    assert (response.pairs_sent, response.failed_pairs(), stats.isolation_requests) == (14, set(), 0)
    assert size.max_inputs == 3
