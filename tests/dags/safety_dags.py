"""DAGs of the safety tests (``tests/e2e/operators/test_safety.py``): odd inputs, empty desired states."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, task

from airflow_provider_hubspot_assoc.operators import (
    BatchArchiveAssociationsOperator,
    SyncAssociationsOperator,
)

START = pendulum.datetime(2026, 1, 1, tz="UTC")
PAIR = {"from_object_type": "contacts", "to_object_type": "companies"}
# Contacts 100..104 with companies 5000..5001 (the tests seed them); row 11 is invalid.
ONE_SHOT_ROWS: list[Any] = [[str(100 + c), str(5000 + k)] for c in range(5) for k in range(2)]
ONE_SHOT_ROWS.append(["not-an-id", "5000"])


def one_shot(kind: str, valid_only: bool = False) -> Any:
    """The rows as an iterable of the given kind; generators, iterators and maps can be read once."""
    rows = [list(row) for row in ONE_SHOT_ROWS[: -1 if valid_only else None]]
    if kind == "generator":
        return (row for row in rows)
    if kind == "iterator":
        return iter(rows)
    if kind == "map":
        return map(tuple, rows)
    return tuple(rows)


# One DAG per kind and case: a one-shot iterable is consumed by exactly one run.
for _kind in ("generator", "iterator", "map", "tuple"):
    for _case, _on_invalid, _valid_only in (
        ("skip", "skip", False),
        ("fail_valid", "fail", True),
        ("fail_invalid", "fail", False),
    ):
        with DAG(f"s_one_shot_{_kind}_{_case}", schedule=None, start_date=START) as _dag:
            BatchArchiveAssociationsOperator(
                task_id="archive",
                inputs=one_shot(_kind, _valid_only),
                on_invalid=_on_invalid,
                batch_size=3,
                max_pairs_per_request=3,
                **PAIR,
            )
        globals()[_dag.dag_id] = _dag


@task
def no_rows() -> list[Any]:
    return []


with DAG("s_sync_empty_desired", schedule=None, start_date=START) as s_sync_empty_desired:
    SyncAssociationsOperator(task_id="sync", inputs=no_rows(), from_ids=["100", "101"], **PAIR)

with DAG("s_sync_empty_desired_sql", schedule=None, start_date=START) as s_sync_empty_desired_sql:
    SyncAssociationsOperator(
        task_id="sync",
        conn_id="hubspot_test_sql",
        sql="SELECT contact_id AS from_id, company_id AS to_id FROM desired WHERE 1 = 0",
        from_ids=("100", "101"),
        **PAIR,
    )

with DAG("s_sync_empty_desired_allowed", schedule=None, start_date=START) as s_sync_empty_desired_allowed:
    SyncAssociationsOperator(
        task_id="sync", inputs=no_rows(), from_ids=["100", "101"], allow_empty_desired=True, **PAIR
    )

with DAG("s_sync_empty_desired_dry_run", schedule=None, start_date=START) as s_sync_empty_desired_dry_run:
    SyncAssociationsOperator(task_id="sync", inputs=no_rows(), from_ids=["100", "101"], dry_run=True, **PAIR)

with DAG("s_sync_from_ids_string", schedule=None, start_date=START) as s_sync_from_ids_string:
    SyncAssociationsOperator(
        task_id="sync", inputs=[["100", "5000"]], from_ids="{{ '10 1' }}", allow_empty_desired=True, **PAIR
    )

with DAG("s_sync_dry_run_over_cap", schedule=None, start_date=START) as s_sync_dry_run_over_cap:
    SyncAssociationsOperator(
        task_id="sync", inputs=[["100", "5000"]], from_ids=["101", "102"], dry_run=True, max_deletes=2, **PAIR
    )


# Ten pairs (contacts 100..104, companies 5000..5001), two a request, one request at a time, so a
# scripted answer meets a known request.
TEN_PAIRS = [[str(100 + c), str(5000 + k)] for c in range(5) for k in range(2)]
SEQUENTIAL = {"batch_size": 2, "max_pairs_per_request": 2, "max_in_flight": 1}

with DAG("s_proof", schedule=None, start_date=START) as s_proof:
    BatchArchiveAssociationsOperator(
        task_id="archive", inputs=TEN_PAIRS, max_failed_ratio=0.5, **SEQUENTIAL, **PAIR
    )

with DAG("s_proof_strict", schedule=None, start_date=START) as s_proof_strict:
    BatchArchiveAssociationsOperator(task_id="archive", inputs=TEN_PAIRS, **SEQUENTIAL, **PAIR)

with DAG("s_proof_writeback", schedule=None, start_date=START) as s_proof_writeback:
    BatchArchiveAssociationsOperator(
        task_id="archive",
        inputs=TEN_PAIRS,
        max_failed_ratio=0.5,
        results_table="hubspot_results",
        results_conn_id="hubspot_test_results",
        create_results_table=True,
        snapshot=False,  # faults are scripted by request number: no snapshot read among them
        **SEQUENTIAL,
        **PAIR,
    )

RETRY_NOW = {"retries": 1, "retry_delay": timedelta(0)}

with DAG("s_policy_retry", schedule=None, start_date=START) as s_policy_retry:
    BatchArchiveAssociationsOperator(
        task_id="archive",
        inputs=TEN_PAIRS,
        results_table="hubspot_results",
        results_conn_id="hubspot_test_results",
        create_results_table=True,
        snapshot=False,  # faults are scripted by request number: no snapshot read among them
        **SEQUENTIAL,
        **RETRY_NOW,
        **PAIR,
    )

# Desired: companies 5000-5002 of contacts 101-110; HubSpot has 5000-5004 (the test seeds them).
DESIRED = [[str(c), str(k)] for c in range(101, 111) for k in range(5000, 5003)]

with DAG("s_sync_retry", schedule=None, start_date=START) as s_sync_retry:
    SyncAssociationsOperator(
        task_id="sync",
        inputs=DESIRED,
        max_deletes=50,
        batch_size=5,
        max_pairs_per_request=5,
        max_in_flight=1,
        results_table="hubspot_results",
        results_conn_id="hubspot_test_results",
        create_results_table=True,
        **RETRY_NOW,
        **PAIR,
    )

with DAG("s_killed", schedule=None, start_date=START) as s_killed:
    BatchArchiveAssociationsOperator(
        task_id="archive",
        inputs=[[str(100 + c), str(5000 + k)] for c in range(30) for k in range(5)],
        batch_size=10,
        max_pairs_per_request=10,
        max_in_flight=2,
        checkpoint_every_seconds=0.2,
        results_table="hubspot_results",
        results_conn_id="hubspot_test_results",
        create_results_table=True,
        **RETRY_NOW,
        **PAIR,
    )

with DAG("s_sync_killed", schedule=None, start_date=START) as s_sync_killed:
    SyncAssociationsOperator(
        task_id="sync",
        inputs=DESIRED,
        max_deletes=50,
        batch_size=2,
        max_pairs_per_request=2,
        max_in_flight=1,
        checkpoint_every_seconds=0.2,
        results_table="hubspot_results",
        results_conn_id="hubspot_test_results",
        create_results_table=True,
        **RETRY_NOW,
        **PAIR,
    )

with DAG("s_progress_log", schedule=None, start_date=START) as s_progress_log:
    BatchArchiveAssociationsOperator(
        task_id="archive",
        inputs=TEN_PAIRS,
        progress_every_seconds=0,
        results_table="hubspot_results",
        results_conn_id="hubspot_test_results",
        create_results_table=True,
        snapshot=False,  # faults are scripted by request number: no snapshot read among them
        **SEQUENTIAL,
        **RETRY_NOW,
        **PAIR,
    )
