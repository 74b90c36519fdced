"""HubSpotHook against the simulator: both archive endpoints, the three success answers, labels, reads."""

from __future__ import annotations

import pytest

from airflow_provider_hubspot_assoc.exceptions import InvalidInputError
from airflow_provider_hubspot_assoc.testing import HubSpotSimulator

from ._support import (
    PRIMARY,
    PRIMARY_INVERSE,
    UNLABELED,
    UNLABELED_INVERSE,
    archive_inputs,
    remaining,
    seed_pairs,
)
from .conftest import HookFactory

ARCHIVE_PATH = "/crm/v4/associations/contacts/companies/batch/archive"


def test_archive_associations_removes_exactly_the_pairs_sent_with_204(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sim = hubspot_simulator
    sent = seed_pairs(sim, 30, 5)  # 150 pairs: two requests of at most 100
    sim.state.associate("contacts", "999", "companies", "7777")  # not sent: must survive
    sim.state.associate("contacts", "100", "deals", "9001")  # another object type: must survive

    response = make_hook().archive_associations("contacts", "companies", archive_inputs(sent))

    assert (response.http_status, response.status, response.pairs_sent) == (204, "COMPLETE", 150)
    assert (response.num_errors, response.failed_pairs(), response.unmatched_errors) == (0, set(), 0)
    assert remaining(sim) == {("999", "7777")}
    assert sim.state.pairs("companies", "contacts") == {("7777", "999")}  # both directions removed
    assert sim.state.pairs("contacts", "deals") == {("100", "9001")}
    archives = [r for r in sim.stats.log if r.endpoint == "archive"]
    assert [r.path for r in archives] == [ARCHIVE_PATH, ARCHIVE_PATH]
    assert sorted(r.pairs for r in archives) == [50, 100]
    assert sim.stats.archived_pairs == 150


def test_the_pair_cap_bounds_every_request(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sim = hubspot_simulator
    sent = seed_pairs(sim, 3, 50)  # inputs of 50 ``to`` ids each: they must be cut across requests

    response = make_hook(extra={"batch_size": 7, "max_pairs_per_request": 7}).archive_associations(
        "contacts", "companies", archive_inputs(sent)
    )

    assert (response.pairs_sent, response.num_errors) == (150, 0)
    assert remaining(sim) == set()
    sizes = [r.pairs for r in sim.stats.log if r.endpoint == "archive"]
    assert len(sizes) == 22 and max(sizes) == 7 and sum(sizes) == 150
    assert sum(sim.stats.pair_sends.values()) == 150  # no pair sent twice


@pytest.mark.hubspot_simulator(v4_success_status=200)
def test_a_200_batch_response_is_read(hubspot_simulator: HubSpotSimulator, make_hook: HookFactory) -> None:
    sim = hubspot_simulator
    sent = seed_pairs(sim, 4, 3)

    response = make_hook().archive_associations("contacts", "companies", archive_inputs(sent))

    assert (response.http_status, response.status, response.num_errors, response.pairs_sent) == (
        200,
        "COMPLETE",
        0,
        12,
    )
    assert response.started_at is not None and response.completed_at is not None
    assert remaining(sim) == set()
    assert [r.status for r in sim.stats.log] == [200]


@pytest.mark.hubspot_simulator(unknown_record="error")  # unknown records fail with 207 (default: no-op)
def test_207_errors_name_exactly_the_pairs_with_unknown_records(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sim = hubspot_simulator
    good = seed_pairs(sim, 3, 2)  # contacts 100-102 x companies 5000-5001
    inputs = archive_inputs(good)
    inputs[0]["to"].append({"id": "880001"})  # unknown company
    inputs.append({"from": {"id": "424242"}, "to": [{"id": "5000"}, {"id": "5001"}]})  # unknown contact

    response = make_hook().archive_associations("contacts", "companies", inputs)

    assert response.http_status == 207
    assert response.failed_pairs() == {("100", "880001"), ("424242", "5000"), ("424242", "5001")}
    assert (response.num_errors, response.unmatched_errors, response.pairs_sent) == (2, 0, 9)
    assert all(e.category == "VALIDATION_ERROR" for e in response.errors)
    assert remaining(sim) == set()  # every valid pair of the same request was still removed


def test_archive_labels_by_type_id(hubspot_simulator: HubSpotSimulator, make_hook: HookFactory) -> None:
    sim = hubspot_simulator
    billing = sim.state.define_label(
        "contacts", "companies", "Billing contact", inverse_label="Billing company"
    )
    billing_key = (billing.category, billing.type_id)
    sim.state.associate("contacts", "101", "companies", "5000", ["Primary", billing_key])
    sim.state.associate("contacts", "102", "companies", "5001", ["Primary"])
    sim.state.associate("contacts", "103", "companies", "5002", [billing_key])
    hook = make_hook()
    by_label = {d["label"]: (d["category"], d["typeId"]) for d in hook.get_labels("contacts", "companies")}
    assert by_label[None] == UNLABELED and by_label["Primary"] == PRIMARY
    assert by_label["Billing contact"] == billing_key

    def label_input(from_id: str, to_id: str, *keys: tuple[str, int]) -> dict[str, object]:
        types = [{"associationCategory": c, "associationTypeId": t} for c, t in keys]
        return {"from": {"id": from_id}, "to": {"id": to_id}, "types": types}

    response = hook.archive_labels(
        "contacts",
        "companies",
        [
            label_input("101", "5000", by_label["Primary"]),  # one label of two
            label_input("102", "5001", by_label[None]),  # the unlabeled type: the whole association
        ],
    )

    assert (response.http_status, response.num_errors, response.pairs_sent) == (204, 0, 2)
    assert sim.state.types_of("contacts", "101", "companies", "5000") == {UNLABELED, billing_key}
    assert sim.state.types_of("companies", "5000", "contacts", "101") == {
        UNLABELED_INVERSE,
        (billing.category, billing.inverse_type_id),
    }
    assert PRIMARY_INVERSE not in sim.state.types_of("companies", "5000", "contacts", "101")
    assert remaining(sim) == {("101", "5000"), ("103", "5002")}
    assert sim.state.types_of("contacts", "103", "companies", "5002") == {UNLABELED, billing_key}
    assert [r.endpoint for r in sim.stats.log] == ["labels", "archive_labels"]
    assert sim.stats.archived_labels == 2


def test_dated_api_version_uses_the_dated_paths(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sim = hubspot_simulator
    sent = seed_pairs(sim, 2, 2)
    hook = make_hook(extra={"api_version": "2026-03"})

    assert hook.get_labels("contact", "company")[0]["typeId"] == 279
    response = hook.archive_associations("contacts", "companies", archive_inputs(sent))
    hook.read_associations("contacts", "companies", ["100"])

    assert (response.http_status, response.num_errors) == (200, 0)  # dated paths answer 200 by default
    assert remaining(sim) == set()
    base = "/crm/associations/2026-03/contacts/companies/"
    assert [r.path for r in sim.stats.log] == [base + "labels", base + "batch/archive", base + "batch/read"]


def test_get_labels_is_fetched_once_per_direction(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sim = hubspot_simulator
    hook = make_hook()

    first = hook.get_labels("contacts", "companies")
    second = hook.get_labels("contact", "0-2")  # the same direction, spelt differently
    other = hook.get_labels("companies", "contacts")

    assert first == second
    assert {(d["category"], d["typeId"], d["label"]) for d in first} >= {
        ("HUBSPOT_DEFINED", 279, None),
        ("HUBSPOT_DEFINED", 1, "Primary"),
    }
    assert {d["typeId"] for d in other} >= {280, 2}
    assert sim.stats.by_endpoint["labels"] == 2


@pytest.mark.hubspot_simulator(read_page_size=3)
def test_read_associations_chunks_ids_and_follows_every_page(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sim = hubspot_simulator
    ids = [str(200_000 + i) for i in range(1_203)]
    for position, contact in enumerate(ids):
        sim.state.associate("contacts", contact, "companies", str(5000 + position % 4))
    busy = "100"
    for k in range(7):  # 7 companies: pages of 3, 3 and 1
        sim.state.associate("contacts", busy, "companies", str(6000 + k), ["Primary"] if k == 0 else [])
    sim.state.add_records("contacts", ["300", "301"])  # records with no association
    wanted: list[str | int] = [*ids, busy, "300", 301, "987654321"]  # ids may be numbers

    found = make_hook().read_associations("contacts", "companies", wanted)

    assert set(found) == {str(w) for w in wanted}
    assert all(
        found[c] == [{"toObjectId": str(5000 + p % 4), "associationTypes": found[c][0]["associationTypes"]}]
        for p, c in enumerate(ids)
    )
    assert found[ids[0]][0]["associationTypes"] == [{"category": "HUBSPOT_DEFINED", "typeId": 279}]
    assert [t["toObjectId"] for t in found[busy]] == [str(6000 + k) for k in range(7)]
    assert {"category": "HUBSPOT_DEFINED", "typeId": 1, "label": "Primary"} in found[busy][0][
        "associationTypes"
    ]
    assert found["300"] == found["301"] == found["987654321"] == []
    reads = [r for r in sim.stats.log if r.endpoint == "read"]
    assert max(r.inputs for r in reads) == 1000
    assert len(reads) == 4  # two chunks of ids (1000 + 207) and two more pages of the busy contact


def test_a_pair_given_twice_is_sent_once_as_by_the_operators(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sim = hubspot_simulator
    sent = seed_pairs(sim, 3, 2)
    inputs = [*archive_inputs(sent), {"from": {"id": "100"}, "to": [{"id": "5001"}, {"id": "5000"}]}]

    response = make_hook().archive_associations("contacts", "companies", inputs)

    assert (response.pairs_sent, response.num_errors) == (6, 0)
    assert set(sim.stats.pair_sends.values()) == {1}  # ("100", "5000") and ("100", "5001") once each
    assert remaining(sim) == set()


def test_the_hook_takes_the_operators_row_shapes_and_label_names(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sim = hubspot_simulator
    sim.state.associate("contacts", "101", "companies", "5000", ["Primary"])
    sim.state.associate("contacts", "102", "companies", "5001")
    hook = make_hook()

    labels = hook.archive_labels(
        "contacts", "companies", [{"from_id": 101, "to_id": 5000, "label": "primary"}]
    )
    pairs = hook.archive_associations("contacts", "companies", [("102", "5001")])

    assert (labels.num_errors, pairs.num_errors) == (0, 0)
    assert sim.state.types_of("contacts", "101", "companies", "5000") == {UNLABELED}
    assert remaining(sim) == {("101", "5000")}
    assert [r.endpoint for r in sim.stats.log] == ["labels", "archive_labels", "archive"]


def test_one_bad_row_refuses_the_whole_call_before_any_request(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sim = hubspot_simulator
    sent = seed_pairs(sim, 3, 2)
    inputs = [*archive_inputs(sent), {"from": {"id": "100"}, "to": [{"id": "5000"}, {"id": "not-an-id"}]}]

    with pytest.raises(InvalidInputError, match=r"row 4: to\[1\]\.id") as refused:
        make_hook().archive_associations("contacts", "companies", inputs)

    assert (refused.value.row, refused.value.field) == (4, "to[1].id")
    assert sim.stats.requests == 0 and remaining(sim) == set(sent)
