"""DAGs of the adversarial review of the restore (``tests/e2e/operators/test_review13.py``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG

from airflow_provider_hubspot_assoc.operators import (
    BatchArchiveAssociationsOperator,
    RestoreAssociationsOperator,
    SyncAssociationsOperator,
)

START = pendulum.datetime(2026, 1, 1, tz="UTC")
PAIR = {"from_object_type": "contacts", "to_object_type": "companies"}
TABLE = {"results_table": "hubspot_results", "results_conn_id": "hubspot_test_results"}
SOURCE = {
    "source_run_id": "{{ var.value.restore_run_id }}",
    "source_dag_id": "{{ var.value.restore_dag_id }}",
    "source_task_id": "archive",
}

# What someone else does to the account between two tries of a task (the tests fill it).
BETWEEN_TRIES: list[Callable[[], None]] = []


def between_tries(context: Any) -> None:
    for step in BETWEEN_TRIES:
        step()


# Two labeled pairs in one request; a failure-policy retry (Airflow's next try) right away.
with DAG(
    "r13_archive_retried",
    schedule=None,
    start_date=START,
    default_args={"retries": 1, "retry_delay": timedelta(0)},
) as r13_archive_retried:
    BatchArchiveAssociationsOperator(
        task_id="archive",
        inputs=[["100", "5000"], ["101", "5000"]],
        create_results_table=True,
        max_in_flight=1,
        **TABLE,
        **PAIR,
    )

with DAG("r13_restore", schedule=None, start_date=START) as r13_restore:
    RestoreAssociationsOperator(task_id="restore", **SOURCE, source_table="hubspot_results", **TABLE, **PAIR)

# The same, recording under results_path only (JSONL snapshot files and the run's failed.jsonl).
FILES = {"results_path": "{{ var.value.snapshot_path }}"}

with DAG(
    "r13_archive_files_retried",
    schedule=None,
    start_date=START,
    default_args={"retries": 1, "retry_delay": timedelta(0), "on_retry_callback": between_tries},
) as r13_archive_files_retried:
    BatchArchiveAssociationsOperator(
        task_id="archive", inputs=[["100", "5000"], ["101", "5000"]], max_in_flight=1, **FILES, **PAIR
    )

with DAG("r13_restore_files", schedule=None, start_date=START) as r13_restore_files:
    RestoreAssociationsOperator(
        task_id="restore", **SOURCE, source_path="{{ var.value.snapshot_path }}", **PAIR
    )

# A mirror keeping contact 100's company 5001 and deleting every other company of contacts 100 and 101.
with DAG(
    "r13_mirror_retried",
    schedule=None,
    start_date=START,
    default_args={"retries": 1, "retry_delay": timedelta(0)},
) as r13_mirror_retried:
    SyncAssociationsOperator(
        task_id="archive",
        inputs=[["100", "5001"]],
        from_ids=["101"],
        create_results_table=True,
        max_in_flight=1,
        **TABLE,
        **PAIR,
    )

# One HubSpot native input naming company 5000 twice (its second mention is a duplicate of the first).
with DAG("r13_archive_native_twice", schedule=None, start_date=START) as r13_archive_native_twice:
    BatchArchiveAssociationsOperator(
        task_id="archive",
        inputs=[{"from": {"id": "100"}, "to": [{"id": "5000"}, {"id": "5000"}]}],
        create_results_table=True,
        **TABLE,
        **PAIR,
    )

# One removal a request, one request at a time: a run the daily limit stops between two requests.
with DAG("r13_archive_deferring", schedule=None, start_date=START) as r13_archive_deferring:
    BatchArchiveAssociationsOperator(
        task_id="archive",
        inputs=[["100", "5000"], ["101", "5000"]],
        batch_size=1,
        max_in_flight=1,
        create_results_table=True,
        **TABLE,
        **PAIR,
    )

with DAG("r13_archive_files", schedule=None, start_date=START) as r13_archive_files:
    BatchArchiveAssociationsOperator(
        task_id="archive", inputs=[["100", "5000"], ["101", "5000"]], **FILES, **PAIR
    )
