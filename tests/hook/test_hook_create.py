"""HubSpotHook.create_associations against the simulator over real HTTP: types and labels (by id and by
name), the answers that prove a creation and those that do not, 207 partial answers, bad-row isolation.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_hubspot_assoc.exceptions import InvalidInputError
from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.testing import HubSpotSimulator

from ._support import PRIMARY, PRIMARY_INVERSE, UNLABELED, UNLABELED_INVERSE, remaining
from .conftest import HookFactory

TypeKey = tuple[str, int]
CREATE_PATH = "/crm/v4/associations/contacts/companies/batch/create"


def create_input(from_id: str, to_id: str, *keys: TypeKey) -> dict[str, Any]:
    """One native create input."""
    types = [{"associationCategory": c, "associationTypeId": t} for c, t in keys]
    return {"from": {"id": from_id}, "to": {"id": to_id}, "types": types}


@pytest.fixture
def billing(hubspot_simulator: HubSpotSimulator) -> TypeKey:
    """A paired user label "Billing contact"; contacts 101-110 and companies 5000-5009 exist, unassociated."""
    state = hubspot_simulator.state
    label = state.define_label("contacts", "companies", "Billing contact", inverse_label="Billing company")
    state.add_records("contacts", [str(101 + i) for i in range(10)])
    state.add_records("companies", [str(5000 + i) for i in range(10)])
    return label.category, label.type_id


def test_create_associations_makes_every_type_given(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory, billing: TypeKey
) -> None:
    sim = hubspot_simulator

    response = make_hook().create_associations(
        "contacts",
        "companies",
        [
            create_input("101", "5000", UNLABELED, PRIMARY, billing),
            create_input("102", "5001", UNLABELED),
            {
                "from_id": 103,
                "to_id": 5002,
                "association_type_id": 1,
                "association_category": "HUBSPOT_DEFINED",
            },
            (104, 5003, 279, "HUBSPOT_DEFINED"),
        ],
    )

    assert (response.http_status, response.status, response.pairs_sent) == (201, "COMPLETE", 4)
    assert (response.unconfirmed, response.unknown_pairs, response.failed_pairs()) == (None, [], set())
    assert sim.state.types_of("contacts", "101", "companies", "5000") == {UNLABELED, PRIMARY, billing}
    assert sim.state.types_of("companies", "5000", "contacts", "101") >= {UNLABELED_INVERSE, PRIMARY_INVERSE}
    assert sim.state.types_of("contacts", "103", "companies", "5002") == {UNLABELED, PRIMARY}
    assert remaining(sim) == {("101", "5000"), ("102", "5001"), ("103", "5002"), ("104", "5003")}
    creates = [r for r in sim.stats.log if r.endpoint == "create"]
    assert [(r.path, r.inputs, r.pairs) for r in creates] == [(CREATE_PATH, 4, 6)]
    assert sim.stats.by_endpoint == {"create": 1}  # type ids with categories: no definitions needed


def test_labels_are_created_by_name(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory, billing: TypeKey
) -> None:
    sim = hubspot_simulator

    response = make_hook().create_associations(
        "contacts",
        "companies",
        [
            {"from_id": "101", "to_id": "5000", "label": "billing contact"},  # resolved loosely: one fits
            (101, 5000, "Primary"),
            ("102", "5001", "Billing contact", "USER_DEFINED"),
            {"from_id": 101, "to_id": 5000, "association_type_id": 1},  # the same as "Primary": sent once
        ],
    )

    assert (response.pairs_sent, response.unknown_pairs, response.num_errors) == (2, [], 0)
    assert sim.state.types_of("contacts", "101", "companies", "5000") == {UNLABELED, PRIMARY, billing}
    assert sim.state.types_of("contacts", "102", "companies", "5001") == {UNLABELED, billing}
    assert sim.stats.by_endpoint == {"labels": 1, "create": 1}
    assert [r.pairs for r in sim.stats.log if r.endpoint == "create"] == [3]


def test_a_row_naming_no_type_is_refused_before_anything_is_sent(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory, billing: TypeKey
) -> None:
    rows: list[Any] = [create_input("101", "5000", PRIMARY), {"from_id": 102, "to_id": 5001}]

    with pytest.raises(
        InvalidInputError, match="row 2: association_type_id an association to create"
    ) as refused:
        make_hook().create_associations("contacts", "companies", rows)

    assert (refused.value.row, refused.value.field) == (2, "association_type_id")
    with pytest.raises(InvalidInputError, match="row 1: types must be a non-empty list"):
        make_hook().create_associations("contacts", "companies", [{"from": {"id": "1"}, "to": {"id": "2"}}])
    assert hubspot_simulator.stats.requests == 0


def test_a_label_no_definition_names_is_refused_naming_the_row(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory, billing: TypeKey
) -> None:
    with pytest.raises(InvalidInputError, match="row 1: label no label named 'Shipping'"):
        make_hook().create_associations("contacts", "companies", [(101, 5000, "Shipping")])

    assert hubspot_simulator.stats.by_endpoint == {"labels": 1}


def test_creating_again_is_harmless_and_proven_again(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory, billing: TypeKey
) -> None:
    hook = make_hook()
    rows = [create_input("101", "5000", PRIMARY, billing), create_input("102", "5001", UNLABELED)]

    first = hook.create_associations("contacts", "companies", rows)
    second = hook.create_associations("contacts", "companies", rows)

    for response in (first, second):
        assert (response.http_status, response.unknown_pairs, response.num_errors) == (201, [], 0)
    assert hubspot_simulator.stats.created_pairs == 2
    assert hubspot_simulator.state.types_of("contacts", "101", "companies", "5000") == {
        UNLABELED,
        PRIMARY,
        billing,
    }


def test_a_207_fails_exactly_the_inputs_with_unknown_records(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory, billing: TypeKey
) -> None:
    response = make_hook().create_associations(
        "contacts",
        "companies",
        [
            create_input("101", "5000", PRIMARY),
            create_input("101", "880001", UNLABELED),  # unknown company
            create_input("424242", "5001", UNLABELED),  # unknown contact
            create_input("102", "5001", billing),
        ],
    )

    assert response.http_status == 207
    assert response.failed_pairs() == {("101", "880001"), ("424242", "5001")}
    assert (response.num_errors, response.unmatched_errors, response.unknown_pairs) == (2, 0, [])
    assert all(e.category == "VALIDATION_ERROR" for e in response.errors)
    assert remaining(hubspot_simulator) == {("101", "5000"), ("102", "5001")}


def test_a_400_for_the_whole_batch_is_bisected_to_the_bad_row(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory, billing: TypeKey
) -> None:
    """A type not defined for the direction (company -> contact's Primary) refuses the whole request."""
    rows = [create_input(str(101 + i), str(5000 + i), UNLABELED) for i in range(8)]
    rows[5] = create_input("106", "5005", PRIMARY_INVERSE)

    response = make_hook().create_associations("contacts", "companies", rows)

    assert response.failed_pairs() == {("106", "5005")}
    assert response.unknown_pairs == []
    assert remaining(hubspot_simulator) == {(str(101 + i), str(5000 + i)) for i in range(8) if i != 5}
    assert "not defined" in response.errors[0].message


def test_send_batches_sends_create_batches_and_isolates_a_poisoned_row(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory, billing: TypeKey
) -> None:
    hubspot_simulator.set_faults(poison_ids=("5003",))
    batches = [
        [create_input("101", "5000", PRIMARY), create_input("102", "5001", UNLABELED)],
        [],
        [create_input("103", "5002", billing), create_input("104", "5003", UNLABELED)],
    ]

    sent = list(make_hook().send_batches(Kind.CREATE, "contacts", "companies", batches))

    assert [batch for batch, _ in sent] == batches
    first, empty, last = (response for _, response in sent)
    assert empty is None
    assert first is not None and (first.http_status, first.failed_pairs(), first.unknown_pairs) == (
        201,
        set(),
        [],
    )
    assert last is not None and last.failed_pairs() == {("104", "5003")}
    assert remaining(hubspot_simulator) == {("101", "5000"), ("102", "5001"), ("103", "5002")}


@pytest.mark.parametrize(
    "hostile",
    ["ok_no_results", "ok_html", "ok_not_batch", "ok_pending", "ok_errors_not_list", "ok_empty_200"],
)
def test_a_2xx_that_names_no_pair_created_claims_nothing(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory, billing: TypeKey, hostile: str
) -> None:
    hubspot_simulator.script(hostile)
    rows = [create_input("101", "5000", PRIMARY), create_input("102", "5001", UNLABELED)]

    response = make_hook().create_associations("contacts", "companies", rows)

    assert response.unknown_pairs == [("101", "5000"), ("102", "5001")]
    assert response.unconfirmed is not None
    assert response.failed_pairs() == set()
    assert hubspot_simulator.stats.faults == {hostile: 1}


def test_a_lost_answer_is_retried_and_the_retry_proves_the_creation(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory, billing: TypeKey
) -> None:
    hubspot_simulator.script("drop_after_apply")

    response = make_hook().create_associations(
        "contacts", "companies", [create_input("101", "5000", PRIMARY)]
    )

    assert (response.http_status, response.unknown_pairs, response.num_errors) == (201, [], 0)
    assert [r.status for r in hubspot_simulator.stats.log] == [0, 201]
    assert hubspot_simulator.stats.created_pairs == 1


def test_the_2026_09_path_answers_200_which_proves_the_creation(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory, billing: TypeKey
) -> None:
    hook = make_hook(extra={"api_version": "2026-09"})

    response = hook.create_associations("contacts", "companies", [create_input("101", "5000", PRIMARY)])

    assert (response.http_status, response.unknown_pairs, response.unconfirmed) == (200, [], None)
    assert [r.path for r in hubspot_simulator.stats.log] == [
        "/crm/associations/2026-09/contacts/companies/batch/create"
    ]
