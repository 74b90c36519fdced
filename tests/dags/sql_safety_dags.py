"""DAGs of the SQL-input safety tests: duplicate result columns.

The query comes at run time from the Variable ``sql_safety_query`` (env
``AIRFLOW_VAR_SQL_SAFETY_QUERY``); the connections ``hubspot_test_sql`` and ``hubspot_test_results``
from the environment.
"""

from __future__ import annotations

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
with DAG("t_sql_safety_unmapped", schedule=None, start_date=START) as t_sql_safety_unmapped:
    BatchArchiveAssociationsOperator(task_id="archive", **QUERY, **PAIR)

with DAG("t_sql_safety_mapped", schedule=None, start_date=START) as t_sql_safety_mapped:
    BatchArchiveAssociationsOperator(task_id="archive", column_map=MAPPED, **QUERY, **PAIR)

with DAG("t_sql_safety_labels", schedule=None, start_date=START) as t_sql_safety_labels:
    BatchArchiveLabelsOperator(task_id="archive_labels", **QUERY, **PAIR)
