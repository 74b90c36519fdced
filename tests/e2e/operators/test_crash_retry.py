"""Crash and retry keep the record whole: checkpoints, carried plans, write-back and request counts."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pendulum
import pytest

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator
from tests.airflow_helpers import run_dag, use_simulator
from tests.e2e.operators.conftest import results
from tests.killing import kill_mid_run, retry_killed_task
from tests.versions import needs_task_state_store

pytestmark = pytest.mark.usefixtures("airflow_db")

REPO = Path(__file__).resolve().parents[3]
DAGS = REPO / "tests" / "dags" / "safety_dags.py"
BUCKETS = ("archived", "rejected", "failed", "duplicates", "unknown", "planned")
CONTACTS = [str(c) for c in range(101, 111)]
COMPANIES = [str(k) for k in range(5000, 5005)]
EXTRA = {(c, k) for c in CONTACTS for k in COMPANIES[3:]}  # what a mirror of DESIRED deletes: 20 pairs


def assert_buckets_add_up(summary: dict[str, Any]) -> None:
    assert summary["received"] == sum(summary[b] for b in BUCKETS), summary


def api_requests(sim: HubSpotSimulator) -> int:
    return sum(1 for r in sim.stats.log if r.endpoint in ("archive", "archive_labels", "read"))


@pytest.fixture
def account(hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch) -> HubSpotSimulator:
    for contact in CONTACTS:
        for company in COMPANIES:
            hubspot_simulator.state.associate("contacts", contact, "companies", company)
    use_simulator(monkeypatch, hubspot_simulator)
    return hubspot_simulator


@needs_task_state_store
def test_a_policy_failed_task_keeps_its_checkpoint_and_its_retry_sends_only_the_failed_rows(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, results_db: Path
) -> None:
    sim = hubspot_simulator
    pairs = {(str(100 + c), str(5000 + k)) for c in range(5) for k in range(2)}
    for from_id, to_id in pairs:
        sim.state.associate("contacts", from_id, "companies", to_id)
    use_simulator(monkeypatch, sim)
    sim.script("ok_pending")  # the first request is not carried out: its 2 pairs fail the first try

    result = run_dag("s_policy_retry", dag_file=DAGS)

    assert result.state == "success", result.task_states
    summary = result.xcom("archive")["summary"]
    assert (summary["received"], summary["archived"], summary["failed"], summary["unknown"]) == (10, 10, 0, 0)
    assert_buckets_add_up(summary)
    sends = sim.stats.pair_sends  # (a request answered "PENDING" and not carried out counts none)
    assert set(sends) == pairs and max(sends.values()) == 1  # the retry sent only the two failed pairs
    assert sim.stats.by_endpoint["archive"] == 6
    assert summary["requests"] == api_requests(sim) == 5 + 1 + 1  # 5 archives, 1 read back, 1 retry
    assert results(results_db) == sorted(
        (n, row[0], row[1], "archived") for n, row in enumerate(sorted(pairs), start=1)
    )
    assert sim.state.pairs("contacts", "companies") == set()


@needs_task_state_store
def test_a_mirror_crashing_on_its_first_request_goes_on_with_the_plan_saved_before_it(
    account: HubSpotSimulator, results_db: Path
) -> None:
    account.script(0, 401)  # planning's read passes; the first archive request crashes the try

    result = run_dag("s_sync_retry", dag_file=DAGS)

    assert result.state == "success", result.task_states
    assert account.stats.by_endpoint["read"] == 1  # the retry did not plan again
    summary = result.xcom("sync")["summary"]
    assert (summary["received"], summary["archived"]) == (20, 20)
    assert_buckets_add_up(summary)
    assert [(n, outcome) for n, _, _, outcome in results(results_db)] == [
        (n, "archived") for n in range(1, 21)
    ]


@needs_task_state_store
def test_a_mirror_plan_too_large_for_the_checkpoint_survives_a_retry_through_its_file(
    account: HubSpotSimulator, results_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_hubspot_assoc.operators import checkpoint

    monkeypatch.setattr(checkpoint, "PLAN_CARRY_LIMIT", 5)  # the 20 deletions go to a file
    account.script(0, 0, 0, 401)  # the third archive request crashes the first try

    result = run_dag("s_sync_retry", dag_file=DAGS)

    assert result.state == "success", result.task_states
    assert account.stats.by_endpoint["read"] == 1
    summary = result.xcom("sync")["summary"]
    assert (summary["received"], summary["archived"]) == (20, 20)
    assert result.xcom("sync")["sync"]["planned_deletions"] == 20
    assert account.state.pairs("contacts", "companies") == {(c, k) for c in CONTACTS for k in COMPANIES[:3]}
    assert [(n, outcome) for n, _, _, outcome in results(results_db)] == [
        (n, "archived") for n in range(1, 21)
    ]


@pytest.mark.timeout(240)
@needs_task_state_store
def test_after_a_sigkill_the_retry_leaves_one_row_per_input_and_counts_every_request(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, results_db: Path
) -> None:
    sim = hubspot_simulator
    pairs = {(str(100 + c), str(5000 + k)) for c in range(30) for k in range(5)}  # 15 requests of 10
    for from_id, to_id in pairs:
        sim.state.associate("contacts", from_id, "companies", to_id)
    use_simulator(monkeypatch, sim)
    sim.reconfigure(latency_seconds=0.15)
    logical = pendulum.datetime(2026, 3, 1, tz="UTC")

    kill_mid_run("s_killed", DAGS, logical, sim, after=7)
    sent_by_the_killed_try = sim.stats.by_endpoint["archive"]
    result = retry_killed_task("s_killed", DAGS, logical, "archive")

    summary = result["summary"]
    assert (summary["received"], summary["archived"], summary["failed"]) == (150, 150, 0)
    assert_buckets_add_up(summary)
    rows = results(results_db)
    assert len(rows) == 150 and {(f, t) for _, f, t, _ in rows} == pairs  # one row per input
    assert {outcome for *_, outcome in rows} == {"archived"}
    time.sleep(0.5)  # a request of the killed try may still sit in the simulator's 0.15 s latency
    made = sim.stats.by_endpoint["archive"]
    assert made > sent_by_the_killed_try
    # Every request made is counted; one the kill cut off while it was going out counts too
    # (whether it reached HubSpot is unknowable), so at most max_in_flight=2 more.
    assert made <= summary["requests"] <= made + 2
    assert max(sim.stats.pair_sends.values()) <= 2
    assert sim.state.count("contacts", "companies") == 0


@pytest.mark.timeout(240)
@needs_task_state_store
def test_a_mirror_killed_mid_run_keeps_its_plan_and_every_deletion_either_try_made(
    account: HubSpotSimulator, results_db: Path
) -> None:
    account.reconfigure(latency_seconds=0.15)
    logical = pendulum.datetime(2026, 3, 2, tz="UTC")

    kill_mid_run("s_sync_killed", DAGS, logical, account, after=1)  # before any periodic checkpoint
    result = retry_killed_task("s_sync_killed", DAGS, logical, "sync")

    assert account.stats.by_endpoint["read"] == 1  # planned once, before anything was sent
    summary = result["summary"]
    assert (summary["received"], summary["archived"]) == (20, 20)
    # the killed try's included, and the read that made the plan
    time.sleep(0.5)  # a request of the killed try may still sit in the simulator's 0.15 s latency
    made = account.stats.by_endpoint["archive"] + 1
    assert made <= summary["requests"] <= made + 1  # max_in_flight=1 may have been cut off going out
    assert_buckets_add_up(summary)
    rows = results(results_db)
    assert [(n, outcome) for n, _, _, outcome in rows] == [(n, "archived") for n in range(1, 21)]
    assert {(f, t) for _, f, t, _ in rows} == EXTRA
    assert account.state.pairs("contacts", "companies") == {(c, k) for c in CONTACTS for k in COMPANIES[:3]}


def test_a_retry_keeps_the_rows_an_earlier_try_wrote_for_deletions_it_made(results_db: Path) -> None:
    from airflow_provider_hubspot_assoc.writeback import ResultsWriter

    def record(row: int, outcome: str) -> tuple[Any, ...]:
        """An outcome record (``outcomes.outcome_record``)."""
        return (row, str(100 + row), "5000", None, None, None, outcome, None, None)

    key = {"run_id": "r", "dag_id": "d", "task_id": "t", "map_index": -1}
    first = ResultsWriter("hubspot_test_results", "hubspot_results", create=True, **key)
    first.add([record(1, "archived"), record(2, "archived"), record(3, "failed"), record(4, "archived")])
    first.flush()

    kept = ResultsWriter("hubspot_test_results", "hubspot_results", **key).forget_after(1)

    assert kept == {(2, "102", "5000", None), (4, "104", "5000", None)}
    assert [(n, outcome) for n, *_, outcome in results(results_db)] == [
        (1, "archived"),
        (2, "archived"),
        (4, "archived"),
    ]
