"""A DAG whose literal ``inputs`` list is longer than what is checked while the DAG file is parsed."""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG

from airflow_provider_hubspot_assoc.operators import BatchArchiveAssociationsOperator

START = pendulum.datetime(2026, 1, 1, tz="UTC")
PAIR = {"from_object_type": "contacts", "to_object_type": "companies"}

ROWS: list[Any] = [[101 + n, 5000] for n in range(1_500)]
ROWS[1_199] = ["one", 5000]  # row 1,200: past the rows checked at parse time, so found by the run

with DAG("li_bad_row_past_parse_time", schedule=None, start_date=START) as li_bad_row_past_parse_time:
    BatchArchiveAssociationsOperator(task_id="archive", inputs=ROWS, **PAIR)
