"""Property: for any mix of valid, invalid, duplicate and unknown-record rows, every row lands in
exactly one bucket, the counts match an independent model, and HubSpot's final state is exact."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator
from tests.airflow_helpers import run_dag, set_rows, use_simulator

CONTACTS = [str(100 + i) for i in range(12)]
COMPANIES = [str(5000 + i) for i in range(4)]
UNKNOWN_CONTACTS = ["990001", "990002"]
INVALID_IDS = ["abc", "-4", "0", "", None, 1.5, "12 34", True]

valid_pair = st.tuples(st.sampled_from(CONTACTS), st.sampled_from(COMPANIES))
unknown_pair = st.tuples(st.sampled_from(UNKNOWN_CONTACTS), st.sampled_from(COMPANIES))
invalid_pair = st.one_of(
    st.tuples(st.sampled_from(INVALID_IDS), st.sampled_from(COMPANIES)),
    st.tuples(st.sampled_from(CONTACTS), st.sampled_from(INVALID_IDS)),
)
as_row = st.sampled_from(["dict", "tuple", "native", "int"])
rows_strategy = st.lists(
    st.tuples(st.one_of(valid_pair, valid_pair, unknown_pair, invalid_pair), as_row), min_size=0, max_size=60
)


def render(pair: tuple[Any, Any], shape: str) -> Any:
    from_id, to_id = pair
    if shape == "dict":
        return {"from_id": from_id, "to_id": to_id}
    if shape == "native":
        return {"from": {"id": from_id}, "to": [{"id": to_id}]}
    if shape == "int" and isinstance(from_id, str) and from_id.isdigit():
        return [int(from_id), to_id]
    return [from_id, to_id]


def valid(value: Any) -> bool:
    return isinstance(value, str) and value.isdigit() and value != "0" and not isinstance(value, bool)


def model(pairs: list[tuple[Any, Any]]) -> tuple[dict[str, int], set[tuple[str, str]]]:
    counts = {"received": len(pairs), "archived": 0, "rejected": 0, "failed": 0, "duplicates": 0}
    seen: set[tuple[str, str]] = set()
    archived: set[tuple[str, str]] = set()
    for from_id, to_id in pairs:
        if not (valid(from_id) and valid(to_id)):
            counts["rejected"] += 1
        elif (from_id, to_id) in seen:
            counts["duplicates"] += 1
        else:
            seen.add((from_id, to_id))
            if from_id in UNKNOWN_CONTACTS:
                counts["failed"] += 1
            else:
                counts["archived"] += 1
                archived.add((from_id, to_id))
    return counts, archived


@pytest.mark.hubspot_simulator(unknown_record="error")  # unknown records fail with 207 (default: no-op)
@pytest.mark.usefixtures("airflow_db")
# Each example is a whole DAG run; tests/unit/test_row_buckets.py checks the same property of the
# parser, batcher and tally with hundreds of examples.
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=rows_strategy)
def test_every_row_lands_in_exactly_one_bucket(
    drawn: list[tuple[tuple[Any, Any], str]],
    hubspot_simulator: HubSpotSimulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sim = hubspot_simulator
    sim.reset()
    initial = {(c, k) for c in CONTACTS for k in COMPANIES if (int(c) + int(k)) % 3}
    for from_id, to_id in initial:
        sim.state.associate("contacts", from_id, "companies", to_id)
    pairs = [pair for pair, _ in drawn]
    use_simulator(monkeypatch, sim)
    set_rows(monkeypatch, [render(pair, shape) for pair, shape in drawn])

    summary = run_dag("t_xcom_archive").xcom("archive")["summary"]

    expected, archived = model(pairs)
    assert {k: summary[k] for k in expected} == expected
    assert summary["received"] == sum(
        summary[b] for b in ("archived", "rejected", "failed", "duplicates", "planned")
    )
    assert sim.state.pairs("contacts", "companies") == initial - archived
