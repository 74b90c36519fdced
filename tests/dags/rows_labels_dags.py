"""DAGs of the row-parsing and label-resolution tests (``tests/e2e/operators/test_rows_labels.py``).

Rows come at run time: from the upstream task (env var ``HUBSPOT_TEST_ROWS``), from the run's conf
through a template, or, for dict rows whose keys are not all strings (which no XCom or conf keeps),
from a template rendered to native Python objects.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pendulum
from airflow.sdk import DAG, task

from airflow_provider_hubspot_assoc.operators import (
    BatchArchiveAssociationsOperator,
    BatchArchiveLabelsOperator,
    SyncAssociationLabelsOperator,
)

START = pendulum.datetime(2026, 1, 1, tz="UTC")
PAIR = {"from_object_type": "contacts", "to_object_type": "companies"}
# A row with an int key besides the needed ones, a row with only an int key, a plain row.
ODD_KEYS = "{{ [{1: '2', 'from_id': 101, 'to_id': 5000}, {1: 2}, {'from_id': 102, 'to_id': 5000}] }}"


@task
def rows() -> Any:
    return json.loads(os.environ["HUBSPOT_TEST_ROWS"])


with DAG("rl_labels_skip", schedule=None, start_date=START) as rl_labels_skip:
    BatchArchiveLabelsOperator(task_id="archive_labels", inputs=rows(), on_invalid="skip", **PAIR)

with DAG("rl_labels_fail", schedule=None, start_date=START) as rl_labels_fail:
    BatchArchiveLabelsOperator(task_id="archive_labels", inputs=rows(), **PAIR)

with DAG("rl_sync_labels", schedule=None, start_date=START) as rl_sync_labels:
    SyncAssociationLabelsOperator(task_id="sync", inputs=rows(), max_deletes=50, **PAIR)

for _policy in ("skip", "fail"):
    with DAG(
        f"rl_odd_keys_{_policy}", schedule=None, start_date=START, render_template_as_native_obj=True
    ) as _dag:
        BatchArchiveAssociationsOperator(
            task_id="archive", inputs=ODD_KEYS, on_invalid=_policy, max_failed_ratio=1.0, **PAIR
        )
    globals()[_dag.dag_id] = _dag

# ``inputs`` rendered to a string (a template's usual result) from the run's conf.
with DAG("rl_inputs_text", schedule=None, start_date=START) as rl_inputs_text:
    BatchArchiveAssociationsOperator(
        task_id="archive", inputs="{{ dag_run.conf['inputs'] }}", on_invalid="skip", **PAIR
    )

with DAG("rl_inputs_json", schedule=None, start_date=START) as rl_inputs_json:
    BatchArchiveAssociationsOperator(
        task_id="archive", inputs="{{ dag_run.conf['inputs'] | tojson }}", on_invalid="skip", **PAIR
    )

# ``inputs`` rendered to native objects: a dict stays a dict, ``.encode()`` gives bytes.
with DAG(
    "rl_inputs_native", schedule=None, start_date=START, render_template_as_native_obj=True
) as rl_inputs_native:
    BatchArchiveAssociationsOperator(
        task_id="archive", inputs="{{ dag_run.conf['inputs'] }}", on_invalid="skip", **PAIR
    )

with DAG(
    "rl_inputs_bytes", schedule=None, start_date=START, render_template_as_native_obj=True
) as rl_inputs_bytes:
    BatchArchiveAssociationsOperator(
        task_id="archive", inputs="{{ dag_run.conf['inputs'].encode() }}", on_invalid="skip", **PAIR
    )
