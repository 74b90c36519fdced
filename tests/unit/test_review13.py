"""Adversarial review of the restore (issue 13): what a restore refuses at DAG definition time."""

from __future__ import annotations

import pytest

from airflow_provider_hubspot_assoc.operators import RestoreAssociationsOperator

SOURCE = {"source_run_id": "r", "source_dag_id": "d", "source_task_id": "t", "source_path": "file:///x"}
PAIR = {"from_object_type": "contacts", "to_object_type": "companies"}


def test_snapshot_false_is_accepted_as_the_restore_takes_none() -> None:
    """``snapshot=False`` says what a restore does anyway; it must not raise a TypeError about a
    keyword given twice."""
    op = RestoreAssociationsOperator(task_id="restore", snapshot=False, **SOURCE, **PAIR)

    assert op.snapshot is False
    with pytest.raises(ValueError, match="takes no snapshot"):
        RestoreAssociationsOperator(task_id="restore2", snapshot=True, **SOURCE, **PAIR)
