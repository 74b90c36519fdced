"""DAGs of the second adversarial review of the undo (``tests/e2e/operators/test_review13b.py``)."""

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
FILES = {"results_path": "{{ var.value.snapshot_path }}"}
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


# One removal a request, one request at a time, recording in files: a run the daily limit stops
# between two requests; a failure-policy retry (Airflow's next try) right away.
with DAG(
    "r13b_archive_files_deferring",
    schedule=None,
    start_date=START,
    default_args={"retries": 1, "retry_delay": timedelta(0), "on_retry_callback": between_tries},
) as r13b_archive_files_deferring:
    BatchArchiveAssociationsOperator(
        task_id="archive",
        inputs=[["100", "5000"], ["101", "5000"]],
        batch_size=1,
        max_in_flight=1,
        **FILES,
        **PAIR,
    )

with DAG("r13b_restore_files", schedule=None, start_date=START) as r13b_restore_files:
    RestoreAssociationsOperator(
        task_id="restore", **SOURCE, source_path="{{ var.value.snapshot_path }}", **PAIR
    )

# Rows from a Variable read at run time: a cleared task's new run may get other rows than its first.
with DAG(
    "r13b_archive_table_rows",
    schedule=None,
    start_date=START,
    render_template_as_native_obj=True,
) as r13b_archive_table_rows:
    BatchArchiveAssociationsOperator(
        task_id="archive",
        inputs="{{ var.json.r13b_rows }}",
        create_results_table=True,
        **TABLE,
        **PAIR,
    )

with DAG("r13b_restore", schedule=None, start_date=START) as r13b_restore:
    RestoreAssociationsOperator(task_id="restore", **SOURCE, source_table="hubspot_results", **TABLE, **PAIR)

# A mirror keeping contact 100's company 5001 and deleting every other company of contacts 100 and 101.
with DAG("r13b_mirror", schedule=None, start_date=START) as r13b_mirror:
    SyncAssociationsOperator(
        task_id="archive",
        inputs=[["100", "5001"]],
        from_ids=["101"],
        create_results_table=True,
        **TABLE,
        **PAIR,
    )

# The same removals, a checkpoint after every request: a try the tests kill between two requests.
with DAG(
    "r13b_archive_files_killed",
    schedule=None,
    start_date=START,
    default_args={"retries": 2, "retry_delay": timedelta(0)},
) as r13b_archive_files_killed:
    BatchArchiveAssociationsOperator(
        task_id="archive",
        inputs=[["100", "5000"], ["101", "5000"]],
        batch_size=1,
        max_in_flight=1,
        checkpoint_every_seconds=0,
        **FILES,
        **PAIR,
    )

# The mirror recording in files, one deletion a request; a failure-policy retry right away.
with DAG(
    "r13b_mirror_files_deferring",
    schedule=None,
    start_date=START,
    default_args={"retries": 1, "retry_delay": timedelta(0), "on_retry_callback": between_tries},
) as r13b_mirror_files_deferring:
    SyncAssociationsOperator(
        task_id="archive",
        inputs=[["100", "5001"]],
        from_ids=["101"],
        batch_size=1,
        max_in_flight=1,
        **FILES,
        **PAIR,
    )
