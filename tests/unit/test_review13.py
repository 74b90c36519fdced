"""Adversarial review of the restore (issue 13): construction, and what a create answer proves."""

from __future__ import annotations

import pytest

from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.label_resolver import LabelResolver
from airflow_provider_hubspot_assoc.models import BatchResponse
from airflow_provider_hubspot_assoc.operators import RestoreAssociationsOperator
from airflow_provider_hubspot_assoc.progress import Pipeline, Progress
from airflow_provider_hubspot_assoc.row_checks import check_row
from airflow_provider_hubspot_assoc.row_parser import RowParser

SOURCE = {"source_run_id": "r", "source_dag_id": "d", "source_task_id": "t", "source_path": "file:///x"}
PAIR = {"from_object_type": "contacts", "to_object_type": "companies"}


def test_snapshot_false_is_accepted_as_the_restore_takes_none() -> None:
    """``snapshot=False`` says what a restore does anyway; it must not raise a TypeError about a
    keyword given twice."""
    op = RestoreAssociationsOperator(task_id="restore", snapshot=False, **SOURCE, **PAIR)

    assert op.snapshot is False
    with pytest.raises(ValueError, match="takes no snapshot"):
        RestoreAssociationsOperator(task_id="restore2", snapshot=True, **SOURCE, **PAIR)


@pytest.mark.parametrize(("labels", "proven"), [([], 1), (["Billing"], 2), (["billing"], 1)])
def test_a_create_answer_whose_labels_lack_the_label_sent_does_not_prove_it(
    labels: list[str], proven: int
) -> None:
    """HubSpot's create answer names each pair with its labels (``LabelsBetweenObjectPair``): a result
    naming the pair without the label sent proves the pair, not the label."""
    unlabeled = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}
    billing = {"associationCategory": "USER_DEFINED", "associationTypeId": 1001}
    row = {"from": {"id": "100"}, "to": {"id": "5000"}, "types": [unlabeled, billing]}
    definitions = [
        {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None},
        {"category": "USER_DEFINED", "typeId": 1001, "label": "Billing"},
    ]
    resolver = LabelResolver(definitions, "contacts", "companies")
    pipeline = Pipeline(Kind.CREATE, 10, Progress.start("fp", 10, Kind.CREATE))
    (batch,) = pipeline.batches([(1, check_row(row, 1, RowParser(Kind.CREATE), resolver))])
    result = {
        "fromObjectTypeId": "0-1",
        "fromObjectId": "100",
        "toObjectTypeId": "0-2",
        "toObjectId": "5000",
        "labels": labels,  # without "Billing": the pair, and not the label
    }
    body = {"status": "COMPLETE", "results": [result], "errors": []}

    pipeline.finish(batch, BatchResponse.from_answer(201, body, [("100", "5000")], kind=Kind.CREATE))

    tally = pipeline.progress.tally
    tally.check()
    # The unlabeled type: the result names the pair. Billing only when named exactly; otherwise
    # nothing in the answer proves it (a read back settles it).
    assert (tally.archived, tally.unknown) == (proven, 2 - proven)
