"""BatchResponse: the success answers (archive's three, create's), errors matched to pairs, merging,
and the JSON shape."""

from __future__ import annotations

from typing import Any

import pendulum
import pytest

from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.models import (
    BatchError,
    BatchResponse,
    NotJson,
    iso_timestamp,
    match_errors,
)
from airflow_provider_hubspot_assoc.response_merge import merge

PAIRS = [("1", "10"), ("1", "11"), ("1", "12"), ("2", "10"), ("2", "20"), ("3", "30")]


def error(message: str, **context: list[str]) -> dict[str, Any]:
    return {"status": "error", "category": "VALIDATION_ERROR", "message": message, "context": context}


def answer(
    status: str = "COMPLETE", errors: list[dict[str, Any]] | None = None, **times: str
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": status,
        "results": [],
        "startedAt": times.get("started", "2026-11-23T08:00:00.100Z"),
        "completedAt": times.get("completed", "2026-11-23T08:00:00.900Z"),
    }
    if "requested" in times:
        body["requestedAt"] = times["requested"]
    if errors is not None:
        body["errors"] = errors
        body["numErrors"] = len(errors)
    return body


def test_204_without_a_body_is_a_complete_answer_with_no_errors() -> None:
    response = BatchResponse.from_answer(204, None, PAIRS, requested_at="2026-11-23T08:00:00.000Z")
    assert (response.http_status, response.status, response.pairs_sent) == (204, "COMPLETE", 6)
    assert (response.errors, response.failed_pairs(), response.unmatched_errors) == ([], set(), 0)
    assert response.requested_at == response.started_at == "2026-11-23T08:00:00.000Z"
    assert response.completed_at is not None and response.completed_at >= response.started_at
    assert BatchResponse.from_answer(204, {}, PAIRS).to_json()["numErrors"] == 0


def test_200_body_is_read_as_hubspot_sent_it() -> None:
    body = answer("PROCESSING", requested="2026-11-23T07:59:59.000Z")
    body["links"] = {"self": "https://example.test/1"}
    response = BatchResponse.from_answer(200, body, PAIRS, requested_at="2026-11-23T09:00:00.000Z")
    assert (response.http_status, response.status, response.num_errors) == (200, "PROCESSING", 0)
    assert response.requested_at == "2026-11-23T07:59:59.000Z"  # HubSpot's own timestamps win
    assert response.started_at == "2026-11-23T08:00:00.100Z"
    assert response.completed_at == "2026-11-23T08:00:00.900Z"
    assert response.links == {"self": "https://example.test/1"}


def test_an_unknown_status_proves_nothing() -> None:
    response = BatchResponse.from_answer(200, answer("WEIRD"), PAIRS)
    assert response.unconfirmed is not None and "'WEIRD', not COMPLETE" in response.unconfirmed


def test_204_and_well_formed_answers_are_proof() -> None:
    assert BatchResponse.from_answer(204, None, PAIRS).unconfirmed is None
    assert BatchResponse.from_answer(200, answer(), PAIRS).unconfirmed is None
    assert (
        BatchResponse.from_answer(207, answer(errors=[error("x", fromObjectId=["1"])]), PAIRS).unconfirmed
        is None
    )


@pytest.mark.parametrize(
    ("status", "body", "why"),
    [
        (200, NotJson("text/html: <html>ok</html>"), "not JSON"),
        (200, None, "not a BatchResponse"),
        (200, [], "not a BatchResponse (list)"),
        (200, {"ok": True}, "not a BatchResponse"),
        (200, {"status": "COMPLETE"}, "not a BatchResponse"),
        (200, {**answer(), "errors": {"message": "x"}}, "errors that are not a list"),
        (200, {**answer(), "numErrors": 2, "errors": []}, "numErrors 2 but listing 0"),
        (200, answer("PENDING"), "'PENDING', not COMPLETE"),
        (200, answer("PROCESSING"), "'PROCESSING', not COMPLETE"),
        (200, answer("CANCELED"), "'CANCELED', not COMPLETE"),
        (202, answer(), "HTTP 202"),
    ],
)
def test_a_2xx_that_is_not_hubspots_answer_proves_nothing(status: int, body: Any, why: str) -> None:
    response = BatchResponse.from_answer(status, body, PAIRS)
    assert response.unconfirmed is not None and why in response.unconfirmed
    assert response.failed_pairs() == set()


def test_207_errors_are_matched_to_the_pairs_they_name() -> None:
    body = answer(
        errors=[
            error("from id only: every pair of contact 1", fromObjectId=["1"]),
            error("from and to: that one pair", fromObjectId=["2"], toObjectId=["20"]),
            error("two to ids", fromObjectId=["1"], toObjectId=["10", "12", "99"]),
            error("names nothing we sent", fromObjectId=["404"]),
            error("no context at all"),
            {"message": "a to id alone names no pair", "context": {"toObjectId": ["30"]}},
        ]
    )
    response = BatchResponse.from_answer(207, body, PAIRS)

    assert response.http_status == 207
    assert [e.pairs for e in response.errors] == [
        (("1", "10"), ("1", "11"), ("1", "12")),
        (("2", "20"),),
        (("1", "10"), ("1", "12")),
        (),
        (),
        (),
    ]
    assert response.failed_pairs() == {("1", "10"), ("1", "11"), ("1", "12"), ("2", "20")}
    assert (response.num_errors, response.unmatched_errors) == (6, 3)
    assert response.errors[5].category == "UNKNOWN"  # every field of an error is optional


def test_match_errors_keeps_every_error_and_its_hubspot_fields() -> None:
    raw = BatchError.from_json(
        {
            "status": "error",
            "category": "OBJECT_NOT_FOUND",
            "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
            "message": "gone",
            "context": {"fromObjectId": ["3"], "toObjectId": ["30"], "ignored": "not a list"},
        }
    )
    matched, unmatched = match_errors([raw], PAIRS)
    assert unmatched == 0
    assert matched[0].pairs == (("3", "30"),)
    assert matched[0].means_already_gone
    assert matched[0].context == {"fromObjectId": ["3"], "toObjectId": ["30"]}
    assert matched[0].to_json()["subCategory"] == "crm.associations.NO_ASSOCIATIONS_FOUND"


def test_merge_takes_the_least_finished_status() -> None:
    def with_status(*statuses: str) -> str:
        return merge(BatchResponse.from_answer(200, answer(s), PAIRS) for s in statuses).status

    assert with_status("COMPLETE", "COMPLETE") == "COMPLETE"
    assert with_status("COMPLETE", "PROCESSING", "COMPLETE") == "PROCESSING"
    assert with_status("PROCESSING", "PENDING", "COMPLETE") == "PENDING"
    assert with_status("PENDING", "CANCELED", "COMPLETE") == "CANCELED"


@pytest.mark.parametrize(
    ("codes", "merged"),
    [
        ((204, 204), 204),
        ((204, 200, 204), 200),
        ((200, 207, 204), 207),
        ((207, 200), 207),
        ((201, 201), 201),
        ((201, 207), 207),
    ],
)
def test_merge_answers_like_its_most_telling_part(codes: tuple[int, ...], merged: int) -> None:
    parts = [BatchResponse.from_answer(code, None if code == 204 else answer(), PAIRS) for code in codes]
    assert merge(parts).http_status == merged


def test_merge_spans_earliest_start_to_latest_completion_and_keeps_every_error() -> None:
    first = BatchResponse.from_answer(
        207,
        answer(
            errors=[error("a", fromObjectId=["1"])],
            requested="2026-11-23T08:00:01.000Z",
            started="2026-11-23T08:00:01.500Z",
            completed="2026-11-23T08:00:05.000Z",
        ),
        PAIRS[:3],
    )
    second = BatchResponse.from_answer(
        207,
        answer(
            errors=[error("b", fromObjectId=["2"]), error("c", fromObjectId=["9"])],
            requested="2026-11-23T08:00:00.250Z",
            started="2026-11-23T08:00:00.750Z",
            completed="2026-11-23T08:00:03.000Z",
        ),
        PAIRS[3:],
    )
    merged = merge([first, second])
    assert merged.requested_at == "2026-11-23T08:00:00.250Z"
    assert merged.started_at == "2026-11-23T08:00:00.750Z"
    assert merged.completed_at == "2026-11-23T08:00:05.000Z"
    assert [e.message for e in merged.errors] == ["a", "b", "c"]
    assert (merged.pairs_sent, merged.unmatched_errors, merged.num_errors) == (6, 1, 3)
    assert merged.failed_pairs() == set(PAIRS[:5])


def test_merge_compares_timestamps_as_times_not_as_text() -> None:
    # HubSpot's timestamps are ISO instants whose fraction may be left out when it is zero (Java's
    # Instant.toString()): "08:00:01Z" is earlier than "08:00:01.500Z" though it sorts after it as text.
    early = BatchResponse.from_answer(
        200, answer(started="2026-11-23T08:00:01Z", completed="2026-11-23T08:00:02Z"), PAIRS
    )
    late = BatchResponse.from_answer(
        200, answer(started="2026-11-23T08:00:01.500Z", completed="2026-11-23T08:00:02.250Z"), PAIRS
    )
    for parts in ([early, late], [late, early]):
        merged = merge(parts)
        assert merged.started_at == "2026-11-23T08:00:01Z"
        assert merged.completed_at == "2026-11-23T08:00:02.250Z"


@pytest.mark.parametrize(
    "moment",
    [
        pendulum.datetime(2026, 11, 23, 8, 0, 1, 999_999, tz="UTC"),
        pendulum.datetime(2026, 11, 23, 0, 30, 0, 1_000, tz="Asia/Kolkata"),  # the day before in UTC
        pendulum.datetime(2026, 3, 29, 1, 59, 59, 0, tz="Europe/Berlin"),
    ],
)
def test_iso_timestamp_is_hubspots_format_in_utc(moment: pendulum.DateTime) -> None:
    assert iso_timestamp(moment) == moment.in_timezone("UTC").format("YYYY-MM-DD[T]HH:mm:ss.SSS[Z]")
    now = iso_timestamp()
    assert len(now) == 24 and now.endswith("Z") and pendulum.parse(now).timezone_name == "UTC"


def test_merge_of_timestamps_across_days_and_years_keeps_time_order() -> None:
    parts = [
        BatchResponse.from_answer(200, answer(started=started, completed=completed), PAIRS)
        for started, completed in (
            ("2026-12-31T23:59:59.999Z", "2027-01-01T00:00:00.001Z"),
            ("2026-12-31T23:59:59.998Z", "2026-12-31T23:59:59.999Z"),
        )
    ]
    merged = merge(parts)
    assert (merged.started_at, merged.completed_at) == (
        "2026-12-31T23:59:59.998Z",
        "2027-01-01T00:00:00.001Z",
    )


def test_merge_of_nothing_is_an_empty_complete_answer() -> None:
    merged = merge([])
    assert (merged.status, merged.http_status, merged.errors, merged.pairs_sent) == ("COMPLETE", 204, [], 0)


@pytest.mark.parametrize(
    ("max_errors", "kept", "truncated"), [(None, 5, None), (2, 2, 3), (0, 0, 5), (9, 5, None)]
)
def test_to_json_caps_errors_and_counts_what_it_cut(
    max_errors: int | None, kept: int, truncated: int | None
) -> None:
    body = answer(errors=[error(f"e{i}", fromObjectId=["1"]) for i in range(5)])
    data = BatchResponse.from_answer(207, body, PAIRS).to_json(max_errors=max_errors)
    assert [e["message"] for e in data["errors"]] == [f"e{i}" for i in range(kept)]
    assert data["numErrors"] == 5
    assert data.get("errorsTruncated") == truncated
    assert {"status", "results", "startedAt", "completedAt", "requestedAt", "links"} <= data.keys()
    assert data["errors"][:1] == [] or data["errors"][0]["pairs"] == [["1", "10"], ["1", "11"], ["1", "12"]]


# ------------------------------------------------------------------------------------ create
CREATE_PAIRS = [("1", "10"), ("1", "11"), ("2", "20")]


def created(from_id: str | int, to_id: str | int, *labels: str) -> dict[str, Any]:
    """One ``LabelsBetweenObjectPair`` of a create answer."""
    return {
        "fromObjectTypeId": "0-1",
        "fromObjectId": from_id,
        "toObjectTypeId": "0-2",
        "toObjectId": to_id,
        "labels": list(labels),
    }


def create_answer(*results: dict[str, Any], errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {**answer(errors=errors), "results": list(results)}


@pytest.mark.parametrize("status", [201, 200])
def test_a_create_answer_naming_every_pair_proves_them_all(status: int) -> None:
    """201 as the v4 and 2025-09/2026-03 specs document; 200 as the 2026-09 spec does."""
    body = create_answer(created("1", "10", "Primary"), created(1, 11), created("2", "20"))
    response = BatchResponse.from_answer(status, body, CREATE_PAIRS, kind=Kind.CREATE)
    assert (response.unconfirmed, response.unknown_pairs, response.failed_pairs()) == (None, [], set())
    assert (response.http_status, response.pairs_sent, len(response.results)) == (status, 3, 3)


def test_a_pair_no_result_names_is_unknown_and_the_others_are_proven() -> None:
    body = create_answer(created("1", "10"), created("2", "20"), created("9", "90"))
    response = BatchResponse.from_answer(201, body, CREATE_PAIRS, kind=Kind.CREATE)
    assert response.unknown_pairs == [("1", "11")]
    assert response.unconfirmed is not None and "1 of the 3 pairs" in response.unconfirmed
    assert response.failed_pairs() == set()


def test_a_create_207_names_failed_pairs_in_errors_and_created_ones_in_results() -> None:
    errors = [error("One or more associations are invalid", fromObjectId=["1"], toObjectId=["11"])]
    body = create_answer(created("1", "10"), created("2", "20"), errors=errors)
    response = BatchResponse.from_answer(207, body, CREATE_PAIRS, kind=Kind.CREATE)
    assert response.failed_pairs() == {("1", "11")}
    assert (response.unconfirmed, response.unknown_pairs) == (None, [])


@pytest.mark.parametrize(
    ("status", "body", "why"),
    [
        (204, None, "HTTP 204"),
        (200, create_answer(), "3 of the 3 pairs"),
        (201, answer(), "3 of the 3 pairs"),
        (200, NotJson("text/html: <html>ok</html>"), "not JSON"),
        (200, {**create_answer(*(created(f, t) for f, t in CREATE_PAIRS)), "status": "PENDING"}, "PENDING"),
        (201, {**create_answer(*(created(f, t) for f, t in CREATE_PAIRS)), "numErrors": 1}, "numErrors 1"),
        (202, create_answer(*(created(f, t) for f, t in CREATE_PAIRS)), "HTTP 202"),
    ],
)
def test_a_create_answer_that_names_no_pair_created_proves_nothing(status: int, body: Any, why: str) -> None:
    """An odd 2xx proves nothing even when its results name every pair."""
    response = BatchResponse.from_answer(status, body, CREATE_PAIRS, kind=Kind.CREATE)
    assert response.unconfirmed is not None and why in response.unconfirmed
    assert response.unknown_pairs == CREATE_PAIRS
    assert response.failed_pairs() == set()


def test_an_error_naming_no_pair_sent_leaves_every_other_created_pair_unknown() -> None:
    errors = [error("about someone else", fromObjectId=["404"])]
    body = create_answer(*(created(f, t) for f, t in CREATE_PAIRS), errors=errors)
    response = BatchResponse.from_answer(207, body, CREATE_PAIRS, kind=Kind.CREATE)
    assert response.unknown_pairs == CREATE_PAIRS
    assert response.unconfirmed is not None and "name no input" in response.unconfirmed


def test_results_that_are_not_objects_name_no_pair() -> None:
    body = create_answer(created("1", "10"), created("2", "20"))
    body["results"] += ["1", None, {"fromObjectId": "1"}]
    response = BatchResponse.from_answer(201, body, CREATE_PAIRS, kind=Kind.CREATE)
    assert response.unknown_pairs == [("1", "11")]
