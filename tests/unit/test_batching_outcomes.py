"""Deduplication, request filling, bucket accounting and row spooling (pure logic)."""

from __future__ import annotations

import io
import json
import sqlite3
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_hubspot_assoc import batching
from airflow_provider_hubspot_assoc.batching import Batcher, Deduplicator
from airflow_provider_hubspot_assoc.outcomes import RowSpool, Tally
from airflow_provider_hubspot_assoc.request_size import DEFAULT_MAX_PAIRS
from airflow_provider_hubspot_assoc.row_parser import Removal


def test_deduplicator_is_exact_for_pairs_and_labels() -> None:
    dedupe = Deduplicator()
    assert not dedupe.is_duplicate(Removal(1, "1", "23"))
    assert not dedupe.is_duplicate(Removal(2, "12", "3"))  # no collision between 1|23 and 12|3
    assert dedupe.is_duplicate(Removal(3, "1", "23"))
    assert not dedupe.is_duplicate(Removal(4, "1", "23", "USER_DEFINED", 5))
    assert not dedupe.is_duplicate(Removal(5, "1", "23", "HUBSPOT_DEFINED", 5))
    assert dedupe.is_duplicate(Removal(6, "1", "23", "USER_DEFINED", 5))
    assert not dedupe.is_duplicate(Removal(7, "99999999999999999999", "99999999999999999999"))
    assert len(dedupe) == 5


@given(
    st.lists(st.tuples(st.integers(1, 30), st.integers(1, 30)), max_size=300),
    st.integers(1, 100),
)
def test_batcher_groups_by_from_id_and_never_exceeds_the_caps(
    pairs: list[tuple[int, int]], batch_size: int
) -> None:
    batcher = Batcher("archive", batch_size)
    batches = [b for b in (batcher.add(Removal(i, str(f), str(t))) for i, (f, t) in enumerate(pairs)) if b]
    last = batcher.flush()
    batches += [last] if last else []
    sent = [(item["from"]["id"], to["id"]) for batch in batches for item in batch for to in item["to"]]
    assert sorted(sent) == sorted((str(f), str(t)) for f, t in pairs)
    for batch in batches:
        assert sum(len(item["to"]) for item in batch) == len(batch.removals) <= DEFAULT_MAX_PAIRS
        from_ids = [item["from"]["id"] for item in batch]
        assert len(from_ids) == len(set(from_ids)) <= batch_size  # one input per from id


def test_label_batches_group_types_by_pair() -> None:
    batcher = Batcher("labels", 10)
    for row, type_id in enumerate((1, 28, 1)):
        batcher.add(Removal(row, "1", "2" if row < 2 else "3", "USER_DEFINED", type_id))
    batch = batcher.flush()
    assert batch == [
        {
            "from": {"id": "1"},
            "to": {"id": "2"},
            "types": [
                {"associationCategory": "USER_DEFINED", "associationTypeId": 1},
                {"associationCategory": "USER_DEFINED", "associationTypeId": 28},
            ],
        },
        {
            "from": {"id": "1"},
            "to": {"id": "3"},
            "types": [{"associationCategory": "USER_DEFINED", "associationTypeId": 1}],
        },
    ]


def test_tally_check_catches_a_lost_row() -> None:
    tally = Tally(received=3, archived=1, failed=1, rejected=1)
    tally.check()
    tally.received += 1
    with pytest.raises(RuntimeError, match="do not add up"):
        tally.check()


def test_row_spool_keeps_a_head_and_spills_everything_to_a_file() -> None:
    spool = RowSpool("failed", keep=2)
    for i in range(5):
        spool.add({"row": i})
    assert spool.count == 5 and spool.head == [{"row": 0}, {"row": 1}] and spool.overflowed
    out = io.BytesIO()
    spool.copy_to(out)
    assert [json.loads(line)["row"] for line in out.getvalue().splitlines()] == [0, 1, 2, 3, 4]
    spool.close()


def test_deduplicator_spills_to_disk_and_stays_exact() -> None:
    dedupe = Deduplicator(max_in_memory=10)
    removals = [Removal(i, str(1 + i % 25), str(7 + i % 25)) for i in range(100)]
    flags = [dedupe.is_duplicate(r) for r in removals]
    assert flags == [i >= 25 for i in range(100)]
    assert len(dedupe) == 25
    dedupe.close()


def test_deduplicator_spills_in_batches_not_one_insert_per_row(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"insert": 0, "batches": 0}

    class Counting(sqlite3.Connection):
        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
            calls["insert"] += "INSERT" in sql.upper()
            return super().execute(sql, *args)

        def executemany(self, sql: str, *args: Any) -> sqlite3.Cursor:
            calls["batches"] += 1
            return super().executemany(sql, *args)

    real_connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: real_connect(*a, factory=Counting, **k))
    dedupe = Deduplicator(max_in_memory=100)
    removals = [Removal(i, str(1 + i % 3_000), str(7 + i % 5_000)) for i in range(15_000)]
    flags = [dedupe.is_duplicate(r) for r in removals]
    dedupe.close()

    # 15,000 distinct pairs repeat after lcm(3,000, 5,000) = 15,000 rows: none is a duplicate ...
    assert not any(flags) and len(dedupe) == 15_000
    # ... and the disk took them 100 at a time: one statement per spill, not one per row.
    assert 0 < calls["insert"] + calls["batches"] <= 15_000 // 100 + 1
    again = Deduplicator(max_in_memory=100)
    assert [again.is_duplicate(r) for r in removals + removals[::-1]] == [False] * 15_000 + [True] * 15_000
    again.close()


def test_batcher_batch_size_counts_inputs_not_pairs() -> None:
    """``batch_size`` counts HubSpot inputs: a from id with its to ids is one (issue 14)."""
    batcher = Batcher("archive", 2)
    pairs = [("1", "10"), ("1", "11"), ("1", "12"), ("2", "20"), ("3", "30")]
    closed = [batcher.add(Removal(row, f, t)) for row, (f, t) in enumerate(pairs, start=1)]
    batches = [b for b in [*closed, batcher.flush()] if b]
    shapes = [[(i["from"]["id"], len(i["to"])) for i in b] for b in batches]
    assert shapes == [[("1", 3), ("2", 1)], [("3", 1)]]


def test_a_spill_in_many_statements_keeps_every_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """A spill is cut into statements of SPILL_CHUNK keys: none is lost at a cut, none added."""
    monkeypatch.setattr(batching, "SPILL_CHUNK", 7)
    dedupe = Deduplicator(max_in_memory=100)
    removals = [Removal(i, str(1 + i % 450), str(7 + i % 450)) for i in range(900)]
    typed = [Removal(i, "5", "6", "USER_DEFINED", 1 + i % 30) for i in range(60)]
    flags = [dedupe.is_duplicate(r) for r in removals + typed]
    assert flags == [i >= 450 for i in range(900)] + [i >= 30 for i in range(60)]
    assert dedupe._disk is not None
    assert dedupe._disk.execute("SELECT COUNT(*) FROM seen").fetchone()[0] == 400  # 4 spills of 100
    dedupe.close()
