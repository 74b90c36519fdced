"""DAGs of the adversarial review tests (``tests/e2e/operators/test_review10.py``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG

from airflow_provider_hubspot_assoc.operators import (
    BatchArchiveAssociationsOperator,
    SyncAssociationsOperator,
)
from airflow_provider_hubspot_assoc.sensors import HubSpotAssociationsArchivedSensor

START = pendulum.datetime(2026, 1, 1, tz="UTC")
PAIR: dict[str, Any] = {"from_object_type": "contacts", "to_object_type": "companies"}
TEN_PAIRS = [[str(100 + c), str(5000 + k)] for c in range(5) for k in range(2)]
SEQUENTIAL: dict[str, Any] = {"batch_size": 2, "max_pairs_per_request": 2, "max_in_flight": 1}
WRITEBACK: dict[str, Any] = {
    "results_table": "hubspot_results",
    "results_conn_id": "hubspot_test_results",
    "create_results_table": True,
}

# A policy failure (try 1), a crash while re-sending the failed rows (try 2), then try 3.
with DAG("r10_policy_retry_crash", schedule=None, start_date=START) as r10_policy_retry_crash:
    BatchArchiveAssociationsOperator(
        task_id="archive",
        inputs=TEN_PAIRS,
        retries=2,
        retry_delay=timedelta(0),
        **WRITEBACK,
        **SEQUENTIAL,
        **PAIR,
    )

# A SIGKILL before the first answer came back.
with DAG("r10_killed_early", schedule=None, start_date=START) as r10_killed_early:
    BatchArchiveAssociationsOperator(
        task_id="archive",
        inputs=[[str(100 + c), str(5000 + k)] for c in range(30) for k in range(5)],
        batch_size=10,
        max_pairs_per_request=10,
        max_in_flight=2,
        checkpoint_every_seconds=0.2,
        retries=1,
        retry_delay=timedelta(0),
        **WRITEBACK,
        **PAIR,
    )

# Unknown pairs whose read back meets HubSpot's daily limit.
with DAG("r10_unknown_daily", schedule=None, start_date=START) as r10_unknown_daily:
    BatchArchiveAssociationsOperator(task_id="archive", inputs=TEN_PAIRS, **SEQUENTIAL, **PAIR)

# Unknown pairs read back: strict failure policy, so a wrong "archived" shows in the counts.
with DAG("r10_proof", schedule=None, start_date=START) as r10_proof:
    BatchArchiveAssociationsOperator(
        task_id="archive", inputs=TEN_PAIRS, max_failed_ratio=0.5, **SEQUENTIAL, **PAIR
    )

SENSOR: dict[str, Any] = {"poke_interval": 0.2, "timeout": 3, "mode": "poke"}

# The archived-sensor given a generator of pairs: every poke must check the same pairs.
with DAG("r10_sensor_generator", schedule=None, start_date=START) as r10_sensor_generator:
    HubSpotAssociationsArchivedSensor(
        task_id="confirm", pairs=(tuple(row) for row in TEN_PAIRS), **SENSOR, **PAIR
    )

with DAG("r10_sensor_list", schedule=None, start_date=START) as r10_sensor_list:
    HubSpotAssociationsArchivedSensor(task_id="confirm", pairs=TEN_PAIRS, **SENSOR, **PAIR)

# A mirror: desired companies 5000-5002 of contacts 101-110; HubSpot has 5000-5004.
DESIRED = [[str(c), str(k)] for c in range(101, 111) for k in range(5000, 5003)]

with DAG("r10_sync", schedule=None, start_date=START) as r10_sync:
    SyncAssociationsOperator(
        task_id="sync", inputs=DESIRED, max_deletes=50, batch_size=5, max_pairs_per_request=5, **PAIR
    )


def _lose_plan_file(context: Any) -> None:
    """What a retry on another worker sees: the first try's local plan file is not there."""
    from airflow_provider_hubspot_assoc.operators.artifacts import local_artifact

    local_artifact(context, "sync_plan.jsonl").unlink(missing_ok=True)


with DAG("r10_sync_plan_lost", schedule=None, start_date=START) as r10_sync_plan_lost:
    SyncAssociationsOperator(
        task_id="sync",
        inputs=DESIRED,
        max_deletes=50,
        batch_size=5,
        max_pairs_per_request=5,
        max_in_flight=1,
        retries=1,
        retry_delay=timedelta(0),
        on_retry_callback=_lose_plan_file,
        **WRITEBACK,
        **PAIR,
    )
