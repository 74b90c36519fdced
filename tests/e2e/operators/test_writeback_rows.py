"""The results table's rows, cell by cell and in the order written, for small runs that fill every
bucket the table records (snapshot types, settled and unsettled unknowns, labels)."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator
from tests.airflow_helpers import POSTGRES, postgres_database, run_dag, set_rows, use_simulator
from tests.e2e.operators.restore_support import seed_labeled_account

pytestmark = pytest.mark.usefixtures("airflow_db")

DAGS = Path(__file__).resolve().parents[2] / "dags" / "writeback_rows_dags.py"
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$")
UNLABELED = '[{"category": "HUBSPOT_DEFINED", "typeId": 279, "label": null}]'
INVALID = "One or more associations are invalid"
PENDING = (
    "still associated after archive (the answer proved nothing: HubSpot answered HTTP 200 with status "
    "'PENDING', not COMPLETE)"
)
CONFIRMED = "confirmed by reading back: HubSpot no longer shows it"
UNREAD = (
    "POST /crm/v4/associations/contacts/companies/batch/archive: gave up after 1 attempts (max_attempts); "
    "last failure: connection error (ProtocolError); reading it back failed: POST "
    "/crm/v4/associations/contacts/companies/batch/read: gave up after 1 attempts (max_attempts); last "
    "failure: HTTP 503 Simulated 503 Service Unavailable"
)


def table(db: Path, run_id: str, dag_id: str) -> list[tuple[Any, ...]]:
    """The run's rows in the order they were written, from ``row_number`` on (its key and
    ``recorded_at`` checked, and left out)."""
    with sqlite3.connect(db) as conn:
        cursor = conn.execute("SELECT * FROM hubspot_results ORDER BY rowid")
        rows = cursor.fetchall()
        columns = [d[0] for d in cursor.description]
    at = columns.index("recorded_at")
    assert columns[:5] == ["run_id", "dag_id", "task_id", "map_index", "row_number"]
    assert {row[:4] for row in rows} == {(run_id, dag_id, "archive", -1)}
    assert all(isinstance(row[at], str) and ISO_UTC.match(row[at]) for row in rows), rows
    return [(*row[4:at], *row[at + 1 :]) for row in rows]


REJECTED = "row 5, from_id: not a HubSpot record id (a positive whole number)"
# The pairs run's rows, in the order written.
PAIRS_RUN = [
    (5, None, None, None, None, None, "rejected", "INVALID_INPUT", REJECTED, None),
    (6, "100", "5000", None, None, None, "duplicate", None, None, None),
    (7, "770001", "5000", None, None, None, "failed", "VALIDATION_ERROR", INVALID, None),
    (8, "102", "5000", None, None, None, "archived", None, None, UNLABELED),
    (9, "102", "5001", None, None, None, "archived", None, None, UNLABELED),
    (10, "103", "5000", None, None, None, "archived", None, None, UNLABELED),
    (11, "104", "5000", None, None, None, "failed", "VALIDATION_ERROR", INVALID, None),
    # settled by reading back at the end: written again, last
    (3, "101", "5000", None, None, None, "archived", None, CONFIRMED, UNLABELED),
    (4, "101", "5001", None, None, None, "archived", None, CONFIRMED, UNLABELED),
    (1, "100", "5000", None, None, None, "failed", "STILL_ASSOCIATED", PENDING, None),
    (2, "100", "5001", None, None, None, "failed", "STILL_ASSOCIATED", PENDING, None),
]


def run_pairs(sim: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run ``wb_rows_pairs`` on rows that fill every bucket; its run id."""
    for from_id in ("100", "101", "102", "103"):
        for to_id in ("5000", "5001"):
            sim.state.associate("contacts", from_id, "companies", to_id)
    use_simulator(monkeypatch, sim, max_attempts=1, read_timeout=1)
    pairs = [("100", "5000"), ("100", "5001"), ("101", "5000"), ("101", "5001"), ("x", "5000")]
    pairs += [("100", "5000"), ("770001", "5000"), ("102", "5000"), ("102", "5001"), ("103", "5000")]
    set_rows(monkeypatch, [[*pair] for pair in [*pairs, ("104", "5000")]])
    sim.script(0, "ok_pending", "drop_after_apply")  # the snapshot's read; request 1 not carried out, 2 is

    result = run_dag("wb_rows_pairs", dag_file=DAGS)

    assert result.xcom("archive")["summary"]["received"] == 11
    return result.run_id


@pytest.mark.hubspot_simulator(unknown_record="error")  # an unknown record fails with 207
def test_every_bucket_of_a_pairs_run(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, results_db: Path
) -> None:
    run_id = run_pairs(hubspot_simulator, monkeypatch)

    assert table(results_db, run_id, "wb_rows_pairs") == PAIRS_RUN


@pytest.mark.hubspot_simulator(unknown_record="error")
@pytest.mark.postgres
def test_every_bucket_of_a_pairs_run_on_postgres(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg2

    with postgres_database() as (_, connection):
        monkeypatch.setenv("AIRFLOW_CONN_HUBSPOT_TEST_RESULTS", connection)
        run_id = run_pairs(hubspot_simulator, monkeypatch)
        db = psycopg2.connect(connect_timeout=3, **{**POSTGRES, "dbname": json.loads(connection)["schema"]})
        try:
            with db.cursor() as cursor:
                cursor.execute("SELECT * FROM hubspot_results ORDER BY row_number")
                rows = cursor.fetchall()
                columns = [d[0] for d in cursor.description]
        finally:
            db.close()

    assert {row[:4] for row in rows} == {(run_id, "wb_rows_pairs", "archive", -1)}
    at = columns.index("recorded_at")
    assert all(ISO_UTC.match(row[at]) for row in rows), rows
    assert [(*row[4:at], *row[at + 1 :]) for row in rows] == sorted(PAIRS_RUN)  # no row order kept


@pytest.mark.hubspot_simulator(unknown_record="error")
def test_unknown_rows_that_reading_back_did_not_settle(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, results_db: Path
) -> None:
    sim = hubspot_simulator
    for from_id in ("100", "101", "102"):
        sim.state.associate("contacts", from_id, "companies", "5000")
    use_simulator(monkeypatch, sim, max_attempts=1, read_timeout=1)
    set_rows(monkeypatch, [["100", "5000"], ["101", "5000"], ["102", "5000"]])
    sim.script(0, "drop_after_apply", 0, 503)  # request 1's answer is lost, reading it back fails

    result = run_dag("wb_rows_pairs", dag_file=DAGS)

    assert table(results_db, result.run_id, "wb_rows_pairs") == [
        (3, "102", "5000", None, None, None, "archived", None, None, UNLABELED),
        (1, "100", "5000", None, None, None, "unknown", "UNKNOWN_OUTCOME", UNREAD, UNLABELED),
        (2, "101", "5000", None, None, None, "unknown", "UNKNOWN_OUTCOME", UNREAD, UNLABELED),
    ]


def test_every_cell_of_a_labels_run(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, results_db: Path, tmp_path: Path
) -> None:
    seed_labeled_account(hubspot_simulator, monkeypatch, tmp_path)
    rows: list[list[Any]] = [["101", "5000", "Primary"], ["102", "5000", "Billing"]]
    rows += [["103", "5000", "Former", "USER_DEFINED"], ["100", "5000", "Nope"], ["102", "5000", "Billing"]]
    set_rows(monkeypatch, [*rows, ["103", "5001", 1, "HUBSPOT_DEFINED"]])

    result = run_dag("wb_rows_labels", dag_file=DAGS)

    nope = "row 4, label: no label named 'Nope' from contacts to companies (known: 'Billing', 'Former', "
    nope += "'Primary')"
    primary = '[{"category": "HUBSPOT_DEFINED", "typeId": 1, "label": "Primary"}]'
    billing = '[{"category": "USER_DEFINED", "typeId": 1001, "label": "Billing"}]'
    former = '[{"category": "USER_DEFINED", "typeId": 1003, "label": "Former"}]'
    assert table(results_db, result.run_id, "wb_rows_labels") == [
        (1, "101", "5000", "HUBSPOT_DEFINED", 1, "Primary", "archived", None, None, primary),
        (2, "102", "5000", "USER_DEFINED", 1001, "Billing", "archived", None, None, billing),
        (4, None, None, None, None, None, "rejected", "INVALID_INPUT", nope, None),
        (5, "102", "5000", "USER_DEFINED", 1001, "Billing", "duplicate", None, None, None),
        (3, "103", "5000", "USER_DEFINED", 1003, "Former", "archived", None, None, former),
        (6, "103", "5001", "HUBSPOT_DEFINED", 1, "Primary", "archived", None, None, None),  # nothing there
    ]
