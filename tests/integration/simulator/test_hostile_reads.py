"""Hostile batch reads on demand: results for ids nobody asked about, and a pager that repeats results."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from airflow_provider_hubspot_assoc.testing import FaultConfig, HubSpotSimulator

from ._support import Api, read_body, read_path


def _targets(result: dict[str, Any]) -> list[str]:
    """The to ids as text (they are JSON numbers; ``test_contract`` checks that)."""
    return [str(target["toObjectId"]) for target in result["to"]]


def _by_id(answer: requests.Response) -> list[tuple[str, list[str], str | None]]:
    """(from id, to ids, next cursor) of every result, in order."""
    return [
        (r["from"]["id"], _targets(r), ((r.get("paging") or {}).get("next") or {}).get("after"))
        for r in answer.json()["results"]
    ]


@pytest.fixture
def account(hubspot_simulator: HubSpotSimulator) -> HubSpotSimulator:
    """Contact 101 with companies 5000-5004; 102 with 5000; 900 with 7000, 7001 (Primary)."""
    for company in range(5000, 5005):
        hubspot_simulator.state.associate("contacts", "101", "companies", str(company))
    hubspot_simulator.state.associate("contacts", "102", "companies", "5000")
    hubspot_simulator.state.associate("contacts", "900", "companies", "7000")
    hubspot_simulator.state.associate("contacts", "900", "companies", "7001", ["Primary"])
    return hubspot_simulator


@pytest.mark.hubspot_simulator(faults=FaultConfig(read_foreign_ids=("900", "901")))
def test_foreign_ids_come_with_every_read_answer(account: HubSpotSimulator, api: Api) -> None:
    answer = api.post(read_path(), read_body(["102"]))

    assert answer.status_code == 200
    assert _by_id(answer) == [
        ("102", ["5000"], None),
        ("900", ["7000", "7001"], None),  # its real associations
        ("901", ["990000001", "990000002"], None),  # none in the state: made-up ones
    ]
    primary = answer.json()["results"][1]["to"][1]["associationTypes"]
    assert {"category": "HUBSPOT_DEFINED", "typeId": 1, "label": "Primary"} in primary
    made_up = answer.json()["results"][2]["to"][0]["associationTypes"]
    assert made_up == [{"category": "HUBSPOT_DEFINED", "typeId": 279}]
    # An id the request names is answered once, normally.
    assert [r[0] for r in _by_id(api.post(read_path(), read_body(["900"])))] == ["900", "901"]
    # A read no asked id has associations for still brings them (a 207 with the asked id's error).
    empty = api.post(read_path(), read_body(["555"]))
    assert empty.status_code == 207
    assert [r[0] for r in _by_id(empty)] == ["900", "901"]
    assert account.state.count("contacts", "companies") == 8  # reading changed nothing


@pytest.mark.hubspot_simulator(read_page_size=2, faults=FaultConfig(read_repeat_results=True))
def test_repeat_results_repeats_the_previous_page(account: HubSpotSimulator, api: Api) -> None:
    first = api.post(read_path(), read_body(["101", "102"]))
    assert _by_id(first) == [
        ("101", ["5000", "5001"], "2"),
        ("102", ["5000"], None),
        ("101", ["5000", "5001"], None),  # the first page repeats its first result, without cursor
    ]
    second = api.post(read_path(), read_body(["101"], after="2"))
    assert _by_id(second) == [("101", ["5002", "5003"], "4"), ("101", ["5000", "5001"], None)]
    third = api.post(read_path(), read_body(["101"], after="4"))
    assert _by_id(third) == [("101", ["5004"], None), ("101", ["5002", "5003"], None)]


def test_read_faults_are_set_while_running_and_over_http(account: HubSpotSimulator, api: Api) -> None:
    assert [r[0] for r in _by_id(api.post(read_path(), read_body(["102"])))] == ["102"]
    account.set_faults(read_foreign_ids=("900",))
    assert [r[0] for r in _by_id(api.post(read_path(), read_body(["102"])))] == ["102", "900"]

    settings = {"read_foreign_ids": [901], "read_repeat_results": True}
    answer = requests.post(f"{account.url}/_sim/faults", json=settings, timeout=5)

    assert answer.status_code == 200
    assert answer.json()["read_foreign_ids"] == ["901"] and answer.json()["read_repeat_results"] is True
    assert account.config.faults.read_foreign_ids == ("901",)
    assert [r[0] for r in _by_id(api.post(read_path(), read_body(["102"])))] == ["102", "102", "901"]
    account.reset()
    assert account.config.faults.read_foreign_ids == () and not account.config.faults.read_repeat_results
