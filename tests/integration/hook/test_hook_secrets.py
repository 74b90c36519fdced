"""No token, client secret, refresh token or access token in logs, exceptions or reprs.

One run goes through every path that handles a secret, with every logger at DEBUG (urllib3 included):
private-app token, wrong token, OAuth refresh, refresh after expiry, failed refresh, missing scopes,
retries, and test_connection. Everything printable that came out of it is then searched.
"""

from __future__ import annotations

import logging

import pytest

from airflow_provider_hubspot_assoc.exceptions import HubSpotError
from airflow_provider_hubspot_assoc.testing import HubSpotSimulator

from ._support import OAUTH_EXTRA, archive_inputs, remaining, seed_pairs
from .conftest import HookFactory

WRONG_TOKEN = "pat-na1-00000000-aaaa-bbbb-cccc-dddddddddddd"
BAD_REFRESH = "sim-refresh-token-that-was-revoked"
ISSUED_PREFIX = "sim-oauth-"  # every access token the simulator issues starts with it


@pytest.mark.hubspot_simulator(
    window_seconds=1.0,
    tokens={
        "sim-private-app-token": frozenset(
            {"crm.objects.contacts.write", "crm.objects.companies.write", "crm.objects.deals.read"}
        )
    },
)
def test_no_secret_reaches_logs_exceptions_or_reprs(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory, caplog: pytest.LogCaptureFixture
) -> None:
    from airflow.sdk._shared.secrets_masker import redact  # where Airflow 3.3 says to import it from

    sim = hubspot_simulator
    caplog.set_level(logging.DEBUG)  # root: urllib3, requests, tenacity, ours, the simulator's
    sent = seed_pairs(sim, 10, 10)
    texts: list[str] = []
    raised: list[HubSpotError] = []

    def attempt(hook_call: object) -> None:
        try:
            assert callable(hook_call)
            hook_call()
        except HubSpotError as error:
            raised.append(error)

    private = make_hook(batch_size=20)
    sim.script(500, "drop", 429)  # retries log their reasons
    private.archive_associations("contacts", "companies", archive_inputs(sent[:50]))
    texts += [repr(private.client.config), str(private.client.config), repr(private.client.stats)]
    attempt(
        lambda: private.archive_associations(
            "contacts", "deals", [{"from": {"id": "1"}, "to": [{"id": "2"}]}]
        )
    )
    texts.append(private.test_connection()[1])

    wrong = make_hook(password=WRONG_TOKEN, conn_id="hubspot_wrong")
    attempt(lambda: wrong.archive_associations("contacts", "companies", archive_inputs(sent[50:])))
    texts.append(wrong.test_connection()[1])

    oauth = make_hook(extra=OAUTH_EXTRA, conn_id="hubspot_oauth", batch_size=10)
    oauth.archive_associations("contacts", "companies", archive_inputs(sent[50:75]))
    sim.expire_access_tokens()
    oauth.archive_associations("contacts", "companies", archive_inputs(sent[75:]))
    access_token = oauth.client._tokens.token()  # the hook's current access token (private: no API has it)
    texts += [repr(oauth.client.config), str(oauth.client.config), repr(oauth.client.config.oauth)]
    texts.append(oauth.test_connection()[1])

    revoked = make_hook(extra={**OAUTH_EXTRA, "refresh_token": BAD_REFRESH}, conn_id="hubspot_revoked")
    attempt(lambda: revoked.archive_associations("contacts", "companies", archive_inputs(sent[:1])))
    texts.append(revoked.test_connection()[1])

    # The run did what it should, so every path above was really taken.
    assert remaining(sim) == set()
    assert sim.stats.token_refreshes >= 3 and sim.stats.by_status[401] >= 2
    assert [type(e).__name__ for e in raised] == ["HubSpotScopeError", "HubSpotAuthError", "HubSpotAuthError"]
    for error in raised:
        texts += [str(error), repr(error), repr(error.args), repr(error.body)]
        cause: BaseException | None = error
        while cause is not None:  # the whole chain an Airflow traceback would show
            texts.append(repr(cause))
            cause = cause.__cause__ or cause.__context__
    records = caplog.records
    assert any(r.levelno == logging.DEBUG and r.name.startswith("urllib3") for r in records)
    assert any("retrying" in r.getMessage() for r in records)
    for record in records:
        texts += [record.getMessage(), repr(record.args), record.exc_text or ""]

    secrets = [
        sim.token,
        WRONG_TOKEN,
        "sim-client-secret",
        "sim-refresh-token",
        BAD_REFRESH,
        access_token,
        ISSUED_PREFIX,
    ]
    leaks = {secret: text for text in texts for secret in secrets if secret in text}
    assert leaks == {}
    # The OAuth access token, obtained at run time, was handed to Airflow's log masker.
    assert access_token.startswith(ISSUED_PREFIX)
    assert redact(f"Bearer {access_token}") == "Bearer ***"
