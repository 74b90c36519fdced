"""DAGs for mirror mode against a hostile HubSpot (``tests/e2e/operators/test_sync_hostile_reads.py``).

Each mirrors the desired rows (env var ``HUBSPOT_TEST_ROWS``), then a sensor confirms through batch
read that the planned deletions are gone; the simulator's faults make the reads hostile.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pendulum
from airflow.sdk import DAG, task

from airflow_provider_hubspot_assoc.operators import SyncAssociationLabelsOperator, SyncAssociationsOperator
from airflow_provider_hubspot_assoc.sensors import HubSpotAssociationsArchivedSensor

START = pendulum.datetime(2026, 1, 1, tz="UTC")
PAIR = {"from_object_type": "contacts", "to_object_type": "companies"}
SENSOR_TIMING = {"poke_interval": 0.2, "timeout": 30}  # ends when the pairs are gone


@task
def rows() -> Any:
    return json.loads(os.environ["HUBSPOT_TEST_ROWS"])


@task
def deleted(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The planned deletions the sync reports (its sample: at most 20)."""
    return list(result["sync"]["sample_deletions"])


with DAG("sim_hostile_sync", schedule=None, start_date=START) as sim_hostile_sync:
    sync = SyncAssociationsOperator(task_id="sync", inputs=rows(), from_ids=["120"], max_deletes=100, **PAIR)
    HubSpotAssociationsArchivedSensor(task_id="confirm", pairs=deleted(sync.output), **PAIR, **SENSOR_TIMING)

with DAG("sim_hostile_sync_labels", schedule=None, start_date=START) as sim_hostile_sync_labels:
    sync_labels = SyncAssociationLabelsOperator(task_id="sync", inputs=rows(), max_deletes=100, **PAIR)
    HubSpotAssociationsArchivedSensor(
        task_id="confirm", pairs=deleted(sync_labels.output), labels=True, **PAIR, **SENSOR_TIMING
    )
