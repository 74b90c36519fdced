"""chunk_inputs and split_inputs: requests of at most ``batch_size`` pairs, no pair lost or doubled."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_hubspot_assoc.client import (
    chunk_inputs,
    pairs_of,
    split_inputs,
)
from airflow_provider_hubspot_assoc.kinds import Kind

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


@settings(max_examples=300, deadline=None)
@given(inputs=st.lists(archive_input, max_size=30), batch_size=st.integers(min_value=1, max_value=150))
def test_archive_chunks_never_exceed_the_batch_size_and_keep_every_pair_once(
    inputs: list[dict[str, Any]], batch_size: int
) -> None:
    chunks = list(chunk_inputs(Kind.ARCHIVE, inputs, batch_size))
    sizes = [len(pairs_of(Kind.ARCHIVE, chunk)) for chunk in chunks]

    assert all(1 <= size <= batch_size for size in sizes)
    assert all(size == batch_size for size in sizes[:-1])  # greedy: only the last request is short
    assert [p for chunk in chunks for p in pairs_of(Kind.ARCHIVE, chunk)] == pairs_of(Kind.ARCHIVE, inputs)
    assert all(item["to"] for chunk in chunks for item in chunk)  # no input with an empty ``to``
    total = len(pairs_of(Kind.ARCHIVE, inputs))
    assert len(chunks) == -(-total // batch_size)


@settings(max_examples=200, deadline=None)
@given(inputs=st.lists(label_input, max_size=60), batch_size=st.integers(min_value=1, max_value=25))
def test_label_chunks_hold_at_most_batch_size_inputs_in_order(
    inputs: list[dict[str, Any]], batch_size: int
) -> None:
    chunks = list(chunk_inputs(Kind.LABELS, inputs, batch_size))
    assert all(1 <= len(chunk) <= batch_size for chunk in chunks)
    assert [item for chunk in chunks for item in chunk] == inputs


def test_a_long_to_list_is_cut_across_requests() -> None:
    inputs = [
        {"from": {"id": "1"}, "to": [{"id": str(t)} for t in range(1, 251)]},
        {"from": {"id": "2"}, "to": [{"id": "7"}]},
    ]
    chunks = list(chunk_inputs(Kind.ARCHIVE, inputs, 100))
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
