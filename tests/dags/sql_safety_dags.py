"""DAGs of the SQL-input safety tests: duplicate result columns, one SQLite file for rows and results.

The query comes at run time from the Variable ``sql_safety_query`` (env
``AIRFLOW_VAR_SQL_SAFETY_QUERY``); the connections ``hubspot_test_sql`` and ``hubspot_test_results``
from the environment.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG

from airflow_provider_hubspot_assoc.operators import (
    BatchArchiveAssociationsOperator,
    BatchArchiveLabelsOperator,
)

START = pendulum.datetime(2026, 1, 1, tz="UTC")
PAIR = {"from_object_type": "contacts", "to_object_type": "companies"}
QUERY = {"conn_id": "hubspot_test_sql", "sql": "{{ var.value.sql_safety_query }}", "fetch_size": 7}
MAPPED = {"from_id": "contact_id", "to_id": "company_id"}
# Small pieces, and a write-back at each confirmed request, so that the table is written while the
# query is still being read (the sending runs at most 16 requests ahead of the confirmed ones).
SAME_FILE = {
    "conn_id": "hubspot_test_sql",
    "sql": "SELECT contact_id, company_id FROM pairs_to_remove ORDER BY rowid",
    "column_map": MAPPED,
    "fetch_size": 5,
    "batch_size": 10,
    "max_pairs_per_request": 10,
    "max_in_flight": 2,
    "on_invalid": "skip",
    "max_failed_ratio": 1.0,
    "results_table": "hubspot_results",
    "results_conn_id": "hubspot_test_results",
    "create_results_table": True,
    "checkpoint_every_seconds": 0,
}

with DAG("t_sql_safety_unmapped", schedule=None, start_date=START) as t_sql_safety_unmapped:
    BatchArchiveAssociationsOperator(task_id="archive", **QUERY, **PAIR)

with DAG("t_sql_safety_mapped", schedule=None, start_date=START) as t_sql_safety_mapped:
    BatchArchiveAssociationsOperator(task_id="archive", column_map=MAPPED, **QUERY, **PAIR)

with DAG("t_sql_safety_labels", schedule=None, start_date=START) as t_sql_safety_labels:
    BatchArchiveLabelsOperator(task_id="archive_labels", **QUERY, **PAIR)

with DAG("t_sql_safety_same_file", schedule=None, start_date=START) as t_sql_safety_same_file:
    BatchArchiveAssociationsOperator(task_id="archive", **SAME_FILE, **PAIR)

RETRIED = {"retries": 1, "retry_delay": timedelta(0)}

with DAG("t_sql_safety_same_file_retried", schedule=None, start_date=START) as t_sql_safety_same_file_retried:
    BatchArchiveAssociationsOperator(task_id="archive", **RETRIED, **SAME_FILE, **PAIR)

# No checkpoint in the run: the write-back flushes every 1000 rows only, so a try that dies after
# that has written rows past its checkpoint, which the next try must delete.
with DAG("t_sql_safety_same_file_unsaved", schedule=None, start_date=START) as t_sql_safety_same_file_unsaved:
    BatchArchiveAssociationsOperator(
        task_id="archive", **RETRIED, **(SAME_FILE | {"checkpoint_every_seconds": 3600}), **PAIR
    )
