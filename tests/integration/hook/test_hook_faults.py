"""Faults the hook must survive with every pair archived, and the ones it must not retry.

The simulator runs a 1-second window (instead of 10) so that 429 pauses are short; the hook adopts it
from HubSpot's ``X-HubSpot-RateLimit-Interval-Milliseconds`` header.
"""

from __future__ import annotations

import pendulum
import pytest

from airflow_provider_hubspot_assoc.exceptions import HubSpotDailyLimitError, HubSpotValidationError
from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.testing import FaultConfig, HubSpotSimulator

from ._support import archive_inputs, batch_pairs, remaining, seed_pairs, wait_until
from .conftest import HookFactory

FAST = {"window_seconds": 1.0, "random_seed": 1}  # seed 1 draws faults early (seed 0: no drop in 15)


def run_all(sim: HubSpotSimulator, make_hook: HookFactory, pairs: int = 300, **overrides: object) -> int:
    """Archive ``pairs`` seeded pairs in requests of 20; check the result; return the client's retries."""
    sent = seed_pairs(sim, pairs // 10, 10)
    hook = make_hook(batch_size=20, max_pairs_per_request=20, max_attempts=10, **overrides)
    response = hook.archive_associations("contacts", "companies", archive_inputs(sent))
    assert (response.pairs_sent, response.num_errors, response.failed_pairs()) == (pairs, 0, set())
    assert remaining(sim) == set()
    assert sim.stats.archived_pairs == pairs  # each pair removed once, whatever was retried
    assert hook.client.stats.requests == sim.stats.requests
    return hook.client.stats.retries


@pytest.mark.hubspot_simulator(**FAST, faults=FaultConfig(server_error_rate=0.3))
def test_server_errors_are_retried(hubspot_simulator: HubSpotSimulator, make_hook: HookFactory) -> None:
    sim = hubspot_simulator
    retries = run_all(sim, make_hook)
    errors = sum(n for status, n in sim.stats.by_status.items() if status >= 500)
    assert errors > 0 and retries == errors == sum(sim.stats.faults.values())


@pytest.mark.hubspot_simulator(**FAST, faults=FaultConfig(burst_429_every=4, burst_429_length=3))
def test_bursts_of_429_are_waited_out(hubspot_simulator: HubSpotSimulator, make_hook: HookFactory) -> None:
    sim = hubspot_simulator
    retries = run_all(sim, make_hook)
    assert sim.stats.rate_limited > 0
    assert retries == sim.stats.rate_limited == sim.stats.by_status[429]


@pytest.mark.hubspot_simulator(**FAST, faults=FaultConfig(drop_rate=0.25))
def test_dropped_connections_are_retried(hubspot_simulator: HubSpotSimulator, make_hook: HookFactory) -> None:
    sim = hubspot_simulator
    retries = run_all(sim, make_hook)
    assert sim.stats.faults["drop"] > 0
    assert retries == sim.stats.faults["drop"] == sim.stats.by_status[0]


@pytest.mark.hubspot_simulator(**FAST, faults=FaultConfig(slow_rate=0.3, slow_seconds=1.0))
def test_answers_slower_than_the_read_timeout_are_retried(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sim = hubspot_simulator
    sent = seed_pairs(sim, 20, 10)
    hook = make_hook(batch_size=20, max_pairs_per_request=20, read_timeout=0.3, max_attempts=10)

    response = hook.archive_associations("contacts", "companies", archive_inputs(sent))

    assert (response.num_errors, response.pairs_sent) == (0, 200)
    assert remaining(sim) == set()
    # The slow answers are still being written when the hook gives up on them: wait for the server.
    assert wait_until(lambda: sim.stats.requests == hook.client.stats.requests)
    assert sim.stats.faults["slow"] > 0
    assert hook.client.stats.retries == sim.stats.faults["slow"]
    assert sim.stats.archived_pairs == 200


@pytest.mark.hubspot_simulator(
    **FAST, faults=FaultConfig(apply_before_fault=True, drop_rate=0.25, server_error_rate=0.25)
)
def test_answers_lost_after_the_archive_was_applied_are_retried_safely(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sim = hubspot_simulator
    retries = run_all(sim, make_hook)
    lost = sim.stats.faults["drop"] + sum(n for f, n in sim.stats.faults.items() if f.isdigit())
    assert lost > 0 and retries == lost
    # Requests whose answer was lost had been carried out: their pairs were sent again, harmlessly.
    assert sum(sim.stats.pair_sends.values()) == 300 + 20 * lost
    assert max(sim.stats.pair_sends.values()) >= 2


@pytest.mark.hubspot_simulator(**FAST)
def test_a_scripted_sequence_of_failures_is_retried_in_order(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sim = hubspot_simulator
    sim.script(503, "drop", 429, 0, 500, 504, 423)
    sent = seed_pairs(sim, 10, 10)
    hook = make_hook(batch_size=50, max_pairs_per_request=50, max_in_flight=1, max_attempts=5)

    response = hook.archive_associations("contacts", "companies", archive_inputs(sent))

    assert (response.num_errors, response.pairs_sent) == (0, 100)
    assert remaining(sim) == set()
    assert [r.status for r in sim.stats.log] == [503, 0, 429, 204, 500, 504, 423, 204]
    assert (hook.client.stats.retries, hook.client.stats.rate_limited) == (6, 1)


@pytest.mark.hubspot_simulator(**FAST)
def test_retries_give_up_after_max_attempts_and_report_the_batch_unknown(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    """A 5xx can come from a gateway that lost the answer of a request HubSpot carried out: the
    outcome is unknown (an operator settles it by reading the pairs back), never "archived"."""
    sim = hubspot_simulator
    sim.script(502, 502, 502)
    sent = seed_pairs(sim, 1, 10)

    response = make_hook(max_attempts=3).archive_associations("contacts", "companies", archive_inputs(sent))

    assert response.failed_pairs() == set()
    assert set(response.unknown_pairs) == set(sent)
    assert response.unconfirmed is not None
    assert "gave up after 3 attempts (max_attempts)" in response.unconfirmed
    assert sim.stats.requests == 3
    assert remaining(sim) == set(sent)


def test_a_400_is_not_retried(hubspot_simulator: HubSpotSimulator, make_hook: HookFactory) -> None:
    sim = hubspot_simulator
    sim.script(400)
    sent = seed_pairs(sim, 5, 10)
    hook = make_hook()

    with pytest.raises(HubSpotValidationError) as refused:
        hook.client.send_batch(Kind.ARCHIVE, "contacts", "companies", archive_inputs(sent))

    assert refused.value.status == 400
    assert sim.stats.requests == 1 and hook.client.stats.retries == 0
    assert remaining(sim) == set(sent)


def test_a_400_through_archive_associations_fails_all_of_that_batchs_pairs(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sim = hubspot_simulator
    sim.script(400)
    sent = seed_pairs(sim, 5, 10)

    # Isolation (bisecting a refused batch) off: the refusal applies to the batch as a whole.
    hook = make_hook(max_isolation_requests=0)
    response = hook.archive_associations("contacts", "companies", archive_inputs(sent))

    assert sim.stats.requests == 1 and hook.client.stats.retries == 0
    assert response.failed_pairs() == set(sent) and response.pairs_sent == 50
    assert response.http_status == 400
    assert remaining(sim) == set(sent)


def test_a_refused_single_pair_is_failed_after_one_request(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sim = hubspot_simulator
    sim.script(400)
    sent = seed_pairs(sim, 1, 1)

    response = make_hook().archive_associations("contacts", "companies", archive_inputs(sent))

    assert sim.stats.requests == 1
    assert response.failed_pairs() == set(sent) and "answered 400" in response.errors[0].message
    assert remaining(sim) == set(sent)


@pytest.mark.hubspot_simulator(**FAST, faults=FaultConfig(poison_ids=("5003",)))
def test_a_400_naming_no_input_is_bisected_down_to_the_bad_pairs(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sim = hubspot_simulator
    sent = seed_pairs(sim, 4, 10)  # 40 pairs in one request; 4 of them hold the poisoned company

    response = make_hook().archive_associations("contacts", "companies", archive_inputs(sent))

    poisoned = {p for p in sent if p[1] == "5003"}
    assert response.failed_pairs() == poisoned
    assert remaining(sim) == poisoned
    assert sim.stats.by_status[400] >= 4  # the batch, then every half that still held a poisoned pair


def test_daily_limit_stops_the_run_until_midnight_without_retrying(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sim = hubspot_simulator
    sim.script("daily")
    sent = seed_pairs(sim, 5, 10)
    before = pendulum.now("UTC")

    with pytest.raises(HubSpotDailyLimitError) as stopped:
        make_hook(extra={"account_timezone": "America/New_York"}).archive_associations(
            "contacts", "companies", archive_inputs(sent)
        )

    reset_at = stopped.value.reset_at
    assert reset_at > before
    assert reset_at - before <= pendulum.duration(hours=24, seconds=1)
    local = reset_at.in_timezone("America/New_York")
    assert (local.hour, local.minute, local.second) == (0, 0, 0)  # midnight in the account's zone
    assert stopped.value.category == "DAILY" and stopped.value.status == 429
    assert reset_at.to_iso8601_string() in str(stopped.value)
    assert sim.stats.requests == 1
    assert stopped.value.batch == archive_inputs(sent)
    assert remaining(sim) == set(sent)


@pytest.mark.hubspot_simulator(daily_limit=2, day_ends_in=30.0)
def test_daily_remaining_zero_stops_the_run_unsent_until_midnight_on_hubspots_clock(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sim = hubspot_simulator
    sent = seed_pairs(sim, 6, 10)
    inputs = archive_inputs(sent)

    with pytest.raises(HubSpotDailyLimitError) as stopped:
        make_hook(batch_size=20, max_pairs_per_request=20, max_in_flight=1).archive_associations(
            "contacts", "companies", inputs
        )

    now = pendulum.now("UTC")
    assert now.add(seconds=25) <= stopped.value.reset_at <= now.add(seconds=31)  # the simulator's midnight
    assert sim.stats.requests == 2 and sim.stats.daily_limited == 0  # the third was never sent
    assert batch_pairs(stopped.value.batch or []) == sent[40:]  # the third request, kept back
    assert remaining(sim) == set(sent[40:])


@pytest.mark.hubspot_simulator(retry_after_on_429=True)
def test_a_daily_429_with_retry_after_resets_when_hubspot_says(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sim = hubspot_simulator
    sim.script("daily")  # another app of the account spent the day between two answers
    sent = seed_pairs(sim, 1, 10)

    with pytest.raises(HubSpotDailyLimitError) as stopped:
        make_hook().archive_associations("contacts", "companies", archive_inputs(sent))

    now = pendulum.now("UTC")
    assert now <= stopped.value.reset_at <= now.add(seconds=2)  # Retry-After: 1
    assert stopped.value.status == 429 and sim.stats.daily_limited == 1
