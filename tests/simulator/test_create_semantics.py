"""What ``batch/create`` does to the state and what it answers: every given type in both directions,
labels, repeats, per-input errors (207), whole-request refusals (400), dated paths, scopes, limits.

HubSpot documents the answer (201 with a ``LabelsBetweenObjectPair`` per pair, 207 with ``errors``;
200 on the 2026-09 path): https://developers.hubspot.com/docs/api-reference/legacy/crm/associations/
associate-records/batch/create-associations-labeled
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator

from ._support import (
    BATCH_RESPONSE_KEYS,
    DATED,
    PRIMARY,
    PRIMARY_INVERSE,
    UNLABELED,
    UNLABELED_INVERSE,
    Api,
    create_path,
    labels_body,
    read_body,
    read_path,
)

TypeKey = tuple[str, int]


class Account:
    """Contacts 101-103, companies 201-203, a paired user label; one association: 102 -> 202 (unlabeled)."""

    def __init__(self, sim: HubSpotSimulator) -> None:
        self.sim = sim
        billing = sim.state.define_label(
            "contacts", "companies", "Billing contact", inverse_label="Billing company"
        )
        self.billing: TypeKey = (billing.category, billing.type_id)
        self.billing_inverse: TypeKey = (billing.category, billing.inverse_type_id)
        sim.state.add_records("contacts", ["101", "102", "103"])
        sim.state.add_records("companies", ["201", "202", "203"])
        sim.state.associate("contacts", "102", "companies", "202")

    def forward(self, contact: str, company: str) -> set[TypeKey]:
        return self.sim.state.types_of("contacts", contact, "companies", company)

    def backward(self, company: str, contact: str) -> set[TypeKey]:
        return self.sim.state.types_of("companies", company, "contacts", contact)

    def snapshot(self) -> dict[tuple[str, str], set[TypeKey]]:
        return {(c, k): self.forward(c, k) for c in ("101", "102", "103") for k in ("201", "202", "203")}


@pytest.fixture
def account(hubspot_simulator: HubSpotSimulator) -> Account:
    return Account(hubspot_simulator)


def result(from_id: str, to_id: str, *labels: str, types: tuple[str, str] = ("0-1", "0-2")) -> dict[str, Any]:
    """One ``LabelsBetweenObjectPair`` as the simulator answers it."""
    return {
        "fromObjectTypeId": types[0],
        "fromObjectId": from_id,
        "toObjectTypeId": types[1],
        "toObjectId": to_id,
        "labels": list(labels),
    }


def _created(answer: requests.Response, status: int = 201) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith("application/json")
    body: dict[str, Any] = answer.json()
    assert set(body) >= BATCH_RESPONSE_KEYS
    assert body["status"] == "COMPLETE"
    assert "errors" not in body and "numErrors" not in body
    return body


def _refused(answer: requests.Response) -> dict[str, Any]:
    assert answer.status_code == 400, answer.text
    body: dict[str, Any] = answer.json()
    assert (body["status"], body["category"]) == ("error", "VALIDATION_ERROR")
    return body


# ------------------------------------------------------------------------------------ creating
def test_create_makes_every_given_type_in_both_directions(account: Account, api: Api) -> None:
    body = labels_body([("101", "201", [UNLABELED, PRIMARY, account.billing]), ("103", "203", [UNLABELED])])

    answer = _created(api.post(create_path(), body))

    # Labels in the order of their types (category, type id), as batch read lists them.
    assert answer["results"] == [result("101", "201", "Primary", "Billing contact"), result("103", "203")]
    assert account.forward("101", "201") == {UNLABELED, PRIMARY, account.billing}
    assert account.backward("201", "101") == {UNLABELED_INVERSE, PRIMARY_INVERSE, account.billing_inverse}
    assert account.forward("103", "203") == {UNLABELED}
    assert account.backward("203", "103") == {UNLABELED_INVERSE}
    # Batch read shows them, labels included, from both sides.
    read = api.post(read_path(), read_body(["101"])).json()["results"][0]["to"]
    assert read[0]["toObjectId"] == 201
    assert {(t["category"], t["typeId"], t.get("label")) for t in read[0]["associationTypes"]} == {
        (*UNLABELED, None),
        (*PRIMARY, "Primary"),
        (*account.billing, "Billing contact"),
    }
    back = api.post(read_path(pair="companies/contacts"), read_body(["201"])).json()["results"][0]["to"]
    assert {t.get("label") for t in back[0]["associationTypes"]} == {None, "Primary", "Billing company"}
    stats = account.sim.stats
    assert (stats.created_pairs, stats.created_labels) == (2, 2)
    assert stats.by_endpoint == {"create": 1, "read": 2}
    assert next((r.endpoint, r.inputs, r.pairs) for r in stats.log) == ("create", 2, 4)


def test_a_label_alone_brings_the_unlabeled_type_with_it(account: Account, api: Api) -> None:
    answer = _created(api.post(create_path(), labels_body([("101", "201", [PRIMARY])])))

    assert answer["results"] == [result("101", "201", "Primary")]
    assert account.forward("101", "201") == {UNLABELED, PRIMARY}
    assert account.backward("201", "101") == {UNLABELED_INVERSE, PRIMARY_INVERSE}


def test_a_label_is_added_to_an_existing_association(account: Account, api: Api) -> None:
    answer = _created(api.post(create_path(), labels_body([("102", "202", [account.billing])])))

    assert answer["results"] == [result("102", "202", "Billing contact")]
    assert account.forward("102", "202") == {UNLABELED, account.billing}
    assert (account.sim.stats.created_pairs, account.sim.stats.created_labels) == (0, 1)


def test_creating_again_changes_nothing_and_answers_the_same(account: Account, api: Api) -> None:
    body = labels_body([("101", "201", [UNLABELED, PRIMARY]), ("102", "202", [UNLABELED])])

    first = _created(api.post(create_path(), body))
    after_first = account.snapshot()
    again = _created(api.post(create_path(), body))

    assert again["results"] == first["results"] == [result("101", "201", "Primary"), result("102", "202")]
    assert account.snapshot() == after_first
    assert account.sim.state.count() == 2
    assert (account.sim.stats.created_pairs, account.sim.stats.created_labels) == (1, 1)


def test_create_from_the_company_side_makes_the_inverse_types(account: Account, api: Api) -> None:
    answer = _created(
        api.post(create_path(pair="companies/contacts"), labels_body([("201", "101", [PRIMARY_INVERSE])]))
    )

    assert answer["results"] == [result("201", "101", "Primary", types=("0-2", "0-1"))]
    assert account.forward("101", "201") == {UNLABELED, PRIMARY}
    assert account.backward("201", "101") == {UNLABELED_INVERSE, PRIMARY_INVERSE}


def test_an_input_without_types_creates_nothing_and_gets_no_result(account: Account, api: Api) -> None:
    answer = _created(api.post(create_path(), labels_body([("101", "201", []), ("103", "203", [UNLABELED])])))

    assert answer["results"] == [result("103", "203")]
    assert account.forward("101", "201") == set()


@pytest.mark.parametrize(
    ("version", "status"), [("2025-09", 201), ("2026-03", 201), ("2026-09", 200), ("2026-09-beta", 200)]
)
def test_dated_paths_create_with_their_documented_status(
    account: Account, api: Api, version: str, status: int
) -> None:
    """The 2025-09 and 2026-03 specs document 201, as v4 does; the 2026-09 spec documents 200."""
    path = create_path(f"/crm/associations/{version}")

    answer = _created(api.post(path, labels_body([("101", "201", [PRIMARY])])), status)

    assert answer["results"] == [result("101", "201", "Primary")]
    assert account.forward("101", "201") == {UNLABELED, PRIMARY}


# --------------------------------------------------------------------------- per-input errors
def test_unknown_records_fail_their_input_with_207_and_the_rest_is_created(
    account: Account, api: Api
) -> None:
    body = labels_body(
        [
            ("101", "201", [PRIMARY]),
            ("101", "999", [UNLABELED]),  # unknown company
            ("888", "202", [UNLABELED]),  # unknown contact
            ("102", "203", [UNLABELED]),
        ]
    )

    answer = api.post(create_path(), body)

    assert answer.status_code == 207
    payload = answer.json()
    assert (payload["status"], payload["numErrors"]) == ("COMPLETE", 2)
    assert payload["results"] == [result("101", "201", "Primary"), result("102", "203")]
    first, second = payload["errors"]
    # The INVALID_OBJECT_IDS shape archive uses, naming the input's pair.
    assert first["context"] == {
        "INVALID_OBJECT_IDS": ["COMPANY=999 is not valid"],
        "objectId": ["999"],
        "objectType": ["COMPANY"],
        "fromObjectId": ["101"],
        "toObjectId": ["999"],
    }
    assert second["context"] == {
        "INVALID_OBJECT_IDS": ["CONTACT=888 is not valid"],
        "objectId": ["888"],
        "objectType": ["CONTACT"],
        "fromObjectId": ["888"],
        "toObjectId": ["202"],
    }
    for error in payload["errors"]:
        assert (error["status"], error["category"]) == ("error", "VALIDATION_ERROR")
        assert error["message"] == "One or more associations are invalid"
    assert account.forward("101", "201") == {UNLABELED, PRIMARY}
    assert account.forward("102", "203") == {UNLABELED}
    # Nothing was made up for the unknown records.
    assert not account.sim.state.has_record("companies", "999")
    assert not account.sim.state.has_record("contacts", "888")


@pytest.mark.hubspot_simulator(unknown_record="reject")
def test_unknown_records_in_reject_mode_refuse_the_whole_request(account: Account, api: Api) -> None:
    before = account.snapshot()

    body = _refused(
        api.post(create_path(), labels_body([("101", "201", [PRIMARY]), ("101", "999", [UNLABELED])]))
    )

    assert body["message"] == "One or more associations are invalid"
    assert body["context"]["INVALID_OBJECT_IDS"] == ["COMPANY=999 is not valid"]
    assert account.snapshot() == before


# ------------------------------------------------------------------------ whole-request refusals
@pytest.mark.parametrize(
    ("types", "named"),
    [
        pytest.param([("HUBSPOT_DEFINED", 4242)], "4242", id="undefined-type"),
        pytest.param([UNLABELED_INVERSE], "280", id="wrong-direction"),  # company -> contact unlabeled
        pytest.param([PRIMARY_INVERSE], "2", id="wrong-direction-label"),
        pytest.param([("USER_DEFINED", PRIMARY[1])], "1", id="wrong-category"),
    ],
)
def test_a_type_not_defined_for_the_direction_refuses_the_request(
    account: Account, api: Api, types: list[TypeKey], named: str
) -> None:
    before = account.snapshot()

    body = _refused(api.post(create_path(), labels_body([("101", "201", [PRIMARY]), ("103", "203", types)])))

    assert body["context"]["associationTypeId"] == [named]
    assert account.snapshot() == before
    assert account.sim.stats.created_pairs == 0


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        pytest.param(labels_body([("101", "201", [("NOT_A_CATEGORY", 1)])]), "NOT_A_CATEGORY", id="category"),
        pytest.param({"inputs": [{"from": {"id": "101"}, "to": {"id": "201"}}]}, "[types]", id="no-types"),
        pytest.param({"inputs": [{"from": {"id": "101"}, "types": []}]}, "[to]", id="no-to"),
        pytest.param({}, "[inputs]", id="no-inputs"),
        pytest.param(labels_body([("101", "201", [PRIMARY])] * 101), "is 100.", id="101-inputs"),
    ],
)
def test_a_malformed_body_is_refused_before_anything_is_created(
    account: Account, api: Api, payload: dict[str, Any], says: str
) -> None:
    before = account.snapshot()

    body = _refused(api.post(create_path(), payload))

    assert says in body["message"]
    assert account.snapshot() == before


def test_exactly_100_inputs_are_accepted(account: Account, api: Api) -> None:
    account.sim.state.add_records("contacts", [str(1000 + i) for i in range(100)])

    answer = _created(
        api.post(create_path(), labels_body([(str(1000 + i), "201", [UNLABELED]) for i in range(100)]))
    )

    assert len(answer["results"]) == 100
    assert account.sim.state.count("contacts", "companies") == 101


def test_poison_ids_refuse_the_whole_request(account: Account, api: Api) -> None:
    account.sim.set_faults(poison_ids=("203",))
    before = account.snapshot()

    body = _refused(
        api.post(create_path(), labels_body([("101", "201", [PRIMARY]), ("103", "203", [UNLABELED])]))
    )

    assert body["message"] == "One or more associations are invalid"
    assert account.snapshot() == before


@pytest.mark.hubspot_simulator(
    tokens={"reader": frozenset({"crm.objects.contacts.read", "crm.objects.companies.read"})}
)
@pytest.mark.parametrize("base", ["/crm/v4/associations", DATED])
def test_create_needs_the_write_scopes(account: Account, api: Api, base: str) -> None:
    answer = api.post(create_path(base), labels_body([("101", "201", [PRIMARY])]))

    assert answer.status_code == 403
    assert answer.json()["category"] == "MISSING_SCOPES"
    assert answer.json()["errors"][0]["context"]["requiredScopes"] == [
        "crm.objects.companies.write",
        "crm.objects.contacts.write",
    ]
    assert account.forward("101", "201") == set()


@pytest.mark.hubspot_simulator(ten_second_limit=1, window_seconds=30.0)
def test_create_counts_against_the_rate_limit(account: Account, api: Api) -> None:
    assert api.post(create_path(), labels_body([("101", "201", [PRIMARY])])).status_code == 201

    refused = api.post(create_path(), labels_body([("103", "203", [UNLABELED])]))

    assert refused.status_code == 429
    assert refused.json()["policyName"] == "TEN_SECONDLY_ROLLING"
    assert account.forward("103", "203") == set()


# ------------------------------------------------------------------------------ faults, hostility
def test_a_lost_answer_after_the_create_was_carried_out(account: Account, api: Api) -> None:
    account.sim.set_faults(apply_before_fault=True)
    account.sim.script(503)

    answer = api.post(create_path(), labels_body([("101", "201", [PRIMARY])]))

    assert answer.status_code == 503
    assert account.forward("101", "201") == {UNLABELED, PRIMARY}  # carried out all the same


@pytest.mark.parametrize("value", ["ok_html", "ok_not_batch", "ok_list", "ok_pending", "ok_no_results"])
def test_hostile_2xx_answers_to_create_are_not_applied(account: Account, api: Api, value: str) -> None:
    account.sim.script(value)

    answer = api.post(create_path(), labels_body([("101", "201", [PRIMARY])]))

    assert answer.status_code == 200
    assert account.forward("101", "201") == set()
    assert account.sim.stats.faults == {value: 1}


def test_no_results_is_a_complete_batch_response_naming_no_pair(account: Account, api: Api) -> None:
    account.sim.script("ok_no_results")

    body = api.post(create_path(), labels_body([("101", "201", [PRIMARY])])).json()

    assert set(body) >= BATCH_RESPONSE_KEYS
    assert (body["status"], body["results"]) == ("COMPLETE", [])
    assert "errors" not in body and "numErrors" not in body


def test_drop_after_apply_creates_then_closes_the_connection(account: Account, api: Api) -> None:
    account.sim.script("drop_after_apply")

    with pytest.raises(requests.ConnectionError):
        api.post(create_path(), labels_body([("101", "201", [PRIMARY])]))

    assert account.forward("101", "201") == {UNLABELED, PRIMARY}
    assert account.sim.stats.by_status[0] == 1


def test_hidden_num_errors_on_create_leaves_the_first_two_inputs_out(account: Account, api: Api) -> None:
    account.sim.script("ok_num_errors_hidden")
    body = labels_body([("101", "201", [PRIMARY]), ("101", "202", [UNLABELED]), ("103", "203", [UNLABELED])])

    answer = api.post(create_path(), body)

    assert answer.status_code == 200
    assert (answer.json()["numErrors"], answer.json()["errors"]) == (2, [])
    assert account.forward("101", "201") == account.forward("101", "202") == set()
    assert account.forward("103", "203") == {UNLABELED}


def test_slow_after_apply_creates_before_the_client_times_out(account: Account, api: Api) -> None:
    account.sim.set_faults(slow_seconds=0.6)
    account.sim.script("slow_after_apply")

    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        api.post(create_path(), labels_body([("101", "201", [PRIMARY])]), timeout=0.2)

    assert time.monotonic() - started < 0.5
    assert account.forward("101", "201") == {UNLABELED, PRIMARY}


def test_stats_over_http_name_the_endpoint_create(account: Account, api: Api) -> None:
    _created(api.post(create_path(), labels_body([("101", "201", [PRIMARY, account.billing])])))

    stats = requests.get(f"{account.sim.url}/_sim/stats", timeout=5).json()

    assert stats["by_endpoint"] == {"create": 1}
    assert (stats["created_pairs"], stats["created_labels"]) == (1, 2)
