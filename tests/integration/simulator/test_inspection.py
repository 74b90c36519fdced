"""The inspection API (``/_sim/...``): bad input gets a 400 JSON answer, never a dropped connection, and
inspection calls are not counted in the statistics they report."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator

from ._support import Api, archive_body, archive_path, is_uuid, read_body, read_path


def _inspect(sim: HubSpotSimulator, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, f"{sim.url}{path}", timeout=5, **kwargs)


def _assert_400(answer: requests.Response) -> dict[str, Any]:
    assert answer.status_code == 400, answer.text
    assert answer.headers["Content-Type"].startswith("application/json")
    body: dict[str, Any] = answer.json()
    assert body["status"] == "error"
    assert body["category"] == "VALIDATION_ERROR"
    assert is_uuid(body["correlationId"])
    return body


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "named"),
    [
        ("POST", "/_sim/reset?seed=nonsense", {}, "nonsense"),
        ("GET", "/_sim/associations?from=x&to=companies", {}, "'x'"),
        ("POST", "/_sim/faults", {"data": "{"}, "JSON"),
        ("POST", "/_sim/faults", {"json": []}, "object"),
        ("POST", "/_sim/faults", {"json": {"nothing": 1}}, "nothing"),
        ("POST", "/_sim/faults", {"json": {"scripted": "503"}}, "scripted"),
        ("POST", "/_sim/faults", {"json": {"scripted": ["nonsense"]}}, "nonsense"),
        ("POST", "/_sim/faults", {"json": {"scripted": [200]}}, "200"),
        ("POST", "/_sim/faults", {"json": {"drop_rate": "often"}}, "drop_rate"),
        ("POST", "/_sim/faults", {"json": {"server_error_rate": 2}}, "server_error_rate"),
        ("POST", "/_sim/faults", {"json": {"slow_seconds": -1}}, "slow_seconds"),
        ("POST", "/_sim/faults", {"json": {"burst_429_every": 1.5}}, "burst_429_every"),
        ("POST", "/_sim/faults", {"json": {"server_error_statuses": [503, "x"]}}, "server_error_statuses"),
        ("POST", "/_sim/faults", {"json": {"apply_before_fault": "yes"}}, "apply_before_fault"),
        ("POST", "/_sim/load", {"json": {"records": {"contacts": ["abc"]}}}, "abc"),
        ("POST", "/_sim/load", {"data": b"\xff"}, "JSON"),
    ],
)
def test_bad_input_is_a_400_json_answer(
    hubspot_simulator: HubSpotSimulator, api: Api, method: str, path: str, kwargs: dict[str, Any], named: str
) -> None:
    sim = hubspot_simulator
    sim.state.associate("contacts", "101", "companies", "201")
    body = _assert_400(_inspect(sim, method, path, **kwargs))
    assert named in body["message"]
    # Nothing changed, and the simulator still answers (API and inspection alike).
    assert sim.config.faults.scripted == []
    assert _inspect(sim, "GET", "/_sim/count").json() == {"count": 1}
    assert api.post(read_path(), read_body(["101"])).status_code == 200


def test_good_fault_settings_are_still_taken(hubspot_simulator: HubSpotSimulator, api: Api) -> None:
    sim = hubspot_simulator
    answer = _inspect(sim, "POST", "/_sim/faults", json={"scripted": [503, "daily", 0, "ok_html"]})
    assert answer.status_code == 200
    assert answer.json()["scripted"] == [503, "daily", 0, "ok_html"]
    statuses = [api.post(read_path(), read_body(["1"])).status_code for _ in range(4)]
    assert statuses == [503, 429, 207, 200]


def test_associations_list_every_type_when_asked(hubspot_simulator: HubSpotSimulator) -> None:
    sim = hubspot_simulator
    sim.state.associate("contacts", "101", "companies", "201", ["Primary"])
    sim.state.associate("contacts", "102", "companies", "201")

    plain = _inspect(sim, "GET", "/_sim/associations?from=contacts&to=companies").json()
    typed = _inspect(sim, "GET", "/_sim/associations?from=contacts&to=companies&types=1").json()

    assert "types" not in plain and typed["pairs"] == plain["pairs"] == [["101", "201"], ["102", "201"]]
    assert typed["types"] == [
        ["101", "201", "HUBSPOT_DEFINED", 1],
        ["101", "201", "HUBSPOT_DEFINED", 279],
        ["102", "201", "HUBSPOT_DEFINED", 279],
    ]


def test_inspection_calls_are_not_counted(hubspot_simulator: HubSpotSimulator, api: Api) -> None:
    sim = hubspot_simulator
    sim.state.associate("contacts", "101", "companies", "201")
    assert api.post(archive_path(), archive_body({"101": ["201"]})).status_code == 204
    counted = _inspect(sim, "GET", "/_sim/stats").json()
    assert counted["requests"] == 1
    for method, path, kwargs in [
        ("GET", "/_sim/health", {}),
        ("GET", "/_sim/count", {}),
        ("GET", "/_sim/associations", {}),
        ("POST", "/_sim/faults", {"json": {}}),
        ("POST", "/_sim/load", {"json": {}}),
        ("GET", "/_sim/nothing", {}),
        ("POST", "/_sim/faults", {"json": {"nothing": 1}}),
        ("GET", "/_sim/stats", {}),
    ]:
        assert _inspect(sim, method, path, **kwargs).status_code in (200, 400, 404)
    again = _inspect(sim, "GET", "/_sim/stats").json()
    assert again == counted
    assert again["by_endpoint"] == {"archive": 1}
    assert sim.stats.requests == 1
    assert [record.endpoint for record in sim.stats.log] == ["archive"]


def test_a_failure_inside_the_simulator_is_a_500_not_a_dropped_connection(
    hubspot_simulator: HubSpotSimulator,
    api: Api,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A simulator bug cannot be made real, so one is planted: the answer must still be JSON."""
    sim = hubspot_simulator

    def broken(*args: object) -> int:
        raise RuntimeError("planted")

    monkeypatch.setattr(sim.state, "count", broken)
    monkeypatch.setattr(sim.state, "associated", broken)
    for answer in (_inspect(sim, "GET", "/_sim/count"), api.post(read_path(), read_body(["101"]))):
        assert answer.status_code == 500
        assert answer.json()["category"] == "INTERNAL_ERROR"
    assert "RuntimeError: planted" in caplog.text
    assert sim.stats.by_status == {500: 1}  # the API request; inspection is not counted
