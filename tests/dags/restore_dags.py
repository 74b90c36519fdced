"""DAGs of the restore tests (``tests/e2e/operators/test_restore.py``): archive runs that take a
snapshot, and restores that undo them. The run to undo comes from Variables the tests set."""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG

from airflow_provider_hubspot_assoc.operators import (
    BatchArchiveAssociationsOperator,
    BatchArchiveLabelsOperator,
    RestoreAssociationsOperator,
    SyncAssociationsOperator,
)

START = pendulum.datetime(2026, 1, 1, tz="UTC")
PAIR = {"from_object_type": "contacts", "to_object_type": "companies"}
CONTACTS = [str(c) for c in range(100, 130)]
PAIRS_5000 = [[c, "5000"] for c in CONTACTS]
PAIRS_5001 = [[c, "5001"] for c in CONTACTS]
RESULTS = {
    "results_table": "hubspot_results",
    "results_conn_id": "hubspot_test_results",
    "create_results_table": True,
}
RECORD = {
    **RESULTS,
    "results_path": "{{ var.value.snapshot_path }}",
    "batch_size": 10,
    "max_pairs_per_request": 10,
}

with DAG("rs_archive", schedule=None, start_date=START) as rs_archive:
    BatchArchiveAssociationsOperator(task_id="archive", inputs=PAIRS_5000 + PAIRS_5001, **RECORD, **PAIR)

# Same task id and, run on the same logical date, the same run id as rs_archive: only the DAG differs.
with DAG("rs_archive_twin", schedule=None, start_date=START) as rs_archive_twin:
    BatchArchiveAssociationsOperator(task_id="archive", inputs=PAIRS_5001, **RECORD, **PAIR)

with DAG("rs_archive_mapped", schedule=None, start_date=START) as rs_archive_mapped:
    BatchArchiveAssociationsOperator.partial(task_id="archive", **RECORD, **PAIR).expand(
        inputs=[PAIRS_5000, PAIRS_5001]
    )

# The run to undo: restore_run_id, restore_dag_id and (optionally) restore_map_index.
SOURCE = {
    "source_run_id": "{{ var.value.restore_run_id }}",
    "source_dag_id": "{{ var.value.restore_dag_id }}",
    "source_task_id": "archive",
    "source_map_index": "{{ var.value.get('restore_map_index', '') }}",
}
FROM_TABLE = {"source_table": "hubspot_results", "source_conn_id": "hubspot_test_results"}

with DAG("rs_restore", schedule=None, start_date=START) as rs_restore:
    RestoreAssociationsOperator(
        task_id="restore", **SOURCE, **FROM_TABLE, **RESULTS, batch_size=10, max_pairs_per_request=10, **PAIR
    )

with DAG("rs_restore_files", schedule=None, start_date=START) as rs_restore_files:
    RestoreAssociationsOperator(
        task_id="restore",
        **SOURCE,
        source_path="{{ var.value.snapshot_path }}",
        batch_size=10,
        max_pairs_per_request=10,
        **PAIR,
    )

with DAG("rs_restore_dry", schedule=None, start_date=START) as rs_restore_dry:
    RestoreAssociationsOperator(task_id="restore", **SOURCE, **FROM_TABLE, dry_run=True, **PAIR)

with DAG("rs_restore_lenient", schedule=None, start_date=START) as rs_restore_lenient:
    RestoreAssociationsOperator(
        task_id="restore", **SOURCE, **FROM_TABLE, on_invalid="skip", max_failed_ratio=0.5, **PAIR
    )

with DAG("rs_restore_empty_ok", schedule=None, start_date=START) as rs_restore_empty_ok:
    RestoreAssociationsOperator(task_id="restore", **SOURCE, **FROM_TABLE, allow_empty=True, **PAIR)

# ---------------------------------------------------------------- 10,000 pairs
# The test fills these tables of the results database and seeds the simulator to match.
BIG = {
    **RESULTS,
    "results_path": "{{ var.value.snapshot_path }}",
    "batch_size": 1000,
    "max_pairs_per_request": 1000,
}
ROWS = {"conn_id": "hubspot_test_results"}

with DAG("rs10k_archive", schedule=None, start_date=START) as rs10k_archive:
    BatchArchiveAssociationsOperator(
        task_id="archive",
        sql="SELECT from_id, to_id FROM archive_pairs ORDER BY rowid",
        **ROWS,
        **BIG,
        **PAIR,
    )

with DAG("rs10k_labels", schedule=None, start_date=START) as rs10k_labels:
    BatchArchiveLabelsOperator(
        task_id="archive",
        sql="SELECT from_id, to_id, label FROM archive_labels ORDER BY rowid",
        **ROWS,
        **BIG,
        **PAIR,
    )

with DAG("rs10k_mirror", schedule=None, start_date=START) as rs10k_mirror:
    SyncAssociationsOperator(
        task_id="archive",
        sql="SELECT from_id, to_id FROM desired_pairs ORDER BY rowid",
        max_deletes=10_000,
        **ROWS,
        **BIG,
        **PAIR,
    )

with DAG("rs10k_restore", schedule=None, start_date=START) as rs10k_restore:
    RestoreAssociationsOperator(
        task_id="restore",
        **SOURCE,
        **FROM_TABLE,
        **RESULTS,
        batch_size=1000,
        max_pairs_per_request=1000,
        **PAIR,
    )

with DAG("rs10k_restore_files", schedule=None, start_date=START) as rs10k_restore_files:
    RestoreAssociationsOperator(
        task_id="restore",
        **SOURCE,
        source_path="{{ var.value.snapshot_path }}",
        batch_size=1000,
        max_pairs_per_request=1000,
        **PAIR,
    )

with DAG(
    "rs10k_restore_killed",
    schedule=None,
    start_date=START,
    default_args={"retries": 1, "retry_delay": timedelta(0)},
) as rs10k_restore_killed:
    RestoreAssociationsOperator(
        task_id="restore",
        **SOURCE,
        **FROM_TABLE,
        **RESULTS,
        batch_size=1000,
        max_pairs_per_request=1000,
        max_in_flight=1,
        checkpoint_every_seconds=0.2,
        **PAIR,
    )
