"""Property: any mix of valid, invalid, duplicate and unknown-record rows, in any shape and any batch
size, puts every row in exactly one bucket, with the counts an independent model predicts.

The pure half of ``test_every_row_lands_in_exactly_one_bucket`` (which runs the operator with
``dag.test()`` against the simulator): here the parser, the duplicate check, the batcher and the
bucket tally take many more examples, with HubSpot's answers built the way it words them (204, or
207 naming each unknown record in ``context.fromObjectId``).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.models import BatchResponse
from airflow_provider_hubspot_assoc.progress import Pipeline, Progress
from airflow_provider_hubspot_assoc.row_parser import RowParser

KNOWN = [str(100 + i) for i in range(6)]
UNKNOWN = ["990001", "990002"]  # records HubSpot does not have: their pairs fail
TARGETS = [str(5000 + i) for i in range(3)]
INVALID = ["abc", "-4", "0", "", None, 1.5, "12 34", True]

valid_id = st.sampled_from(KNOWN + UNKNOWN)
row = st.one_of(
    st.tuples(valid_id, st.sampled_from(TARGETS)).map(list),
    st.tuples(valid_id, st.sampled_from(TARGETS)).map(lambda p: {"from_id": p[0], "to_id": p[1]}),
    st.tuples(valid_id, st.sampled_from(TARGETS)).map(lambda p: [int(p[0]), p[1]]),
    st.tuples(valid_id, st.lists(st.sampled_from(TARGETS), min_size=1, max_size=3)).map(
        lambda p: {"from": {"id": p[0]}, "to": [{"id": t} for t in p[1]]}
    ),
    st.tuples(st.sampled_from(INVALID), st.sampled_from(TARGETS)).map(list),
    st.tuples(valid_id, st.sampled_from(INVALID)).map(lambda p: {"from_id": p[0], "to_id": p[1]}),
)


def model(rows: list[Any]) -> dict[str, int]:
    """Counts by the rules, independently of the code: a row with a bad id is one rejection; each
    pair is archived once (its repeats are duplicates), unless its record is unknown (failed)."""
    counts = {"received": 0, "archived": 0, "rejected": 0, "failed": 0, "duplicates": 0}
    seen: set[tuple[str, str]] = set()
    for raw in rows:
        if isinstance(raw, dict) and "from" in raw:
            pairs = [(raw["from"]["id"], target["id"]) for target in raw["to"]]
        elif isinstance(raw, dict):
            pairs = [(raw["from_id"], raw["to_id"])]
        else:
            pairs = [(raw[0], raw[1])]
        if not all(valid(f) and valid(t) for f, t in pairs):
            counts["received"] += 1
            counts["rejected"] += 1
            continue
        for from_id, to_id in pairs:
            pair = (str(from_id), to_id)
            counts["received"] += 1
            if pair in seen:
                counts["duplicates"] += 1
            else:
                seen.add(pair)
                counts["failed" if pair[0] in UNKNOWN else "archived"] += 1
    return counts


def valid(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or value in KNOWN + UNKNOWN + TARGETS


def hubspot_answer(batch: list[dict[str, Any]]) -> BatchResponse:
    """204, or 207 with one error per unknown record, as HubSpot answers an archive request."""
    pairs = [(item["from"]["id"], target["id"]) for item in batch for target in item["to"]]
    unknown = sorted({f for f, _ in pairs if f in UNKNOWN})
    if not unknown:
        return BatchResponse.from_answer(204, None, pairs)
    errors = [
        {"status": "error", "category": "OBJECT_NOT_FOUND", "message": "no such record"}
        | {"context": {"fromObjectId": [from_id]}}
        for from_id in unknown
    ]
    body = {"status": "COMPLETE", "results": [], "numErrors": len(errors), "errors": errors}
    return BatchResponse.from_answer(207, body, pairs)


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(row, max_size=40), batch_size=st.integers(min_value=1, max_value=7))
def test_every_row_lands_in_exactly_one_bucket(rows: list[Any], batch_size: int) -> None:
    parser = RowParser(Kind.ARCHIVE)
    progress = Progress.start("fp", 100)
    pipeline = Pipeline(Kind.ARCHIVE, batch_size, progress)
    parsed = ((number, parser.parse(raw, number)) for number, raw in enumerate(rows, start=1))
    for batch in pipeline.batches(parsed):
        pipeline.finish(batch, hubspot_answer(batch) if batch else None)

    tally = progress.tally
    tally.check()  # every row in exactly one bucket
    assert {bucket: getattr(tally, bucket) for bucket in model(rows)} == model(rows)
    assert progress.rows_done == len(rows) or not rows
