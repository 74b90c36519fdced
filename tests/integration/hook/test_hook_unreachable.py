"""No attempt reached HubSpot: the error says so, names the host and the bound that ended retries."""

from __future__ import annotations

import pytest

from airflow_provider_hubspot_assoc.exceptions import HubSpotUnreachableError
from airflow_provider_hubspot_assoc.testing import HubSpotSimulator

from .conftest import HookFactory

INPUTS = [{"from": {"id": "101"}, "to": [{"id": "5000"}]}]


def test_a_refused_connection_is_named_with_the_attempt_bound(make_hook: HookFactory) -> None:
    hook = make_hook(host="http://127.0.0.1:1", max_attempts=2)

    with pytest.raises(HubSpotUnreachableError) as refused:
        hook.archive_associations("contacts", "companies", INPUTS)

    message = str(refused.value)
    assert message.startswith("could not reach HubSpot at 127.0.0.1:1: connection refused")
    assert "gave up after 2 attempts (max_attempts)" in message
    assert hook.client.stats.requests == 2


def test_the_time_bound_is_named_when_it_ends_the_retries(make_hook: HookFactory) -> None:
    hook = make_hook(host="http://127.0.0.1:1", max_attempts=1000, max_retry_seconds=0.5)

    with pytest.raises(HubSpotUnreachableError) as refused:
        hook.archive_associations("contacts", "companies", INPUTS)

    assert "max_retry_seconds (0.5 s)" in str(refused.value)
    assert "(max_attempts)" not in str(refused.value)


def test_a_failed_tls_handshake_is_named(make_hook: HookFactory, hubspot_simulator: HubSpotSimulator) -> None:
    # The simulator speaks plain HTTP: an https request to it fails in the TLS handshake.
    hook = make_hook(host=f"https://127.0.0.1:{hubspot_simulator.port}", max_attempts=2)

    with pytest.raises(HubSpotUnreachableError, match="TLS handshake failed"):
        hook.archive_associations("contacts", "companies", INPUTS)
    assert hubspot_simulator.stats.by_endpoint["archive"] == 0
