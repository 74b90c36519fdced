"""Write-back: exactly one row per input in the results table, counts equal to the XCom summary."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator
from tests.airflow_helpers import postgres_connection, require_postgres, run_dag, set_rows, use_simulator
from tests.e2e.operators.test_operators_dag import seed_pairs

pytestmark = pytest.mark.usefixtures("airflow_db")
OUTCOME_OF = {"archived": "archived", "failed": "failed", "rejected": "rejected", "duplicates": "duplicate"}


def messy_rows(pairs: list[tuple[str, str]]) -> list[Any]:
    return [list(p) for p in pairs] + [list(pairs[0]), ["x", "5000"], ["770001", "5000"]]


def check_table(rows: list[tuple[Any, ...]], summary: dict[str, Any]) -> None:
    """rows: (row_number, outcome, from_id, to_id, error_code)"""
    assert len(rows) == summary["received"]
    assert sorted(r[0] for r in rows) == list(range(1, summary["received"] + 1))  # one row per input
    counts = Counter(r[1] for r in rows)
    assert {bucket: counts[outcome] for bucket, outcome in OUTCOME_OF.items()} == {
        bucket: summary[bucket] for bucket in OUTCOME_OF
    }
    failed = [r for r in rows if r[1] == "failed"]
    assert [(r[2], r[3], r[4]) for r in failed] == [("770001", "5000", "VALIDATION_ERROR")]


@pytest.mark.hubspot_simulator(unknown_record="error")  # unknown records fail with 207 (default: no-op)
def test_sqlite_results_table(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sim = hubspot_simulator
    pairs = seed_pairs(sim, 40)
    db = tmp_path / "results.db"
    monkeypatch.setenv(
        "AIRFLOW_CONN_HUBSPOT_TEST_RESULTS", json.dumps({"conn_type": "sqlite", "host": str(db)})
    )
    use_simulator(monkeypatch, sim)
    set_rows(monkeypatch, messy_rows(pairs))

    summary = run_dag("t_writeback").xcom("archive")["summary"]

    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT row_number, outcome, from_id, to_id, error_code FROM hubspot_results ORDER BY row_number"
        ).fetchall()
    check_table(rows, summary)
    assert (summary["received"], summary["archived"]) == (123, 120)


@pytest.mark.hubspot_simulator(unknown_record="error")  # unknown records fail with 207 (default: no-op)
def test_retried_try_leaves_exactly_one_row_per_input(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sim = hubspot_simulator
    pairs = seed_pairs(sim, 20)
    db = tmp_path / "results.db"
    monkeypatch.setenv(
        "AIRFLOW_CONN_HUBSPOT_TEST_RESULTS", json.dumps({"conn_type": "sqlite", "host": str(db)})
    )
    use_simulator(monkeypatch, sim)
    set_rows(monkeypatch, messy_rows(pairs))
    sim.reconfigure(latency_seconds=0.02)
    sim.script(*([0] * 4), 401)  # the first try dies at its 5th request

    result = run_dag("t_writeback_resumable")

    assert result.state == "success"
    summary = result.xcom("archive")["summary"]
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT row_number, outcome, from_id, to_id, error_code FROM hubspot_results"
        ).fetchall()
    check_table(sorted(rows), summary)


@pytest.mark.hubspot_simulator(unknown_record="error")  # unknown records fail with 207 (default: no-op)
@pytest.mark.postgres
def test_postgres_results_table(hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    require_postgres()
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="test")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS hubspot_results")
    sim = hubspot_simulator
    pairs = seed_pairs(sim, 30)
    monkeypatch.setenv("AIRFLOW_CONN_HUBSPOT_TEST_RESULTS", postgres_connection())
    use_simulator(monkeypatch, sim)
    set_rows(monkeypatch, messy_rows(pairs))
    try:
        summary = run_dag("t_writeback").xcom("archive")["summary"]
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT row_number, outcome, from_id, to_id, error_code FROM hubspot_results ORDER BY 1"
            )
            rows = cursor.fetchall()
        check_table(rows, summary)
    finally:
        with conn.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS hubspot_results")
        conn.close()
