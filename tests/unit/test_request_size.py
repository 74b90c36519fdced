"""Request size: ``batch_size`` counts HubSpot inputs, ``max_pairs_per_request`` caps pairs, and a
maximum HubSpot names lowers the caps for the rest of the run (pure logic)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_hubspot_assoc.checked_batches import check_rows, checked_batches
from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.models import BatchResponse, pairs_of
from airflow_provider_hubspot_assoc.progress import Pipeline, Progress
from airflow_provider_hubspot_assoc.request_size import RequestSize, maximum_named
from airflow_provider_hubspot_assoc.row_parser import RowParser

HUBSPOT_MESSAGE = (
    "The maximum number of inputs supported in a batch is {}. Please reduce the number of items and try again"
)


def archive_row(from_id: int, *to_ids: int) -> dict[str, Any]:
    return {"from": {"id": str(from_id)}, "to": [{"id": str(t)} for t in to_ids]}


def requests(kind: Kind, rows: list[Any], size: RequestSize) -> list[list[dict[str, Any]]]:
    return [list(batch) for batch in checked_batches(kind, check_rows(kind, rows), size) if batch]


def shape(chunks: list[list[dict[str, Any]]]) -> list[list[tuple[str, int]]]:
    """Each request as (from id, number of to ids) per input."""
    return [[(item["from"]["id"], len(item["to"])) for item in chunk] for chunk in chunks]


def test_batch_size_counts_inputs_a_from_id_with_its_to_ids_being_one() -> None:
    rows = [archive_row(1, 10, 11, 12), archive_row(2, 20), archive_row(3, 30, 31)]
    assert shape(requests(Kind.ARCHIVE, rows, RequestSize(max_inputs=2, max_pairs=100))) == [
        [("1", 3), ("2", 1)],
        [("3", 2)],
    ]


def test_pair_rows_of_one_from_id_join_its_input() -> None:
    rows = [["1", "10"], ["1", "11"], ["2", "20"], ["1", "12"], ["3", "30"]]
    assert shape(requests(Kind.ARCHIVE, rows, RequestSize(max_inputs=2, max_pairs=100))) == [
        [("1", 3), ("2", 1)],
        [("3", 1)],
    ]


def test_max_pairs_per_request_caps_pairs_whatever_the_inputs() -> None:
    rows = [archive_row(1, 10, 11), archive_row(2, 20, 21), archive_row(3, 30)]
    assert shape(requests(Kind.ARCHIVE, rows, RequestSize(max_inputs=100, max_pairs=3))) == [
        [("1", 2)],  # row 2 fits in a request of its own: it is not split across two
        [("2", 2), ("3", 1)],
    ]


def test_a_from_id_with_more_to_ids_than_the_pair_cap_is_split_across_requests() -> None:
    rows = [archive_row(1, *range(100, 350)), archive_row(2, 7)]
    assert shape(requests(Kind.ARCHIVE, rows, RequestSize(max_inputs=100, max_pairs=100))) == [
        [("1", 100)],
        [("1", 100)],
        [("1", 50), ("2", 1)],
    ]


def test_a_raised_pair_cap_sends_many_pairs_per_request() -> None:
    rows = [archive_row(n, *range(1000, 1020)) for n in range(1, 201)]  # 200 from ids x 20 to ids
    chunks = requests(Kind.ARCHIVE, rows, RequestSize(max_inputs=100, max_pairs=2000))
    assert [len(pairs_of(Kind.ARCHIVE, chunk)) for chunk in chunks] == [2000, 2000]


def test_labels_batch_size_counts_pairs_with_all_their_types() -> None:
    rows = [
        {"from_id": "1", "to_id": to_id, "association_type_id": t, "association_category": "USER_DEFINED"}
        for to_id, t in (("2", 1), ("2", 2), ("2", 3), ("3", 1), ("4", 1))
    ]
    chunks = requests(Kind.LABELS, rows, RequestSize(max_inputs=2, max_pairs=100))
    assert [[(i["to"]["id"], len(i["types"])) for i in chunk] for chunk in chunks] == [
        [("2", 3), ("3", 1)],
        [("4", 1)],
    ]
    # a labels input is one pair: the pair cap caps its inputs too
    chunks = requests(Kind.LABELS, rows, RequestSize(max_inputs=100, max_pairs=1))
    assert [len(chunk) for chunk in chunks] == [1, 1, 1]


archive_rows = st.lists(
    st.builds(
        lambda f, ts: archive_row(f, *ts),
        st.integers(1, 30),
        st.lists(st.integers(1, 40), min_size=1, max_size=60),
    ),
    max_size=25,
)


@settings(max_examples=200, deadline=None)
@given(rows=archive_rows, max_inputs=st.integers(1, 12), max_pairs=st.integers(1, 80))
def test_requests_stay_within_both_caps_and_send_every_pair_once(
    rows: list[dict[str, Any]], max_inputs: int, max_pairs: int
) -> None:
    chunks = requests(Kind.ARCHIVE, rows, RequestSize(max_inputs, max_pairs))
    sent = [pair for chunk in chunks for pair in pairs_of(Kind.ARCHIVE, chunk)]
    assert len(sent) == len(set(sent)) and set(sent) == set(pairs_of(Kind.ARCHIVE, rows))
    for chunk in chunks:
        from_ids = [item["from"]["id"] for item in chunk]
        assert len(from_ids) == len(set(from_ids)) <= max_inputs  # one input per from id
        assert 1 <= len(pairs_of(Kind.ARCHIVE, chunk)) <= max_pairs


def test_a_cap_lowered_during_the_run_shapes_the_batches_made_next() -> None:
    size = RequestSize(max_inputs=4, max_pairs=100)
    parser = RowParser(Kind.ARCHIVE)
    rows = [(n, parser.parse([str(n), "7"], n)) for n in range(1, 13)]
    pipeline = Pipeline(Kind.ARCHIVE, size, Progress.start("fp", 100))
    made = []
    for batch in pipeline.batches(rows):
        made.append(len(batch))
        if len(made) == 1:
            size.max_inputs = 2  # what the sender does on HubSpot's "maximum ... is 2"
    assert made == [4, 2, 2, 2, 2]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (HUBSPOT_MESSAGE.format(100), 100),
        (HUBSPOT_MESSAGE.format(10), 10),
        ("the maximum number of associations supported in a batch is 250.", 250),
        ("One or more associations are invalid", None),
        ("The maximum number of inputs supported in a batch is many", None),
        (None, None),
        (12, None),
    ],
)
def test_maximum_named_reads_hubspots_message(message: Any, expected: int | None) -> None:
    assert maximum_named(message) == expected


def test_learn_lowers_the_cap_the_refused_request_was_over() -> None:
    size = RequestSize(max_inputs=100, max_pairs=500)
    hundred = [archive_row(n, 7) for n in range(1, 101)]
    assert size.learn(Kind.ARCHIVE, hundred, HUBSPOT_MESSAGE.format(10)) == (
        "at most 10 inputs a request (batch_size)"
    )
    assert (size.max_inputs, size.max_pairs) == (10, 500)
    # a request made before the cap was lowered, refused the same way: over it, nothing to lower
    assert size.learn(Kind.ARCHIVE, hundred, HUBSPOT_MESSAGE.format(10)) == ""
    # inputs within the maximum, pairs over it: HubSpot's message says "inputs", it counts pairs
    few_wide = [archive_row(n, *range(100, 160)) for n in range(1, 4)]
    assert size.learn(Kind.ARCHIVE, few_wide, HUBSPOT_MESSAGE.format(50)) == (
        "at most 50 pairs a request (max_pairs_per_request)"
    )
    assert (size.max_inputs, size.max_pairs) == (10, 50)


def test_the_maximums_learned_are_named_for_a_later_session_which_keeps_them() -> None:
    first = RequestSize(max_inputs=100, max_pairs=500)
    first.learn(Kind.ARCHIVE, [archive_row(n, 7) for n in range(1, 101)], HUBSPOT_MESSAGE.format(10))
    first.learn(
        Kind.ARCHIVE, [archive_row(n, *range(100, 160)) for n in range(1, 4)], HUBSPOT_MESSAGE.format(50)
    )
    saved = json.loads(json.dumps(first.named))  # as a checkpoint holds it
    assert saved == {"inputs": 10, "pairs": 50}

    later = RequestSize(max_inputs=100, max_pairs=500)
    assert later.carry_over(saved) == (
        "at most 10 inputs a request (batch_size) and at most 50 pairs a request (max_pairs_per_request)"
    )
    assert (later.max_inputs, later.max_pairs) == (10, 50)
    assert later.named == saved  # and its own checkpoints carry them on

    smaller = RequestSize(max_inputs=5, max_pairs=500)  # a retry asking for less keeps its own
    assert smaller.carry_over(saved) == "at most 50 pairs a request (max_pairs_per_request)"
    assert (smaller.max_inputs, smaller.max_pairs) == (5, 50)
    assert smaller.named == saved


@pytest.mark.parametrize(
    "named",
    [
        None,
        [],
        "inputs=10",
        {},
        {"inputs": 0, "pairs": -1},
        {"inputs": True, "pairs": False},  # bools are no counts
        {"inputs": 10.0, "pairs": "50"},
        {"inputs": 1001, "pairs": 10_001},  # past what this package sends
        {"inputs": [10], "pairs": {"n": 50}},
    ],
)
def test_a_checkpoint_naming_no_valid_maximum_changes_nothing(named: Any) -> None:
    size = RequestSize(max_inputs=100, max_pairs=500)
    assert size.carry_over(named) is None
    assert (size.max_inputs, size.max_pairs, size.named) == (100, 500, {})


@pytest.mark.parametrize(
    "message",
    [
        HUBSPOT_MESSAGE.format(100),  # the request was within it: the refusal is about something else
        HUBSPOT_MESSAGE.format(0),
        "The maximum number of inputs supported in a batch is unknown",
        "One or more associations are invalid",
    ],
)
def test_learn_leaves_the_caps_when_the_maximum_does_not_explain_the_refusal(message: str) -> None:
    size = RequestSize(max_inputs=100, max_pairs=100)
    assert size.learn(Kind.ARCHIVE, [archive_row(n, 7, 8) for n in range(1, 41)], message) is None
    assert (size.max_inputs, size.max_pairs) == (100, 100)


@settings(max_examples=200, deadline=None)
@given(rows=archive_rows, max_inputs=st.integers(1, 12), max_pairs=st.integers(1, 80))
def test_split_keeps_every_pair_in_order_within_both_caps(
    rows: list[dict[str, Any]], max_inputs: int, max_pairs: int
) -> None:
    size = RequestSize(max_inputs, max_pairs)
    parts = size.split(Kind.ARCHIVE, rows)
    assert [p for part in parts for p in pairs_of(Kind.ARCHIVE, part)] == pairs_of(Kind.ARCHIVE, rows)
    assert all(size.fits(Kind.ARCHIVE, part) and part for part in parts)


def test_split_of_labels_inputs_counts_each_as_one_pair() -> None:
    inputs = [
        {"from": {"id": "1"}, "to": {"id": str(n)}, "types": [{"associationCategory": "USER_DEFINED"}] * 3}
        for n in range(5)
    ]
    assert [len(part) for part in RequestSize(4, 2).split(Kind.LABELS, inputs)] == [2, 2, 1]


@pytest.mark.parametrize(("max_inputs", "max_pairs"), [(0, 100), (1001, 100), (100, 0), (100, 10_001)])
def test_caps_out_of_range_are_refused(max_inputs: int, max_pairs: int) -> None:
    with pytest.raises(ValueError, match=r"batch_size|max_pairs_per_request"):
        RequestSize(max_inputs, max_pairs)


def test_a_resume_after_a_rechunk_skips_what_was_confirmed_and_counts_every_pair_once() -> None:
    """A try lowers its caps (HubSpot named a maximum), confirms 3 batches and dies; the retry starts
    from the configured caps and the checkpoint: nothing confirmed is sent again, nothing is lost."""
    parser = RowParser(Kind.ARCHIVE)
    rows = [(n, parser.parse(archive_row(n, 7, 8), n)) for n in range(1, 21)]

    def run(progress: Progress, stop_after: int | None, lower_to: int | None) -> list[tuple[str, str]]:
        size = RequestSize(max_inputs=4, max_pairs=100)
        pipeline = Pipeline(Kind.ARCHIVE, size, progress)
        sent: list[tuple[str, str]] = []
        for count, batch in enumerate(pipeline.batches(rows), start=1):
            if stop_after is not None and count > stop_after:
                break
            pairs = pairs_of(Kind.ARCHIVE, list(batch))
            sent += pairs
            pipeline.finish(batch, BatchResponse.from_answer(204, None, pairs))
            if lower_to is not None:
                size.max_inputs = lower_to  # what the sender does on HubSpot's "maximum ... is 2"
        return sent

    first = Progress.start("fp", 100)
    sent_first = run(first, stop_after=3, lower_to=2)
    second = Progress.from_json(json.loads(json.dumps(first.to_json())), 100)
    sent_second = run(second, stop_after=None, lower_to=None)

    second.tally.check()
    assert second.tally.received == second.tally.archived == 40
    assert not set(sent_first) & set(sent_second)  # whole rows confirmed: none sent again
    assert sorted(sent_first + sent_second) == sorted((str(n), t) for n in range(1, 21) for t in ("7", "8"))
