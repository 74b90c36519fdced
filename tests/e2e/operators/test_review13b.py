"""Second adversarial review of the undo (issue 13, after the void records and the cleared run's
proof): defects found, each shown through dag.test() against the simulator over HTTP."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pendulum
import pytest

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator
from tests.airflow_helpers import load_dag, run_dag
from tests.e2e.operators.restore_support import (
    FROM_TO,
    assert_buckets_add_up,
    labeled_pairs,
    point_restore_at,
    typed,
)
from tests.killing import kill_mid_run
from tests.versions import needs_task_state_store

pytestmark = pytest.mark.usefixtures("airflow_db")

DAGS = Path(__file__).resolve().parents[2] / "dags" / "review13b_dags.py"


@pytest.fixture
def account(hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch) -> HubSpotSimulator:
    return labeled_pairs(hubspot_simulator, monkeypatch)


@pytest.fixture
def between_tries() -> Iterator[list[object]]:
    """What the DAGs' retry callback does between two tries: someone else changing the account."""
    load_dag("r13b_archive_files_deferring", DAGS)
    steps = sys.modules[f"_dags_{DAGS.stem}"].BETWEEN_TRIES
    yield steps
    steps.clear()


undo = point_restore_at


@needs_task_state_store
@pytest.mark.hubspot_simulator(retry_after_on_429=True)
def test_a_void_made_before_a_deferral_drops_its_record(
    account: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, between_tries: list[object]
) -> None:
    """Try 1 records contact 100's pair with its Billing label; HubSpot refuses its removal (failed),
    then HubSpot's day is used up on contact 101's request and the run defers. The resumed session
    removes 101; the failure policy fails the try. Before try 2, someone removes the Billing label;
    try 2 removes the pair, unlabeled only. The run never removed Billing: the void of try 1's
    record must survive the deferral, or the retry's union and the restore bring Billing back."""
    monkeypatch.setenv("AIRFLOW_VAR_SNAPSHOT_PATH", f"file://{tmp_path / 'kept'}")
    billing = next(d for d in account.state.definitions(*FROM_TO) if d.label == "Billing")
    key = (billing.category, billing.type_id)
    between_tries.append(lambda: account.state.archive_label(FROM_TO[0], "100", FROM_TO[1], "5000", key))
    # try 1: the snapshot read, contact 100's archive (refused), contact 101's (the daily 429)
    account.script(0, 400, "daily")

    archived = run_dag("r13b_archive_files_deferring", dag_file=DAGS)

    assert archived.state == "success", archived.task_states
    summary = archived.xcom("archive")["summary"]
    assert (summary["archived"], summary["failed"]) == (2, 0), summary
    assert typed(account) == set()
    undo(monkeypatch, archived.run_id, "r13b_archive_files_deferring")

    result = run_dag("r13b_restore_files", dag_file=DAGS)

    assert_buckets_add_up(result.xcom("restore")["summary"])
    assert key not in account.state.types_of(FROM_TO[0], "100", FROM_TO[1], "5000")
    assert account.state.types_of(FROM_TO[0], "100", FROM_TO[1], "5000")  # the pair itself comes back


def test_a_cleared_run_with_other_rows_keeps_what_the_first_run_removed(
    account: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, results_db: Path
) -> None:
    """The first run removes both pairs. Its task is cleared and runs again under the same run id,
    its query now returning contact 101's row only. Contact 100's pair (with Billing) was removed by
    this run id: undoing the run id must bring it back, so its record must outlive the new run."""
    before = typed(account)
    day = pendulum.datetime(2026, 5, 7, tz="UTC")
    monkeypatch.setenv("AIRFLOW_VAR_R13B_ROWS", json.dumps([["100", "5000"], ["101", "5000"]]))
    first = run_dag("r13b_archive_table_rows", dag_file=DAGS, logical_date=day, run_after=day)
    assert first.xcom("archive")["summary"]["archived"] == 2
    assert typed(account) == set()
    monkeypatch.setenv("AIRFLOW_VAR_R13B_ROWS", json.dumps([["101", "5000"]]))

    again = run_dag("r13b_archive_table_rows", dag_file=DAGS, logical_date=day, run_after=day)

    assert again.run_id == first.run_id
    assert again.xcom("archive")["summary"]["received"] == 1
    undo(monkeypatch, again.run_id, "r13b_archive_table_rows")

    restored = run_dag("r13b_restore", dag_file=DAGS)

    assert_buckets_add_up(restored.xcom("restore")["summary"])
    assert typed(account) == before


@needs_task_state_store
@pytest.mark.hubspot_simulator(retry_after_on_429=True)
def test_a_removal_read_back_after_a_deferral_voids_the_record_of_the_session_that_sent_it(
    account: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, between_tries: list[object]
) -> None:
    """Session 1 of try 1 records contact 100's pair with Billing and sends its removal; HubSpot's
    answer proves nothing (PENDING, not carried out), then the day is used up and the run defers.
    Session 2 removes 101 and reads 100 back: still there, failed. Its record, written by session 1,
    is of a removal that never happened. Before try 2 someone removes Billing; try 2 removes the
    pair, unlabeled only: a restore must not create Billing."""
    monkeypatch.setenv("AIRFLOW_VAR_SNAPSHOT_PATH", f"file://{tmp_path / 'kept'}")
    billing = next(d for d in account.state.definitions(*FROM_TO) if d.label == "Billing")
    key = (billing.category, billing.type_id)
    between_tries.append(lambda: account.state.archive_label(FROM_TO[0], "100", FROM_TO[1], "5000", key))
    # try 1: the snapshot read, contact 100's archive (not carried out), contact 101's (the daily 429)
    account.script(0, "ok_pending", "daily")

    archived = run_dag("r13b_archive_files_deferring", dag_file=DAGS)

    assert archived.state == "success", archived.task_states
    summary = archived.xcom("archive")["summary"]
    assert (summary["archived"], summary["failed"]) == (2, 0), summary
    assert typed(account) == set()
    undo(monkeypatch, archived.run_id, "r13b_archive_files_deferring")

    result = run_dag("r13b_restore_files", dag_file=DAGS)

    assert_buckets_add_up(result.xcom("restore")["summary"])
    assert key not in account.state.types_of(FROM_TO[0], "100", FROM_TO[1], "5000")
    assert account.state.types_of(FROM_TO[0], "100", FROM_TO[1], "5000")  # the pair itself comes back


def test_a_cleared_mirror_finding_nothing_left_to_delete_keeps_what_its_first_run_removed(
    account: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, results_db: Path
) -> None:
    """A mirror removes the pairs beyond the desired set; its task is cleared and runs again under the
    same run id: HubSpot has nothing beyond the desired set now, so it plans no deletion. Undoing the
    run id must still bring back what its first run removed."""
    account.state.associate(FROM_TO[0], "100", FROM_TO[1], "5001")  # desired: kept
    before = typed(account)
    day = pendulum.datetime(2026, 5, 8, tz="UTC")
    first = run_dag("r13b_mirror", dag_file=DAGS, logical_date=day, run_after=day)
    assert first.xcom("archive")["summary"]["archived"] == 2
    assert typed(account) == {t for t in before if t[:2] == ("100", "5001")}

    again = run_dag("r13b_mirror", dag_file=DAGS, logical_date=day, run_after=day)

    assert again.run_id == first.run_id
    assert again.xcom("archive")["summary"]["received"] == 0
    undo(monkeypatch, again.run_id, "r13b_mirror")

    restored = run_dag("r13b_restore", dag_file=DAGS)

    assert_buckets_add_up(restored.xcom("restore")["summary"])
    assert typed(account) == before


def next_try(dag_id: str, logical: pendulum.DateTime) -> str:
    """Run the task's next try the way the scheduler does after a killed or failed one; its run id."""
    from airflow.models.dagrun import DagRun
    from airflow.sdk.definitions.dag import _run_task
    from airflow.utils.session import create_session
    from sqlalchemy import select

    dag = load_dag(dag_id, DAGS)
    with create_session() as session:
        run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.logical_date == logical))
        assert run is not None
        ti = run.get_task_instance("archive", session=session)
        assert ti is not None
        ti.try_number += 1
        ti.state = "scheduled"
        session.commit()
        session.refresh(ti)
        session.expunge(ti)
        run_id = str(run.run_id)
    _run_task(ti=ti, task=dag.task_dict["archive"])
    return run_id


@needs_task_state_store
def test_a_killed_try_s_removal_read_back_still_there_voids_its_record(
    account: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Try 1 records contact 100's pair with Billing and sends its removal: HubSpot's answer proves
    nothing (PENDING, not carried out), the checkpoint keeps it unknown, and the try is killed on
    contact 101's request. Try 2 goes on from the checkpoint and reads 100 back: still there, failed
    (try 1's record is of a removal that never happened); the failure policy fails the try. Someone
    removes Billing; try 3 removes the pair, unlabeled only: a restore must not create Billing."""
    monkeypatch.setenv("AIRFLOW_VAR_SNAPSHOT_PATH", f"file://{tmp_path / 'kept'}")
    billing = next(d for d in account.state.definitions(*FROM_TO) if d.label == "Billing")
    key = (billing.category, billing.type_id)
    logical = pendulum.datetime(2026, 5, 9, tz="UTC")
    account.set_faults(slow_seconds=2.0)
    account.script(0, "ok_pending", "slow")  # try 1: the snapshot read, 100 (not carried out), 101
    kill_mid_run("r13b_archive_files_killed", DAGS, logical, account, after=2)
    next_try("r13b_archive_files_killed", logical)  # try 2: 100 read back, still there: failed
    account.state.archive_label(FROM_TO[0], "100", FROM_TO[1], "5000", key)

    run_id = next_try("r13b_archive_files_killed", logical)  # try 3: 100 sent again

    assert typed(account) == set()
    undo(monkeypatch, run_id, "r13b_archive_files_killed")

    result = run_dag("r13b_restore_files", dag_file=DAGS)

    assert_buckets_add_up(result.xcom("restore")["summary"])
    assert key not in account.state.types_of(FROM_TO[0], "100", FROM_TO[1], "5000")
    assert account.state.types_of(FROM_TO[0], "100", FROM_TO[1], "5000")  # the pair itself comes back


@needs_task_state_store
@pytest.mark.hubspot_simulator(retry_after_on_429=True)
def test_a_mirror_s_deletion_refused_after_a_deferral_voids_its_plan_record(
    account: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, between_tries: list[object]
) -> None:
    """A mirror records its plan (contact 100's pair with Billing, 101's) before its first request,
    which meets the daily limit: it defers. The resumed session goes on with the plan (no read) and
    HubSpot refuses 100's deletion: failed, the policy fails the try. Someone removes Billing; try 2
    reads the pair and deletes it, unlabeled only: a restore must not create Billing."""
    monkeypatch.setenv("AIRFLOW_VAR_SNAPSHOT_PATH", f"file://{tmp_path / 'kept'}")
    account.state.associate(FROM_TO[0], "100", FROM_TO[1], "5001")  # desired: kept
    billing = next(d for d in account.state.definitions(*FROM_TO) if d.label == "Billing")
    key = (billing.category, billing.type_id)
    between_tries.append(lambda: account.set_faults(poison_ids=()))
    between_tries.append(lambda: account.state.archive_label(FROM_TO[0], "100", FROM_TO[1], "5000", key))
    account.set_faults(poison_ids=("100",))  # try 1: HubSpot refuses contact 100's deletion
    account.script(0, "daily")  # try 1: the plan's read, the first deletion (the daily 429)

    archived = run_dag("r13b_mirror_files_deferring", dag_file=DAGS)

    assert archived.state == "success", archived.task_states
    summary = archived.xcom("archive")["summary"]
    assert (summary["archived"], summary["failed"]) == (2, 0), summary
    assert not account.state.types_of(FROM_TO[0], "100", FROM_TO[1], "5000")
    undo(monkeypatch, archived.run_id, "r13b_mirror_files_deferring")

    result = run_dag("r13b_restore_files", dag_file=DAGS)

    assert_buckets_add_up(result.xcom("restore")["summary"])
    assert key not in account.state.types_of(FROM_TO[0], "100", FROM_TO[1], "5000")
    assert account.state.types_of(FROM_TO[0], "100", FROM_TO[1], "5000")  # the pair itself comes back
