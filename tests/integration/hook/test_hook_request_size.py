"""Request size against the simulator: a 400 naming a maximum re-chunks the run to it, logged once,
with no pair failed, none bisected, none applied twice (issue 14, point 5)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator

from ._support import UNLABELED, archive_inputs, remaining, seed_pairs
from .conftest import HookFactory

RECHUNK_LOG = "for the rest of the run"


def rechunk_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if RECHUNK_LOG in r.getMessage()]


def writes(sim: HubSpotSimulator, endpoint: str = "archive") -> list[Any]:
    return [r for r in sim.stats.log if r.endpoint == endpoint]


def assert_all_archived_once(sim: HubSpotSimulator, response: Any, pairs: int) -> None:
    assert (response.pairs_sent, response.num_errors, response.failed_pairs()) == (pairs, 0, set())
    assert remaining(sim) == set()
    assert sim.stats.archived_pairs == pairs
    assert len(sim.stats.pair_sends) == pairs and max(sim.stats.pair_sends.values()) == 1


@pytest.mark.hubspot_simulator(max_inputs=10)
def test_an_input_cap_named_by_hubspot_rechunks_the_run(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory, caplog: pytest.LogCaptureFixture
) -> None:
    sim = hubspot_simulator
    sent = seed_pairs(sim, 60, 3)  # 60 inputs of 3 to ids: one request of 60 inputs, 180 pairs
    hook = make_hook(max_pairs_per_request=1000, max_in_flight=1)
    caplog.set_level(logging.WARNING)

    response = hook.archive_associations("contacts", "companies", archive_inputs(sent))

    assert_all_archived_once(sim, response, 180)
    refused, *rest = writes(sim)
    assert refused.status == 400 and sim.stats.by_status[400] == 1
    assert [(r.status, r.inputs, r.pairs) for r in rest] == [(204, 10, 30)] * 6
    assert hook.request_stats()["isolation_requests"] == 0  # not bisected
    assert hook.client.request_size.max_inputs == 10
    [line] = rechunk_lines(caplog)
    assert "The maximum number of inputs supported in a batch is 10" in line
    assert "at most 10 inputs a request (batch_size)" in line


@pytest.mark.hubspot_simulator(max_pairs=25)
def test_a_pair_cap_named_in_hubspots_words_lowers_the_pair_cap(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory, caplog: pytest.LogCaptureFixture
) -> None:
    sim = hubspot_simulator
    sent = seed_pairs(sim, 40, 5)  # 40 inputs of 5: over 25 pairs, within 25 inputs only in parts
    hook = make_hook(batch_size=20, max_pairs_per_request=100, max_in_flight=1)
    caplog.set_level(logging.WARNING)

    response = hook.archive_associations("contacts", "companies", archive_inputs(sent))

    assert_all_archived_once(sim, response, 200)
    assert sim.stats.by_status[400] == 1  # only the first request: the next ones are made smaller
    assert all(r.pairs <= 25 for r in writes(sim) if r.status == 204)
    assert hook.request_stats()["isolation_requests"] == 0
    assert (hook.client.request_size.max_inputs, hook.client.request_size.max_pairs) == (20, 25)
    [line] = rechunk_lines(caplog)
    assert "at most 25 pairs a request (max_pairs_per_request)" in line


@pytest.mark.hubspot_simulator(max_inputs=20, max_pairs=30)
def test_concurrent_refusals_lower_each_cap_once_and_lose_no_pair(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory, caplog: pytest.LogCaptureFixture
) -> None:
    sim = hubspot_simulator
    sent = seed_pairs(sim, 300, 2)  # batches of 50 inputs (100 pairs), several in flight at once
    hook = make_hook(batch_size=50, max_in_flight=4)
    caplog.set_level(logging.WARNING)

    response = hook.archive_associations("contacts", "companies", archive_inputs(sent))

    assert_all_archived_once(sim, response, 600)
    assert hook.request_stats()["isolation_requests"] == 0
    assert (hook.client.request_size.max_inputs, hook.client.request_size.max_pairs) == (20, 30)
    lines = rechunk_lines(caplog)
    assert len(lines) == 2  # each cap logged once, however many requests were refused at once
    assert all(r.pairs <= 30 and r.inputs <= 20 for r in writes(sim) if r.status == 204)
    assert sim.stats.by_status[400] <= 8  # refused: the batches in flight when each cap was learned


@pytest.mark.hubspot_simulator(max_inputs=3)
def test_labels_rechunk_to_the_named_maximum(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory, caplog: pytest.LogCaptureFixture
) -> None:
    sim = hubspot_simulator
    pairs = seed_pairs(sim, 10, 1)
    category, type_id = UNLABELED
    inputs = [
        {
            "from": {"id": f},
            "to": {"id": t},
            "types": [{"associationCategory": category, "associationTypeId": type_id}],
        }
        for f, t in pairs
    ]
    hook = make_hook(max_in_flight=1)
    caplog.set_level(logging.WARNING)

    response = hook.archive_labels("contacts", "companies", inputs)

    assert (response.pairs_sent, response.num_errors) == (10, 0)
    assert remaining(sim) == set()
    labels = writes(sim, "archive_labels")
    assert [(r.status, r.inputs) for r in labels] == [(400, 0), (204, 3), (204, 3), (204, 3), (204, 1)]
    assert hook.request_stats()["isolation_requests"] == 0
    assert len(rechunk_lines(caplog)) == 1


@pytest.mark.hubspot_simulator(max_inputs=100, faults={"poison_ids": ["105"]})
def test_a_refusal_naming_no_maximum_is_still_bisected(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory, caplog: pytest.LogCaptureFixture
) -> None:
    sim = hubspot_simulator
    sent = seed_pairs(sim, 10, 2)
    hook = make_hook(max_in_flight=1)
    caplog.set_level(logging.WARNING)

    response = hook.archive_associations("contacts", "companies", archive_inputs(sent))

    assert response.failed_pairs() == {("105", "5000"), ("105", "5001")}
    assert hook.request_stats()["isolation_requests"] > 0
    assert rechunk_lines(caplog) == []
    assert hook.client.request_size.max_inputs == 100
