"""Warehouse sync: a SQL query decides which association labels must go; a sensor confirms they did.

``label_removals`` in the warehouse (connection ``hubspot_warehouse``) lists contact-company pairs
whose "Billing contact" label is no longer true. The labels are removed (the association itself
stays), and ``HubSpotAssociationsArchivedSensor`` re-reads them through HubSpot's batch read until
they are gone (HubSpot is eventually consistent), deferring between checks.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_hubspot_assoc.operators import BatchArchiveLabelsOperator
from airflow_provider_hubspot_assoc.sensors import HubSpotAssociationsArchivedSensor

LABEL_REMOVALS = """
SELECT contact_id AS from_id, company_id AS to_id, label
FROM label_removals
WHERE synced_at IS NULL
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
    remove_labels >> confirm
