"""Pairs count as archived only on proof: an answer that proves nothing, or none at all, is read back."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator
from tests.airflow_helpers import run_dag, use_simulator

pytestmark = pytest.mark.usefixtures("airflow_db")

DAGS = Path(__file__).resolve().parents[2] / "dags" / "safety_dags.py"
BUCKETS = ("archived", "rejected", "failed", "duplicates", "unknown", "planned")
PAIRS = {(str(100 + c), str(5000 + k)) for c in range(5) for k in range(2)}
FIRST_REQUEST = {("100", "5000"), ("100", "5001")}


def assert_buckets_add_up(summary: dict[str, Any]) -> None:
    assert summary["received"] == sum(summary[b] for b in BUCKETS), summary


@pytest.fixture
def sim(hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch) -> HubSpotSimulator:
    for from_id, to_id in PAIRS:
        hubspot_simulator.state.associate("contacts", from_id, "companies", to_id)
    use_simulator(monkeypatch, hubspot_simulator, max_attempts=1, read_timeout=1)
    return hubspot_simulator


def counts(summary: dict[str, Any]) -> tuple[int, int, int]:
    assert_buckets_add_up(summary)
    return summary["archived"], summary["failed"], summary["unknown"]


@pytest.mark.parametrize("answer", ["ok_html", "ok_not_batch", "ok_list", "ok_pending", "ok_processing"])
def test_a_2xx_that_proves_nothing_is_read_back_and_what_is_still_there_is_failed(
    sim: HubSpotSimulator, answer: str
) -> None:
    """The first request is answered 2xx but not carried out: its pairs are not "archived"."""
    sim.script(answer)

    result = run_dag("s_proof", dag_file=DAGS).xcom("archive")

    assert counts(result["summary"]) == (8, 2, 0)
    assert sim.state.pairs("contacts", "companies") == FIRST_REQUEST
    failed = {(r["from_id"], r["to_id"]) for r in result["failed_rows"]}
    assert failed == FIRST_REQUEST
    assert all("still associated after archive" in r["error"]["message"] for r in result["failed_rows"])
    assert result["status"] == "COMPLETE"  # settled: HubSpot's PENDING does not stick to the run


@pytest.mark.parametrize(
    "answer", ["ok_errors_not_list", "ok_empty_200", "drop_after_apply", "slow_after_apply"]
)
def test_a_request_carried_out_without_proof_counts_as_archived_only_after_reading_back(
    sim: HubSpotSimulator, answer: str
) -> None:
    sim.set_faults(slow_seconds=2.5)  # past the connection's 1 s read timeout
    sim.script(answer)

    result = run_dag("s_proof", dag_file=DAGS).xcom("archive")

    assert counts(result["summary"]) == (10, 0, 0)
    assert sim.stats.by_endpoint["read"] == 1  # the proof: one batch read for the unknown pairs
    assert sim.state.pairs("contacts", "companies") == set()


def test_errors_hubspot_counted_but_did_not_list_leave_their_pairs_unconfirmed(sim: HubSpotSimulator) -> None:
    sim.script("ok_num_errors_hidden")  # applied, except the first two pairs

    result = run_dag("s_proof", dag_file=DAGS).xcom("archive")

    assert counts(result["summary"]) == (8, 2, 0)
    assert sim.state.pairs("contacts", "companies") == FIRST_REQUEST


def test_pairs_that_cannot_be_read_back_stay_unknown_and_count_against_the_failure_policy(
    sim: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    sim.script("drop_after_apply", 0, 0, 0, 0, 503)  # the answer is lost, then the read back fails

    tolerant = run_dag("s_proof", dag_file=DAGS).xcom("archive")

    assert counts(tolerant["summary"]) == (8, 0, 2)
    assert {(r["from_id"], r["to_id"]) for r in tolerant["unknown_rows"]} == FIRST_REQUEST
    assert "reading it back failed" in tolerant["unknown_rows"][0]["error"]["message"]

    for from_id, to_id in PAIRS:
        sim.state.associate("contacts", from_id, "companies", to_id)
    sim.script("drop_after_apply", 0, 0, 0, 0, 503)
    strict = run_dag("s_proof_strict", dag_file=DAGS)

    assert strict.task_states[("archive", -1)] == "failed"
    assert counts(strict.xcom("archive")["summary"]) == (8, 0, 2)
    assert "the outcome of 2 is unknown" in "".join(capfd.readouterr())


def test_the_results_table_holds_the_settled_outcome_once_per_input(
    sim: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db = tmp_path / "results.db"
    monkeypatch.setenv(
        "AIRFLOW_CONN_HUBSPOT_TEST_RESULTS", json.dumps({"conn_type": "sqlite", "host": str(db)})
    )
    sim.script("ok_pending", "drop_after_apply")  # request 1 not applied, request 2 applied

    result = run_dag("s_proof_writeback", dag_file=DAGS).xcom("archive")

    assert counts(result["summary"]) == (8, 2, 0)
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT row_number, outcome FROM hubspot_results ORDER BY 1").fetchall()
    assert rows == [(1, "failed"), (2, "failed")] + [(n, "archived") for n in range(3, 11)]


def test_an_unreachable_hubspot_is_named_as_such_and_the_run_is_not_complete(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_HUBSPOT_DEFAULT",
        json.dumps(
            {
                "conn_type": "hubspot",
                "host": "http://127.0.0.1:1",  # nothing listens on port 1
                "password": hubspot_simulator.token,
                "extra": {"max_attempts": 2},
            }
        ),
    )

    result = run_dag("s_proof", dag_file=DAGS)

    assert result.task_states[("archive", -1)] == "failed"
    pushed = result.xcom("archive")
    assert pushed["status"] != "COMPLETE"
    assert counts(pushed["summary"]) == (0, 10, 0)
    task_log = "".join(capfd.readouterr())
    assert "could not reach HubSpot at 127.0.0.1:1: connection refused" in task_log
    assert "gave up after 2 attempts (max_attempts)" in task_log
    assert "HubSpot failed" not in task_log
