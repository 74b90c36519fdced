"""Adversarial review of the safety promises: each test once failed on the code it was written against."""

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
DAGS = REPO / "tests" / "dags" / "review10_dags.py"
BUCKETS = ("archived", "rejected", "failed", "duplicates", "unknown", "planned")
TEN = {(str(100 + c), str(5000 + k)) for c in range(5) for k in range(2)}


def assert_buckets_add_up(summary: dict[str, Any]) -> None:
    assert summary["received"] == sum(summary[b] for b in BUCKETS), summary


@pytest.fixture
def ten(hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch) -> HubSpotSimulator:
    for from_id, to_id in TEN:
        hubspot_simulator.state.associate("contacts", from_id, "companies", to_id)
    use_simulator(monkeypatch, hubspot_simulator)
    return hubspot_simulator


# ---------------------------------------------------------------- retry after a policy failure
@needs_task_state_store
def test_rows_taken_for_a_retry_survive_a_crash_of_that_retry(
    ten: HubSpotSimulator, results_db: Path
) -> None:
    # try 1: the first request is answered PENDING and not carried out -> 2 failed -> policy failure
    # (5 archives + 1 read back); try 2: its one request (re-sending the 2 failed) gets a 401 -> crash.
    ten.script("ok_pending", 0, 0, 0, 0, 0, 401)

    result = run_dag("r10_policy_retry_crash", dag_file=DAGS)

    summary = result.xcom("archive")["summary"]
    assert_buckets_add_up(summary)
    # every input row is in a bucket: the two rows try 2 took out and never settled come back
    assert summary["received"] == 10, summary
    assert len(results(results_db)) == 10, results(results_db)
    assert ten.state.pairs("contacts", "companies") == set()


# ---------------------------------------------------------------- daily limit during the read back
@pytest.mark.hubspot_simulator(retry_after_on_429=True)
def test_a_daily_limit_during_the_read_back_defers_instead_of_failing_the_run(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    for from_id, to_id in TEN:
        sim.state.associate("contacts", from_id, "companies", to_id)
    use_simulator(monkeypatch, sim, max_attempts=1, read_timeout=1)
    # The first answer is lost after the archive was applied; the read back meets a DAILY 429
    # (it resets in 1 s): the run should wait for the reset and read back then, as archives do.
    sim.script("drop_after_apply", 0, 0, 0, 0, "daily")

    result = run_dag("r10_unknown_daily", dag_file=DAGS)

    summary = result.xcom("archive")["summary"]
    assert_buckets_add_up(summary)
    assert result.task_states[("archive", -1)] == "success", summary
    assert (summary["archived"], summary["unknown"]) == (10, 0)


# ---------------------------------------------------------------- SIGKILL before any answer
@pytest.mark.timeout(240)
@needs_task_state_store
def test_requests_of_a_try_killed_before_its_first_answer_are_counted(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, results_db: Path
) -> None:
    sim = hubspot_simulator
    pairs = {(str(100 + c), str(5000 + k)) for c in range(30) for k in range(5)}
    for from_id, to_id in pairs:
        sim.state.associate("contacts", from_id, "companies", to_id)
    use_simulator(monkeypatch, sim)
    sim.reconfigure(latency_seconds=1.5)  # no answer comes back before the kill
    logical = pendulum.datetime(2026, 4, 1, tz="UTC")

    kill_mid_run("r10_killed_early", DAGS, logical, sim, after=2)
    sent_by_the_killed_try = sim.stats.by_endpoint["archive"]
    sim.reconfigure(latency_seconds=0.0)
    result = retry_killed_task("r10_killed_early", DAGS, logical, "archive")

    summary = result["summary"]
    assert (summary["received"], summary["archived"]) == (150, 150)
    assert sent_by_the_killed_try >= 2
    time.sleep(2.0)  # the killed try's last requests are still in the simulator's 1.5 s latency
    # "summary.requests counts every request of every try"
    made = sim.stats.by_endpoint["archive"]  # a request cut off while going out counts too: +2 at most
    assert made <= summary["requests"] <= made + 2, (summary["requests"], sim.stats.by_endpoint)


# ---------------------------------------------------------------- a read back that proves nothing
@pytest.mark.parametrize("read_answer", ["ok_html", "ok_not_batch", "ok_list", "ok_pending"])
def test_a_read_back_answer_that_proves_nothing_does_not_make_pairs_archived(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, read_answer: str
) -> None:
    sim = hubspot_simulator
    for from_id, to_id in TEN:
        sim.state.associate("contacts", from_id, "companies", to_id)
    use_simulator(monkeypatch, sim, max_attempts=1, read_timeout=1)
    # Request 1 is answered PENDING and not carried out (its 2 pairs stay); the read back of those
    # 2 pairs is answered with a 2xx that is no batch-read answer at all.
    sim.script("ok_pending", 0, 0, 0, 0, read_answer)

    result = run_dag("r10_proof", dag_file=DAGS).xcom("archive")

    summary = result["summary"]
    assert_buckets_add_up(summary)
    assert sim.state.pairs("contacts", "companies") == {("100", "5000"), ("100", "5001")}
    # the two pairs are still there: they must not be claimed archived
    assert summary["archived"] == 8, summary


# ---------------------------------------------------------------- errors that are not objects
def test_a_batch_response_listing_an_error_that_is_not_an_object_proves_nothing() -> None:
    from airflow_provider_hubspot_assoc.models import BatchResponse

    body = {"status": "COMPLETE", "results": [], "numErrors": 1, "errors": ["could not archive 100 -> 5000"]}
    response = BatchResponse.from_answer(200, body, [("100", "5000"), ("100", "5001")])

    # HubSpot says one error happened and does not say where: neither pair is confirmed archived
    assert response.unconfirmed is not None
    assert set(response.unknown_pairs) == {("100", "5000"), ("100", "5001")}


# ---------------------------------------------------------------- the archived-sensor
def test_the_archived_sensor_does_not_confirm_pairs_still_there_when_given_a_generator(
    ten: HubSpotSimulator,
) -> None:
    result = run_dag("r10_sensor_generator", dag_file=DAGS)

    assert ten.state.pairs("contacts", "companies") == TEN  # nothing was archived
    assert result.task_states[("confirm", -1)] != "success"


def test_the_archived_sensor_does_not_confirm_on_a_read_answer_that_proves_nothing(
    ten: HubSpotSimulator,
) -> None:
    ten.script("ok_html")  # the first batch read is answered 200 text/html

    result = run_dag("r10_sensor_list", dag_file=DAGS)

    assert ten.state.pairs("contacts", "companies") == TEN
    assert result.task_states[("confirm", -1)] != "success"


# ---------------------------------------------------------------- column_map aliasing
def test_a_column_map_reading_two_fields_from_one_column_is_refused() -> None:
    """Every row would become (company, company): a contact nobody named would lose a company."""
    from airflow_provider_hubspot_assoc.operators import BatchArchiveAssociationsOperator

    for column_map in ({"from_id": "company_id", "to_id": "company_id"}, {"from_id": "to_id"}):
        with pytest.raises(ValueError, match="column_map reads from_id and to_id from the same column"):
            BatchArchiveAssociationsOperator(
                task_id="archive",
                inputs=[{"contact_id": "100", "company_id": "5000"}],
                column_map=column_map,
                from_object_type="contacts",
                to_object_type="companies",
            )


# ---------------------------------------------------------------- a mirror's requests
def test_a_mirror_counts_the_requests_it_made_to_plan(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    for contact in range(101, 111):
        for company in range(5000, 5005):
            sim.state.associate("contacts", str(contact), "companies", str(company))
    use_simulator(monkeypatch, sim)

    summary = run_dag("r10_sync", dag_file=DAGS).xcom("sync")["summary"]

    assert (summary["received"], summary["archived"]) == (20, 20)
    made = sum(1 for r in sim.stats.log if r.endpoint in ("archive", "read", "labels"))
    assert summary["requests"] == made, (summary["requests"], sim.stats.by_endpoint)


# ---------------------------------------------------------------- a mirror retried on another worker
@needs_task_state_store
def test_a_mirror_retried_without_its_plan_file_keeps_one_row_per_deletion(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, results_db: Path
) -> None:
    from airflow_provider_hubspot_assoc.operators import checkpoint

    sim = hubspot_simulator
    for contact in range(101, 111):
        for company in range(5000, 5005):
            sim.state.associate("contacts", str(contact), "companies", str(company))
    use_simulator(monkeypatch, sim)
    monkeypatch.setattr(checkpoint, "PLAN_CARRY_LIMIT", 5)  # the 20 deletions go to a file on the worker
    sim.script(0, 0, 0, 401)  # read, two archives (10 deletions), then the try crashes

    result = run_dag("r10_sync_plan_lost", dag_file=DAGS)

    assert result.state == "success", result.task_states
    summary = result.xcom("sync")["summary"]
    rows = results(results_db)
    # 20 associations were deleted over the two tries: each one once in the table and the summary
    assert len({n for n, *_ in rows}) == len(rows), rows  # row numbers are unique
    assert len(rows) == 20 and summary["archived"] == 20, (summary, rows)


def test_a_mirror_whose_read_got_no_real_answer_does_not_report_success(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    for contact in range(101, 111):
        for company in range(5000, 5005):
            sim.state.associate("contacts", str(contact), "companies", str(company))
    use_simulator(monkeypatch, sim)
    sim.script("ok_html")  # the planning batch read is answered 200 text/html

    result = run_dag("r10_sync", dag_file=DAGS)

    assert sim.state.count("contacts", "companies") == 50  # 20 extras are still there
    assert result.task_states[("sync", -1)] != "success", result.xcom("sync")["sync"]


# ---------------------------------------------------------------- column_map values
def test_a_column_map_value_that_is_not_a_column_name_is_refused_clearly() -> None:
    from airflow_provider_hubspot_assoc.operators import BatchArchiveAssociationsOperator

    with pytest.raises(ValueError, match="column_map"):
        BatchArchiveAssociationsOperator(
            task_id="archive",
            from_object_type="contacts",
            to_object_type="companies",
            sql="SELECT contact_id, company_id FROM to_remove",
            conn_id="warehouse",
            column_map={"from_id": 1},  # type: ignore[dict-item]
        )
