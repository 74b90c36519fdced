"""Fixtures shared by the operator tests."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest


def results(db: Path) -> list[tuple[int, str, str, str]]:
    """The write-back table's rows: (row number, from id, to id, outcome), in order."""
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT row_number, from_id, to_id, outcome FROM hubspot_results ORDER BY 1, 2, 3"
        ).fetchall()


@pytest.fixture
def results_db(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A SQLite file behind the ``hubspot_test_results`` connection the test DAGs write back to."""
    db = tmp_path / "results.db"
    monkeypatch.setenv(
        "AIRFLOW_CONN_HUBSPOT_TEST_RESULTS", json.dumps({"conn_type": "sqlite", "host": str(db)})
    )
    return db
