"""DAGs of the deployment test (tests/e2e): each reads what it works on from its run's conf."""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

from airflow_provider_hubspot_assoc.operators import BatchArchiveAssociationsOperator, hubspot_asset
from airflow_provider_hubspot_assoc.sensors import HubSpotAssociationsArchivedSensor

START = pendulum.datetime(2026, 1, 1, tz="UTC")

with DAG(
    "e2e_sensor_waits", schedule=None, start_date=START, catchup=False, render_template_as_native_obj=True
) as e2e_sensor_waits:
    # Defers while the pairs are there; the triggerer wakes it for each check on a worker.
    HubSpotAssociationsArchivedSensor(
        task_id="wait_until_gone",
        from_object_type="contacts",
        to_object_type="companies",
        pairs="{{ dag_run.conf['pairs'] }}",
        hubspot_conn_id="hubspot_wait",
        deferrable=True,
        poke_interval=6,  # not 1: a trigger firing that soon can race Airflow's deferral bookkeeping
        timeout=120,
    )

with DAG(
    "e2e_daily_limit", schedule=None, start_date=START, catchup=False, render_template_as_native_obj=True
) as e2e_daily_limit:
    # More requests than the simulator's (time-scaled) daily limit: once an answer says none are left
    # today, defers (unsent) until the account's midnight on HubSpot's clock.
    BatchArchiveAssociationsOperator(
        task_id="archive",
        from_object_type="contacts",
        to_object_type="companies",
        inputs="{{ dag_run.conf['pairs'] }}",
        hubspot_conn_id="hubspot_daily",
        batch_size=10,
        max_pairs_per_request=10,
        max_in_flight=1,
    )

with DAG("e2e_kill_and_retry", schedule=None, start_date=START, catchup=False) as e2e_kill_and_retry:
    # A slow simulator keeps it running long enough to be killed; the retry resumes.
    BatchArchiveAssociationsOperator(
        task_id="archive",
        from_object_type="contacts",
        to_object_type="companies",
        conn_id="hubspot_warehouse",
        sql="SELECT from_id, to_id FROM kill_pairs ORDER BY position",
        hubspot_conn_id="hubspot_slow",
        batch_size=5,
        max_pairs_per_request=5,
        max_in_flight=1,
        on_invalid="skip",
        results_table="kill_results",
        results_conn_id="hubspot_warehouse",
        create_results_table=True,
        retries=2,
        retry_delay=timedelta(seconds=1),
    )

# A consumer of the main simulator's contact-company asset, as the README suggests: parsing it
# registers the asset, so the example DAGs' first events need not create it. (Several tasks creating
# the same asset at once through an alias collide in Airflow: one of them is set to failed.)
with DAG(
    "e2e_on_contact_company_changes",
    schedule=[hubspot_asset("hubspot_default", "contacts", "companies")],
    start_date=START,
    catchup=False,
    is_paused_upon_creation=True,
) as e2e_on_contact_company_changes:
    EmptyOperator(task_id="react")
