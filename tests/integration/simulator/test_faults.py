"""Injected faults: 5xx, 429 bursts, slow answers, dropped connections, token expiry, scripts, latency."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

import pytest
import requests

from airflow_provider_hubspot_assoc.testing import FaultConfig, HubSpotSimulator, SimulatorConfig

from ._support import Api, archive_body, archive_path, is_uuid, read_body, read_path, running

SERVER_ERRORS = {500, 502, 503, 504}


@pytest.fixture
def paired(hubspot_simulator: HubSpotSimulator) -> HubSpotSimulator:
    for contact in ("101", "102", "103"):
        hubspot_simulator.state.associate("contacts", contact, "companies", "201", ["Primary"])
    return hubspot_simulator


def _archive(
    api: Api, contact: str = "101", *, token: str | None = None, timeout: float | None = None
) -> requests.Response:
    return api.post(archive_path(), archive_body({contact: ["201"]}), token=token, timeout=timeout)


def _outcome(call: Callable[[], requests.Response]) -> int | str:
    """The status of a request, or ``"drop"`` / ``"timeout"`` when no answer came."""
    try:
        return call().status_code
    except requests.Timeout:
        return "timeout"
    except requests.ConnectionError:
        return "drop"


@pytest.mark.hubspot_simulator(faults=FaultConfig(server_error_rate=1.0))
def test_server_errors_change_nothing(paired: HubSpotSimulator, api: Api) -> None:
    before = paired.state.pairs("contacts", "companies")
    answers = [_archive(api, contact) for contact in ("101", "102", "103") for _ in range(4)]
    assert {a.status_code for a in answers} <= SERVER_ERRORS
    assert len({a.status_code for a in answers}) > 1  # drawn from 500/502/503/504
    for answer in answers:
        body = answer.json()
        assert body["status"] == "error"
        assert is_uuid(body["correlationId"])
        if answer.status_code == 500:
            assert body["category"] == "INTERNAL_ERROR"
    assert paired.state.pairs("contacts", "companies") == before
    assert len(before) == 3
    assert sum(paired.stats.faults.values()) == 12
    assert paired.stats.archived_pairs == 0


@pytest.mark.hubspot_simulator(faults=FaultConfig(server_error_rate=1.0, server_error_statuses=(503,)))
def test_server_error_statuses_setting(paired: HubSpotSimulator, api: Api) -> None:
    assert [_archive(api).status_code for _ in range(3)] == [503, 503, 503]
    assert paired.stats.faults == {"503": 3}
    assert paired.state.count() == 3


@pytest.mark.hubspot_simulator(faults=FaultConfig(server_error_rate=1.0))
def test_faults_come_after_auth_and_spare_oauth_and_inspection(paired: HubSpotSimulator, api: Api) -> None:
    assert _archive(api, token="not-a-token").status_code == 401
    assert api.refresh().status_code == 200
    assert api.get("/_sim/health", headers={}).status_code == 200
    assert sum(paired.stats.faults.values()) == 0
    assert _archive(api).status_code in SERVER_ERRORS


@pytest.mark.hubspot_simulator(faults=FaultConfig(burst_429_every=3, burst_429_length=2))
def test_burst_429_pattern(paired: HubSpotSimulator, api: Api) -> None:
    answers = [api.post(read_path(), read_body(["101"])) for _ in range(12)]
    statuses = [a.status_code for a in answers]
    assert statuses == [200, 200, 200, 429, 429, 200, 200, 200, 429, 429, 200, 200]
    for answer in answers:
        if answer.status_code == 429:
            body = answer.json()
            assert body["policyName"] == "TEN_SECONDLY_ROLLING"
            assert body["errorType"] == "RATE_LIMIT"
            assert body["message"] == "You have reached your ten_secondly_rolling limit."
    assert paired.stats.rate_limited == 4
    assert paired.stats.faults == {"429": 4}


@pytest.mark.hubspot_simulator(faults=FaultConfig(rate_limit_rate=1.0))
def test_rate_limit_rate_one_answers_only_429(paired: HubSpotSimulator, api: Api) -> None:
    answers = [_archive(api) for _ in range(5)]
    assert [a.status_code for a in answers] == [429] * 5
    assert {a.json()["policyName"] for a in answers} == {"TEN_SECONDLY_ROLLING"}
    assert paired.state.count() == 3
    assert paired.stats.rate_limited == 5


@pytest.mark.hubspot_simulator(random_seed=3, faults=FaultConfig(rate_limit_rate=0.5))
def test_rate_limit_rate_half(paired: HubSpotSimulator, api: Api) -> None:
    statuses = [api.post(read_path(), read_body(["101"])).status_code for _ in range(40)]
    assert set(statuses) == {200, 429}
    assert 8 <= statuses.count(429) <= 32
    assert paired.stats.rate_limited == statuses.count(429)


@pytest.mark.hubspot_simulator(faults=FaultConfig(slow_rate=1.0, slow_seconds=0.5))
def test_slow_answer_times_the_client_out(paired: HubSpotSimulator, api: Api) -> None:
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        _archive(api, timeout=0.2)
    # HubSpot carries a slow request out even though the client stopped waiting: the archive lands
    # once the server's 0.5 s delay is over.
    deadline = started + 5.0
    while paired.state.types_of("contacts", "101", "companies", "201") and time.monotonic() < deadline:
        time.sleep(0.02)
    applied_after = time.monotonic() - started
    assert paired.state.types_of("contacts", "101", "companies", "201") == set()
    assert applied_after >= 0.5
    assert paired.stats.faults == {"slow": 1}
    paired.set_faults(slow_rate=0.0)
    assert _archive(api, "102", timeout=5).status_code == 204
    assert paired.state.pairs("contacts", "companies") == {("103", "201")}


@pytest.mark.hubspot_simulator(faults=FaultConfig(drop_rate=1.0))
def test_dropped_connection(paired: HubSpotSimulator, api: Api) -> None:
    for contact in ("101", "102"):
        with pytest.raises(requests.ConnectionError):
            _archive(api, contact)
    assert paired.state.count() == 3
    assert paired.stats.faults == {"drop": 2}
    assert paired.stats.by_status[0] == 2


@pytest.mark.hubspot_simulator(faults=FaultConfig(expire_tokens_after=2))
def test_expire_tokens_after_n_requests(paired: HubSpotSimulator, api: Api) -> None:
    access = api.access_token()
    assert _archive(api, "101", token=access).status_code == 204
    assert api.post(read_path(), read_body(["102"]), token=access).status_code == 200
    expired = _archive(api, "102", token=access)
    assert expired.status_code == 401
    assert expired.json()["category"] == "EXPIRED_AUTHENTICATION"
    assert expired.json()["message"].startswith("The OAuth token used to make this call expired ")
    assert paired.state.pairs("contacts", "companies") == {("102", "201"), ("103", "201")}
    # A new access token gets its own count; private-app tokens never expire.
    fresh = api.access_token()
    assert _archive(api, "102", token=fresh).status_code == 204
    assert [_archive(api, "103").status_code for _ in range(4)] == [204] * 4


@pytest.mark.hubspot_simulator(faults=FaultConfig(server_error_rate=1.0, apply_before_fault=True))
def test_apply_before_fault_applies_then_answers_5xx(paired: HubSpotSimulator, api: Api) -> None:
    answer = _archive(api, "101")
    assert answer.status_code in SERVER_ERRORS
    assert paired.state.types_of("contacts", "101", "companies", "201") == set()
    assert paired.state.types_of("companies", "201", "contacts", "101") == set()
    assert paired.state.count() == 2
    assert paired.stats.archived_pairs == 1


@pytest.mark.hubspot_simulator(faults=FaultConfig(drop_rate=1.0, apply_before_fault=True))
def test_apply_before_fault_with_a_dropped_connection(paired: HubSpotSimulator, api: Api) -> None:
    with pytest.raises(requests.ConnectionError):
        _archive(api, "102")
    assert paired.state.pairs("contacts", "companies") == {("101", "201"), ("103", "201")}


@pytest.mark.hubspot_simulator(faults=FaultConfig(rate_limit_rate=1.0, apply_before_fault=True))
def test_apply_before_fault_does_not_apply_a_429(paired: HubSpotSimulator, api: Api) -> None:
    assert _archive(api).status_code == 429
    assert paired.state.count() == 3


def test_script_answers_in_order(paired: HubSpotSimulator, api: Api) -> None:
    paired.script(503, 429, "drop", 0)
    outcomes = [_outcome(partial(_archive, api, c)) for c in ("101", "101", "101", "101", "102")]
    assert outcomes == [503, 429, "drop", 204, 204]
    assert paired.state.pairs("contacts", "companies") == {("103", "201")}
    assert paired.stats.faults == {"503": 1, "429": 1, "drop": 1}
    assert paired.config.faults.scripted == []


def test_script_daily_and_slow(paired: HubSpotSimulator, api: Api) -> None:
    paired.set_faults(slow_seconds=0.3)
    paired.script("daily", "slow")
    daily = _archive(api)
    assert daily.status_code == 429
    assert daily.json()["policyName"] == "DAILY"
    assert daily.json()["message"] == "You have reached your daily limit."
    started = time.monotonic()
    assert _archive(api).status_code == 204
    assert time.monotonic() - started >= 0.3
    assert paired.stats.daily_limited == 1


@pytest.mark.hubspot_simulator(latency_seconds=0.2)
def test_latency_is_added(paired: HubSpotSimulator, api: Api) -> None:
    for _ in range(2):
        started = time.monotonic()
        answer = _archive(api)
        assert time.monotonic() - started >= 0.2
    assert answer.status_code == 204
    assert paired.state.pairs("contacts", "companies") == {("102", "201"), ("103", "201")}


def _fault_sequence(random_seed: int) -> list[int | str]:
    config = SimulatorConfig(
        seed="empty",
        random_seed=random_seed,
        faults=FaultConfig(server_error_rate=0.25, rate_limit_rate=0.2, drop_rate=0.1),
    )
    with running(config) as sim:
        sim.state.associate("contacts", "1", "companies", "2")
        api = Api(sim)
        return [_outcome(lambda: api.post(read_path(), read_body(["1"]))) for _ in range(40)]


def test_random_faults_are_reproducible() -> None:
    first, second = _fault_sequence(7), _fault_sequence(7)
    assert first == second
    assert {200, 429, "drop"} <= set(first)
    assert set(first) & SERVER_ERRORS
    assert _fault_sequence(8) != first


def test_one_keep_alive_session_through_faults_and_errors(paired: HubSpotSimulator, api: Api) -> None:
    """A pooled ``requests.Session`` (as real clients use) stays in step across 204s, errors and drops."""
    paired.script(0, 503, "drop", 429, 0)
    outcomes: list[int | str] = []
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {paired.token}"

        def archive(contact: str) -> requests.Response:
            body = archive_body({contact: ["201"]})
            return session.post(paired.url + archive_path(), json=body, timeout=5)

        for contact in ("101", "102", "102", "102", "102"):
            outcomes.append(_outcome(partial(archive, contact)))
        outcomes.append(session.post(paired.url + archive_path(), data="{", timeout=5).status_code)
        outcomes.append(
            session.post(paired.url + read_path(), json=read_body(["103"]), timeout=5).status_code
        )
        outcomes.append(_outcome(lambda: archive("103")))
    assert outcomes == [204, 503, "drop", 429, 204, 400, 200, 204]
    assert paired.state.count() == 0
