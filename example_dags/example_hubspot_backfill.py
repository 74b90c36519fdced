"""Backfill: replay past days of "contact left company" events, one DAG run per day.

Each run's SQL is templated with its data interval, so a day's run removes that day's moves. The
schedule runs each new day; past days are replayed with Airflow 3's backfill, as many as you ask
for: ``airflow backfill create --dag-id hubspot_backfill_contact_moves --from-date 2026-11-27
--to-date 2026-11-29``. ``catchup=False`` and a recent ``start_date``: unpausing the DAG never
creates dozens of runs on its own. The day is cut into 3 shards that run as mapped tasks in the
``hubspot_api`` pool (3 slots, create it with ``airflow pools set hubspot_api 3 "HubSpot rate
limit"``); each task takes a third of the connection's rate limit (``rate_limit_share``), so all of
them together stay inside one HubSpot limit however many days run at once.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_hubspot_assoc.operators import BatchArchiveAssociationsOperator

SHARDS = 3
POOL = "hubspot_api"
DAY_OF_MOVES = """
SELECT contact_id AS from_id, company_id AS to_id
FROM contact_company_moves
WHERE moved_at >= '{{ data_interval_start | ds }}' AND moved_at < '{{ data_interval_end | ds }}'
"""
# One query per shard, the shard written into it: plain SQL with no driver-specific parameter
# style, so the same DAG reads SQLite and PostgreSQL. (A literal list given to expand() is still
# templated, so each query gets its run's data interval.)
SHARD_QUERIES = [
    f"{DAY_OF_MOVES}  AND contact_id % {SHARDS} = {shard}\nORDER BY contact_id" for shard in range(SHARDS)
]


with DAG(
    dag_id="hubspot_backfill_contact_moves",
    # A data-interval timetable: each run covers one whole day (Airflow 3's "@daily" has none).
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 11, 27, tz="UTC"),
    catchup=False,  # past days come from `airflow backfill create`, never from unpausing
    max_active_runs=3,
    tags=["hubspot", "example", "backfill"],
) as hubspot_backfill_contact_moves:
    BatchArchiveAssociationsOperator.partial(
        task_id="archive_moves",
        from_object_type="contacts",
        to_object_type="companies",
        conn_id="hubspot_warehouse",
        pool=POOL,
        rate_limit_share=1 / SHARDS,
        on_invalid="skip",
        retries=2,  # a retry resumes from the checkpoint (Airflow 3.3+)
        retry_delay=timedelta(seconds=10),
    ).expand(sql=SHARD_QUERIES)
