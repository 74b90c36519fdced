"""DAGs of the review of the carried request size (``tests/e2e/operators/test_review_cap.py``)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, task

from airflow_provider_hubspot_assoc.operators import BatchArchiveAssociationsOperator

START = pendulum.datetime(2026, 1, 1, tz="UTC")
PAIR = {"from_object_type": "contacts", "to_object_type": "companies"}

# What changes at HubSpot between two tries of a task (the tests fill it).
BETWEEN_TRIES: list[Callable[[], None]] = []


def between_tries(context: Any) -> None:
    for step in BETWEEN_TRIES:
        step()


@task
def rows() -> Any:
    return json.loads(os.environ["HUBSPOT_TEST_ROWS"])


# Any failed removal fails the try (max_failed_ratio 0); Airflow's next try follows right away and
# sends the failed removals again first.
with DAG(
    "rcap_archive_retried",
    schedule=None,
    start_date=START,
    default_args={"retries": 1, "retry_delay": timedelta(0), "on_retry_callback": between_tries},
) as rcap_archive_retried:
    BatchArchiveAssociationsOperator(task_id="archive", inputs=rows(), max_in_flight=1, **PAIR)
