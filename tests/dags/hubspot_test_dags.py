"""DAGs the test suite runs with ``dag.test()``.

Their shapes are fixed here; what varies per test comes at run time: the rows (env var
``HUBSPOT_TEST_ROWS``, returned by the upstream task), the HubSpot connection (the simulator) and
the SQL connection ``hubspot_test_sql`` (SQLite or PostgreSQL).
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, task

from airflow_provider_hubspot_assoc.operators import (
    BatchArchiveAssociationsOperator,
    BatchArchiveLabelsOperator,
    SyncAssociationLabelsOperator,
    SyncAssociationsOperator,
)
from airflow_provider_hubspot_assoc.sensors import (
    HubSpotAssociationsArchivedSensor,
    HubSpotBatchResponseSensor,
)

START = pendulum.datetime(2026, 1, 1, tz="UTC")
PAIR = {"from_object_type": "contacts", "to_object_type": "companies"}


@task
def rows() -> Any:
    return json.loads(os.environ["HUBSPOT_TEST_ROWS"])


@task
def chunks() -> list[Any]:
    """The rows cut into 3 chunks, for dynamic task mapping."""
    all_rows = json.loads(os.environ["HUBSPOT_TEST_ROWS"])
    size = -(-len(all_rows) // 3)
    return [all_rows[i : i + size] for i in range(0, len(all_rows), size)]


@task
def downstream(result: dict[str, Any]) -> dict[str, Any]:
    """Acts on the pushed BatchResponse the way a user's task would."""
    return {"status": result["status"], "archived": result["summary"]["archived"]}


with DAG("t_xcom_archive", schedule=None, start_date=START) as t_xcom_archive:
    archived = BatchArchiveAssociationsOperator(
        task_id="archive", inputs=rows(), on_invalid="skip", max_failed_ratio=1.0, **PAIR
    )
    downstream(archived.output)

with DAG("t_xcom_archive_strict", schedule=None, start_date=START) as t_xcom_archive_strict:
    BatchArchiveAssociationsOperator(task_id="archive", inputs=rows(), **PAIR)

with DAG("t_sql_archive", schedule=None, start_date=START) as t_sql_archive:
    BatchArchiveAssociationsOperator(
        task_id="archive",
        conn_id="hubspot_test_sql",
        sql="SELECT contact_id, company_id FROM pairs_to_remove ORDER BY contact_id",
        column_map={"from_id": "contact_id", "to_id": "company_id"},
        on_invalid="skip",
        max_failed_ratio=1.0,
        fetch_size=7,
        **PAIR,
    )

with DAG("t_sql_archive_strict", schedule=None, start_date=START) as t_sql_archive_strict:
    BatchArchiveAssociationsOperator(
        task_id="archive",
        conn_id="hubspot_test_sql",
        sql="SELECT contact_id AS from_id, company_id AS to_id FROM pairs_to_remove",
        fetch_size=7,
        **PAIR,
    )

with DAG("t_mapped_archive", schedule=None, start_date=START) as t_mapped_archive:
    BatchArchiveAssociationsOperator.partial(
        task_id="archive", on_invalid="skip", max_failed_ratio=1.0, **PAIR
    ).expand(inputs=chunks())

with DAG("t_labels", schedule=None, start_date=START) as t_labels:
    BatchArchiveLabelsOperator(task_id="archive_labels", inputs=rows(), on_invalid="skip", **PAIR)

with DAG("t_dry_run", schedule=None, start_date=START) as t_dry_run:
    BatchArchiveAssociationsOperator(
        task_id="archive", inputs=rows(), dry_run=True, on_invalid="skip", **PAIR
    )

with DAG("t_dry_run_labels", schedule=None, start_date=START) as t_dry_run_labels:
    BatchArchiveLabelsOperator(
        task_id="archive_labels", inputs=rows(), dry_run=True, on_invalid="skip", **PAIR
    )

with DAG(
    "t_templated", schedule=None, start_date=START, params={"from": "contacts", "to": "companies"}
) as t_templated:
    BatchArchiveAssociationsOperator(
        task_id="archive",
        from_object_type="{{ params['from'] }}",
        to_object_type="{{ params['to'] }}",
        inputs=rows(),
    )

with DAG("t_overflow", schedule=None, start_date=START) as t_overflow:
    BatchArchiveAssociationsOperator(
        task_id="archive",
        inputs=rows(),
        on_invalid="skip",
        max_failed_ratio=1.0,
        max_rows_in_xcom=3,
        results_path="{{ var.value.hubspot_results_path }}",
        **PAIR,
    )

with DAG("t_resumable", schedule=None, start_date=START) as t_resumable:
    BatchArchiveAssociationsOperator(
        task_id="archive",
        inputs=rows(),
        batch_size=10,
        max_pairs_per_request=10,
        max_in_flight=2,
        checkpoint_every_seconds=0,
        retries=1,
        retry_delay=timedelta(0),
        **PAIR,
    )

with DAG("t_request_size", schedule=None, start_date=START) as t_request_size:
    BatchArchiveAssociationsOperator(
        task_id="archive", inputs=rows(), max_pairs_per_request=200, max_in_flight=1, **PAIR
    )


@task
def response() -> Any:
    return json.loads(os.environ["HUBSPOT_TEST_RESPONSE"])


SENSOR_TIMING = {"poke_interval": 0.2, "timeout": 1.5}  # a PENDING response must time out quickly
# The archived-sensor tests end when the pairs are gone; the long timeout only guards a busy machine.
ARCHIVED_SENSOR_TIMING = {"poke_interval": 0.2, "timeout": 30}

with DAG("t_response_sensor", schedule=None, start_date=START) as t_response_sensor:
    HubSpotBatchResponseSensor(task_id="check", response=response(), max_error_ratio=0.1, **SENSOR_TIMING)

with DAG("t_response_sensor_deferrable", schedule=None, start_date=START) as t_response_sensor_deferrable:
    HubSpotBatchResponseSensor(
        task_id="check", response=response(), max_error_ratio=0.1, deferrable=True, **SENSOR_TIMING
    )

with DAG("t_response_sensor_reschedule", schedule=None, start_date=START) as t_response_sensor_reschedule:
    HubSpotBatchResponseSensor(
        task_id="check", response=response(), max_error_ratio=0.1, mode="reschedule", **SENSOR_TIMING
    )

with DAG("t_archived_sensor", schedule=None, start_date=START) as t_archived_sensor:
    HubSpotAssociationsArchivedSensor(task_id="confirm", pairs=rows(), **PAIR, **ARCHIVED_SENSOR_TIMING)

with DAG("t_archived_sensor_times_out", schedule=None, start_date=START) as t_archived_sensor_times_out:
    HubSpotAssociationsArchivedSensor(task_id="confirm", pairs=rows(), **PAIR, **SENSOR_TIMING)

with DAG("t_archived_sensor_deferrable", schedule=None, start_date=START) as t_archived_sensor_deferrable:
    HubSpotAssociationsArchivedSensor(
        task_id="confirm", pairs=rows(), deferrable=True, **PAIR, **ARCHIVED_SENSOR_TIMING
    )

with DAG("t_archived_labels_sensor", schedule=None, start_date=START) as t_archived_labels_sensor:
    HubSpotAssociationsArchivedSensor(
        task_id="confirm", pairs=rows(), labels=True, **PAIR, **ARCHIVED_SENSOR_TIMING
    )

WRITE_BACK = {
    "results_table": "hubspot_results",
    "results_conn_id": "hubspot_test_results",
    "create_results_table": True,
}

with DAG("t_writeback", schedule=None, start_date=START) as t_writeback:
    BatchArchiveAssociationsOperator(
        task_id="archive", inputs=rows(), on_invalid="skip", max_failed_ratio=1.0, **WRITE_BACK, **PAIR
    )

with DAG("t_writeback_resumable", schedule=None, start_date=START) as t_writeback_resumable:
    BatchArchiveAssociationsOperator(
        task_id="archive",
        inputs=rows(),
        on_invalid="skip",
        max_failed_ratio=1.0,
        batch_size=10,
        max_pairs_per_request=10,
        max_in_flight=2,
        checkpoint_every_seconds=0,
        retries=1,
        retry_delay=timedelta(0),
        **WRITE_BACK,
        **PAIR,
    )

with DAG("t_sync", schedule=None, start_date=START) as t_sync:
    SyncAssociationsOperator(task_id="sync", inputs=rows(), from_ids=["120"], max_deletes=50, **PAIR)

with DAG("t_sync_capped", schedule=None, start_date=START) as t_sync_capped:
    SyncAssociationsOperator(task_id="sync", inputs=rows(), max_deletes=5, **PAIR)

with DAG("t_sync_dry_run", schedule=None, start_date=START) as t_sync_dry_run:
    SyncAssociationsOperator(task_id="sync", inputs=rows(), dry_run=True, max_deletes=50, **PAIR)

with DAG("t_sync_deferring", schedule=None, start_date=START) as t_sync_deferring:
    SyncAssociationsOperator(
        task_id="sync",
        inputs=rows(),
        from_ids=["120"],
        max_deletes=50,
        batch_size=5,
        max_pairs_per_request=5,
        max_in_flight=1,
        **WRITE_BACK,
        **PAIR,
    )

with DAG("t_sync_column_map", schedule=None, start_date=START) as t_sync_column_map:
    SyncAssociationsOperator(
        task_id="sync",
        inputs=rows(),
        column_map={"from_id": "contact_id", "to_id": "company_id"},
        from_ids="{{ ['120'] | tojson }}",  # a template renders a list as a JSON string
        max_deletes=50,
        **PAIR,
    )

with DAG("t_sync_labels", schedule=None, start_date=START) as t_sync_labels:
    SyncAssociationLabelsOperator(task_id="sync", inputs=rows(), max_deletes=50, **PAIR)
