"""What a person reads in the task log: progress with a total, the buckets, and no write-back noise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator
from tests.airflow_helpers import run_dag, use_simulator

pytestmark = pytest.mark.usefixtures("airflow_db")

DAGS = Path(__file__).resolve().parents[2] / "dags" / "safety_dags.py"


def test_progress_lines_and_a_closing_table_and_a_quiet_write_back(
    hubspot_simulator: HubSpotSimulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    for c in range(5):
        for k in range(2):
            hubspot_simulator.state.associate("contacts", str(100 + c), "companies", str(5000 + k))
    use_simulator(monkeypatch, hubspot_simulator)
    monkeypatch.setenv(
        "AIRFLOW_CONN_HUBSPOT_TEST_RESULTS",
        json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "results.db")}),
    )
    hubspot_simulator.script(0, 0, 401)  # the first try dies on its third request; the retry finishes

    result = run_dag("s_progress_log", dag_file=DAGS)

    assert result.state == "success", result.task_states
    log = "".join(capfd.readouterr())
    assert "Progress: 2/10 rows (20.0%), this try 2;" in log  # the first try
    assert "Progress: 6/10 rows (60.0%), this try 2;" in log  # the retry: cumulative, with its share
    assert "requests/s of 19.0 allowed" in log and "ETA" in log
    assert "Outcome of every input row:" in log
    assert "  archived    10" in log
    assert "Loaded" not in log and "Done loading" not in log  # common-sql's per-flush lines
    assert "Running statement" not in log  # nor the DDL and DELETE echoes, at any try
