"""Adversarial review of the restore (issue 13): defects found, each shown through dag.test() against
the simulator over HTTP, with the snapshot in a real SQLite results table."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import pendulum
import pytest
import requests

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator
from tests.airflow_helpers import load_dag, run_dag
from tests.e2e.operators.restore_support import DAGS as RESTORE_DAGS
from tests.e2e.operators.restore_support import (
    FROM_TO,
    assert_buckets_add_up,
    labeled_pairs,
    point_restore_at,
    typed,
)
from tests.versions import needs_task_state_store

pytestmark = pytest.mark.usefixtures("airflow_db")

DAGS = Path(__file__).resolve().parents[2] / "dags" / "review13_dags.py"


@pytest.fixture
def account(hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch) -> HubSpotSimulator:
    return labeled_pairs(hubspot_simulator, monkeypatch)


undo = point_restore_at


def test_a_removal_left_unknown_then_retried_keeps_its_snapshot_in_the_table(
    account: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, results_db: Path
) -> None:
    """Try 1 removes both pairs but HubSpot's answer proves nothing and reading back fails: unknown,
    the failure policy fails the try, its outcome rows carry the types (the snapshot rows are gone).
    Try 2 sends them again: it must keep try 1's types, or the restore has nothing to bring back."""
    before = typed(account)
    # try 1: snapshot read, the archive (carried out, answer no proof), the read back (not an answer)
    account.script(0, "ok_errors_not_list", "ok_not_batch")

    archived = run_dag("r13_archive_retried", dag_file=DAGS)

    assert archived.state == "success", archived.task_states
    assert typed(account) == set()
    summary = archived.xcom("archive")["summary"]
    assert (summary["archived"], summary["unknown"]) == (2, 0)
    assert summary["already_absent"] == 0  # try 1 removed them: they were not absent before the run
    undo(monkeypatch, archived.run_id, "r13_archive_retried")

    restored = run_dag("r13_restore", dag_file=DAGS)

    assert restored.state == "success", restored.task_states
    assert_buckets_add_up(restored.xcom("restore")["summary"])
    assert typed(account) == before


@needs_task_state_store
def test_removals_a_retry_carried_out_are_restored_from_files(
    account: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Try 1's request is not carried out (PENDING) and reading back shows both pairs still there:
    failed, listed in try 1's failed.jsonl. Try 2 removes them, failing none: a failed.jsonl left by
    try 1 must not make a restore from files skip them as never removed."""
    monkeypatch.setenv("AIRFLOW_VAR_SNAPSHOT_PATH", f"file://{tmp_path / 'kept'}")
    before = typed(account)
    account.script(0, "ok_pending")  # try 1: the snapshot read, then the archive

    archived = run_dag("r13_archive_files_retried", dag_file=DAGS)

    assert archived.state == "success", archived.task_states
    summary = archived.xcom("archive")["summary"]
    assert (summary["archived"], summary["failed"], summary["already_absent"]) == (2, 0, 0)
    assert typed(account) == set()
    undo(monkeypatch, archived.run_id, "r13_archive_files_retried")

    result = run_dag("r13_restore_files", dag_file=DAGS).xcom("restore")

    assert_buckets_add_up(result["summary"])
    assert result["summary"]["restored"] == 4
    # Try 1's records of the removals it proved not carried out are void (and so not restored);
    # try 2's records of the same removals, which it carried out, are.
    assert (result["restore"]["records"], result["restore"]["not_removed"]) == (4, 2)
    assert typed(account) == before


@pytest.fixture
def between_tries() -> Iterator[list[object]]:
    """What the DAGs' retry callback does between two tries: someone else changing the account."""
    load_dag("r13_archive_files_retried", DAGS)
    steps = sys.modules[f"_dags_{DAGS.stem}"].BETWEEN_TRIES
    yield steps
    steps.clear()


@needs_task_state_store
def test_a_label_removed_by_someone_else_after_a_failed_removal_is_not_restored(
    account: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, between_tries: list[object]
) -> None:
    """Try 1 records contact 100's pair with its Billing label, then HubSpot proves the removal was
    not carried out (PENDING, read back: still there). Before try 2, someone removes the Billing label.
    Try 2 removes the pair, unlabeled only: the run never removed Billing, so a restore must not
    create it (try 1's record was of a removal that did not happen)."""
    monkeypatch.setenv("AIRFLOW_VAR_SNAPSHOT_PATH", f"file://{tmp_path / 'kept'}")
    billing = next(d for d in account.state.definitions(*FROM_TO) if d.label == "Billing")
    key = (billing.category, billing.type_id)
    between_tries.append(lambda: account.state.archive_label(FROM_TO[0], "100", FROM_TO[1], "5000", key))
    account.script(0, "ok_pending")  # try 1: the snapshot read, then the archive (not carried out)
    archived = run_dag("r13_archive_files_retried", dag_file=DAGS)
    assert archived.state == "success", archived.task_states
    assert typed(account) == set()
    undo(monkeypatch, archived.run_id, "r13_archive_files_retried")

    run_dag("r13_restore_files", dag_file=DAGS)

    assert key not in account.state.types_of(FROM_TO[0], "100", FROM_TO[1], "5000")


def test_a_restore_run_again_under_its_run_id_claims_no_create_hubspot_refused(
    account: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, results_db: Path
) -> None:
    """A restore succeeds; later its task is run again under the same run id (cleared). HubSpot now
    refuses contact 100's creates (its pair was removed since, and the record is refused): they
    must be failed, not restored on the strength of the first run's rows."""
    archived = run_dag("r13_archive_retried", dag_file=DAGS)
    assert typed(account) == set()
    undo(monkeypatch, archived.run_id, "r13_archive_retried")
    day = pendulum.datetime(2026, 5, 5, tz="UTC")
    first = run_dag("r13_restore", dag_file=DAGS, logical_date=day, run_after=day)
    assert first.xcom("restore")["summary"]["restored"] == 4
    account.state.archive_pair(FROM_TO[0], "100", FROM_TO[1], "5000")
    account.set_faults(poison_ids=("100",))

    again = run_dag("r13_restore", dag_file=DAGS, logical_date=day, run_after=day)

    assert again.run_id == first.run_id
    summary = again.xcom("restore")["summary"]
    assert_buckets_add_up(summary)
    assert account.state.types_of(FROM_TO[0], "100", FROM_TO[1], "5000") == set()
    assert (summary["restored"], summary["failed"]) == (2, 2), summary


@needs_task_state_store
def test_a_mirror_retry_keeps_the_snapshot_of_the_removals_it_sends_again(
    account: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, results_db: Path
) -> None:
    """A mirror's try 1 records its plan (the snapshot), then HubSpot proves its request was not
    carried out (PENDING; read back: still there): failed. Try 2 goes on with the plan, without
    reading HubSpot, and removes both pairs: their types must still be recorded for the restore."""
    account.state.associate(FROM_TO[0], "100", FROM_TO[1], "5001")  # desired: kept
    before = typed(account)
    account.script(0, "ok_pending")  # try 1: the plan's read, then the archive (not carried out)

    archived = run_dag("r13_mirror_retried", dag_file=DAGS)

    assert archived.state == "success", archived.task_states
    assert typed(account) == {t for t in before if t[:2] == ("100", "5001")}
    undo(monkeypatch, archived.run_id, "r13_mirror_retried")

    run_dag("r13_restore", dag_file=DAGS)

    assert typed(account) == before


def test_a_label_deleted_since_the_archive_does_not_keep_its_association_from_coming_back(
    account: HubSpotSimulator,
    monkeypatch: pytest.MonkeyPatch,
    results_db: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """The README: a label whose definition was deleted since is rejected, nothing sent for it. The
    association it was on (and that association's other types) still comes back; then
    on_invalid="fail" fails the task naming the rejected type, and on_invalid="skip" succeeds."""
    before = typed(account)
    archived = run_dag("r13_archive_retried", dag_file=DAGS)
    assert typed(account) == set()
    state = account.state
    billing = next(d for d in state.definitions(*FROM_TO) if d.label == "Billing")
    deleted = requests.delete(  # someone deletes the Billing label, through HubSpot's API
        f"{account.url}/crm/v4/associations/contacts/companies/labels/{billing.type_id}",
        headers={"Authorization": f"Bearer {account.token}"},
        timeout=10,
    )
    assert deleted.status_code == 204
    undo(monkeypatch, archived.run_id, "r13_archive_retried")

    result = run_dag("r13_restore", dag_file=DAGS)

    restored = result.xcom("restore")
    summary = restored["summary"]
    assert_buckets_add_up(summary)
    assert (summary["restored"], summary["rejected"]) == (3, 1), summary  # Billing of contact 100's pair
    assert typed(account) == {t for t in before if t[3] != billing.type_id}
    (rejected,) = restored["rejected_rows"]
    assert (rejected["row"], rejected["field"]) == (1, "association_type_id")
    assert "the label 'Billing' it was recorded with is no longer defined" in rejected["reason"]
    assert "(snapshot record: row 1, map index -1)" in rejected["reason"]
    assert result.task_states[("restore", -1)] == "failed"  # on_invalid="fail", after the rest came back
    task_log = "".join(capfd.readouterr())
    assert (
        f"1 invalid row(s) were not sent: row 1, association_type_id: no association type {billing.type_id}"
        in (task_log)
    )

    lenient = run_dag("rs_restore_lenient", dag_file=RESTORE_DAGS)

    assert lenient.task_states[("restore", -1)] == "success"
    summary = lenient.xcom("restore")["summary"]
    assert_buckets_add_up(summary)
    assert summary["rejected"] == 1
    assert typed(account) == {t for t in before if t[3] != billing.type_id}


def test_a_removal_repeated_within_its_row_keeps_its_types_in_the_table(
    account: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, results_db: Path
) -> None:
    """A native input naming one to-id twice: the second is a duplicate, written back before the
    removal's own outcome. The duplicate must not take the types the removal's row is to carry."""
    on_100 = {t for t in typed(account) if t[0] == "100"}
    archived = run_dag("r13_archive_native_twice", dag_file=DAGS)
    summary = archived.xcom("archive")["summary"]
    assert (summary["archived"], summary["duplicates"]) == (1, 1)
    assert not any(t[0] == "100" for t in typed(account))
    undo(monkeypatch, archived.run_id, "r13_archive_native_twice")

    result = run_dag("r13_restore", dag_file=DAGS)

    assert result.state == "success", result.task_states
    assert_buckets_add_up(result.xcom("restore")["summary"])
    assert {t for t in typed(account) if t[0] == "100"} == on_100


@pytest.mark.hubspot_simulator(retry_after_on_429=True)
def test_a_removal_settled_after_a_deferral_keeps_its_types_in_the_table(
    account: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, results_db: Path
) -> None:
    """Contact 100's removal is carried out but its answer proves nothing (unknown); then HubSpot's
    day is used up and the run defers. The resumed run reads it back at its end (gone: archived): its
    row must still carry the types the snapshot recorded before the deferral."""
    before = typed(account)
    # the snapshot read, contact 100's archive (carried out, no proof), contact 101's: the daily 429
    account.script(0, "ok_errors_not_list", "daily")

    archived = run_dag("r13_archive_deferring", dag_file=DAGS)

    summary = archived.xcom("archive")["summary"]
    assert (summary["archived"], summary["unknown"], summary["already_absent"]) == (2, 0, 0), summary
    assert typed(account) == set()
    undo(monkeypatch, archived.run_id, "r13_archive_deferring")

    result = run_dag("r13_restore", dag_file=DAGS)

    assert result.state == "success", result.task_states
    assert_buckets_add_up(result.xcom("restore")["summary"])
    assert typed(account) == before


def test_a_snapshot_file_cut_off_by_a_killed_try_does_not_stop_the_retry_or_the_restore(
    account: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A try killed while writing a snapshot file leaves it cut off mid-line (its requests were never
    sent: a file is closed before they go out). The next try, and a restore, must go on without it."""
    kept = tmp_path / "kept"
    monkeypatch.setenv("AIRFLOW_VAR_SNAPSHOT_PATH", f"file://{kept}")
    before = typed(account)
    day = pendulum.datetime(2026, 6, 6, tz="UTC")
    folder = kept / "snapshots" / "r13_archive_files" / "manual__2026-06-06T00_00_00_00_00" / "archive" / "-1"
    folder.mkdir(parents=True)
    (folder / "try-1-0badf11e-000001.jsonl").write_bytes(
        b'{"run_id": "manual__2026-06-06T00:00:00+00:00", "da'
    )

    archived = run_dag("r13_archive_files", dag_file=DAGS, logical_date=day, run_after=day)

    assert archived.run_id == "manual__2026-06-06T00:00:00+00:00"
    assert archived.state == "success", archived.task_states
    assert typed(account) == set()
    undo(monkeypatch, archived.run_id, "r13_archive_files")

    result = run_dag("r13_restore_files", dag_file=DAGS)

    assert result.state == "success", result.task_states
    summary = result.xcom("restore")["summary"]
    assert_buckets_add_up(summary)
    assert summary["rejected"] == 0
    assert typed(account) == before


def test_an_archive_run_again_under_its_run_id_still_restores_what_its_first_run_removed(
    account: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, results_db: Path
) -> None:
    """The cleared task of a finished cleanup runs again under the same run id: the pairs are gone
    (its first run removed them). Its outcome rows are its own, one per removal, and they still carry
    what the first run removed, so undoing the run id brings everything back."""
    before = typed(account)
    day = pendulum.datetime(2026, 5, 6, tz="UTC")
    first = run_dag("r13_archive_retried", dag_file=DAGS, logical_date=day, run_after=day)
    assert first.xcom("archive")["summary"]["archived"] == 2
    assert typed(account) == set()

    again = run_dag("r13_archive_retried", dag_file=DAGS, logical_date=day, run_after=day)

    assert again.run_id == first.run_id
    summary = again.xcom("archive")["summary"]
    assert summary["received"] == summary["archived"] == 2, summary
    with sqlite3.connect(results_db) as db:
        rows = db.execute(
            "SELECT row_number, outcome, types FROM hubspot_results WHERE run_id = ? "
            "AND outcome <> 'snapshot' ORDER BY row_number",
            (again.run_id,),
        ).fetchall()
        earlier = db.execute(
            "SELECT row_number, error_code FROM hubspot_results WHERE run_id = ? "
            "AND outcome = 'snapshot' ORDER BY row_number",
            (again.run_id,),
        ).fetchall()
    assert [(number, outcome) for number, outcome, _ in rows] == [(1, "archived"), (2, "archived")]
    assert all(types not in (None, "[]") for _, _, types in rows)
    # What the first run removed stays recorded apart (this run might not have sent it again).
    assert earlier == [(1, "earlier_run"), (2, "earlier_run")]
    undo(monkeypatch, again.run_id, "r13_archive_retried")

    restored = run_dag("r13_restore", dag_file=DAGS)

    assert_buckets_add_up(restored.xcom("restore")["summary"])
    assert typed(account) == before
