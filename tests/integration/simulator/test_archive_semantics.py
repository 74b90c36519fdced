"""What ``batch/archive``, ``batch/labels/archive``, ``batch/read`` and ``GET .../labels`` do to the state.

HubSpot's semantics (shared/hubspot-notes.md, hubspot-api-facts.md §i): archiving a pair removes every
association type in both directions; archiving a label removes that label only; archiving the unlabeled
type removes the whole association, every label included.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator, LabelDefinition

from ._support import (
    BATCH_RESPONSE_KEYS,
    DATED,
    PRIMARY,
    PRIMARY_INVERSE,
    UNLABELED,
    UNLABELED_INVERSE,
    V4,
    Api,
    archive_body,
    archive_path,
    is_uuid,
    labels_archive_path,
    labels_body,
    read_body,
    read_path,
)

MAX_INPUTS_MESSAGE = " ".join(
    [
        "The maximum number of inputs supported in a batch is {n}.",
        "Please reduce the number of items and try again",
    ]
)


class Account:
    """A hand-built account: contacts 101, 102, 103; companies 201, 202, 203; one paired user label.

    101 -> 201: unlabeled + Primary + "Billing contact"; 101 -> 202: unlabeled;
    102 -> 201: unlabeled + Primary; 103 and 203 exist without associations.
    """

    def __init__(self, sim: HubSpotSimulator) -> None:
        self.sim = sim
        self.billing: LabelDefinition = sim.state.define_label(
            "contacts", "companies", "Billing contact", inverse_label="Billing company"
        )
        billing_inverse = sim.state.definition(
            "companies", "contacts", self.billing.category, self.billing.inverse_type_id
        )
        assert billing_inverse is not None and billing_inverse.label == "Billing company"
        self.billing_key = (self.billing.category, self.billing.type_id)
        self.billing_inverse_key = (billing_inverse.category, billing_inverse.type_id)
        sim.state.associate("contacts", "101", "companies", "201", ["Primary", self.billing_key])
        sim.state.associate("contacts", "101", "companies", "202")
        sim.state.associate("contacts", "102", "companies", "201", ["Primary"])
        sim.state.add_records("contacts", ["103"])
        sim.state.add_records("companies", ["203"])

    def forward(self, contact: str, company: str) -> set[tuple[str, int]]:
        return self.sim.state.types_of("contacts", contact, "companies", company)

    def backward(self, company: str, contact: str) -> set[tuple[str, int]]:
        return self.sim.state.types_of("companies", company, "contacts", contact)

    def snapshot(self) -> dict[tuple[str, str], set[tuple[str, int]]]:
        return {
            (contact, company): self.forward(contact, company)
            for contact in ("101", "102", "103")
            for company in ("201", "202", "203")
        }


@pytest.fixture
def account(hubspot_simulator: HubSpotSimulator) -> Account:
    built = Account(hubspot_simulator)
    assert built.forward("101", "201") == {UNLABELED, PRIMARY, built.billing_key}
    assert built.backward("201", "101") == {UNLABELED_INVERSE, PRIMARY_INVERSE, built.billing_inverse_key}
    assert hubspot_simulator.state.count() == 3
    return built


def _assert_batch_response(body: dict[str, Any]) -> None:
    assert set(body) >= BATCH_RESPONSE_KEYS
    assert body["status"] == "COMPLETE"
    assert body["results"] == []


# ----------------------------------------------------------------------------------- batch/archive
def test_archive_removes_every_type_in_both_directions(account: Account, api: Api) -> None:
    before = account.snapshot()
    answer = api.post(archive_path(), archive_body({"101": ["201"]}))
    assert answer.status_code == 204
    assert answer.content == b""
    assert account.forward("101", "201") == set()
    assert account.backward("201", "101") == set()
    after = account.snapshot()
    del before[("101", "201")], after[("101", "201")]
    assert after == before  # 101->202 and 102->201 (with Primary) untouched
    assert account.sim.state.count() == 2
    assert account.sim.stats.archived_pairs == 1
    # The company side, read over HTTP, no longer lists contact 101.
    read = api.post(read_path(pair="companies/contacts"), read_body(["201"]))
    assert read.status_code == 200
    assert [item["toObjectId"] for item in read.json()["results"][0]["to"]] == [102]


def test_archive_several_pairs_in_one_request(account: Account, api: Api) -> None:
    answer = api.post(archive_path(), archive_body({"101": ["201", "202"], "102": ["201"]}))
    assert answer.status_code == 204
    assert account.sim.state.count() == 0
    assert account.sim.state.pairs("companies", "contacts") == set()
    assert account.sim.stats.archived_pairs == 3
    assert account.sim.stats.pairs_received == 3


def test_archive_from_the_company_side_removes_the_contact_side(account: Account, api: Api) -> None:
    answer = api.post(archive_path(pair="companies/contacts"), archive_body({"201": ["101"]}))
    assert answer.status_code == 204
    assert account.forward("101", "201") == set()
    assert account.backward("201", "101") == set()
    assert account.forward("102", "201") == {UNLABELED, PRIMARY}


def test_archive_accepts_object_type_ids_and_singular_names(account: Account, api: Api) -> None:
    assert api.post(archive_path(pair="0-1/0-2"), archive_body({"101": ["201"]})).status_code == 204
    assert api.post(archive_path(pair="contact/company"), archive_body({"101": ["202"]})).status_code == 204
    assert account.sim.state.pairs("contacts", "companies") == {("102", "201")}


@pytest.mark.hubspot_simulator(v4_success_status=200)
def test_v4_archive_answers_200_batch_response_when_configured(account: Account, api: Api) -> None:
    answer = api.post(archive_path(), archive_body({"101": ["201"]}))
    assert answer.status_code == 200
    _assert_batch_response(answer.json())
    assert account.forward("101", "201") == set()


def test_dated_archive_answers_200_batch_response(account: Account, api: Api) -> None:
    answer = api.post(archive_path(DATED), archive_body({"101": ["201"]}))
    assert answer.status_code == 200
    body = answer.json()
    _assert_batch_response(body)
    assert "errors" not in body
    assert account.forward("101", "201") == set()
    assert account.backward("201", "101") == set()


@pytest.mark.parametrize("version", ["2025-09", "2026-03", "2026-09"])
def test_every_dated_version_archives(account: Account, api: Api, version: str) -> None:
    answer = api.post(archive_path(f"/crm/associations/{version}"), archive_body({"102": ["201"]}))
    assert answer.status_code == 200
    assert account.forward("102", "201") == set()


@pytest.mark.hubspot_simulator(dated_success_status=204)
def test_dated_archive_answers_204_when_configured(account: Account, api: Api) -> None:
    answer = api.post(archive_path(DATED), archive_body({"101": ["201"]}))
    assert answer.status_code == 204
    assert answer.content == b""
    v4 = api.post(archive_path(V4), archive_body({"102": ["201"]}))
    assert v4.status_code == 204
    assert account.sim.state.count() == 1


@pytest.mark.hubspot_simulator(seed="demo")
def test_archive_on_the_demo_seed(hubspot_simulator: HubSpotSimulator, api: Api) -> None:
    state = hubspot_simulator.state
    assert len(state.records("contacts")) == 200
    assert len(state.records("companies")) == 40
    total, contact_company = state.count(), state.count("contacts", "companies")
    # Ten contacts, with every company each one has (some have two, some carry labels).
    chosen = {
        f"{1001 + i}": [to_id for to_id, _ in state.associated("contacts", f"{1001 + i}", "companies")]
        for i in range(10)
    }
    pairs = [(contact, company) for contact, companies in chosen.items() for company in companies]
    assert len(pairs) > 10
    labelled = [p for p in pairs if len(state.types_of("contacts", p[0], "companies", p[1])) > 1]
    assert labelled, "the demo seed gives Primary labels"
    answer = api.post(archive_path(), archive_body(chosen))
    assert answer.status_code == 204
    for contact, company in pairs:
        assert state.types_of("contacts", contact, "companies", company) == set()
        assert state.types_of("companies", company, "contacts", contact) == set()
    assert state.count("contacts", "companies") == contact_company - len(pairs)
    assert state.count("companies", "contacts") == contact_company - len(pairs)
    assert state.count() == total - len(pairs)
    # Contact 1011 was not in the request: untouched.
    assert state.associated("contacts", "1011", "companies")


# ---------------------------------------------------------------------------- batch/labels/archive
def test_labels_archive_of_a_user_label_keeps_the_rest(account: Account, api: Api) -> None:
    answer = api.post(labels_archive_path(), labels_body([("101", "201", [account.billing_key])]))
    assert answer.status_code == 204
    assert answer.content == b""
    assert account.forward("101", "201") == {UNLABELED, PRIMARY}
    assert account.backward("201", "101") == {UNLABELED_INVERSE, PRIMARY_INVERSE}
    assert account.forward("102", "201") == {UNLABELED, PRIMARY}
    assert account.sim.state.count() == 3
    assert account.sim.stats.archived_labels == 1


def test_labels_archive_of_primary_from_the_company_side(account: Account, api: Api) -> None:
    answer = api.post(
        labels_archive_path(pair="companies/contacts"), labels_body([("201", "101", [PRIMARY_INVERSE])])
    )
    assert answer.status_code == 204
    assert account.backward("201", "101") == {UNLABELED_INVERSE, account.billing_inverse_key}
    assert account.forward("101", "201") == {UNLABELED, account.billing_key}


def test_labels_archive_of_the_unlabeled_type_removes_every_label(account: Account, api: Api) -> None:
    answer = api.post(labels_archive_path(), labels_body([("101", "201", [UNLABELED])]))
    assert answer.status_code == 204
    assert account.forward("101", "201") == set()
    assert account.backward("201", "101") == set()
    assert account.forward("101", "202") == {UNLABELED}
    assert account.forward("102", "201") == {UNLABELED, PRIMARY}
    assert account.sim.state.count() == 2


def test_labels_archive_of_the_unlabeled_inverse_type(account: Account, api: Api) -> None:
    answer = api.post(
        labels_archive_path(pair="companies/contacts"), labels_body([("201", "102", [UNLABELED_INVERSE])])
    )
    assert answer.status_code == 204
    assert account.forward("102", "201") == set()
    assert account.backward("201", "102") == set()
    assert account.forward("101", "201") == {UNLABELED, PRIMARY, account.billing_key}


def test_dated_labels_archive_answers_200(account: Account, api: Api) -> None:
    answer = api.post(labels_archive_path(DATED), labels_body([("101", "201", [PRIMARY])]))
    assert answer.status_code == 200
    _assert_batch_response(answer.json())
    assert account.forward("101", "201") == {UNLABELED, account.billing_key}


@pytest.mark.hubspot_simulator(seed="demo")
def test_labels_archive_on_the_demo_seed(hubspot_simulator: HubSpotSimulator, api: Api) -> None:
    state = hubspot_simulator.state
    billing = next(d for d in state.definitions("contacts", "companies") if d.label == "Billing contact")
    key = (billing.category, billing.type_id)
    with_billing = [
        (contact, company)
        for contact, company in sorted(state.pairs("contacts", "companies"))
        if key in state.types_of("contacts", contact, "companies", company)
    ]
    assert len(with_billing) >= 3
    (c1, k1), (c2, k2) = with_billing[0], with_billing[1]
    total = state.count()
    answer = api.post(labels_archive_path(), labels_body([(c1, k1, [key]), (c2, k2, [UNLABELED])]))
    assert answer.status_code == 204
    assert state.types_of("contacts", c1, "companies", k1) == {UNLABELED, PRIMARY}
    assert state.types_of("companies", k1, "contacts", c1) == {UNLABELED_INVERSE, PRIMARY_INVERSE}
    assert state.types_of("contacts", c2, "companies", k2) == set()
    assert state.types_of("companies", k2, "contacts", c2) == set()
    assert state.count() == total - 1


# --------------------------------------------------------------------- unknown records, missing pairs
@pytest.mark.hubspot_simulator(unknown_record="error")
def test_unknown_record_ids_give_207_and_the_rest_is_applied(account: Account, api: Api) -> None:
    answer = api.post(archive_path(), archive_body({"101": ["201", "999"], "888": ["202"], "102": ["201"]}))
    assert answer.status_code == 207
    body = answer.json()
    assert body["status"] == "COMPLETE"
    assert body["numErrors"] == 2
    assert len(body["errors"]) == 2
    by_from = {error["context"]["fromObjectId"][0]: error for error in body["errors"]}
    assert set(by_from) == {"101", "888"}
    assert by_from["101"]["context"]["toObjectId"] == ["999"]
    assert by_from["101"]["context"]["objectId"] == ["999"]
    assert by_from["888"]["context"]["objectId"] == ["888"]
    # The documented INVALID_OBJECT_IDS shape (facts §b), plus the pair the input named.
    assert by_from["101"]["context"]["INVALID_OBJECT_IDS"] == ["COMPANY=999 is not valid"]
    assert by_from["101"]["context"]["objectType"] == ["COMPANY"]
    assert by_from["888"]["context"]["INVALID_OBJECT_IDS"] == ["CONTACT=888 is not valid"]
    assert by_from["888"]["context"]["objectType"] == ["CONTACT"]
    for error in body["errors"]:
        assert error["status"] == "error"
        assert error["category"] == "VALIDATION_ERROR"
    # Known records were archived in the same request.
    assert account.forward("101", "201") == set()
    assert account.forward("102", "201") == set()
    assert account.forward("101", "202") == {UNLABELED}


@pytest.mark.hubspot_simulator(unknown_record="error")
def test_unknown_record_ids_on_labels_archive(account: Account, api: Api) -> None:
    answer = api.post(
        labels_archive_path(),
        labels_body([("101", "999", [UNLABELED]), ("101", "201", [PRIMARY])]),
    )
    assert answer.status_code == 207
    body = answer.json()
    assert body["numErrors"] == 1
    context = body["errors"][0]["context"]
    assert context["fromObjectId"] == ["101"]
    assert context["toObjectId"] == ["999"]
    assert account.forward("101", "201") == {UNLABELED, account.billing_key}


def test_unknown_record_ids_are_a_silent_noop_by_default(account: Account, api: Api) -> None:
    """The facts file (§i): unknown record ids default to what missing pairs do, a silent no-op."""
    assert account.sim.config.unknown_record == "noop"
    answer = api.post(archive_path(), archive_body({"101": ["201", "999"], "888": ["202"]}))
    assert answer.status_code == 204
    assert account.forward("101", "201") == set()
    labels = api.post(
        labels_archive_path(), labels_body([("101", "999", [UNLABELED]), ("101", "202", [UNLABELED])])
    )
    assert labels.status_code == 204
    assert account.forward("101", "202") == set()
    assert account.sim.state.count() == 1


@pytest.mark.hubspot_simulator(unknown_record="noop")
def test_unknown_record_noop_mode(account: Account, api: Api) -> None:
    answer = api.post(archive_path(), archive_body({"101": ["201", "999"], "888": ["202"]}))
    assert answer.status_code == 204
    assert account.forward("101", "201") == set()
    assert account.sim.state.count() == 2


@pytest.mark.hubspot_simulator(unknown_record="reject")
def test_unknown_record_reject_mode_applies_nothing(account: Account, api: Api) -> None:
    before = account.snapshot()
    answer = api.post(archive_path(), archive_body({"101": ["201", "999"], "102": ["201"]}))
    assert answer.status_code == 400
    body = answer.json()
    assert body["category"] == "VALIDATION_ERROR"
    assert body["context"]["objectId"] == ["999"]
    assert len(body["context"]["INVALID_OBJECT_IDS"]) == 1
    assert account.snapshot() == before
    # The body HubSpot gives for invalid ids on a v4 association write (facts §b): the object type's
    # name in upper case, and an objectType list.
    assert body["message"] == "One or more associations are invalid"
    assert body["context"] == {
        "INVALID_OBJECT_IDS": ["COMPANY=999 is not valid"],
        "objectId": ["999"],
        "objectType": ["COMPANY"],
    }


@pytest.mark.hubspot_simulator(unknown_record="reject", custom_object_types=("2-4242",))
def test_unknown_record_reject_mode_names_object_types_like_hubspot(
    hubspot_simulator: HubSpotSimulator, api: Api
) -> None:
    """Type ids in the path still give names (DEAL, TICKET); a custom object keeps its type id."""
    hubspot_simulator.state.add_records("deals", ["11"])
    hubspot_simulator.state.add_records("contacts", ["21"])
    answer = api.post(archive_path(pair="0-3/0-5"), archive_body({"777": ["888"], "11": ["889"]}))
    assert answer.status_code == 400
    assert answer.json()["context"] == {
        "INVALID_OBJECT_IDS": ["DEAL=777 is not valid", "TICKET=888 is not valid", "TICKET=889 is not valid"],
        "objectId": ["777", "888", "889"],
        "objectType": ["DEAL", "TICKET", "TICKET"],
    }
    custom = api.post(archive_path(pair="contact/2-4242"), archive_body({"21": ["55"]}))
    assert custom.status_code == 400
    assert custom.json()["context"] == {
        "INVALID_OBJECT_IDS": ["2-4242=55 is not valid"],
        "objectId": ["55"],
        "objectType": ["2-4242"],
    }


def test_missing_association_is_a_silent_noop_by_default(account: Account, api: Api) -> None:
    answer = api.post(archive_path(), archive_body({"103": ["203"], "101": ["201"]}))
    assert answer.status_code == 204
    assert account.forward("101", "201") == set()
    assert account.sim.stats.archived_pairs == 1
    assert account.sim.stats.pairs_received == 2


@pytest.mark.hubspot_simulator(missing_association="error")
def test_missing_association_error_mode(account: Account, api: Api) -> None:
    answer = api.post(archive_path(), archive_body({"103": ["203"], "101": ["201"]}))
    assert answer.status_code == 207
    body = answer.json()
    assert body["numErrors"] == 1
    error = body["errors"][0]
    assert error["category"] == "OBJECT_NOT_FOUND"
    assert error["subCategory"] == "crm.associations.NO_ASSOCIATIONS_FOUND"
    assert error["context"]["fromObjectId"] == ["103"]
    assert error["context"]["toObjectId"] == ["203"]
    assert account.forward("101", "201") == set()
    # A label that the pair does not carry is missing too.
    labels = api.post(labels_archive_path(), labels_body([("101", "202", [PRIMARY])]))
    assert labels.status_code == 207
    assert labels.json()["errors"][0]["subCategory"] == "crm.associations.NO_ASSOCIATIONS_FOUND"
    assert account.forward("101", "202") == {UNLABELED}


# ------------------------------------------------------------------------------- request validation
def _assert_validation_error(answer: Any, status: int = 400) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    assert body["status"] == "error"
    assert is_uuid(body["correlationId"])
    return body


@pytest.mark.parametrize(
    ("raw", "column"),
    [("{", 2), ('{"inputs": [}', 13), ("not json", 1), ('{"inputs":[{"from":{"id":"101"},}]}', 33)],
)
def test_malformed_json_is_400(account: Account, api: Api, raw: str, column: int) -> None:
    before = account.snapshot()
    body = _assert_validation_error(api.post(archive_path(), data=raw))
    assert body["message"].startswith(f"Invalid input JSON on line 1, column {column}:")
    assert body["category"] == "VALIDATION_ERROR"
    assert account.snapshot() == before


def test_empty_body_is_400(api: Api) -> None:
    body = _assert_validation_error(api.post(archive_path(), data=""))
    assert body["message"].startswith("Invalid input JSON on line 1, column 1:")


@pytest.mark.parametrize("path", [archive_path(), labels_archive_path(), read_path(), archive_path(DATED)])
@pytest.mark.parametrize("payload", [{}, {"input": []}, {"inputs": None}])
def test_missing_inputs_is_400(api: Api, path: str, payload: dict[str, Any]) -> None:
    body = _assert_validation_error(api.post(path, payload))
    assert body["category"] == "VALIDATION_ERROR"
    assert body["message"].startswith("Invalid input JSON on line 1, column ")
    assert body["message"].endswith("Some required fields were not set: [inputs]")


def test_missing_types_on_labels_archive_is_400(account: Account, api: Api) -> None:
    answer = api.post(labels_archive_path(), {"inputs": [{"from": {"id": "101"}, "to": {"id": "201"}}]})
    body = _assert_validation_error(answer)
    assert body["message"].endswith("Some required fields were not set: [types]")
    assert account.forward("101", "201") == {UNLABELED, PRIMARY, account.billing_key}


@pytest.mark.parametrize("pair", ["x/companies", "contacts/x"])
def test_unknown_object_type_is_400(account: Account, api: Api, pair: str) -> None:
    body = _assert_validation_error(api.post(archive_path(pair=pair), archive_body({"101": ["201"]})))
    assert body["message"] == "Unable to infer object type from: x"
    assert account.sim.state.count() == 3


@pytest.mark.hubspot_simulator(unknown_object_type_status=404)
def test_unknown_object_type_can_be_404(account: Account, api: Api) -> None:
    body = _assert_validation_error(
        api.post(archive_path(pair="x/companies"), archive_body({"101": ["201"]})), 404
    )
    assert body["message"] == "Unable to infer object type from: x"
    assert body["category"] == "OBJECT_NOT_FOUND"
    assert account.sim.state.count() == 3


def test_bad_category_is_400_and_nothing_is_applied(account: Account, api: Api) -> None:
    before = account.snapshot()
    payload = labels_body([("101", "201", [PRIMARY]), ("102", "201", [("NOT_A_CATEGORY", 1)])])
    body = _assert_validation_error(api.post(labels_archive_path(), payload))
    assert body["category"] == "VALIDATION_ERROR"
    assert "NOT_A_CATEGORY" in body["message"]
    assert body["message"].startswith("Invalid input JSON on line 1, column ")
    assert account.snapshot() == before


def test_undefined_association_type_is_400_and_nothing_is_applied(account: Account, api: Api) -> None:
    before = account.snapshot()
    payload = labels_body([("101", "201", [PRIMARY]), ("102", "201", [("HUBSPOT_DEFINED", 4242)])])
    body = _assert_validation_error(api.post(labels_archive_path(), payload))
    assert body["category"] == "VALIDATION_ERROR"
    assert body["context"]["associationTypeId"] == ["4242"]
    assert account.snapshot() == before
    # A type id defined for the other direction is not defined for this one either.
    reverse_id = _assert_validation_error(
        api.post(labels_archive_path(), labels_body([("101", "201", [PRIMARY_INVERSE])]))
    )
    assert reverse_id["context"]["associationTypeId"] == ["2"]
    assert account.snapshot() == before


@pytest.mark.parametrize("path", [archive_path(), archive_path(DATED)])
def test_over_limit_archive_is_400_and_nothing_is_applied(account: Account, api: Api, path: str) -> None:
    before = account.snapshot()
    inputs = {"101": ["201"], "102": ["201"], **{str(5000 + i): ["202"] for i in range(99)}}
    assert len(inputs) == 101
    body = _assert_validation_error(api.post(path, archive_body(inputs)))
    assert body["message"] == MAX_INPUTS_MESSAGE.format(n=100)
    assert body["category"] == "VALIDATION_ERROR"
    assert account.snapshot() == before
    assert account.sim.stats.pairs_received == 0


def test_over_limit_labels_archive_is_400(account: Account, api: Api) -> None:
    before = account.snapshot()
    items = [("101", "201", [PRIMARY])] * 101
    body = _assert_validation_error(api.post(labels_archive_path(), labels_body(items)))
    assert body["message"] == MAX_INPUTS_MESSAGE.format(n=100)
    assert account.snapshot() == before


@pytest.mark.hubspot_simulator(unknown_record="error")
def test_exactly_100_inputs_are_accepted(account: Account, api: Api) -> None:
    inputs = {"101": ["201"], **{str(5000 + i): ["203"] for i in range(99)}}
    assert len(inputs) == 100
    answer = api.post(archive_path(), archive_body(inputs))
    assert answer.status_code == 207  # 99 unknown contacts are reported, 101 -> 201 is archived
    assert answer.json()["numErrors"] == 99
    assert account.forward("101", "201") == set()


@pytest.mark.hubspot_simulator(max_inputs=2)
def test_custom_max_inputs(account: Account, api: Api) -> None:
    before = account.snapshot()
    body = _assert_validation_error(
        api.post(archive_path(), archive_body({"101": ["201"], "102": ["201"], "103": ["203"]}))
    )
    assert body["message"] == MAX_INPUTS_MESSAGE.format(n=2)
    assert account.snapshot() == before
    assert api.post(archive_path(), archive_body({"101": ["201"], "102": ["201"]})).status_code == 204
    assert account.sim.state.count() == 1


@pytest.mark.hubspot_simulator(max_pairs=2)
def test_max_pairs_caps_pairs_per_request(account: Account, api: Api) -> None:
    before = account.snapshot()
    body = _assert_validation_error(api.post(archive_path(), archive_body({"101": ["201", "202", "203"]})))
    assert body["message"] == MAX_INPUTS_MESSAGE.format(n=2)  # HubSpot's words, whatever it counts
    assert account.snapshot() == before


# ------------------------------------------------------------------------------------- batch/read
def test_batch_read_lists_associations_with_labels(account: Account, api: Api) -> None:
    answer = api.post(read_path(), read_body(["101", "102"]))
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "COMPLETE"
    assert "errors" not in body
    results = {item["from"]["id"]: item for item in body["results"]}
    assert set(results) == {"101", "102"}
    to_101 = {entry["toObjectId"]: entry["associationTypes"] for entry in results["101"]["to"]}
    assert set(to_101) == {201, 202}
    types_201 = {(t["category"], t["typeId"]): t.get("label") for t in to_101[201]}
    assert types_201 == {UNLABELED: None, PRIMARY: "Primary", account.billing_key: "Billing contact"}
    assert to_101[202] == [{"category": "HUBSPOT_DEFINED", "typeId": 279}]
    assert "paging" not in results["101"]


def test_batch_read_from_the_company_side_shows_inverse_labels(account: Account, api: Api) -> None:
    answer = api.post(read_path(DATED, "companies/contacts"), read_body(["201"]))
    assert answer.status_code == 200
    entries = {e["toObjectId"]: e["associationTypes"] for e in answer.json()["results"][0]["to"]}
    assert {(t["category"], t["typeId"], t.get("label")) for t in entries[101]} == {
        (*UNLABELED_INVERSE, None),
        (*PRIMARY_INVERSE, "Primary"),
        (*account.billing_inverse_key, "Billing company"),
    }


def test_batch_read_207_for_ids_without_associations(account: Account, api: Api) -> None:
    answer = api.post(read_path(), read_body(["101", "103", "777"]))
    assert answer.status_code == 207
    body = answer.json()
    assert [r["from"]["id"] for r in body["results"]] == ["101"]
    assert body["numErrors"] == 2
    for error, record in zip(body["errors"], ["103", "777"], strict=True):
        assert error["status"] == "error"
        assert error["category"] == "OBJECT_NOT_FOUND"
        assert error["subCategory"] == "crm.associations.NO_ASSOCIATIONS_FOUND"
        assert error["context"]["fromObjectId"] == [record]
        assert error["message"] == f"No company is associated with contact {record}."
        assert error["context"]["fromObjectType"] == ["contact"]
        assert error["context"]["toObjectType"] == ["company"]


def test_batch_read_207_error_matches_the_observed_body(
    hubspot_simulator: HubSpotSimulator, api: Api
) -> None:
    """facts §b, "Observed 207 from batch/read": singular lower-case names, even for type ids in the path."""
    hubspot_simulator.state.add_records("deals", ["515690208449"])
    for pair in ("deals/companies", "0-3/0-2", "deal/company"):
        answer = api.post(read_path(pair=pair), read_body(["515690208449"]))
        assert answer.status_code == 207
        body = answer.json()
        assert (body["status"], body["results"], body["numErrors"]) == ("COMPLETE", [], 1)
        error = body["errors"][0]
        assert {key: error[key] for key in ("status", "category", "subCategory", "message", "context")} == {
            "status": "error",
            "category": "OBJECT_NOT_FOUND",
            "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
            "message": "No company is associated with deal 515690208449.",
            "context": {
                "fromObjectId": ["515690208449"],
                "fromObjectType": ["deal"],
                "toObjectType": ["company"],
            },
        }


@pytest.mark.hubspot_simulator(custom_object_types=("2-4242",))
def test_batch_read_207_names_a_custom_object_by_its_type_id(api: Api) -> None:
    answer = api.post(read_path(pair="contacts/2-4242"), read_body(["7"]))
    assert answer.status_code == 207
    error = answer.json()["errors"][0]
    assert error["message"] == "No 2-4242 is associated with contact 7."
    assert error["context"] == {
        "fromObjectId": ["7"],
        "fromObjectType": ["contact"],
        "toObjectType": ["2-4242"],
    }


def test_batch_read_after_archive_reports_no_associations(account: Account, api: Api) -> None:
    assert api.post(archive_path(), archive_body({"102": ["201"]})).status_code == 204
    answer = api.post(read_path(), read_body(["102"]))
    assert answer.status_code == 207
    assert answer.json()["errors"][0]["subCategory"] == "crm.associations.NO_ASSOCIATIONS_FOUND"


@pytest.mark.hubspot_simulator(read_page_size=2)
def test_batch_read_pages_with_after(hubspot_simulator: HubSpotSimulator, api: Api) -> None:
    for company in ("301", "302", "303", "304", "305"):
        hubspot_simulator.state.associate("contacts", "1", "companies", company)
    seen: list[int] = []
    after: str | None = None
    cursors: list[str] = []
    for _ in range(5):
        answer = api.post(read_path(), read_body(["1"], after=after))
        assert answer.status_code == 200
        result = answer.json()["results"][0]
        assert len(result["to"]) <= 2
        seen += [entry["toObjectId"] for entry in result["to"]]
        if "paging" not in result:
            break
        after = result["paging"]["next"]["after"]
        assert isinstance(after, str)
        cursors.append(after)
    assert seen == [301, 302, 303, 304, 305]
    assert cursors == ["2", "4"]


def test_batch_read_over_1000_inputs_is_400(account: Account, api: Api) -> None:
    over = _assert_validation_error(api.post(read_path(), read_body(str(i) for i in range(1, 1002))))
    assert over["message"] == MAX_INPUTS_MESSAGE.format(n=1000)
    at_limit = api.post(read_path(), read_body(str(i) for i in range(1, 1001)))
    assert at_limit.status_code == 207
    assert at_limit.json()["numErrors"] == 1000 - 2  # 101 and 102 have companies


# ---------------------------------------------------------------------------------- GET labels
@pytest.mark.parametrize(
    "path",
    [
        "/crm/v4/associations/contacts/companies/labels",
        "/crm/associations/v4/contacts/companies/labels",
        "/crm/associations/2026-03/contacts/companies/labels",
    ],
)
def test_get_labels(account: Account, api: Api, path: str) -> None:
    answer = api.get(path)
    assert answer.status_code == 200
    results = answer.json()["results"]
    found = {(r["category"], r["typeId"]): r["label"] for r in results}
    assert found == {UNLABELED: None, PRIMARY: "Primary", account.billing_key: "Billing contact"}
    for item in results:
        assert item["fromObjectTypeId"] == "0-1"
        assert item["toObjectTypeId"] == "0-2"


def test_get_labels_of_the_reverse_direction(account: Account, api: Api) -> None:
    answer = api.get("/crm/v4/associations/companies/contacts/labels")
    assert answer.status_code == 200
    found = {(r["category"], r["typeId"]): r["label"] for r in answer.json()["results"]}
    assert found == {
        UNLABELED_INVERSE: None,
        PRIMARY_INVERSE: "Primary",
        account.billing_inverse_key: "Billing company",
    }


def test_get_labels_needs_a_token(api: Api) -> None:
    answer = api.get("/crm/v4/associations/contacts/companies/labels", headers={})
    assert answer.status_code == 401


def test_unknown_route_is_404(api: Api) -> None:
    answer = api.post("/crm/v4/associations/contacts/companies/batch/explode", {"inputs": []})
    assert answer.status_code == 404
    assert answer.json()["category"] == "OBJECT_NOT_FOUND"
