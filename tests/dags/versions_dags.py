"""DAGs of the version lane: each operator and sensor once, on whichever Airflow is installed.

``v_every_task`` runs on the ``hubspot_default`` connection (an env var); ``v_form_connections``
archives through ``hubspot_form`` (a private app) and ``hubspot_form_oauth``, connections the tests save
through Airflow's own API, the way its form does.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG

from airflow_provider_hubspot_assoc.operators import (
    BatchArchiveAssociationsOperator,
    BatchArchiveLabelsOperator,
    SyncAssociationLabelsOperator,
    SyncAssociationsOperator,
)
from airflow_provider_hubspot_assoc.sensors import (
    HubSpotAssociationsArchivedSensor,
    HubSpotBatchResponseSensor,
)

START = pendulum.datetime(2026, 1, 1, tz="UTC")
PAIR = {"from_object_type": "contacts", "to_object_type": "companies"}
SENSOR = {"poke_interval": 0.2, "timeout": 30}

# Each task works on its own contacts, so the tasks of one run do not see each other's changes.
ARCHIVE_ROWS = [[str(100 + c), str(5000 + k)] for c in range(20) for k in range(3)]  # 60 pairs
LABEL_ROWS = [[301, 6000, "Primary"], [302, 6000, "Billing contact"]]
SYNC_DESIRED = [[401, 6000]]  # 401 keeps 6000 only
SYNC_LABELS_DESIRED = [[501, 6000, "Primary"]]  # 501 keeps the Primary label only


def every_task(dag_id: str, conn_id: str) -> Any:
    with DAG(dag_id, schedule=None, start_date=START) as dag:
        conn: dict[str, Any] = {"hubspot_conn_id": conn_id, **PAIR}
        archive = BatchArchiveAssociationsOperator(task_id="archive", inputs=ARCHIVE_ROWS, **conn)
        check = HubSpotBatchResponseSensor(task_id="check", response=archive.output, **SENSOR)
        confirm = HubSpotAssociationsArchivedSensor(
            task_id="confirm", pairs=ARCHIVE_ROWS, deferrable=True, **conn, **SENSOR
        )
        labels = BatchArchiveLabelsOperator(task_id="labels", inputs=LABEL_ROWS, **conn)
        sync = SyncAssociationsOperator(task_id="sync", inputs=SYNC_DESIRED, max_deletes=10, **conn)
        sync_labels = SyncAssociationLabelsOperator(
            task_id="sync_labels", inputs=SYNC_LABELS_DESIRED, max_deletes=10, **conn
        )
        archive >> [check, confirm] >> labels >> sync >> sync_labels  # one at a time: easy to read
    return dag


v_every_task = every_task("v_every_task", "hubspot_default")

with DAG("v_form_connections", schedule=None, start_date=START) as v_form_connections:
    for conn_id, rows in (("hubspot_form", ARCHIVE_ROWS[:30]), ("hubspot_form_oauth", ARCHIVE_ROWS[30:])):
        BatchArchiveAssociationsOperator(task_id=conn_id, inputs=rows, hubspot_conn_id=conn_id, **PAIR)
