"""DAGs the Asset event tests run with ``dag.test()``: producers of every shape, and two consumers.

Rows come at run time from ``HUBSPOT_TEST_ROWS``. Producers that must not meet an Asset declared by
another DAG use their own connection ids (``hubspot_assets_*``), which the tests point at the simulator.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pendulum
from airflow.sdk import DAG, task

from airflow_provider_hubspot_assoc.operators import (
    BatchArchiveAssociationsOperator,
    SyncAssociationsOperator,
)
from airflow_provider_hubspot_assoc.operators.assets import HUBSPOT_ASSET_ALIAS, hubspot_asset

START = pendulum.datetime(2026, 1, 1, tz="UTC")
PAIR = {"from_object_type": "contacts", "to_object_type": "companies"}
LENIENT = {"on_invalid": "skip", "max_failed_ratio": 1.0}


@task
def rows() -> Any:
    return json.loads(os.environ["HUBSPOT_TEST_ROWS"])


@task
def chunks() -> list[Any]:
    """The rows as given: a list of chunks, one per mapped task instance."""
    return list(json.loads(os.environ["HUBSPOT_TEST_ROWS"]))


with DAG("assets_archive", schedule=None, start_date=START) as assets_archive:
    BatchArchiveAssociationsOperator(
        task_id="archive", inputs=rows(), hubspot_conn_id="hubspot_assets", **LENIENT, **PAIR
    )

with DAG("assets_mapped", schedule=None, start_date=START) as assets_mapped:
    BatchArchiveAssociationsOperator.partial(
        task_id="archive", hubspot_conn_id="hubspot_assets_mapped", **LENIENT, **PAIR
    ).expand(inputs=chunks())

with DAG("assets_dry_run", schedule=None, start_date=START) as assets_dry_run:
    BatchArchiveAssociationsOperator(
        task_id="archive", inputs=rows(), hubspot_conn_id="hubspot_assets", dry_run=True, **LENIENT, **PAIR
    )

with DAG(
    "assets_templated", schedule=None, start_date=START, params={"from": "contacts", "to": "companies"}
) as assets_templated:
    BatchArchiveAssociationsOperator(
        task_id="archive",
        from_object_type="{{ params['from'] }}",
        to_object_type="{{ params['to'] }}",
        inputs=rows(),
        hubspot_conn_id="hubspot_assets_templated",
    )

with DAG("assets_sync_dry_run", schedule=None, start_date=START) as assets_sync_dry_run:
    SyncAssociationsOperator(
        task_id="sync",
        inputs=rows(),
        hubspot_conn_id="hubspot_assets",
        dry_run=True,
        max_deletes=50,
        **PAIR,
    )

with DAG("assets_sync", schedule=None, start_date=START) as assets_sync:
    SyncAssociationsOperator(
        task_id="sync", inputs=rows(), hubspot_conn_id="hubspot_assets", max_deletes=50, **PAIR
    )

# Downstream DAGs: one on the concrete Asset, one on the alias every archive task emits through.
with DAG(
    "assets_consumer",
    schedule=[hubspot_asset("hubspot_assets", "contacts", "companies")],
    start_date=START,
    is_paused_upon_creation=False,
) as assets_consumer:
    rows()

with DAG(
    "assets_alias_consumer",
    schedule=[HUBSPOT_ASSET_ALIAS],
    start_date=START,
    is_paused_upon_creation=False,
) as assets_alias_consumer:
    rows()
