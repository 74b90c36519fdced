"""Authentication (private-app tokens, OAuth refresh and expiry) and scope checks of the simulator."""

from __future__ import annotations

import time

import pytest
import requests

from airflow_provider_hubspot_assoc.testing import ALL_SCOPES, HubSpotSimulator

from ._support import (
    DAILY_HEADERS,
    DATED,
    EXPIRED_MESSAGE,
    RATE_LIMIT_HEADERS,
    Api,
    archive_body,
    archive_path,
    is_uuid,
    labels_archive_path,
    labels_body,
    read_body,
    read_path,
)

INVALID_AUTH = "Authentication credentials not found."


def _assert_invalid_authentication(answer: requests.Response) -> None:
    assert answer.status_code == 401
    body = answer.json()
    assert body["status"] == "error"
    assert body["category"] == "INVALID_AUTHENTICATION"
    assert body["message"] == INVALID_AUTH
    assert is_uuid(body["correlationId"])
    assert is_uuid(answer.headers["X-HubSpot-Correlation-Id"])


@pytest.fixture
def paired(hubspot_simulator: HubSpotSimulator) -> HubSpotSimulator:
    hubspot_simulator.state.associate("contacts", "101", "companies", "201", ["Primary"])
    return hubspot_simulator


# --------------------------------------------------------------------------- private-app tokens
@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-header"),
        pytest.param({"Authorization": "Bearer wrong-token"}, id="wrong-token"),
        pytest.param({"Authorization": "Bearer "}, id="empty-bearer"),
        pytest.param({"Authorization": "Basic sim-private-app-token"}, id="wrong-scheme"),
        pytest.param({"Authorization": "sim-private-app-token"}, id="no-scheme"),
    ],
)
def test_missing_or_wrong_token_is_401_and_changes_nothing(
    paired: HubSpotSimulator, api: Api, headers: dict[str, str]
) -> None:
    before = paired.state.pairs("contacts", "companies")
    answer = api.post(archive_path(), archive_body({"101": ["201"]}), headers=headers)
    _assert_invalid_authentication(answer)
    assert paired.state.pairs("contacts", "companies") == before == {("101", "201")}
    assert paired.stats.by_status[401] == 1


def test_revoked_private_token_is_401(paired: HubSpotSimulator, api: Api) -> None:
    assert api.post(read_path(), read_body(["101"])).status_code == 200
    paired.revoke(paired.token)
    _assert_invalid_authentication(api.post(read_path(), read_body(["101"])))


def test_valid_private_app_token_archives(paired: HubSpotSimulator, api: Api) -> None:
    assert paired.state.count("contacts", "companies") == 1
    answer = api.post(archive_path(), archive_body({"101": ["201"]}))
    assert answer.status_code == 204
    assert answer.content == b""
    assert paired.state.count("contacts", "companies") == 0
    assert paired.state.count("companies", "contacts") == 0


def test_private_app_calls_carry_daily_headers(paired: HubSpotSimulator, api: Api) -> None:
    answer = api.post(read_path(), read_body(["101"]))
    assert answer.status_code == 200
    for name in (*RATE_LIMIT_HEADERS, *DAILY_HEADERS):
        assert name in answer.headers, name
    assert answer.headers["X-HubSpot-RateLimit-Daily"] == "1000000"
    assert answer.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "999999"


# --------------------------------------------------------------------------------------- OAuth
def test_oauth_refresh_issues_a_working_access_token(paired: HubSpotSimulator, api: Api) -> None:
    answer = api.refresh()
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "bearer"
    assert body["token_use"] == "access_token"
    assert isinstance(body["hub_id"], int)
    assert body["refresh_token"] == "sim-refresh-token"
    assert body["expires_in"] == 1800
    assert set(body["scopes"]) == set(ALL_SCOPES)
    access = body["access_token"]
    assert access not in paired.config.tokens  # a new token, not the private one
    assert paired.stats.token_refreshes == 1

    archived = api.post(archive_path(), archive_body({"101": ["201"]}), token=access)
    assert archived.status_code == 204
    assert paired.state.count() == 0


@pytest.mark.parametrize("path", ["/oauth/v1/token", "/oauth/v3/token", "/oauth/2026-03/token"])
def test_oauth_token_paths(api: Api, path: str) -> None:
    access = api.access_token(path=path)
    assert api.post(read_path(), read_body(["1"]), token=access).status_code == 207


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        pytest.param({"client_id": "unknown-client"}, "invalid_client", id="unknown-client"),
        pytest.param({"client_secret": "wrong-secret"}, "invalid_client", id="wrong-secret"),
        pytest.param({"client_id": ""}, "invalid_client", id="empty-client"),
        pytest.param({"refresh_token": "wrong-refresh"}, "invalid_grant", id="wrong-refresh"),
        pytest.param({"refresh_token": ""}, "invalid_grant", id="empty-refresh"),
    ],
)
def test_oauth_refresh_errors(
    hubspot_simulator: HubSpotSimulator, api: Api, overrides: dict[str, str], error: str
) -> None:
    answer = api.refresh(**overrides)
    assert answer.status_code == 400
    body = answer.json()
    assert body["error"] == error
    assert "access_token" not in body
    assert hubspot_simulator._issued == {}  # no access token was issued


def test_oauth_refresh_with_wrong_grant_type(api: Api) -> None:
    answer = api.refresh(grant_type="authorization_code")
    assert answer.status_code == 400
    assert answer.json()["error"] == "unsupported_grant_type"


def test_oauth_calls_have_no_daily_headers(paired: HubSpotSimulator, api: Api) -> None:
    access = api.access_token()
    answer = api.post(read_path(), read_body(["101"]), token=access)
    assert answer.status_code == 200
    for name in RATE_LIMIT_HEADERS:
        assert name in answer.headers, name
    for name in DAILY_HEADERS:
        assert name not in answer.headers, name
    private = api.post(read_path(), read_body(["101"]))
    assert all(name in private.headers for name in DAILY_HEADERS)


def _assert_expired(answer: requests.Response, at_least: int = 0) -> int:
    assert answer.status_code == 401
    body = answer.json()
    assert body["status"] == "error"
    assert body["category"] == "EXPIRED_AUTHENTICATION"
    match = EXPIRED_MESSAGE.match(body["message"])
    assert match, body["message"]
    seconds = int(match[1])
    assert seconds >= at_least
    assert is_uuid(body["correlationId"])
    return seconds


def test_expire_access_tokens_gives_expired_authentication(paired: HubSpotSimulator, api: Api) -> None:
    access = api.access_token()
    assert api.post(read_path(), read_body(["101"]), token=access).status_code == 200
    paired.expire_access_tokens()
    answer = api.post(archive_path(), archive_body({"101": ["201"]}), token=access)
    assert _assert_expired(answer) == 1  # expire_access_tokens() backdates the expiry by one second
    assert answer.json()["message"] == "The OAuth token used to make this call expired 1 second(s) ago."
    assert paired.state.pairs("contacts", "companies") == {("101", "201")}
    # A fresh refresh gives a working token again; the private token was never affected.
    fresh = api.access_token()
    assert api.post(read_path(), read_body(["101"]), token=fresh).status_code == 200
    assert api.post(read_path(), read_body(["101"])).status_code == 200


@pytest.mark.hubspot_simulator(access_token_lifetime_seconds=0.3)
def test_short_access_token_lifetime_expires(paired: HubSpotSimulator, api: Api) -> None:
    refreshed = api.refresh()
    assert refreshed.json()["expires_in"] == 1  # whole seconds, never 0
    access = refreshed.json()["access_token"]
    assert api.post(read_path(), read_body(["101"]), token=access).status_code == 200
    time.sleep(1.4)
    _assert_expired(api.post(read_path(), read_body(["101"]), token=access), at_least=1)


# -------------------------------------------------------------------------------------- scopes
NO_COMPANY_WRITE = frozenset(ALL_SCOPES - {"crm.objects.companies.write"})


@pytest.mark.hubspot_simulator(tokens={"t": NO_COMPANY_WRITE})
@pytest.mark.parametrize("base", ["/crm/v4/associations", DATED])
def test_missing_write_scope_is_403_and_changes_nothing(
    paired: HubSpotSimulator, api: Api, base: str
) -> None:
    assert paired.token == "t"
    before = paired.state.types_of("contacts", "101", "companies", "201")
    for path, body in (
        (archive_path(base), archive_body({"101": ["201"]})),
        (labels_archive_path(base), labels_body([("101", "201", [("HUBSPOT_DEFINED", 279)])])),
    ):
        answer = api.post(path, body)
        assert answer.status_code == 403, answer.text
        error = answer.json()
        assert error["status"] == "error"
        assert error["category"] == "MISSING_SCOPES"
        assert is_uuid(error["correlationId"])
        assert error["errors"][0]["context"]["requiredScopes"] == ["crm.objects.companies.write"]
        assert error["errors"][0]["message"]
    assert paired.state.types_of("contacts", "101", "companies", "201") == before
    assert paired.state.types_of("companies", "201", "contacts", "101") == {
        ("HUBSPOT_DEFINED", 280),
        ("HUBSPOT_DEFINED", 2),
    }
    assert paired.stats.archived_pairs == 0


@pytest.mark.hubspot_simulator(tokens={"t": frozenset({"crm.objects.contacts.read"})})
def test_missing_both_write_scopes_lists_both(paired: HubSpotSimulator, api: Api) -> None:
    answer = api.post(archive_path(), archive_body({"101": ["201"]}))
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["context"]["requiredScopes"] == [
        "crm.objects.companies.write",
        "crm.objects.contacts.write",
    ]
    assert paired.state.count() == 1


@pytest.mark.hubspot_simulator(
    tokens={"reader": frozenset({"crm.objects.contacts.read", "crm.objects.companies.read"})}
)
def test_read_scopes_allow_read_but_not_archive(paired: HubSpotSimulator, api: Api) -> None:
    assert api.post(read_path(), read_body(["101"])).status_code == 200
    assert api.get(f"{DATED}/contacts/companies/labels").status_code == 200
    assert api.post(archive_path(), archive_body({"101": ["201"]})).status_code == 403
    assert paired.state.count() == 1


@pytest.mark.hubspot_simulator(oauth_refresh_tokens={"narrow": frozenset({"crm.objects.contacts.write"})})
def test_oauth_token_carries_the_refresh_tokens_scopes(paired: HubSpotSimulator, api: Api) -> None:
    access = api.access_token(refresh_token="narrow")
    answer = api.post(archive_path(), archive_body({"101": ["201"]}), token=access)
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["context"]["requiredScopes"] == ["crm.objects.companies.write"]
    assert paired.state.count() == 1


@pytest.mark.hubspot_simulator(tokens={"t": frozenset(ALL_SCOPES - {"tickets"})})
def test_tickets_need_the_tickets_scope(hubspot_simulator: HubSpotSimulator, api: Api) -> None:
    hubspot_simulator.state.associate("tickets", "13001", "contacts", "101")
    answer = api.post(archive_path(pair="tickets/contacts"), archive_body({"13001": ["101"]}))
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["context"]["requiredScopes"] == ["tickets"]
    assert hubspot_simulator.state.count() == 1


@pytest.mark.hubspot_simulator(tokens={"t": frozenset(ALL_SCOPES - {"crm.objects.custom.write"})})
@pytest.mark.parametrize("custom", ["2-1234567", "p24681357_machines"])
def test_custom_objects_need_the_custom_write_scope(
    hubspot_simulator: HubSpotSimulator, api: Api, custom: str
) -> None:
    hubspot_simulator.state.associate("contacts", "101", custom, "7")
    answer = api.post(archive_path(pair=f"contacts/{custom}"), archive_body({"101": ["7"]}))
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["context"]["requiredScopes"] == ["crm.objects.custom.write"]
    assert hubspot_simulator.state.count() == 1


def test_custom_objects_archive_with_all_scopes(hubspot_simulator: HubSpotSimulator, api: Api) -> None:
    hubspot_simulator.state.associate("contacts", "101", "2-1234567", "7")
    hubspot_simulator.state.associate("contacts", "101", "2-1234567", "8")
    answer = api.post(archive_path(pair="contacts/2-1234567"), archive_body({"101": ["7"]}))
    assert answer.status_code == 204
    assert hubspot_simulator.state.pairs("contacts", "2-1234567") == {("101", "8")}
    assert hubspot_simulator.state.pairs("2-1234567", "contacts") == {("8", "101")}
