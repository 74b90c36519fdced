"""``POST /_sim/load``: associations and labels from JSON, over real HTTP; bad input is a 400 naming it."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator

from ._cli import start_cli
from ._support import Api, read_body, read_path

PAYLOAD: dict[str, Any] = {
    "labels": [
        {"from": "contacts", "to": "companies", "name": "Billing contact", "inverse_name": "Billing company"},
        {"from": "deals", "to": "contacts", "name": "Decision maker"},
    ],
    "associations": [
        {
            "from": "contacts",
            "from_id": "101",
            "to": "companies",
            "to_id": "5000",
            "labels": ["Billing contact"],
        },
        {"from": "contacts", "from_id": 102, "to": "companies", "to_id": 5000},
        {"from": "contacts", "from_id": "101", "to": "companies", "to_id": "5001", "labels": ["Primary"]},
        {"from": "0-3", "from_id": "9", "to": "contacts", "to_id": "101", "labels": ["Decision maker"]},
    ],
    "records": {"contacts": ["103", 104]},
}


def _load(url: str, body: Any) -> requests.Response:
    if isinstance(body, bytes):
        return requests.post(f"{url}/_sim/load", data=body, timeout=5)
    return requests.post(f"{url}/_sim/load", json=body, timeout=5)


def test_load_creates_labels_associations_and_records(hubspot_simulator: HubSpotSimulator, api: Api) -> None:
    sim = hubspot_simulator
    answer = _load(sim.url, PAYLOAD)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"labels": 2, "labels_existing": 0, "associations": 4, "records": 2}

    state = sim.state
    assert state.pairs("contacts", "companies") == {("101", "5000"), ("102", "5000"), ("101", "5001")}
    assert state.pairs("deals", "contacts") == {("9", "101")}
    assert state.has_record("contacts", "104")
    # The labels are HubSpot labels: listed by the labels endpoint, read back by batch read.
    listed = api.get("/crm/v4/associations/contacts/companies/labels").json()["results"]
    assert "Billing contact" in {item["label"] for item in listed}
    inverse = api.get("/crm/v4/associations/companies/contacts/labels").json()["results"]
    assert "Billing company" in {item["label"] for item in inverse}
    read = api.post(read_path(), read_body(["101"])).json()["results"][0]
    labels = {to["toObjectId"]: {t.get("label") for t in to["associationTypes"]} for to in read["to"]}
    assert labels == {5000: {None, "Billing contact"}, 5001: {None, "Primary"}}

    # Loading again adds nothing new: labels are matched by name, associations are sets.
    again = _load(sim.url, PAYLOAD)
    assert again.json() == {"labels": 0, "labels_existing": 2, "associations": 4, "records": 2}
    assert state.count("contacts", "companies") == 3


def _one(**item: Any) -> dict[str, Any]:
    """A body with one association: contact 1 -> company 2, changed by ``item`` (None drops a key)."""
    base = {"from": "contacts", "from_id": "1", "to": "companies", "to_id": "2", **item}
    return {"associations": [{k: v for k, v in base.items() if v is not None}]}


def _label(**item: Any) -> dict[str, Any]:
    return {"labels": [{"from": "contacts", "to": "companies", **item}]}


BAD: list[tuple[Any, str]] = [
    (b"{not json", "not JSON"),
    ([1, 2], "a JSON object"),
    ({"associations": [], "extra": 1}, "extra"),
    ({"labels": {"name": "x"}}, "labels must be a list"),
    (_one(from_id=None), "associations[0].from_id"),
    (_one(from_id="x1"), "associations[0].from_id"),
    (_one(to_id=2**63), "associations[0].to_id"),
    (_one(**{"from": "widgets!"}), "associations[0].from"),
    (
        {"associations": [*_one()["associations"], *_one(labels=["Nope"])["associations"]]},
        "associations[1].labels[0]",
    ),
    (_one(labels="Primary"), "associations[0].labels"),
    (_one(colour="red"), "associations[0].colour"),
    (_label(), "labels[0].name"),
    (_label(name="X", category="OTHER"), "labels[0].category"),
    (_label(name="X", type_id=1), "labels[0].type_id"),
    ({"records": {"contacts": ["1", "-2"]}}, "records.contacts[1]"),
]


@pytest.mark.parametrize(("body", "named"), BAD, ids=[named for _, named in BAD])
def test_bad_input_is_a_400_naming_the_item_and_loads_nothing(
    hubspot_simulator: HubSpotSimulator, body: Any, named: str
) -> None:
    sim = hubspot_simulator
    labels_before = len(sim.state.definitions("contacts", "companies"))
    answer = _load(sim.url, body)
    assert answer.status_code == 400
    error = answer.json()
    assert error["category"] == "VALIDATION_ERROR"
    assert named in error["message"], error["message"]
    assert sim.state.count() == 0
    assert sim.state.records("contacts") == set()
    assert len(sim.state.definitions("contacts", "companies")) == labels_before
    # The connection is fine afterwards: the server answered, it did not drop anything.
    assert requests.get(f"{sim.url}/_sim/health", timeout=5).json() == {"ok": True}


def test_bad_json_to_faults_is_a_400(hubspot_simulator: HubSpotSimulator) -> None:
    sim = hubspot_simulator
    broken = requests.post(f"{sim.url}/_sim/faults", data=b"{oops", timeout=5)
    assert broken.status_code == 400 and "not JSON" in broken.json()["message"]
    unknown = requests.post(f"{sim.url}/_sim/faults", json={"server_error_ratio": 1}, timeout=5)
    assert unknown.status_code == 400 and "server_error_ratio" in unknown.json()["message"]


def test_load_through_the_command() -> None:
    cli = start_cli("--seed", "empty")
    try:
        answer = requests.post(f"{cli.url}/_sim/load", json=PAYLOAD, timeout=5)
        assert answer.status_code == 200
        assert answer.json()["associations"] == 4
        listed = requests.get(f"{cli.url}/_sim/associations?from=contacts&to=companies", timeout=5).json()
        assert listed["count"] == 3
    finally:
        cli.stop()
