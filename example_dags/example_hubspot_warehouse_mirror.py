"""Warehouse sync, mirror mode: HubSpot's contact-company associations follow the warehouse.

``contact_companies`` in the warehouse (connection ``hubspot_warehouse``) is the truth for the
contacts it lists. ``SyncAssociationsOperator`` reads what HubSpot has for those contacts and
archives only the extra associations, refusing to run if more than ``max_deletes`` would go. Every
deletion's outcome lands back in the warehouse table ``hubspot_sync_results``, where analysts look;
a bad row cannot sink a batch (HubSpot's whole-batch refusals are bisected to the bad row).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_hubspot_assoc.operators import SyncAssociationsOperator

# Ordered, so a resumed run (after a crash or a deferral) reads the rows in the same order.
DESIRED = (
    "SELECT contact_id AS from_id, company_id AS to_id FROM contact_companies ORDER BY contact_id, company_id"
)

with DAG(
    dag_id="hubspot_warehouse_mirror",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["hubspot", "example", "sync"],
) as hubspot_warehouse_mirror:
    SyncAssociationsOperator(
        task_id="mirror_contact_companies",
        from_object_type="contacts",
        to_object_type="companies",
        conn_id="hubspot_warehouse",
        sql=DESIRED,
        max_deletes=10_000,
        results_table="hubspot_sync_results",
        results_conn_id="hubspot_warehouse",
        create_results_table=True,
        max_failed_ratio=0.01,
    )
