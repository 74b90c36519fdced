"""Undo (issue 13): RestoreAssociationsOperator re-creates exactly what an archive run removed, through
dag.test() against the simulator, with the snapshot read from a results table or from files."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pendulum
import pytest

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator
from tests.airflow_helpers import DagResult, postgres_database, run_dag, use_simulator
from tests.e2e.operators.restore_support import (
    DAGS,
    FROM_TO,
    assert_buckets_add_up,
    seed_labeled_account,
    typed,
)

pytestmark = pytest.mark.usefixtures("airflow_db")


@pytest.fixture
def account(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, results_db: Path, tmp_path: Path
) -> HubSpotSimulator:
    return seed_labeled_account(hubspot_simulator, monkeypatch, tmp_path)


def undo(
    monkeypatch: pytest.MonkeyPatch, archived: DagResult, dag_id: str, map_index: int | None = None
) -> None:
    """Point the restore DAGs at the run ``archived`` (the Variables they read)."""
    monkeypatch.setenv("AIRFLOW_VAR_RESTORE_RUN_ID", archived.run_id)
    monkeypatch.setenv("AIRFLOW_VAR_RESTORE_DAG_ID", dag_id)
    if map_index is not None:
        monkeypatch.setenv("AIRFLOW_VAR_RESTORE_MAP_INDEX", str(map_index))


def restore(dag_id: str = "rs_restore", **kwargs: Any) -> DagResult:
    return run_dag(dag_id, dag_file=DAGS, **kwargs)


def results(db: Path, dag_id: str) -> list[tuple[str, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT outcome, error_code, types FROM hubspot_results WHERE dag_id = ? ORDER BY row_number",
            (dag_id,),
        ).fetchall()


def add_record(db: Path, run_id: str, row: int, from_id: str, types: Any) -> None:
    """A snapshot record of rs_archive's run for the pair (from_id, 5000), as a results-table row (what a
    killed try leaves)."""
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO hubspot_results (run_id, dag_id, task_id, map_index, row_number, from_id, to_id, "
            "outcome, recorded_at, types) VALUES (?, 'rs_archive', 'archive', -1, ?, ?, '5000', 'snapshot', "
            "'2026-01-01T00:00:00Z', ?)",
            (run_id, row, from_id, types if isinstance(types, str) else json.dumps(types)),
        )


UNLABELED = [{"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None}]


def test_a_restore_brings_back_every_type_and_a_second_one_changes_nothing(
    account: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, results_db: Path
) -> None:
    before = typed(account)
    archived = run_dag("rs_archive", dag_file=DAGS)
    assert archived.xcom("archive")["summary"]["archived"] == 60 and typed(account) == set()
    undo(monkeypatch, archived, "rs_archive")

    first = restore()
    assert typed(account) == before
    summary = first.xcom("restore")["summary"]
    assert_buckets_add_up(summary)
    assert summary["restored"] == summary["received"] == len(before)  # each type once
    # 10 inputs a request, an input being a pair with all its types: 60 pairs (104 types) in 6
    # requests, and one read of the label definitions (every type is checked to be defined first)
    assert (account.stats.by_endpoint["create"], account.stats.by_endpoint["labels"]) == (6, 1)
    assert summary["requests"] == 7
    assert first.xcom("restore")["restore"]["records"] == 60
    # written back as the archive runs are, one row per type, with no snapshot (nothing was removed)
    assert results(results_db, "rs_restore") == [("restored", None, None)] * len(before)

    second = restore(logical_date=pendulum.datetime(2026, 2, 2, tz="UTC"))
    assert typed(account) == before
    again = second.xcom("restore")["summary"]
    assert_buckets_add_up(again)
    assert again["restored"] == len(before)


@pytest.mark.postgres
def test_a_restore_reads_a_results_table_on_postgres(
    account: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = typed(account)
    with postgres_database("hubspot_restore") as (_, connection):
        monkeypatch.setenv("AIRFLOW_CONN_HUBSPOT_TEST_RESULTS", connection)
        undo(monkeypatch, run_dag("rs_archive", dag_file=DAGS), "rs_archive")

        result = restore()

        assert result.state == "success" and typed(account) == before
        summary = result.xcom("restore")["summary"]
        assert_buckets_add_up(summary)
        assert summary["restored"] == len(before)


def test_a_restore_from_files_brings_back_what_the_run_removed(
    account: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = typed(account)
    undo(monkeypatch, run_dag("rs_archive", dag_file=DAGS), "rs_archive")

    summary = restore("rs_restore_files").xcom("restore")["summary"]

    assert typed(account) == before
    assert_buckets_add_up(summary)
    assert summary["restored"] == len(before)


def test_records_of_another_dag_or_map_index_are_not_restored(
    account: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = typed(account)
    on_5000 = {item for item in before if item[1] == "5000"}
    same_day = pendulum.datetime(2026, 2, 2, tz="UTC")
    day = {"logical_date": same_day, "run_after": same_day}
    twin = run_dag("rs_archive_twin", dag_file=DAGS, **day)  # 5001; the same run id and task id as main
    main = run_dag("rs_archive", dag_file=DAGS, **day)  # 5000 (5001 was already gone)
    assert twin.run_id == main.run_id and typed(account) == set()

    undo(monkeypatch, main, "rs_archive")
    restore()
    assert typed(account) == on_5000  # rs_archive_twin's records stayed where they were
    undo(monkeypatch, twin, "rs_archive_twin")
    restore(logical_date=pendulum.datetime(2026, 3, 2, tz="UTC"))
    assert typed(account) == before

    mapped = run_dag("rs_archive_mapped", dag_file=DAGS, logical_date=pendulum.datetime(2026, 3, 3, tz="UTC"))
    assert typed(account) == set()
    assert [mapped.xcom("archive", i)["summary"]["archived"] for i in (0, 1)] == [30, 30]
    undo(monkeypatch, mapped, "rs_archive_mapped", map_index=0)  # the shard of company 5000
    restore(logical_date=pendulum.datetime(2026, 3, 4, tz="UTC"))
    assert typed(account) == on_5000


@pytest.mark.parametrize(
    ("dag_id", "records", "not_removed"), [("rs_restore", 59, 1), ("rs_restore_files", 60, 2)]
)
def test_what_the_run_failed_to_remove_is_not_created_again(
    account: HubSpotSimulator,
    monkeypatch: pytest.MonkeyPatch,
    results_db: Path,
    dag_id: str,
    records: int,
    not_removed: int,
) -> None:
    """Contact 105's removals fail (HubSpot refuses them): a restore must not create them, or it would
    undo whoever removed them since. Their snapshot records were written before their requests: the
    files keep them beside the run's failed.jsonl; a table keeps them when a try dies (planted here for
    one of them, as a killed try leaves it) beside the failed outcome row."""
    before = typed(account)
    account.set_faults(poison_ids=("105",))
    archived = run_dag("rs_archive", dag_file=DAGS)
    assert archived.task_states[("archive", -1)] == "failed"  # max_failed_ratio 0
    assert archived.xcom("archive")["summary"]["failed"] == 2
    add_record(results_db, archived.run_id, 6, "105", UNLABELED)  # row 6: contact 105, company 5000
    account.set_faults(poison_ids=())
    for company in ("5000", "5001"):
        account.state.archive_pair(FROM_TO[0], "105", FROM_TO[1], company)  # a later change, by someone
    undo(monkeypatch, archived, "rs_archive")

    result = restore(dag_id).xcom("restore")

    assert typed(account) == {item for item in before if item[0] != "105"}
    assert (result["restore"]["records"], result["restore"]["not_removed"]) == (records, not_removed)
    assert result["summary"]["failed"] == 0
    assert_buckets_add_up(result["summary"])


def test_a_dry_run_plans_the_creates_and_sends_none(
    account: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = typed(account)
    undo(monkeypatch, run_dag("rs_archive", dag_file=DAGS), "rs_archive")

    result = restore("rs_restore_dry").xcom("restore")

    assert result["dry_run"] is True and result["summary"]["planned"] == len(before)
    assert_buckets_add_up(result["summary"])
    assert account.stats.by_endpoint["create"] == 0 and typed(account) == set()


def test_an_empty_source_is_refused_unless_allowed(
    account: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    run_dag("rs_archive", dag_file=DAGS)
    monkeypatch.setenv("AIRFLOW_VAR_RESTORE_RUN_ID", "manual__1999-01-01T00:00:00+00:00")  # a wrong run id
    monkeypatch.setenv("AIRFLOW_VAR_RESTORE_DAG_ID", "rs_archive")

    refused = restore()

    assert refused.task_states[("restore", -1)] == "failed"
    task_log = "".join(capfd.readouterr())
    assert "no snapshot record of run 'manual__1999-01-01T00:00:00+00:00' of DAG 'rs_archive'" in task_log
    assert "allow_empty=True" in task_log
    allowed = restore("rs_restore_empty_ok").xcom("restore")
    assert allowed["summary"]["received"] == 0 and account.stats.by_endpoint["create"] == 0


@pytest.mark.parametrize("dag_id", ["rs_restore", "rs_restore_lenient"])
def test_a_partial_answer_fails_what_hubspot_refused_and_restores_the_rest(
    account: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, results_db: Path, dag_id: str
) -> None:
    before = typed(account)
    archived = run_dag("rs_archive", dag_file=DAGS)
    add_record(results_db, archived.run_id, 900, "999999", UNLABELED)  # HubSpot has no contact 999999
    undo(monkeypatch, archived, "rs_archive")

    result = restore(dag_id)

    assert typed(account) == before  # everything else came back
    answer = result.xcom("restore")
    assert_buckets_add_up(answer["summary"])
    assert answer["summary"]["failed"] == 1
    (failed,) = answer["failed_rows"]
    assert failed["from_id"] == "999999"
    assert failed["error"]["category"] == "VALIDATION_ERROR"
    assert (
        answer["numErrors"] == 1 and answer["errors"][0]["message"] == "One or more associations are invalid"
    )
    # 1 failed of 61 sent: over max_failed_ratio 0, within 0.5
    assert result.task_states[("restore", -1)] == ("failed" if dag_id == "rs_restore" else "success")


@pytest.mark.parametrize("dag_id", ["rs_restore", "rs_restore_lenient"])
def test_a_bad_snapshot_record_is_rejected_naming_row_field_and_record(
    account: HubSpotSimulator,
    monkeypatch: pytest.MonkeyPatch,
    results_db: Path,
    dag_id: str,
    capfd: pytest.CaptureFixture[str],
) -> None:
    before = typed(account)
    archived = run_dag("rs_archive", dag_file=DAGS)
    add_record(results_db, archived.run_id, 901, "101", [{"category": "USER_DEFINED", "typeId": "x"}])
    undo(monkeypatch, archived, "rs_archive")

    result = restore(dag_id)

    assert typed(account) == before
    answer = result.xcom("restore")
    assert_buckets_add_up(answer["summary"])
    (rejected,) = answer["rejected_rows"]
    assert rejected["field"] == "association_type_id"
    assert "(snapshot record: row 901, map index -1)" in rejected["reason"]
    if dag_id == "rs_restore":  # on_invalid="fail": the rest restored, then the task fails naming it
        assert result.task_states[("restore", -1)] == "failed"
        assert "association_type_id" in "".join(capfd.readouterr())
    else:
        assert result.task_states[("restore", -1)] == "success"


@pytest.mark.parametrize(("answer", "failed"), [("ok_pending", True), ("drop_after_apply", False)])
def test_a_create_whose_answer_proved_nothing_is_read_back(
    account: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, answer: str, failed: bool
) -> None:
    """The first create is answered PENDING and not carried out, or carried out and its answer lost:
    read back, what HubSpot shows is restored, what it does not is failed ("still absent after create")."""
    before = typed(account)
    undo(monkeypatch, run_dag("rs_archive", dag_file=DAGS), "rs_archive")
    use_simulator(monkeypatch, account, max_attempts=1, read_timeout=1)
    account.script(0, answer)  # the label definitions pass; the first create gets the answer
    reads = account.stats.by_endpoint["read"]

    result = restore().xcom("restore")

    summary = result["summary"]
    assert_buckets_add_up(summary)
    assert summary["unknown"] == 0 and account.stats.by_endpoint["read"] == reads + 1  # the read back
    if failed:
        assert summary["failed"] > 0  # the first request's types: at most batch_size pairs
        assert len({(row["from_id"], row["to_id"]) for row in result["failed_rows"]}) <= 10
        assert typed(account) < before
        assert {row["error"]["category"] for row in result["failed_rows"]} == {"STILL_ABSENT"}
        assert all(
            r["error"]["message"].startswith("still absent after create") for r in result["failed_rows"]
        )
    else:
        assert summary["failed"] == 0 and summary["restored"] == len(before)
        assert typed(account) == before
