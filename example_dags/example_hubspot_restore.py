"""Undo a cleanup: re-create what one run of the nightly cleanup removed, every label included.

Trigger it by hand with the run id of the cleanup run to undo (the Airflow UI's "Trigger" form asks for
it; from the command line: ``airflow dags trigger hubspot_restore_closed_lost_cleanup --conf
'{"run_id": "scheduled__2026-11-28T02:00:00+00:00"}'``). It reads what that run recorded in
``hubspot_cleanup_results`` (the association types each removal removed, taken just before its
request) and creates them again through HubSpot's batch create. Only what the run removed, or may
have removed, comes back: removals HubSpot refused are left alone. Running it twice changes nothing
more. ``dry_run=True`` would report what it would create, and send nothing.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_hubspot_assoc.operators import RestoreAssociationsOperator

CLEANUP_DAG = "hubspot_nightly_closed_lost_cleanup"
CLEANUP_TASK = "archive_closed_lost_deal_contacts"
RESULTS_TABLE = "hubspot_cleanup_results"

with DAG(
    dag_id="hubspot_restore_closed_lost_cleanup",
    schedule=None,  # only ever triggered by a person, for one run
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "run_id": Param(
            type="string",
            minLength=1,
            title="Run id",
            description=f"The {CLEANUP_DAG} run to undo, e.g. scheduled__2026-11-28T02:00:00+00:00",
        )
    },
    tags=["hubspot", "example", "restore"],
) as hubspot_restore_closed_lost_cleanup:
    RestoreAssociationsOperator(
        task_id="restore_closed_lost_deal_contacts",
        from_object_type="deals",
        to_object_type="contacts",
        source_run_id="{{ params.run_id }}",
        source_dag_id=CLEANUP_DAG,
        source_task_id=CLEANUP_TASK,
        source_table=RESULTS_TABLE,
        source_conn_id="hubspot_warehouse",
        # The restore's own outcomes, one row per association type, beside the cleanup's.
        results_table=RESULTS_TABLE,
        results_conn_id="hubspot_warehouse",
    )
