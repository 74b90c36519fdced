"""A create (what a restore sends) fills the same buckets as a removal, named ``restored``, and reads
back the other way round: present is done, absent failed."""

from __future__ import annotations

from typing import Any

from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.models import BatchResponse
from airflow_provider_hubspot_assoc.outcomes import OutcomeRecord, Tally, record_fields
from airflow_provider_hubspot_assoc.progress import Pipeline, Progress
from airflow_provider_hubspot_assoc.reporting import bucket_table
from airflow_provider_hubspot_assoc.row_parser import RowParser
from airflow_provider_hubspot_assoc.verification import error_ratio

UNLABELED = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}
BILLING = {"associationCategory": "USER_DEFINED", "associationTypeId": 36}


def create_rows() -> list[dict[str, Any]]:
    """Three pairs: one with a label beside the unlabeled type, two unlabeled only."""
    return [
        {"from": {"id": "1"}, "to": {"id": "10"}, "types": [UNLABELED, BILLING]},
        {"from": {"id": "2"}, "to": {"id": "20"}, "types": [UNLABELED]},
        {"from": {"id": "3"}, "to": {"id": "30"}, "types": [UNLABELED]},
    ]


PAIRS = [("1", "10"), ("2", "20"), ("3", "30")]


def one_batch(records: list[OutcomeRecord]) -> tuple[Pipeline, Any]:
    """A create pipeline over ``create_rows()``, its one batch (a pair's types in one input)."""
    parser = RowParser(Kind.CREATE)
    rows = [(n, parser.parse(row, n)) for n, row in enumerate(create_rows(), start=1)]
    pipeline = Pipeline(Kind.CREATE, 100, Progress.start("fp", 100, Kind.CREATE), on_outcomes=records.extend)
    (batch,) = pipeline.batches(rows)
    assert [item["types"] for item in batch] == [[UNLABELED, BILLING], [UNLABELED], [UNLABELED]]
    return pipeline, batch


def test_a_create_is_restored_in_the_summary_the_log_table_and_the_write_back() -> None:
    records: list[OutcomeRecord] = []
    pipeline, batch = one_batch(records)
    results = [{"fromObjectId": f, "toObjectId": t, "labels": []} for f, t in (("1", "10"), ("2", "20"))]
    error = {
        "status": "error",
        "category": "VALIDATION_ERROR",
        "message": "One or more associations are invalid",
        "context": {"fromObjectId": ["3"], "toObjectId": ["30"]},
    }
    body = {"status": "COMPLETE", "results": results, "errors": [error], "numErrors": 1}
    pipeline.finish(batch, BatchResponse.from_answer(207, body, PAIRS, kind=Kind.CREATE))

    tally = pipeline.progress.tally
    tally.check()
    summary = tally.summary()
    assert summary == {
        "received": 4,
        "restored": 3,
        "rejected": 0,
        "failed": 1,
        "duplicates": 0,
        "unknown": 0,
        "planned": 0,
    }
    assert "archived" not in summary and "already_absent" not in summary
    assert sorted(record_fields(r)["outcome"] for r in records) == [
        "failed",
        "restored",
        "restored",
        "restored",
    ]
    assert "restored" in bucket_table(tally, 1, 1) and "archived" not in bucket_table(tally, 1, 1)
    assert error_ratio({"summary": summary}) == (1, 4)


def test_a_create_of_unknown_outcome_reads_back_present_as_restored_and_absent_as_failed() -> None:
    pipeline, batch = one_batch([])
    lost = BatchResponse.from_answer(201, {"status": "PENDING", "results": []}, PAIRS, kind=Kind.CREATE)
    pipeline.finish(batch, lost)
    assert pipeline.progress.tally.unknown == 4

    # HubSpot shows pair 1 with both types and pair 2 unlabeled; pair 3 is not there.
    def read(from_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        unlabeled = {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None}
        billing = {"category": "USER_DEFINED", "typeId": 36, "label": "Billing"}
        shown = {
            "1": [{"toObjectId": 10, "associationTypes": [unlabeled, billing]}],
            "2": [{"toObjectId": 20, "associationTypes": [unlabeled]}],
        }
        return {i: shown.get(i, []) for i in from_ids}

    settled = pipeline.progress.settle_unknown(read)

    tally = pipeline.progress.tally
    tally.check()
    assert (tally.archived, tally.failed, tally.unknown) == (3, 1, 0)
    assert sorted((record_fields(r)["from_id"], record_fields(r)["outcome"]) for r in settled) == [
        ("1", "restored"),
        ("1", "restored"),
        ("2", "restored"),
        ("3", "failed"),
    ]
    (failed,) = pipeline.progress.failed.rows()
    assert failed["error"]["category"] == "STILL_ABSENT"
    assert failed["error"]["message"].startswith("still absent after create")


def test_an_archive_still_reads_back_gone_as_archived() -> None:
    tally = Tally(received=2, archived=2, already_absent=1)
    assert tally.summary()["archived"] == 2 and tally.summary()["already_absent"] == 1
