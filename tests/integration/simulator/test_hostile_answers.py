"""Scripted hostile answers to archive requests: 2xx answers that prove nothing, and lost answers.

Each is checked over real HTTP: the status, the body, and whether the request changed the state.
"""

from __future__ import annotations

import time

import pytest
import requests

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator

from ._support import (
    PRIMARY,
    UNLABELED,
    Api,
    archive_body,
    archive_path,
    labels_archive_path,
    labels_body,
    read_body,
    read_path,
)

CONTACTS = ("101", "102", "103")
BATCH_KEYS = {"status", "results", "startedAt", "completedAt"}


@pytest.fixture
def paired(hubspot_simulator: HubSpotSimulator) -> HubSpotSimulator:
    """Contacts 101-103, each with company 201 (Primary)."""
    for contact in CONTACTS:
        hubspot_simulator.state.associate("contacts", contact, "companies", "201", ["Primary"])
    return hubspot_simulator


def _archive_all(api: Api) -> requests.Response:
    return api.post(archive_path(), archive_body({c: ["201"] for c in CONTACTS}))


def _unlabel_all(api: Api) -> requests.Response:
    return api.post(labels_archive_path(), labels_body((c, "201", [PRIMARY]) for c in CONTACTS))


def _remaining(sim: HubSpotSimulator) -> set[str]:
    return {contact for contact, _ in sim.state.pairs("contacts", "companies")}


def _labelled(sim: HubSpotSimulator) -> set[str]:
    return {c for c in CONTACTS if PRIMARY in sim.state.types_of("contacts", c, "companies", "201")}


NOT_APPLIED = [
    ("ok_html", "text/html", b"<html>ok</html>"),
    ("ok_not_batch", "application/json", b'{"ok": true}'),
    ("ok_list", "application/json", b"[]"),
]


@pytest.mark.parametrize(("value", "content_type", "body"), NOT_APPLIED)
def test_odd_2xx_bodies_are_not_applied(
    paired: HubSpotSimulator, api: Api, value: str, content_type: str, body: bytes
) -> None:
    paired.script(value, value)

    for answer in (_archive_all(api), _unlabel_all(api)):
        assert answer.status_code == 200
        assert answer.headers["Content-Type"].startswith(content_type)
        assert answer.content == body

    assert _remaining(paired) == _labelled(paired) == set(CONTACTS)
    assert paired.stats.faults == {value: 2}
    assert paired.stats.archived_pairs == paired.stats.archived_labels == 0


@pytest.mark.parametrize("status", ["PENDING", "PROCESSING"])
def test_pending_and_processing_answers_are_not_applied(
    paired: HubSpotSimulator, api: Api, status: str
) -> None:
    value = f"ok_{status.lower()}"
    paired.script(value, value)

    for answer in (_archive_all(api), _unlabel_all(api)):
        assert answer.status_code == 200
        body = answer.json()
        assert body["status"] == status and body["results"] == [] and set(body) >= BATCH_KEYS

    assert _remaining(paired) == _labelled(paired) == set(CONTACTS)


def test_errors_not_a_list_is_applied(paired: HubSpotSimulator, api: Api) -> None:
    paired.script("ok_errors_not_list", "ok_errors_not_list")

    unlabelled = _unlabel_all(api)
    assert _labelled(paired) == set() and _remaining(paired) == set(CONTACTS)
    archived = _archive_all(api)

    for answer in (unlabelled, archived):
        assert answer.status_code == 200
        body = answer.json()
        assert set(body) >= BATCH_KEYS
        assert (body["status"], body["results"], body["errors"]) == ("COMPLETE", [], {"message": "x"})
    assert _remaining(paired) == set()


def test_hidden_num_errors_leaves_the_first_two_pairs(paired: HubSpotSimulator, api: Api) -> None:
    paired.state.associate("contacts", "101", "companies", "202")
    paired.script("ok_num_errors_hidden")

    # Pairs in order: 101->201, 101->202, 102->201, 103->201; the first two stay.
    answer = api.post(archive_path(), archive_body({"101": ["201", "202"], "102": ["201"], "103": ["201"]}))

    assert answer.status_code == 200
    body = answer.json()
    assert (body["status"], body["numErrors"], body["errors"], body["results"]) == ("COMPLETE", 2, [], [])
    assert set(body) >= BATCH_KEYS
    assert paired.state.pairs("contacts", "companies") == {("101", "201"), ("101", "202")}


def test_hidden_num_errors_on_labels_keeps_the_first_two_inputs(paired: HubSpotSimulator, api: Api) -> None:
    paired.script("ok_num_errors_hidden")

    answer = _unlabel_all(api)

    assert answer.status_code == 200
    assert (answer.json()["numErrors"], answer.json()["errors"]) == (2, [])
    assert _labelled(paired) == {"101", "102"}
    assert paired.state.types_of("contacts", "103", "companies", "201") == {UNLABELED}


def test_empty_200_is_applied(paired: HubSpotSimulator, api: Api) -> None:
    paired.script("ok_empty_200", "ok_empty_200")

    unlabelled = _unlabel_all(api)
    assert _labelled(paired) == set() and _remaining(paired) == set(CONTACTS)
    archived = _archive_all(api)

    for answer in (unlabelled, archived):
        assert answer.status_code == 200
        assert answer.content == b""
        assert answer.headers["Content-Length"] == "0"
    assert _remaining(paired) == set()


def test_drop_after_apply_applies_then_closes_the_connection(paired: HubSpotSimulator, api: Api) -> None:
    paired.script("drop_after_apply", "drop_after_apply")

    with pytest.raises(requests.ConnectionError):
        _unlabel_all(api)
    assert _labelled(paired) == set()
    with pytest.raises(requests.ConnectionError):
        _archive_all(api)

    assert _remaining(paired) == set()
    assert paired.stats.faults == {"drop_after_apply": 2}
    assert paired.stats.by_status[0] == 2
    assert _archive_all(api).status_code == 204  # the script is used up: answered normally


def test_slow_after_apply_applies_before_the_client_times_out(paired: HubSpotSimulator, api: Api) -> None:
    paired.set_faults(slow_seconds=0.6)
    paired.script("slow_after_apply", "slow_after_apply")

    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        api.post(archive_path(), archive_body({"101": ["201"]}), timeout=0.2)
    assert time.monotonic() - started < 0.5
    assert _remaining(paired) == {"102", "103"}  # applied though the client saw no answer

    started = time.monotonic()
    answer = api.post(archive_path(), archive_body({"102": ["201"]}), timeout=5)
    assert time.monotonic() - started >= 0.6
    assert answer.status_code == 204  # the real answer, late
    assert _remaining(paired) == {"103"}


def test_an_invalid_request_still_gets_its_400(paired: HubSpotSimulator, api: Api) -> None:
    paired.script("drop_after_apply", "ok_not_batch")

    refused = api.post(archive_path(), {"inputs": "nope"})
    assert refused.status_code == 400 and refused.json()["category"] == "VALIDATION_ERROR"
    # Not applied, so not checked either: the hostile body comes whatever was sent.
    assert api.post(archive_path(), {"inputs": "nope"}).json() == {"ok": True}
    assert _remaining(paired) == set(CONTACTS)


def test_the_same_values_on_batch_read(paired: HubSpotSimulator, api: Api) -> None:
    """A read has nothing to apply: its answer is replaced the same way, or lost after it was made."""
    paired.set_faults(slow_seconds=0.3)
    paired.script("ok_list", "ok_errors_not_list", "ok_empty_200", "drop_after_apply", "slow_after_apply")

    assert api.post(read_path(), read_body(["101"])).json() == []
    assert api.post(read_path(), read_body(["101"])).json()["errors"] == {"message": "x"}
    assert api.post(read_path(), read_body(["101"])).content == b""
    with pytest.raises(requests.ConnectionError):
        api.post(read_path(), read_body(["101"]))
    started = time.monotonic()
    late = api.post(read_path(), read_body(["101"]))
    assert time.monotonic() - started >= 0.3
    assert late.json()["results"][0]["to"][0]["toObjectId"] == 201
    assert _remaining(paired) == set(CONTACTS)


def test_hostile_values_can_be_scripted_over_http(paired: HubSpotSimulator, api: Api) -> None:
    answer = requests.post(f"{paired.url}/_sim/faults", json={"scripted": ["ok_pending"]}, timeout=5)
    assert answer.json()["scripted"] == ["ok_pending"]

    assert _archive_all(api).json()["status"] == "PENDING"
    assert _remaining(paired) == set(CONTACTS)
