"""The hook's batches (the operators' pipeline) and split_inputs: requests of at most ``batch_size``
inputs and ``max_pairs_per_request`` pairs, no pair lost, none sent twice."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_hubspot_assoc.checked_batches import check_rows, checked_batches
from airflow_provider_hubspot_assoc.hubspot.isolation import split_inputs
from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.models import pairs_of
from airflow_provider_hubspot_assoc.request_size import RequestSize

record_ids = st.integers(min_value=1, max_value=40).map(str)  # few ids: repeated from ids are likely
archive_input = st.builds(
    lambda from_id, to_ids: {"from": {"id": from_id}, "to": [{"id": t} for t in to_ids]},
    record_ids,
    st.lists(record_ids, min_size=1, max_size=250),
)
label_input = st.builds(
    lambda from_id, to_id, type_id: {
        "from": {"id": from_id},
        "to": {"id": to_id},
        "types": [{"associationCategory": "USER_DEFINED", "associationTypeId": type_id}],
    },
    record_ids,
    record_ids,
    st.integers(min_value=1, max_value=500),
)


def batches(kind: Kind, inputs: list[dict[str, Any]], size: RequestSize | int) -> list[list[dict[str, Any]]]:
    """The requests the hook sends for ``inputs`` (batches holding only duplicates send nothing)."""
    return [list(batch) for batch in checked_batches(kind, check_rows(kind, inputs), size) if batch]


def removals(inputs: list[dict[str, Any]]) -> list[tuple[str, str, str, int]]:
    return [
        (i["from"]["id"], i["to"]["id"], t["associationCategory"], t["associationTypeId"])
        for i in inputs
        for t in i["types"]
    ]


@settings(max_examples=300, deadline=None)
@given(inputs=st.lists(archive_input, max_size=30), max_pairs=st.integers(min_value=1, max_value=150))
def test_archive_requests_never_exceed_the_pair_cap_and_send_every_pair_once(
    inputs: list[dict[str, Any]], max_pairs: int
) -> None:
    chunks = batches(Kind.ARCHIVE, inputs, RequestSize(100, max_pairs))
    sizes = [len(pairs_of(Kind.ARCHIVE, chunk)) for chunk in chunks]
    sent = [p for chunk in chunks for p in pairs_of(Kind.ARCHIVE, chunk)]

    assert all(1 <= size <= max_pairs for size in sizes)
    assert len(sent) == len(set(sent)) and set(sent) == set(pairs_of(Kind.ARCHIVE, inputs))
    assert all(item["to"] for chunk in chunks for item in chunk)  # no input with an empty ``to``


@settings(max_examples=100, deadline=None)
@given(pairs=st.integers(min_value=0, max_value=400), batch_size=st.integers(min_value=1, max_value=150))
def test_single_pair_rows_fill_every_request_but_the_last(pairs: int, batch_size: int) -> None:
    inputs = [{"from": {"id": str(n + 1)}, "to": [{"id": "7"}]} for n in range(pairs)]
    chunks = batches(Kind.ARCHIVE, inputs, RequestSize(batch_size, max_pairs=batch_size))
    sizes = [len(pairs_of(Kind.ARCHIVE, chunk)) for chunk in chunks]
    assert all(size == batch_size for size in sizes[:-1])  # greedy: only the last request is short
    assert len(sizes) == -(-pairs // batch_size) and sum(sizes) == pairs


@settings(max_examples=200, deadline=None)
@given(inputs=st.lists(label_input, max_size=60), batch_size=st.integers(min_value=1, max_value=25))
def test_label_requests_hold_at_most_batch_size_inputs_each_removal_sent_once(
    inputs: list[dict[str, Any]], batch_size: int
) -> None:
    chunks = batches(Kind.LABELS, inputs, batch_size)
    sent = [removal for chunk in chunks for removal in removals(chunk)]
    assert all(1 <= len(chunk) <= batch_size for chunk in chunks)  # an input: a pair with its types
    assert len(sent) == len(set(sent)) and set(sent) == set(removals(inputs))


def test_a_long_to_list_is_cut_across_requests() -> None:
    inputs = [
        {"from": {"id": "1"}, "to": [{"id": str(t)} for t in range(1, 251)]},
        {"from": {"id": "2"}, "to": [{"id": "7"}]},
    ]
    chunks = batches(Kind.ARCHIVE, inputs, 100)
    assert [[(i["from"]["id"], len(i["to"])) for i in chunk] for chunk in chunks] == [
        [("1", 100)],
        [("1", 100)],
        [("1", 50), ("2", 1)],
    ]


@settings(max_examples=200, deadline=None)
@given(inputs=st.lists(archive_input, min_size=1, max_size=12))
def test_split_inputs_halves_partition_the_pairs(inputs: list[dict[str, Any]]) -> None:
    first, second = split_inputs(Kind.ARCHIVE, inputs)
    halves = pairs_of(Kind.ARCHIVE, first) + pairs_of(Kind.ARCHIVE, second)
    assert sorted(halves) == sorted(pairs_of(Kind.ARCHIVE, inputs))
    assert abs(len(pairs_of(Kind.ARCHIVE, first)) - len(pairs_of(Kind.ARCHIVE, second))) <= 1
