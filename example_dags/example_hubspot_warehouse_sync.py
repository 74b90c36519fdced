"""Warehouse sync: a SQL query decides which association labels must go; a sensor confirms they did.

``label_removals`` in the warehouse (connection ``hubspot_warehouse``) lists contact-company pairs
whose "Billing contact" label is no longer true. The labels are removed (the association itself
stays), and ``HubSpotAssociationsArchivedSensor`` re-reads them through HubSpot's batch read until
they are gone (HubSpot is eventually consistent), deferring between checks. Then the rows whose
removal is confirmed archived in the results table get ``synced_at``, so the next hourly run does
not send them again; a row that failed stays unsynced and comes again.
"""

from __future__ import annotations

import pendulum
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.sdk import DAG

from airflow_provider_hubspot_assoc.operators import BatchArchiveLabelsOperator
from airflow_provider_hubspot_assoc.sensors import HubSpotAssociationsArchivedSensor

LABEL_REMOVALS = """
SELECT contact_id AS from_id, company_id AS to_id, label
FROM label_removals
WHERE synced_at IS NULL
ORDER BY contact_id, company_id, label
"""
# Rows this run archived, by the outcomes it wrote back (plain SQL: SQLite and PostgreSQL alike).
MARK_SYNCED = """
UPDATE label_removals SET synced_at = CURRENT_TIMESTAMP
WHERE synced_at IS NULL AND EXISTS (
    SELECT 1 FROM hubspot_label_results r
    WHERE r.run_id = '{{ run_id | replace("'", "''") }}' AND r.outcome = 'archived'
      AND r.from_id = CAST(label_removals.contact_id AS VARCHAR(32))
      AND r.to_id = CAST(label_removals.company_id AS VARCHAR(32))
      AND r.label = label_removals.label
)
"""

with DAG(
    dag_id="hubspot_warehouse_label_sync",
    schedule="@hourly",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["hubspot", "example", "sync"],
) as hubspot_warehouse_label_sync:
    remove_labels = BatchArchiveLabelsOperator(
        task_id="remove_stale_labels",
        from_object_type="contacts",
        to_object_type="companies",
        conn_id="hubspot_warehouse",
        sql=LABEL_REMOVALS,
        results_table="hubspot_label_results",
        results_conn_id="hubspot_warehouse",
        create_results_table=True,
    )
    confirm = HubSpotAssociationsArchivedSensor(
        task_id="confirm_labels_gone",
        from_object_type="contacts",
        to_object_type="companies",
        conn_id="hubspot_warehouse",
        sql=LABEL_REMOVALS,
        labels=True,
        deferrable=True,
        poke_interval=30,
        timeout=1800,
    )
    mark_synced = SQLExecuteQueryOperator(
        task_id="mark_synced", conn_id="hubspot_warehouse", sql=MARK_SYNCED, autocommit=True
    )
    remove_labels >> confirm >> mark_synced
