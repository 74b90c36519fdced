"""The connection's ``requests_per_day``: a daily budget the client keeps without sending past it.

HubSpot's own daily limit (``daily_limit`` in the simulator) is set far above the budget here, so
only the budget can stop the run. Until HubSpot's ``X-HubSpot-RateLimit-Daily*`` headers arrive the
client counts its own requests; once they do, it counts the account's whole day as HubSpot does.
"""

from __future__ import annotations

import pendulum
import pytest
import requests

from airflow_provider_hubspot_assoc.exceptions import HubSpotDailyLimitError
from airflow_provider_hubspot_assoc.testing import HubSpotSimulator

from ._support import archive_inputs, remaining, seed_pairs
from .conftest import HookFactory


@pytest.mark.hubspot_simulator(daily_limit=1000)
def test_nothing_past_the_connections_daily_budget_is_sent(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sim = hubspot_simulator
    sent = seed_pairs(sim, 10, 1)  # ten requests of one pair
    before = pendulum.now("UTC")
    hook = make_hook(extra={"requests_per_day": 4, "account_timezone": "America/New_York"}, batch_size=1)

    with pytest.raises(HubSpotDailyLimitError) as stopped:
        hook.archive_associations("contacts", "companies", archive_inputs(sent))

    assert sim.stats.requests == 4  # the budget, however many requests were in flight together
    assert len(remaining(sim)) == 6
    assert "requests_per_day" in str(stopped.value) and stopped.value.status is None
    local = stopped.value.reset_at.in_timezone("America/New_York")
    assert (local.hour, local.minute, local.second) == (0, 0, 0)  # the account's next midnight
    assert before < stopped.value.reset_at <= before.add(hours=24, seconds=1)
    assert stopped.value.batch is not None and len(stopped.value.batch) == 1  # a request it kept back


@pytest.mark.hubspot_simulator(daily_limit=1000)
def test_once_hubspots_headers_arrive_the_accounts_whole_day_counts(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sim = hubspot_simulator
    for _ in range(3):  # another app of the account used 3 requests today
        requests.get(
            f"{sim.url}/account-info/v3/details",
            headers={"Authorization": f"Bearer {sim.token}"},
            timeout=5,
        ).raise_for_status()
    sent = seed_pairs(sim, 10, 1)
    hook = make_hook(extra={"requests_per_day": 6}, batch_size=1, max_in_flight=1)

    with pytest.raises(HubSpotDailyLimitError):
        hook.archive_associations("contacts", "companies", archive_inputs(sent))

    assert hook.client.stats.requests == 3  # 3 + 3 = the budget of 6, as HubSpot counted the day
    assert sim.stats.requests == 6
    assert len(remaining(sim)) == 7


def test_a_tiers_daily_figure_is_no_budget_only_requests_per_day_is(make_hook: HookFactory) -> None:
    tier_only = make_hook(extra={"tier": "free"}).client_config()
    assert (tier_only.daily_limit, tier_only.daily_budget) == (250_000, None)
    explicit = make_hook(extra={"tier": "free", "requests_per_day": "5000"}).client_config()
    assert (explicit.daily_limit, explicit.daily_budget) == (5000, 5000)
