"""DAGs of the snapshot tests (``tests/operators/test_snapshot.py``)."""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG

from airflow_provider_hubspot_assoc.operators import (
    BatchArchiveAssociationsOperator,
    BatchArchiveLabelsOperator,
    SyncAssociationsOperator,
)

START = pendulum.datetime(2026, 1, 1, tz="UTC")
PAIR = {"from_object_type": "contacts", "to_object_type": "companies"}
CONTACTS = [str(c) for c in range(100, 130)]
COMPANIES = ["5000", "5001"]
# 60 pairs the tests seed, and 2 nobody seeds (absent before their request).
PAIRS = [[c, k] for c in CONTACTS for k in COMPANIES] + [["900", "5000"], ["901", "5001"]]
RECORD = {
    "results_table": "hubspot_results",
    "results_conn_id": "hubspot_test_results",
    "create_results_table": True,
    "results_path": "{{ var.value.snapshot_path }}",
    "batch_size": 10,
    "max_pairs_per_request": 10,
}

with DAG("snap_archive", schedule=None, start_date=START) as snap_archive:
    BatchArchiveAssociationsOperator(task_id="archive", inputs=PAIRS, **RECORD, **PAIR)

with DAG("snap_labels", schedule=None, start_date=START) as snap_labels:
    BatchArchiveLabelsOperator(
        task_id="labels", inputs=[[c, "5000", "Primary"] for c in CONTACTS], **RECORD, **PAIR
    )

# The unlabeled type (contact->company 279) removes the whole association, its labels too.
UNLABELED = {"association_category": "HUBSPOT_DEFINED", "association_type_id": 279}
with DAG("snap_unlabeled", schedule=None, start_date=START) as snap_unlabeled:
    BatchArchiveLabelsOperator(
        task_id="labels",
        inputs=[{"from_id": c, "to_id": "5000", **UNLABELED} for c in CONTACTS],
        **RECORD,
        **PAIR,
    )

with DAG("snap_sync", schedule=None, start_date=START) as snap_sync:
    SyncAssociationsOperator(task_id="sync", inputs=[[c, "5000"] for c in CONTACTS], **RECORD, **PAIR)

with DAG("snap_none", schedule=None, start_date=START) as snap_none:
    BatchArchiveAssociationsOperator(
        task_id="archive", inputs=PAIRS, batch_size=10, max_pairs_per_request=10, **PAIR
    )

with DAG(
    "snap_killed", schedule=None, start_date=START, default_args={"retries": 1, "retry_delay": timedelta(0)}
) as snap_killed:
    BatchArchiveAssociationsOperator(task_id="archive", inputs=PAIRS, max_in_flight=1, **RECORD, **PAIR)
