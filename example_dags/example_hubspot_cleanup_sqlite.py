"""Remove HubSpot contact-company associations listed in a SQLite table.

The main job of the README's demo: the pairs in ``associations_to_remove`` (read through the
``hubspot_demo_sqlite`` connection, streamed) are archived through the ``hubspot_default``
connection; a downstream task reads the pushed BatchResponse. ``example_dags/run_demo.py`` runs it
against the embedded HubSpot simulator.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import dag, task

from airflow_provider_hubspot_assoc.operators import BatchArchiveAssociationsOperator


@dag(
    dag_id="hubspot_cleanup_from_sqlite",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["hubspot", "example"],
)
def hubspot_cleanup_from_sqlite() -> None:
    archive = BatchArchiveAssociationsOperator(
        task_id="archive",
        from_object_type="contacts",
        to_object_type="companies",
        conn_id="hubspot_demo_sqlite",
        sql="SELECT contact_id, company_id FROM associations_to_remove ORDER BY contact_id",
        column_map={"from_id": "contact_id", "to_id": "company_id"},
        hubspot_conn_id="hubspot_default",
        on_invalid="skip",  # send the valid rows; invalid ones are listed in the result
        max_failed_ratio=0.05,  # fail the task if HubSpot refuses more than 5% of the pairs
    )

    @task
    def report(result: dict[str, Any]) -> dict[str, int]:
        """A downstream task acting on the BatchResponse the operator pushed."""
        summary = result["summary"]
        print(f"HubSpot answered {result['status']}: {summary}")
        return {
            bucket: summary[bucket] for bucket in ("received", "archived", "failed", "rejected", "duplicates")
        }

    report(archive.output)


hubspot_cleanup_from_sqlite_dag = hubspot_cleanup_from_sqlite()
