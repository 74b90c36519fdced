"""Scheduled cleanup: every night, remove HubSpot deal-contact associations of closed-lost deals.

Reads ``deal_contacts`` joined to ``deals`` in the warehouse (connection ``hubspot_warehouse``),
archives the pairs, then a sensor checks the pushed BatchResponse: COMPLETE with at most 1% of the
pairs refused by HubSpot, or the run fails with the counts. Every pair's outcome is written back to
``hubspot_cleanup_results`` in the warehouse, with the association types each removal removed (the
snapshot taken just before each request): ``example_hubspot_restore.py`` undoes a run from there.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_hubspot_assoc.operators import BatchArchiveAssociationsOperator
from airflow_provider_hubspot_assoc.sensors import HubSpotBatchResponseSensor

CLOSED_LOST_PAIRS = """
SELECT dc.deal_id AS from_id, dc.contact_id AS to_id
FROM deal_contacts AS dc
JOIN deals AS d ON d.deal_id = dc.deal_id
WHERE d.stage = 'closedlost'
ORDER BY dc.deal_id
"""

RESULTS_TABLE = "hubspot_cleanup_results"

with DAG(
    dag_id="hubspot_nightly_closed_lost_cleanup",
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["hubspot", "example", "cleanup"],
) as hubspot_nightly_closed_lost_cleanup:
    archive = BatchArchiveAssociationsOperator(
        task_id="archive_closed_lost_deal_contacts",
        from_object_type="deals",
        to_object_type="contacts",
        conn_id="hubspot_warehouse",
        sql=CLOSED_LOST_PAIRS,
        on_invalid="skip",
        max_failed_ratio=0.01,
        # The outcome of every pair, and what each removal removed: what a restore reads.
        results_table=RESULTS_TABLE,
        results_conn_id="hubspot_warehouse",
        create_results_table=True,
    )
    check = HubSpotBatchResponseSensor(
        task_id="check_batch_response",
        response=archive.output,
        max_error_ratio=0.01,
        mode="reschedule",
        poke_interval=60,
        timeout=3600,
    )
    archive >> check
