"""The snapshot's pure parts: chunks of 1,000 from-ids, types removed, and the reader a restore uses."""

from __future__ import annotations

import json
from typing import Any

from airflow_provider_hubspot_assoc.batching import Batch
from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.row_parser import Removal
from airflow_provider_hubspot_assoc.snapshots import (
    SNAPSHOT_IDS,
    SnapshotTaker,
    is_live,
    session_of,
    void_keys,
)
from tests.snapshot_records import jsonl_records, table_records, types_by_pair

PRIMARY = {"category": "HUBSPOT_DEFINED", "typeId": 1, "label": "Primary"}
PLAIN = {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None}
BILLING = {"category": "USER_DEFINED", "typeId": 9, "label": "Billing"}


def batch(removals: list[Removal]) -> Batch:
    made = Batch(Kind.ARCHIVE)
    made.removals = removals
    return made


def test_reads_go_by_1000_from_ids_and_every_batch_comes_after_its_records() -> None:
    reads: list[list[str]] = []
    written: list[int] = []
    events: list[str] = []

    def read(ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        reads.append(ids)
        return {i: [{"toObjectId": "7", "associationTypes": [PLAIN]}] for i in ids}

    def sink(records: list[dict[str, Any]]) -> None:
        written.append(len(records))
        events.append("written")

    batches = [
        batch([Removal(n * 100 + i + 1, str(n * 100 + i + 1), "7") for i in range(100)]) for n in range(25)
    ]
    absent: set[Any] = set()
    taker = SnapshotTaker(Kind.ARCHIVE, ("contacts", "companies"), read, sink, {}, absent)
    for _ in taker.batches(batches):
        events.append("sent")

    assert [len(ids) for ids in reads] == [1000, 1000, 500]
    assert max(len(ids) for ids in reads) <= SNAPSHOT_IDS
    assert written == [1000, 1000, 500] and not absent
    assert events[:11] == ["written"] + ["sent"] * 10


def test_a_label_removal_records_only_its_label_and_a_missing_one_is_absent() -> None:
    current = {"1": [{"toObjectId": "7", "associationTypes": [PLAIN, PRIMARY, BILLING]}]}
    absent: set[Any] = set()
    taker = SnapshotTaker(Kind.LABELS, ("contacts", "companies"), lambda ids: current, None, {}, absent)
    records = taker.take(
        [Removal(1, "1", "7", "USER_DEFINED", 9, "Billing"), Removal(2, "1", "7", "USER_DEFINED", 10)],
        current,
    )
    assert [r["types"] for r in records] == [[BILLING]]
    assert absent == {(2, "1", "7", 10)}


def test_removing_the_unlabeled_type_records_every_label_it_takes_with_it() -> None:
    """HubSpot: deleting an unlabeled association deletes its labels too, so all of them are recorded
    (a restore of only the unlabeled type would lose them)."""
    current = {"1": [{"toObjectId": "7", "associationTypes": [PLAIN, PRIMARY, BILLING]}]}
    absent: set[Any] = set()
    taker = SnapshotTaker(Kind.LABELS, ("contacts", "companies"), lambda ids: current, None, {}, absent)
    records = taker.take([Removal(1, "1", "7", "HUBSPOT_DEFINED", 279)], current)
    assert [r["types"] for r in records] == [[PLAIN, PRIMARY, BILLING]]
    assert not absent


def test_a_retry_that_finds_a_pair_gone_keeps_what_the_earlier_try_recorded() -> None:
    absent: set[Any] = set()
    earlier = {(1, "1", "7", None): [PLAIN, BILLING]}
    taker = SnapshotTaker(Kind.ARCHIVE, ("contacts", "companies"), lambda ids: {}, None, earlier, absent)
    taker.take([Removal(1, "1", "7")], {"1": []})
    assert not absent  # removed by the earlier try: not already absent
    outcome = {
        "row_number": 1,
        "from_id": "1",
        "to_id": "7",
        "association_type_id": None,
        "outcome": "archived",
    }
    assert taker.types_of(outcome) == [PLAIN, BILLING]


def test_the_reader_unites_every_record_of_a_pair_and_filters_by_task_instance() -> None:
    line = {
        "run_id": "r1",
        "dag_id": "d",
        "task_id": "t",
        "map_index": -1,
        "from_type": "0-1",
        "to_type": "0-2",
    }
    lines = [
        json.dumps({**line, "from_id": "1", "to_id": "7", "types": [PLAIN, BILLING]}),
        json.dumps({**line, "from_id": "1", "to_id": "7", "types": []}),  # a retry found it gone
        json.dumps({**line, "from_id": "1", "to_id": "7", "types": [PLAIN]}),  # recorded twice
        "",
        json.dumps({**line, "run_id": "r2", "from_id": "2", "to_id": "7", "types": [PLAIN]}),
    ]
    assert types_by_pair(jsonl_records(lines), run_id="r1") == {("0-1", "0-2", "1", "7"): [PLAIN, BILLING]}
    assert set(types_by_pair(jsonl_records(lines))) == {("0-1", "0-2", "1", "7"), ("0-1", "0-2", "2", "7")}

    rows = [
        {**line, "from_id": "1", "to_id": "7", "outcome": "archived", "types": json.dumps([PRIMARY])},
        {**line, "from_id": "1", "to_id": "7", "outcome": "snapshot", "types": json.dumps([BILLING])},
        {**line, "from_id": "3", "to_id": "7", "outcome": "failed", "types": None},
        {
            **line,
            "map_index": 2,
            "from_id": "4",
            "to_id": "7",
            "outcome": "archived",
            "types": json.dumps([PLAIN]),
        },
    ]
    found = types_by_pair(
        table_records(rows, ("contacts", "companies")), dag_id="d", task_id="t", map_index=-1
    )
    assert found == {("contacts", "companies", "1", "7"): [PRIMARY, BILLING]}


def test_a_failed_removal_voids_its_record_and_only_that_sessions_record() -> None:
    """HubSpot proved the removal of (1, 7) not carried out: this try's record of it is voided, so a
    retry's re-read (and a restore) no longer count the types it recorded. A removal that was never
    recorded here, or was carried out, gets no void."""
    voids: list[list[dict[str, Any]]] = []
    current = {"1": [{"toObjectId": "7", "associationTypes": [PLAIN, BILLING]}]}
    taker = SnapshotTaker(Kind.ARCHIVE, ("0-1", "0-2"), lambda ids: {}, None, {}, set(), voids.append)
    failed, other = Removal(1, "1", "7"), Removal(2, "2", "7")
    taker.take([failed, other], current)

    taker.void(failed)
    taker.void(other)  # nothing recorded for it: nothing to void
    taker.void(failed)  # voided once
    taker.flush_voids()

    assert len(voids) == 1 and len(voids[0]) == 1
    (void,) = voids[0]
    assert void["void"] is True and void["types"] == []
    assert (void["row_number"], void["from_id"], void["to_id"]) == (1, "1", "7")


def test_a_session_s_void_drops_its_own_records_of_the_removal_and_no_others() -> None:
    recorded = json.dumps({"row_number": 1, "from_id": "1", "to_id": "7", "types": [BILLING]}).encode()
    void = json.dumps({"row_number": 1, "from_id": "1", "to_id": "7", "types": [], "void": True}).encode()
    other = json.dumps({"row_number": 2, "from_id": "2", "to_id": "7", "types": [PLAIN]}).encode()
    named_void = json.dumps({"row_number": 3, "from_id": "3", "to_id": "7", "types": [], "label": "void"})

    voided = void_keys([recorded, void, other, named_void.encode()], "try-1-0badf11e")["try-1-0badf11e"]

    assert voided == {(1, "1", "7", None)}
    assert [is_live(line, voided) for line in (recorded, void, other)] == [False, False, True]
    assert is_live(recorded, set())  # another session's void does not reach this record
    assert is_live(b"not json", voided)  # the reader names what it cannot read
    assert session_of("try-2-0badf11e-000003.jsonl") == "try-2-0badf11e"


def test_a_void_drops_the_records_of_the_earlier_sessions_it_names() -> None:
    """A removal an earlier session of the try sent, read back by this one (after a deferral)."""
    void = {"row_number": 1, "from_id": "1", "to_id": "7", "types": [], "void": True}
    named = json.dumps({**void, "void_sessions": ["try-1-aaaaaaaa"]}).encode()

    voided = void_keys([named], "try-1-bbbbbbbb")

    assert voided == {"try-1-bbbbbbbb": {(1, "1", "7", None)}, "try-1-aaaaaaaa": {(1, "1", "7", None)}}


def test_a_void_reaches_the_try_s_earlier_sessions_only_when_the_pair_was_still_there() -> None:
    """Sessions of the try before a deferral recorded (1, 7) and (2, 7). Read back still there (not
    taken again here), (1, 7)'s void drops their records too. (2, 7) is taken again and read gone:
    an earlier session may have removed it (a row resent whole), so its failure here voids nothing."""
    voids: list[list[dict[str, Any]]] = []
    earlier = {(1, "1", "7", None): [PLAIN], (2, "2", "7", None): [PLAIN]}
    taker = SnapshotTaker(Kind.ARCHIVE, ("0-1", "0-2"), lambda ids: {}, None, earlier, set(), voids.append)
    taker.sent_before = {(1, "1", "7", None): {"try-1-aaaaaaaa"}, (2, "2", "7", None): {"try-1-aaaaaaaa"}}
    read_back, resent = Removal(1, "1", "7"), Removal(2, "2", "7")
    taker.take([resent], {})

    taker.void(read_back)
    taker.void(resent)
    taker.flush_voids()

    assert [(v["row_number"], v["void_sessions"]) for v in voids[0]] == [(1, ["try-1-aaaaaaaa"])]


def test_with_no_read_a_void_reaches_only_the_try_s_sessions_before_a_deferral() -> None:
    """A mirror going on with its plan reads nothing: a deletion a killed try (try 1) may have carried
    out keeps that try's record when it fails here; this try's session before a deferral does not."""
    voids: list[list[dict[str, Any]]] = []
    earlier = {(1, "1", "7", None): [PLAIN]}
    taker = SnapshotTaker(Kind.ARCHIVE, ("0-1", "0-2"), lambda ids: {}, None, earlier, set(), voids.append)
    taker.sent_before = {(1, "1", "7", None): {"try-1-aaaaaaaa", "try-2-bbbbbbbb"}}
    taker.reads_current, taker.try_prefix = False, "try-2-"
    resent = Removal(1, "1", "7")
    taker.take([resent], {})

    taker.void(resent)
    taker.flush_voids()

    assert [v["void_sessions"] for v in voids[0]] == [["try-2-bbbbbbbb"]]


def test_a_run_that_writes_no_outcome_rows_keeps_no_types_per_removal() -> None:
    """With files and no results table nothing asks a removal's types after its outcome: keeping them
    would grow with every removal of a million-row run."""
    current = {str(i): [{"toObjectId": "7", "associationTypes": [PLAIN]}] for i in range(1, 101)}
    removals = [Removal(i, str(i), "7") for i in range(1, 101)]
    taker = SnapshotTaker(Kind.ARCHIVE, ("0-1", "0-2"), lambda ids: {}, None, {}, set())
    taker.outcome_types = False

    records = taker.take(removals, current)

    assert len(records) == 100
    assert taker.pending == {}
