"""SQL inputs read safely: duplicate result columns stop the run before any request, and one SQLite
file can hold both the input rows and the results table."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator
from tests.airflow_helpers import postgres_connection, require_postgres, run_dag, use_simulator
from tests.e2e.operators.test_operators_dag import (  # noqa: F401 (a fixture)
    assert_buckets_add_up,
    postgres_table,
    seed_pairs,
    write_sqlite,
)
from tests.e2e.operators.test_writeback import check_table

pytestmark = pytest.mark.usefixtures("airflow_db")
DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "sql_safety_dags.py"

# (DAG, query, what the error must say): each result has two columns a row's dict would mix up.
AMBIGUOUS = {
    "same alias": (
        "t_sql_safety_unmapped",
        "SELECT contact_id AS from_id, company_id AS to_id, contact_id AS to_id FROM pairs_to_remove",
        "the query's result has 2 columns named 'to_id' (columns 2 and 3); give each a distinct alias",
    ),
    "column selected twice": (
        "t_sql_safety_mapped",
        "SELECT contact_id, company_id, contact_id FROM pairs_to_remove",
        "the query's result has 2 columns named 'contact_id' (columns 1 and 3); give each a distinct alias",
    ),
    "looked-up name in two cases": (
        "t_sql_safety_unmapped",
        'SELECT contact_id AS from_id, company_id AS to_id, company_id AS "FROM_ID" FROM pairs_to_remove',
        "2 columns matching 'from_id' when case is ignored: 'from_id' (column 1) and 'FROM_ID' (column 3)",
    ),
    "label in two cases": (
        "t_sql_safety_labels",
        "SELECT contact_id AS from_id, company_id AS to_id, 'Primary' AS label, 'Other' AS \"Label\" "
        "FROM pairs_to_remove",
        "2 columns matching 'label' when case is ignored: 'label' (column 3) and 'Label' (column 4)",
    ),
}


def assert_stopped_before_sending(
    sim: HubSpotSimulator, dag_id: str, message: str, before: set[Any], capfd: pytest.CaptureFixture[str]
) -> None:
    result = run_dag(dag_id, dag_file=DAG_FILE)

    task = "archive_labels" if "labels" in dag_id else "archive"
    assert result.task_states[(task, -1)] == "failed"
    out, err = capfd.readouterr()
    assert message in out + err
    assert sim.stats.by_endpoint["archive"] == sim.stats.by_endpoint["archive_labels"] == 0
    assert sim.state.pairs("contacts", "companies") == before


@pytest.mark.parametrize("case", AMBIGUOUS)
def test_ambiguous_columns_fail_before_any_request_sqlite(
    case: str,
    hubspot_simulator: HubSpotSimulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    dag_id, query, message = AMBIGUOUS[case]
    sim = hubspot_simulator
    pairs = seed_pairs(sim, 10)
    write_sqlite(tmp_path / "in.db", [(int(f), int(t)) for f, t in pairs])
    monkeypatch.setenv(
        "AIRFLOW_CONN_HUBSPOT_TEST_SQL", json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "in.db")})
    )
    monkeypatch.setenv("AIRFLOW_VAR_SQL_SAFETY_QUERY", query)
    use_simulator(monkeypatch, sim)

    assert_stopped_before_sending(sim, dag_id, message, set(pairs), capfd)


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("case", "cursor"),
    [(case, "") for case in AMBIGUOUS]
    + [("column selected twice", "dictcursor")],  # the dict rows have lost the duplicate already
)
def test_ambiguous_columns_fail_before_any_request_postgres(
    case: str,
    cursor: str,
    hubspot_simulator: HubSpotSimulator,
    monkeypatch: pytest.MonkeyPatch,
    postgres_table: Any,  # noqa: F811 (the fixture imported above)
    capfd: pytest.CaptureFixture[str],
) -> None:
    require_postgres()
    dag_id, query, message = AMBIGUOUS[case]
    conn, schema = postgres_table
    sim = hubspot_simulator
    pairs = seed_pairs(sim, 10)
    with conn.cursor() as db:
        db.executemany(
            f"INSERT INTO {schema}.pairs_to_remove VALUES (%s, %s)", [(int(f), t) for f, t in pairs]
        )
    extra = {"options": f"-c search_path={schema}"} | ({"cursor": cursor} if cursor else {})
    monkeypatch.setenv("AIRFLOW_CONN_HUBSPOT_TEST_SQL", postgres_connection(**extra))
    monkeypatch.setenv("AIRFLOW_VAR_SQL_SAFETY_QUERY", query)
    use_simulator(monkeypatch, sim)

    assert_stopped_before_sending(sim, dag_id, message, set(pairs), capfd)


def same_file_setup(sim: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, db: Path, contacts: int) -> int:
    """Input rows and results table in one SQLite file, reached through two connection ids."""
    pairs = seed_pairs(sim, contacts)  # 3 pairs each, sent 10 a request, read 5 rows at a time
    rows = [(int(f), int(t)) for f, t in pairs] + [(100, 5000), ("x", 5000), (770001, 5000)]
    write_sqlite(db, rows)
    for conn_id in ("HUBSPOT_TEST_SQL", "HUBSPOT_TEST_RESULTS"):
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id}", json.dumps({"conn_type": "sqlite", "host": str(db)}))
    use_simulator(monkeypatch, sim)
    return len(rows)


def results_of(db: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT row_number, outcome, from_id, to_id, error_code FROM hubspot_results ORDER BY row_number"
        ).fetchall()


@pytest.mark.hubspot_simulator(unknown_record="error")  # unknown records fail with 207 (default: no-op)
def test_rows_and_results_in_one_sqlite_file(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sim = hubspot_simulator
    same_file_setup(sim, monkeypatch, tmp_path / "warehouse.db", contacts=100)

    result = run_dag("t_sql_safety_same_file", dag_file=DAG_FILE)

    assert result.task_states[("archive", -1)] == "success"
    summary = result.xcom("archive")["summary"]
    assert (summary["received"], summary["archived"], summary["duplicates"]) == (303, 300, 1)
    assert (summary["rejected"], summary["failed"]) == (1, 1)
    assert_buckets_add_up(summary)
    assert sim.stats.by_endpoint["archive"] == summary["requests"] > 1
    check_table(results_of(tmp_path / "warehouse.db"), summary)
    assert sim.state.count("contacts", "companies") == 0


@pytest.mark.hubspot_simulator(unknown_record="error")  # unknown records fail with 207 (default: no-op)
@pytest.mark.parametrize(
    ("dag_id", "contacts", "dies_at"),
    [
        ("t_sql_safety_same_file_retried", 100, 5),  # resumes from the checkpoint after row 40
        ("t_sql_safety_same_file_unsaved", 400, 105),  # wrote 1000 rows, then starts over from row 0
    ],
)
def test_rows_and_results_in_one_sqlite_file_after_a_retried_try(
    dag_id: str,
    contacts: int,
    dies_at: int,
    hubspot_simulator: HubSpotSimulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    sim = hubspot_simulator
    received = same_file_setup(sim, monkeypatch, tmp_path / "warehouse.db", contacts)
    sim.reconfigure(latency_seconds=0.01)
    sim.script(*([0] * (dies_at - 1)), 401)  # the first try dies at this request, after writing back

    result = run_dag(dag_id, dag_file=DAG_FILE)

    assert result.state == "success"
    assert sim.stats.by_status[401] == 1
    summary = result.xcom("archive")["summary"]
    assert summary["received"] == received
    assert_buckets_add_up(summary)
    check_table(results_of(tmp_path / "warehouse.db"), summary)  # exactly one row per input
    assert sim.state.count("contacts", "companies") == 0
