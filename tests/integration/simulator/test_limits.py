"""Rate limits: the rolling TEN_SECONDLY_ROLLING window, the DAILY count, their headers and 429 bodies.

Time is scaled: a 1-second window stands for HubSpot's 10 seconds, a 1-second "day" for a day.
"""

from __future__ import annotations

import time

import pendulum
import pytest
import requests

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator, SimulatorConfig

from ._support import (
    DAILY_HEADERS,
    RATE_LIMIT_HEADERS,
    Api,
    archive_body,
    archive_path,
    is_uuid,
    read_body,
    read_path,
    running,
)

TEN_SECONDLY_BODY = {
    "status": "error",
    "message": "You have reached your ten_secondly_rolling limit.",
    "errorType": "RATE_LIMIT",
    "policyName": "TEN_SECONDLY_ROLLING",
}
DAILY_BODY = {
    "status": "error",
    "message": "You have reached your daily limit.",
    "errorType": "RATE_LIMIT",
    "policyName": "DAILY",
}


def _assert_rate_limit_body(answer: requests.Response, expected: dict[str, str]) -> None:
    assert answer.status_code == 429
    body = answer.json()
    assert {key: body[key] for key in expected} == expected
    assert is_uuid(body["correlationId"])
    assert "category" not in body  # 429 bodies use errorType, not category


def _read(api: Api, token: str | None = None) -> requests.Response:
    return api.post(read_path(), read_body(["101"]), token=token)


@pytest.fixture
def paired(hubspot_simulator: HubSpotSimulator) -> HubSpotSimulator:
    hubspot_simulator.state.associate("contacts", "101", "companies", "201")
    hubspot_simulator.reconfigure()  # limits start counting now, after the set-up
    return hubspot_simulator


@pytest.mark.hubspot_simulator(ten_second_limit=5, window_seconds=1.0)
def test_sixth_request_in_the_window_is_429(paired: HubSpotSimulator, api: Api) -> None:
    answers = [_read(api) for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    remaining = [int(a.headers["X-HubSpot-RateLimit-Remaining"]) for a in answers]
    assert remaining == [4, 3, 2, 1, 0, 0]
    for answer in answers:
        for name in RATE_LIMIT_HEADERS:
            assert name in answer.headers, name
        assert answer.headers["X-HubSpot-RateLimit-Max"] == "5"
        assert answer.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "1000"
        assert answer.headers["X-HubSpot-RateLimit-Secondly"] == "0"  # legacy: Max / 10
        assert answer.headers["X-HubSpot-RateLimit-Daily"] == "1000000"
        assert is_uuid(answer.headers["X-HubSpot-Correlation-Id"])
    assert [int(a.headers["X-HubSpot-RateLimit-Daily-Remaining"]) for a in answers] == [
        999_999,
        999_998,
        999_997,
        999_996,
        999_995,
        999_995,  # the refused request spends no daily budget
    ]
    assert len({a.headers["X-HubSpot-Correlation-Id"] for a in answers}) == 6
    _assert_rate_limit_body(answers[-1], TEN_SECONDLY_BODY)
    assert "Retry-After" not in answers[-1].headers
    assert paired.stats.rate_limited == 1
    assert paired.stats.by_status[429] == 1


@pytest.mark.hubspot_simulator(ten_second_limit=3, window_seconds=1.0)
def test_rate_limited_archive_changes_nothing(paired: HubSpotSimulator, api: Api) -> None:
    for _ in range(3):
        assert _read(api).status_code == 200
    answer = api.post(archive_path(), archive_body({"101": ["201"]}))
    _assert_rate_limit_body(answer, TEN_SECONDLY_BODY)
    assert paired.state.count() == 1


@pytest.mark.hubspot_simulator(ten_second_limit=3, window_seconds=1.0)
def test_requests_succeed_again_after_the_window(paired: HubSpotSimulator, api: Api) -> None:
    statuses = [_read(api).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    assert paired.stats.rate_limited == 2
    time.sleep(1.05)
    again = _read(api)
    assert again.status_code == 200
    assert again.headers["X-HubSpot-RateLimit-Remaining"] == "2"
    archived = api.post(archive_path(), archive_body({"101": ["201"]}))
    assert archived.status_code == 204
    assert paired.state.count() == 0


@pytest.mark.hubspot_simulator(ten_second_limit=2, window_seconds=1.0)
def test_window_is_rolling_not_fixed(paired: HubSpotSimulator, api: Api) -> None:
    assert _read(api).status_code == 200
    time.sleep(0.55)
    assert _read(api).status_code == 200
    assert _read(api).status_code == 429
    time.sleep(0.6)  # the first hit (1.15 s ago) has left the window; the second (0.6 s ago) has not
    assert _read(api).status_code == 200
    assert _read(api).status_code == 429


READ_SCOPES = frozenset({"crm.objects.contacts.read", "crm.objects.companies.read"})


@pytest.mark.hubspot_simulator(
    ten_second_limit=2, window_seconds=1.0, tokens={"app-a": READ_SCOPES, "app-b": READ_SCOPES}
)
def test_window_is_counted_per_app(paired: HubSpotSimulator, api: Api) -> None:
    assert [_read(api, "app-a").status_code for _ in range(3)] == [200, 200, 429]
    assert [_read(api, "app-b").status_code for _ in range(2)] == [200, 200]


@pytest.mark.hubspot_simulator(ten_second_limit=2, window_seconds=1.0, retry_after_on_429=True)
def test_retry_after_when_switched_on(paired: HubSpotSimulator, api: Api) -> None:
    answers = [_read(api) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert "Retry-After" not in answers[0].headers
    assert answers[2].headers["Retry-After"] == "1"  # whole seconds, at least 1, window is 1 s


@pytest.mark.hubspot_simulator(daily_limit=3, daily_reset_seconds=1.5)
def test_daily_limit_and_reset(paired: HubSpotSimulator, api: Api) -> None:
    answers = [_read(api) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-HubSpot-RateLimit-Daily-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert all(a.headers["X-HubSpot-RateLimit-Daily"] == "3" for a in answers)
    _assert_rate_limit_body(answers[3], DAILY_BODY)
    assert "Retry-After" not in answers[3].headers
    assert paired.stats.daily_limited == 1
    assert paired.stats.rate_limited == 1
    blocked = api.post(archive_path(), archive_body({"101": ["201"]}))
    _assert_rate_limit_body(blocked, DAILY_BODY)
    assert paired.state.count() == 1
    time.sleep(paired.daily.seconds_until_reset() + 0.05)
    after_reset = api.post(archive_path(), archive_body({"101": ["201"]}))
    assert after_reset.status_code == 204
    assert after_reset.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "2"
    assert paired.state.count() == 0
    assert paired.stats.daily_limited == 2


@pytest.mark.hubspot_simulator(daily_limit=1, daily_reset_seconds=30.0, retry_after_on_429=True)
def test_daily_retry_after_counts_down_to_the_reset(paired: HubSpotSimulator, api: Api) -> None:
    assert _read(api).status_code == 200
    answer = _read(api)
    _assert_rate_limit_body(answer, DAILY_BODY)
    assert 29 <= int(answer.headers["Retry-After"]) <= 30


@pytest.mark.hubspot_simulator(daily_limit=1, daily_reset_seconds=30.0)
def test_oauth_calls_have_no_daily_limit(paired: HubSpotSimulator, api: Api) -> None:
    assert _read(api).status_code == 200
    assert _read(api).status_code == 429
    access = api.access_token()
    answers = [_read(api, access) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert all(name not in a.headers for a in answers for name in DAILY_HEADERS)


@pytest.mark.hubspot_simulator(ten_second_limit=2, window_seconds=1.0)
def test_oauth_calls_have_a_window_with_headers(paired: HubSpotSimulator, api: Api) -> None:
    access = api.access_token()
    answers = [_read(api, access) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a.headers["X-HubSpot-RateLimit-Remaining"] for a in answers] == ["1", "0", "0"]
    _assert_rate_limit_body(answers[2], TEN_SECONDLY_BODY)
    assert all(name not in answers[2].headers for name in DAILY_HEADERS)


@pytest.mark.hubspot_simulator(ten_second_limit=2, window_seconds=1.0, enforce_ten_secondly=False)
def test_unenforced_window_never_answers_429(paired: HubSpotSimulator, api: Api) -> None:
    answers = [_read(api) for _ in range(8)]
    assert [a.status_code for a in answers] == [200] * 8
    assert answers[-1].headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert paired.stats.rate_limited == 0
    assert 429 not in paired.stats.by_status


def test_default_limits_are_hubspots(hubspot_simulator: HubSpotSimulator, api: Api) -> None:
    answer = _read(api)
    assert answer.headers["X-HubSpot-RateLimit-Max"] == "190"
    assert answer.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert answer.headers["X-HubSpot-RateLimit-Secondly"] == "19"
    assert answer.headers["X-HubSpot-RateLimit-Daily"] == "1000000"


def test_unauthenticated_requests_do_not_use_the_quota(paired: HubSpotSimulator, api: Api) -> None:
    for _ in range(3):
        assert api.post(read_path(), read_body(["101"]), headers={}).status_code == 401
    answer = _read(api)
    assert answer.headers["X-HubSpot-RateLimit-Remaining"] == "189"
    assert answer.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "999999"


@pytest.mark.hubspot_simulator(
    daily_limit=3, daily_reset_seconds=30.0, tokens={"app-a": READ_SCOPES, "app-b": READ_SCOPES}
)
def test_daily_limit_is_shared_by_the_apps_of_the_account(paired: HubSpotSimulator, api: Api) -> None:
    assert [_read(api, "app-a").status_code for _ in range(2)] == [200, 200]
    last = _read(api, "app-b")
    assert last.status_code == 200
    assert last.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "0"
    assert last.headers["X-HubSpot-RateLimit-Remaining"] == "189"  # app-b's own window
    _assert_rate_limit_body(_read(api, "app-b"), DAILY_BODY)
    _assert_rate_limit_body(_read(api, "app-a"), DAILY_BODY)


@pytest.mark.parametrize(
    ("tier", "per_window", "per_day"),
    [("free", 100, 250_000), ("professional", 190, 625_000), ("enterprise", 190, 1_000_000)],
)
def test_tier_limits_in_the_headers(tier: str, per_window: int, per_day: int) -> None:
    with running(SimulatorConfig.for_tier(tier)) as sim:
        sim.state.associate("contacts", "101", "companies", "201")
        answer = _read(Api(sim))
    assert answer.status_code == 200
    assert answer.headers["X-HubSpot-RateLimit-Max"] == str(per_window)
    assert answer.headers["X-HubSpot-RateLimit-Secondly"] == str(per_window // 10)
    assert answer.headers["X-HubSpot-RateLimit-Daily"] == str(per_day)


def test_no_daily_limit_means_no_daily_headers() -> None:
    with running(SimulatorConfig.for_tier("oauth_marketplace")) as sim:
        sim.state.associate("contacts", "101", "companies", "201")
        answer = _read(Api(sim))
    assert answer.status_code == 200
    assert answer.headers["X-HubSpot-RateLimit-Max"] == "110"
    assert all(name not in answer.headers for name in DAILY_HEADERS)


@pytest.mark.hubspot_simulator(
    ten_second_limit=3, window_seconds=30.0, tokens={"t": READ_SCOPES, "w": frozenset()}
)
def test_every_response_has_a_correlation_id(paired: HubSpotSimulator, api: Api) -> None:
    answers = {
        "oauth 400": api.refresh(client_id="nobody"),
        "inspection": api.get("/_sim/health", headers={}),
        "401": _read(api, "nope"),
        "404": api.post("/crm/v4/associations/contacts/companies/batch/nothing", {"inputs": []}),
        "200": _read(api),
        "400": api.post(read_path(), data="{"),
        "403": api.post(archive_path(), archive_body({"101": ["201"]})),
        "429": _read(api),
    }
    paired.set_faults(server_error_rate=1.0, server_error_statuses=(502,))
    answers["502"] = _read(api, "w")
    ids = {what: answer.headers.get("X-HubSpot-Correlation-Id") for what, answer in answers.items()}
    assert {what: answer.status_code for what, answer in answers.items()} == {
        "oauth 400": 400,
        "inspection": 200,
        "401": 401,
        "404": 404,
        "200": 200,
        "400": 400,
        "403": 403,
        "429": 429,
        "502": 502,
    }
    assert all(is_uuid(value) for value in ids.values()), ids
    assert len(set(ids.values())) == len(ids)


@pytest.mark.parametrize("timezone", ["UTC", "Pacific/Kiritimati", "America/Los_Angeles"])
def test_daily_limit_resets_at_midnight_in_the_account_time_zone(timezone: str) -> None:
    config = SimulatorConfig(daily_limit=2, account_timezone=timezone, retry_after_on_429=True)
    with running(config) as sim:
        sim.state.associate("contacts", "101", "companies", "201")
        api = Api(sim)
        info = api.get("/account-info/v3/details")  # counts against the daily limit too
        assert _read(api).status_code == 200
        answer = _read(api)
        now = pendulum.now(timezone)
    _assert_rate_limit_body(answer, DAILY_BODY)
    expected = (now.add(days=1).start_of("day") - now).total_seconds()
    difference = (int(answer.headers["Retry-After"]) - expected) % 86_400  # robust at midnight itself
    assert min(difference, 86_400 - difference) <= 2
    assert info.status_code == 200
    assert info.json()["timeZone"] == timezone


def test_defaults_are_the_documented_choices() -> None:
    config = SimulatorConfig()
    assert (config.ten_second_limit, config.window_seconds, config.daily_limit) == (190, 10.0, 1_000_000)
    assert (config.max_inputs, config.max_read_inputs) == (100, 1000)
    assert (config.v4_success_status, config.dated_success_status) == (204, 200)
    assert config.missing_association == "noop"
    assert config.unknown_object_type_status == 400
    assert config.enforce_ten_secondly is True
    assert config.retry_after_on_429 is False
    assert config.access_token_lifetime_seconds == 1800.0


def _limits(answer: requests.Response) -> dict[str, str]:
    return {
        name: answer.headers[name] for name in (*RATE_LIMIT_HEADERS, *DAILY_HEADERS) if name in answer.headers
    }


# ------------------------------------------------------------------ injected 429s look like real ones
@pytest.mark.hubspot_simulator(ten_second_limit=50, daily_limit=1000, daily_reset_seconds=600.0)
@pytest.mark.parametrize("how", ["scripted", "rate", "burst"])
def test_an_injected_ten_secondly_429_says_the_window_is_full(
    paired: HubSpotSimulator, api: Api, how: str
) -> None:
    assert _read(api).status_code == 200
    if how == "scripted":
        paired.script(429)
    elif how == "rate":
        paired.set_faults(rate_limit_rate=1.0)
    else:
        paired.set_faults(burst_429_every=1, burst_429_length=5)  # the first request of the cycle passed
    answer = _read(api)
    assert answer.status_code == 429
    assert answer.json()["policyName"] == "TEN_SECONDLY_ROLLING"
    assert _limits(answer) == {
        "X-HubSpot-RateLimit-Max": "50",
        "X-HubSpot-RateLimit-Remaining": "0",
        "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
        "X-HubSpot-RateLimit-Secondly": "5",
        "X-HubSpot-RateLimit-Secondly-Remaining": "0",
        "X-HubSpot-RateLimit-Daily": "1000",
        "X-HubSpot-RateLimit-Daily-Remaining": "999",  # the refused request spent no daily budget
    }


@pytest.mark.hubspot_simulator(ten_second_limit=50, daily_limit=1000, daily_reset_seconds=600.0)
def test_an_injected_daily_429_says_the_day_is_used_up(paired: HubSpotSimulator, api: Api) -> None:
    assert _read(api).status_code == 200
    paired.script("daily")
    answer = _read(api)
    assert answer.status_code == 429
    assert answer.json()["policyName"] == "DAILY"
    assert _limits(answer) == {
        "X-HubSpot-RateLimit-Max": "50",
        "X-HubSpot-RateLimit-Remaining": "49",  # the refused request spent none of the window
        "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
        "X-HubSpot-RateLimit-Secondly": "5",
        "X-HubSpot-RateLimit-Secondly-Remaining": "4",
        "X-HubSpot-RateLimit-Daily": "1000",
        "X-HubSpot-RateLimit-Daily-Remaining": "0",
    }


@pytest.mark.hubspot_simulator(ten_second_limit=50)
def test_an_injected_429_on_an_oauth_call_has_no_daily_headers(paired: HubSpotSimulator, api: Api) -> None:
    access = api.access_token()
    paired.script(429)
    answer = _read(api, access)
    assert answer.status_code == 429
    assert answer.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert all(name not in answer.headers for name in DAILY_HEADERS)


# ------------------------------------------------------------- one limit's refusal spends no other
@pytest.mark.hubspot_simulator(
    ten_second_limit=2, window_seconds=30.0, daily_limit=10, daily_reset_seconds=600.0
)
def test_a_ten_secondly_429_spends_no_daily_budget(paired: HubSpotSimulator, api: Api) -> None:
    answers = [_read(api) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 429, 429]
    assert [a.headers["X-HubSpot-RateLimit-Daily-Remaining"] for a in answers] == ["9", "8", "8", "8"]
    assert paired.daily.remaining() == 8


@pytest.mark.hubspot_simulator(
    ten_second_limit=5, window_seconds=30.0, daily_limit=1, daily_reset_seconds=600.0
)
def test_a_daily_429_spends_none_of_the_window(paired: HubSpotSimulator, api: Api) -> None:
    answers = [_read(api) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 429, 429, 429]
    assert [a.headers["X-HubSpot-RateLimit-Remaining"] for a in answers] == ["4", "4", "4", "4"]


@pytest.mark.hubspot_simulator(
    ten_second_limit=3, window_seconds=30.0, daily_limit=100, daily_reset_seconds=600.0
)
def test_injected_429s_spend_neither_limit(paired: HubSpotSimulator, api: Api) -> None:
    paired.script(429, "daily", 429, "daily")
    assert [_read(api).status_code for _ in range(4)] == [429] * 4
    answers = [_read(api) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-HubSpot-RateLimit-Daily-Remaining"] for a in answers] == ["99", "98", "97", "97"]
