"""``HubSpotHook.send_batches``: answers come back in the batches' order, and reading ahead is bounded."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.testing import HubSpotSimulator

from .conftest import HookFactory


def test_batches_come_back_in_order_and_one_slow_request_bounds_the_read_ahead(
    make_hook: HookFactory, hubspot_simulator: HubSpotSimulator
) -> None:
    sim = hubspot_simulator
    for company in ("5000", "5001", "5002"):
        sim.state.associate("contacts", "101", "companies", company)
    sim.reconfigure(latency_seconds=0.5)
    hook = make_hook(max_in_flight=2)
    pulled = [0]

    def batches() -> Iterator[list[dict[str, Any]]]:
        for company in ("5000", "5001", "5002"):
            pulled[0] += 1
            yield [{"from": {"id": "101"}, "to": [{"id": company}]}]
        for _ in range(100_000):  # e.g. rows that were all duplicates: nothing to send
            pulled[0] += 1
            yield []

    answers = hook.send_batches(Kind.ARCHIVE, "contacts", "companies", batches())
    first_batch, first_response = next(answers)
    read_ahead = pulled[0]
    rest = list(answers)

    assert first_batch[0]["to"] == [{"id": "5000"}] and first_response is not None
    assert read_ahead <= 4 * 2 + 16 + 1  # not 100,000 batches held while the first was answered
    assert [b[0]["to"][0]["id"] for b, r in rest if r is not None] == ["5001", "5002"]
    assert sum(1 for b, r in rest if r is None and not b) == 100_000
    assert sim.state.count("contacts", "companies") == 0


def test_a_batch_struck_by_the_daily_limit_leaves_no_gap_before_later_answers(
    make_hook: HookFactory, hubspot_simulator: HubSpotSimulator
) -> None:
    """Batches answered after one the daily limit struck are not yielded past it: a caller confirming
    in order would see a gap. They ride on the error, in order, with their answers."""
    from airflow_provider_hubspot_assoc.exceptions import HubSpotDailyLimitError

    sim = hubspot_simulator
    for from_id, to_id in (("101", "5000"), ("102", "5001"), ("103", "5002")):
        sim.state.associate("contacts", from_id, "companies", to_id)
    sim.script("daily")  # the first request to arrive (the first batch's, sent first) is refused
    hook = make_hook(max_in_flight=3)
    batches = [[{"from": {"id": f}, "to": [{"id": t}]}] for f, t in (("101", "5000"), ("102", "5001"))]
    batches.append([{"from": {"id": "103"}, "to": [{"id": "5002"}]}])

    yielded: list[list[dict[str, Any]]] = []
    try:
        for batch, _ in hook.send_batches(Kind.ARCHIVE, "contacts", "companies", iter(batches)):
            yielded.append(batch)
    except HubSpotDailyLimitError as error:
        struck, answers = error.struck, error.answers
    else:
        raise AssertionError("the daily limit did not stop the run")

    assert yielded + struck == batches[: len(yielded) + len(struck)]  # in order, no gap
    assert len(struck) == len(answers) and answers[0] is None  # the struck one was not applied
    for batch, answer in zip(struck[1:], answers[1:], strict=True):
        # a later batch that was sent carries its answer, so its pairs are not claimed unsent
        if answer is not None:
            assert (
                not answer.errors
                and sim.state.associated("contacts", batch[0]["from"]["id"], "companies") == []
            )
