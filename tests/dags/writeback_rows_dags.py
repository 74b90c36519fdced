"""DAGs of the test that pins the results table's rows (``tests/e2e/operators/test_writeback_rows.py``)."""

from __future__ import annotations

import json
import os
from typing import Any

import pendulum
from airflow.sdk import DAG, task

from airflow_provider_hubspot_assoc.operators import (
    BatchArchiveAssociationsOperator,
    BatchArchiveLabelsOperator,
)

START = pendulum.datetime(2026, 1, 1, tz="UTC")
PAIR = {"from_object_type": "contacts", "to_object_type": "companies"}
# One request at a time, two rows each: the simulator's scripted answers meet known requests.
SEQUENTIAL = {"batch_size": 2, "max_pairs_per_request": 2, "max_in_flight": 1}
WRITE_BACK = {
    "results_table": "hubspot_results",
    "results_conn_id": "hubspot_test_results",
    "create_results_table": True,
    "on_invalid": "skip",
    "max_failed_ratio": 1.0,
}


@task
def rows() -> Any:
    return json.loads(os.environ["HUBSPOT_TEST_ROWS"])


with DAG("wb_rows_pairs", schedule=None, start_date=START) as wb_rows_pairs:
    BatchArchiveAssociationsOperator(task_id="archive", inputs=rows(), **SEQUENTIAL, **WRITE_BACK, **PAIR)

with DAG("wb_rows_labels", schedule=None, start_date=START) as wb_rows_labels:
    BatchArchiveLabelsOperator(task_id="archive", inputs=rows(), **SEQUENTIAL, **WRITE_BACK, **PAIR)
