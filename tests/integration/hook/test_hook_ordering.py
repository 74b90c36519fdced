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
