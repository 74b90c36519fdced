"""Auth through the hook: private-app tokens, OAuth refresh (also when tokens expire mid-run), scopes."""

from __future__ import annotations

import logging

import pytest

from airflow_provider_hubspot_assoc.exceptions import HubSpotAuthError, HubSpotScopeError
from airflow_provider_hubspot_assoc.testing import FaultConfig, HubSpotSimulator

from ._support import OAUTH_EXTRA, archive_inputs, remaining, seed_pairs
from .conftest import HookFactory

WRONG_TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"


def test_private_app_token_is_sent_as_a_bearer_token(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sim = hubspot_simulator
    sent = seed_pairs(sim, 2, 2)
    hook = make_hook()
    assert hook.client.config.access_token == sim.token and hook.client.config.oauth is None

    response = hook.archive_associations("contacts", "companies", archive_inputs(sent))

    assert response.num_errors == 0 and remaining(sim) == set()
    assert sim.stats.token_refreshes == 0 and sim.stats.by_status[401] == 0


def test_a_wrong_token_is_an_auth_error_that_does_not_repeat_the_token(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sim = hubspot_simulator
    sent = seed_pairs(sim, 2, 2)

    with pytest.raises(HubSpotAuthError) as refused:
        make_hook(password=WRONG_TOKEN).archive_associations("contacts", "companies", archive_inputs(sent))

    error = refused.value
    assert (error.status, error.category) == (401, "INVALID_AUTHENTICATION")
    assert "Authentication credentials not found" in str(error)
    assert WRONG_TOKEN not in str(error) and WRONG_TOKEN not in repr(error)
    assert WRONG_TOKEN not in repr(error.body) and WRONG_TOKEN not in repr(error.args)
    assert error.batch == archive_inputs(sent)  # the batch it struck, not applied
    assert sim.stats.requests == 1  # a refused private-app token is not retried
    assert remaining(sim) == set(sent)


def test_oauth_gets_an_access_token_before_the_first_request(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sim = hubspot_simulator
    sent = seed_pairs(sim, 30, 5)
    hook = make_hook(extra=OAUTH_EXTRA)

    response = hook.archive_associations("contacts", "companies", archive_inputs(sent))

    assert response.num_errors == 0 and remaining(sim) == set()
    assert sim.stats.token_refreshes == hook.client.stats.token_refreshes == 1
    assert sim.stats.by_status[401] == 0
    assert sim.stats.log[0].endpoint == "oauth_token"


def test_oauth_token_expired_between_calls_is_refreshed_and_the_work_completes(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sim = hubspot_simulator
    sent = seed_pairs(sim, 20, 10)
    hook = make_hook(extra=OAUTH_EXTRA)
    first, second = archive_inputs(sent[:100]), archive_inputs(sent[100:])

    assert hook.archive_associations("contacts", "companies", first).num_errors == 0
    sim.expire_access_tokens()  # 30 minutes pass, as far as HubSpot is concerned
    response = hook.archive_associations("contacts", "companies", second)

    assert response.num_errors == 0 and remaining(sim) == set()
    assert sim.stats.by_status[401] == 1
    assert sim.stats.token_refreshes == hook.client.stats.token_refreshes == 2
    assert hook.client.stats.retries == 1


@pytest.mark.hubspot_simulator(faults=FaultConfig(expire_tokens_after=3))
def test_oauth_tokens_expiring_mid_run_are_refreshed_under_concurrency(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sim = hubspot_simulator
    sent = seed_pairs(sim, 25, 10)  # 250 pairs in 25 requests of 10; every token lasts 3 requests

    hook = make_hook(
        extra=OAUTH_EXTRA, batch_size=10, max_pairs_per_request=10, max_in_flight=4, max_attempts=10
    )
    response = hook.archive_associations("contacts", "companies", archive_inputs(sent))

    assert response.num_errors == 0 and remaining(sim) == set()
    assert sim.stats.by_status[401] >= 1
    assert sim.stats.token_refreshes == hook.client.stats.token_refreshes >= 25 // 3
    assert hook.client.stats.retries == sim.stats.by_status[401]  # each 401 cost one retry, no more


@pytest.mark.hubspot_simulator(access_token_lifetime_seconds=1.0, latency_seconds=0.05)
def test_short_lived_oauth_tokens_are_refreshed_before_they_expire(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sim = hubspot_simulator
    sent = seed_pairs(sim, 30, 10)  # 30 requests of 10, one at a time: about 2 s, tokens live 1 s

    hook = make_hook(extra=OAUTH_EXTRA, batch_size=10, max_pairs_per_request=10, max_in_flight=1)
    response = hook.archive_associations("contacts", "companies", archive_inputs(sent))

    assert response.num_errors == 0 and remaining(sim) == set()
    assert sim.stats.token_refreshes >= 2
    assert sim.stats.by_status[401] == 0  # refreshed ahead of expiry, not after a refusal


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("refresh_token", "sim-refresh-token-revoked", "invalid_grant"),
        ("client_secret", "wrong-secret", "invalid_client"),
    ],
)
def test_a_bad_refresh_is_an_auth_error_without_secrets(
    field: str, value: str, reason: str, hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sim = hubspot_simulator
    sent = seed_pairs(sim, 2, 2)

    with pytest.raises(HubSpotAuthError) as refused:
        make_hook(extra={**OAUTH_EXTRA, field: value}).archive_associations(
            "contacts", "companies", archive_inputs(sent)
        )

    text = f"{refused.value} {refused.value!r} {refused.value.body!r}"
    assert "OAuth token refresh failed" in text and reason in text
    for secret in (value, "sim-client-secret", "sim-refresh-token"):
        assert secret not in text
    assert sim.stats.token_refreshes == 1  # a 400 from the token endpoint is not retried
    assert sim.stats.by_endpoint["archive"] == 0
    assert remaining(sim) == set(sent)


@pytest.mark.hubspot_simulator(tokens={"sim-private-app-token": frozenset({"crm.objects.contacts.write"})})
def test_missing_scopes_are_named(hubspot_simulator: HubSpotSimulator, make_hook: HookFactory) -> None:
    sim = hubspot_simulator
    sent = seed_pairs(sim, 2, 2)

    with pytest.raises(HubSpotScopeError) as refused:
        make_hook().archive_associations("contacts", "companies", archive_inputs(sent))

    assert refused.value.missing_scopes == ["crm.objects.companies.write"]
    assert refused.value.status == 403 and refused.value.category == "MISSING_SCOPES"
    assert "crm.objects.companies.write" in str(refused.value)
    assert sim.stats.requests == 1  # not retried
    assert remaining(sim) == set(sent)


@pytest.mark.hubspot_simulator(
    oauth_refresh_tokens={
        "sim-refresh-token": frozenset({"crm.objects.contacts.read", "crm.objects.companies.read"})
    }
)
def test_oauth_app_without_write_scopes_is_told_which(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sent = seed_pairs(hubspot_simulator, 1, 1)
    with pytest.raises(HubSpotScopeError) as refused:
        make_hook(extra=OAUTH_EXTRA).archive_associations("contacts", "companies", archive_inputs(sent))
    assert refused.value.missing_scopes == ["crm.objects.companies.write", "crm.objects.contacts.write"]
    assert "crm.objects.companies.write, crm.objects.contacts.write" in str(refused.value)


@pytest.mark.parametrize(
    ("extra", "path"),
    [
        ({"token_url": "***"}, "/oauth/v1/token"),  # saved masked by an older form: the default
        ({"token_url": "*****"}, "/oauth/v1/token"),
        ({"oauth_endpoint": "/oauth/2026-03/token"}, "/oauth/2026-03/token"),
        ({"extra__hubspot__oauth_endpoint": "/oauth/2026-03/token"}, "/oauth/2026-03/token"),
        ({"token_url": "/oauth/v3/token"}, "/oauth/v3/token"),  # connections made before the rename
        ({"oauth_endpoint": "/oauth/2026-03/token", "token_url": "/oauth/v3/token"}, "/oauth/2026-03/token"),
        ({"oauth_endpoint": "***", "token_url": "/oauth/v3/token"}, "/oauth/v3/token"),
    ],
    ids=["masked", "all-stars", "new", "new-prefixed", "old", "new-wins", "masked-new-then-old"],
)
def test_the_oauth_token_endpoint_is_read_from_oauth_endpoint_then_token_url(
    extra: dict[str, str], path: str, hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sim = hubspot_simulator
    sent = seed_pairs(sim, 2, 2)

    response = make_hook(extra={**OAUTH_EXTRA, **extra}).archive_associations(
        "contacts", "companies", archive_inputs(sent)
    )

    assert response.num_errors == 0 and remaining(sim) == set()
    assert [(r.path, r.status) for r in sim.stats.log if r.endpoint == "oauth_token"] == [(path, 200)]


def test_a_masked_token_path_is_ignored_with_a_warning_naming_the_new_field(
    hubspot_simulator: HubSpotSimulator,
    make_hook: HookFactory,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.WARNING)
    config = make_hook(extra={**OAUTH_EXTRA, "token_url": "***"}).client_config()

    assert config.oauth is not None and config.oauth.token_url == "/oauth/v1/token"
    logged = caplog.text + "".join(capfd.readouterr())
    assert "token_url" in logged and "masked" in logged and "oauth_endpoint" in logged
