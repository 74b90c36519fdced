"""Resuming from a checkpoint: nothing skipped, nothing counted twice, spill files not repeated."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.models import BatchResponse
from airflow_provider_hubspot_assoc.outcomes import RowSpool
from airflow_provider_hubspot_assoc.progress import Pipeline, Progress, fingerprint
from airflow_provider_hubspot_assoc.request_size import RequestSize
from airflow_provider_hubspot_assoc.row_parser import Rejection, Removal, RowParser


def parsed(rows: list[Any]) -> list[tuple[int, list[Removal] | Rejection]]:
    parser = RowParser(Kind.ARCHIVE)
    return [(number, parser.parse(row, number)) for number, row in enumerate(rows, start=1)]


def sent_pairs(batch: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(item["from"]["id"], target["id"]) for item in batch for target in item["to"]]


def run(
    rows: list[Any], progress: Progress, size: RequestSize | int, stop_after: int | None = None
) -> list[str]:
    """Confirm batches (every pair archived) until ``stop_after`` batches; return what was sent."""
    pipeline = Pipeline(Kind.ARCHIVE, size, progress)
    sent: list[str] = []
    for count, batch in enumerate(pipeline.batches(parsed(rows)), start=1):
        if stop_after is not None and count > stop_after:
            break
        pairs = sent_pairs(batch)
        sent += [f"{f}-{t}" for f, t in pairs]
        pipeline.finish(batch, BatchResponse.from_answer(204, None, pairs) if batch else None)
    return sent


def test_batches_are_confirmed_in_the_order_they_were_made() -> None:
    """The sender yields batches in the order they were made: one finished ahead of an earlier one is
    a bug to report, not something to hold back until the earlier one comes."""
    pipeline = Pipeline(Kind.ARCHIVE, 1, Progress.start("fp", 100))
    first, second = list(pipeline.batches(parsed([["1", "10"], ["2", "20"]])))

    with pytest.raises(RuntimeError, match="out of order"):
        pipeline.finish(second, BatchResponse.from_answer(204, None, sent_pairs(second)))

    pipeline.finish(first, BatchResponse.from_answer(204, None, sent_pairs(first)))
    pipeline.finish(second, BatchResponse.from_answer(204, None, sent_pairs(second)))
    assert pipeline.progress.rows_done == 2


def resumed(progress: Progress) -> Progress:
    return Progress.from_json(json.loads(json.dumps(progress.to_json())), 100)


def test_a_row_split_across_batches_is_not_skipped_by_a_resume() -> None:
    rows = [{"from": {"id": "1"}, "to": [{"id": "10"}, {"id": "11"}, {"id": "12"}]}, ["2", "20"]]
    first = Progress.start("fp", 100)
    run(rows, first, RequestSize(2, max_pairs=2), stop_after=1)  # the first batch: 2 of row 1's 3 pairs

    second = resumed(first)
    sent_again = run(rows, second, RequestSize(2, max_pairs=2))

    second.tally.check()
    assert (second.tally.received, second.tally.archived) == (4, 4)
    assert set(sent_again) == {"1-10", "1-11", "1-12", "2-20"}  # row 1 is sent again, whole


@settings(max_examples=60, deadline=None)
@given(
    targets=st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=12),
    batch_size=st.integers(min_value=1, max_value=5),
    stop_after=st.integers(min_value=0, max_value=10),
)
def test_any_stop_and_resume_counts_every_pair_exactly_once(
    targets: list[int], batch_size: int, stop_after: int
) -> None:
    rows = [
        {"from": {"id": str(100 + n)}, "to": [{"id": str(5000 + k)} for k in range(count)]}
        for n, count in enumerate(targets)
    ]
    first = Progress.start("fp", 100)
    size = RequestSize(batch_size, max_pairs=batch_size)  # rows of more to ids than this are split
    sent_first = run(rows, first, size, stop_after)

    second = resumed(first)
    sent_second = run(rows, second, size)

    second.tally.check()
    assert second.tally.received == second.tally.archived == sum(targets)
    assert set(sent_first) | set(sent_second) == {
        f"{100 + n}-{5000 + k}" for n, count in enumerate(targets) for k in range(count)
    }
    assert max(Counter(sent_first + sent_second).values()) <= 2  # each pair at most once more
    if max(targets) <= batch_size:  # rows that fit in a request are never split: nothing re-sent
        assert len(sent_first) + len(sent_second) == sum(targets)


def test_a_resumed_spool_cuts_off_rows_written_after_the_checkpoint(tmp_path: Path) -> None:
    spool = RowSpool("failed", keep=1)
    for row in range(1, 4):
        spool.add({"row": row})
    state = json.loads(json.dumps(spool.to_state()))  # the checkpoint: 3 rows
    spool.add({"row": 4})  # written after the checkpoint; the try then dies
    assert spool._file is not None
    spool._file.flush()

    again = RowSpool.from_state("failed", 1, state)
    again.add({"row": 4})
    copied = tmp_path / "rows.jsonl"
    with copied.open("wb") as handle:
        again.copy_to(handle)

    assert [json.loads(line)["row"] for line in copied.read_text().splitlines()] == [1, 2, 3, 4]
    assert again.count == 4
    again.close()


def test_a_fingerprint_takes_dict_keys_that_are_not_strings() -> None:
    odd = [{1: "2", "from_id": 3, "to_id": 4}, {1: 2}]
    assert fingerprint("archive", odd) == fingerprint("archive", [{"from_id": 3, 1: "2", "to_id": 4}, {1: 2}])
    assert fingerprint("archive", odd) != fingerprint(
        "archive", [{"1": "2", "from_id": 3, "to_id": 4}, {1: 2}]
    )
    assert fingerprint("archive", [{"a": 1}]) == fingerprint("archive", [{"a": 1}])


def described(batches: list[Any]) -> list[tuple[Any, ...]]:
    """Everything a batch carries that the run reads: inputs, removals, ledger and row bounds."""
    return [
        (
            batch.seq,
            list(batch),
            batch.removals,
            batch.duplicate_removals,
            batch.rejections,
            batch.last_row,
            batch.mid_row,
        )
        for batch in batches
    ]


ROW = st.one_of(
    st.tuples(st.integers(1, 4), st.integers(1, 4)),  # a plain pair, often a duplicate
    st.fixed_dictionaries({"from_id": st.integers(1, 4), "to_id": st.integers(1, 4)}),
    st.tuples(st.sampled_from(["1", " 2 ", "x", 0, True, 2.0, -3]), st.integers(1, 4)),  # odd ids
    st.builds(
        lambda f, tos: {"from": {"id": str(f)}, "to": [{"id": str(t)} for t in tos]},
        st.integers(1, 4),
        st.lists(st.integers(1, 4), min_size=1, max_size=4),
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(ROW, max_size=30),
    batch_size=st.integers(min_value=1, max_value=4),
    max_pairs=st.integers(min_value=1, max_value=5),
    done=st.integers(min_value=0, max_value=10),
)
def test_the_fast_path_makes_the_very_batches_of_the_checked_rows(
    rows: list[Any], batch_size: int, max_pairs: int, done: int
) -> None:
    """Rows of one plain pair skip the parser and ``_feed`` (``entry_batches``): same batches, same
    duplicates and rejections, same row bounds, on a fresh and on a resumed run."""
    from airflow_provider_hubspot_assoc.row_checks import KeptRows, entries

    parser = RowParser(Kind.ARCHIVE)

    def made(source: str) -> list[tuple[Any, ...]]:
        progress = Progress.start("fp", 100)
        progress.rows_done = done
        pipeline = Pipeline(Kind.ARCHIVE, RequestSize(batch_size, max_pairs), progress)
        if source == "checked":
            return described(list(pipeline.batches(parsed(rows))))
        if source == "entries":
            return described(list(pipeline.entry_batches(entries(rows, parser))))
        kept = KeptRows()
        kept.check(rows, parser)
        return described(list(pipeline.entry_batches(kept.entries())))

    expected = made("checked")
    assert made("entries") == expected
    assert made("kept") == expected
