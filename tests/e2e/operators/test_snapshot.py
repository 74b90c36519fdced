"""The snapshot before removal: what each request removes, recorded before it goes out (issue 13)."""

from __future__ import annotations

import math
import sqlite3
import time
from pathlib import Path
from typing import Any

import pendulum
import pytest

from airflow_provider_hubspot_assoc.operators import BatchArchiveAssociationsOperator
from airflow_provider_hubspot_assoc.testing import HubSpotSimulator
from tests.airflow_helpers import run_dag
from tests.e2e.operators.restore_support import CONTACTS, FROM_TO, seed_labeled_account
from tests.killing import kill_mid_run, retry_killed_task
from tests.snapshot_records import jsonl_records, table_records, types_by_pair
from tests.versions import needs_task_state_store

pytestmark = pytest.mark.usefixtures("airflow_db")

REPO = Path(__file__).resolve().parents[3]
DAGS = REPO / "tests" / "dags" / "snapshot_dags.py"
BUCKETS = ("archived", "rejected", "failed", "duplicates", "unknown", "planned")


def assert_buckets_add_up(summary: dict[str, Any]) -> None:
    assert summary["received"] == sum(summary[b] for b in BUCKETS), summary


@pytest.fixture
def account(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, results_db: Path, tmp_path: Path
) -> HubSpotSimulator:
    return seed_labeled_account(hubspot_simulator, monkeypatch, tmp_path)


def state_types(sim: HubSpotSimulator) -> dict[tuple[str, str], set[tuple[str, int]]]:
    return {
        pair: {(c, int(t)) for c, t in sim.state.types_of(FROM_TO[0], pair[0], FROM_TO[1], pair[1])}
        for pair in sim.state.pairs(*FROM_TO)
    }


def recorded(specs: list[dict[str, Any]]) -> set[tuple[str, int]]:
    return {(s["category"], s["typeId"]) for s in specs}


def from_files(root: Path) -> dict[tuple[str, str], set[tuple[str, int]]]:
    lines = [line for path in sorted(root.rglob("*.jsonl")) for line in path.read_text().splitlines()]
    found = types_by_pair(jsonl_records(lines))
    return {(k[2], k[3]): recorded(v) for k, v in found.items()}


def from_table(db: Path) -> dict[tuple[str, str], set[tuple[str, int]]]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        rows = [dict(r) for r in conn.execute("SELECT * FROM hubspot_results")]
    found = types_by_pair(table_records(rows, FROM_TO))
    return {(k[2], k[3]): recorded(v) for k, v in found.items()}


def test_an_archive_records_exactly_the_types_it_removes_and_counts_absent_pairs(
    account: HubSpotSimulator, results_db: Path, tmp_path: Path
) -> None:
    before = state_types(account)

    summary = run_dag("snap_archive", dag_file=DAGS).xcom("archive")["summary"]

    assert (summary["received"], summary["archived"], summary["already_absent"]) == (62, 62, 2)
    assert_buckets_add_up(summary)
    assert from_files(tmp_path / "kept") == before == from_table(results_db)
    assert any(c == "USER_DEFINED" for types in before.values() for c, _ in types)
    assert account.state.pairs(*FROM_TO) == set()
    # 32 from-ids, no second page: ceil(32 / 1000) reads; the archive requests are counted apart
    assert summary["snapshot_requests"] == account.stats.by_endpoint["read"] == math.ceil(32 / 1000)
    assert summary["requests"] == account.stats.by_endpoint["archive"] == 7
    with sqlite3.connect(results_db) as conn:  # one row per input, the snapshot rows gone
        outcomes = conn.execute("SELECT outcome, count(*) FROM hubspot_results GROUP BY 1").fetchall()
    assert outcomes == [("archived", 62)]


def test_a_label_run_records_only_the_labels_it_removes(
    account: HubSpotSimulator, results_db: Path, tmp_path: Path
) -> None:
    had_primary = {c for c in CONTACTS if ("HUBSPOT_DEFINED", 1) in state_types(account)[(c, "5000")]}

    summary = run_dag("snap_labels", dag_file=DAGS).xcom("labels")["summary"]

    assert (summary["received"], summary["archived"]) == (30, 30)
    assert summary["already_absent"] == 30 - len(had_primary)
    assert_buckets_add_up(summary)
    expected = {(c, "5000"): {("HUBSPOT_DEFINED", 1)} for c in had_primary}
    assert from_files(tmp_path / "kept") == expected == from_table(results_db)


def test_a_label_run_removing_the_unlabeled_type_records_every_label_it_takes(
    account: HubSpotSimulator, results_db: Path, tmp_path: Path
) -> None:
    assert account.state.unlabeled_key(*FROM_TO) == ("HUBSPOT_DEFINED", 279)
    before = {pair: types for pair, types in state_types(account).items() if pair[1] == "5000"}

    summary = run_dag("snap_unlabeled", dag_file=DAGS).xcom("labels")["summary"]

    assert (summary["received"], summary["archived"], summary["already_absent"]) == (30, 30, 0)
    assert not any(pair[1] == "5000" for pair in account.state.pairs(*FROM_TO))
    assert any(len(types) > 1 for types in before.values())  # labels went with the unlabeled type
    assert from_files(tmp_path / "kept") == before == from_table(results_db)


def test_a_mirror_records_its_plan_without_reading_again(
    account: HubSpotSimulator, results_db: Path, tmp_path: Path
) -> None:
    before = state_types(account)

    result = run_dag("snap_sync", dag_file=DAGS).xcom("sync")

    assert account.stats.by_endpoint["read"] == 1  # the plan's read is the snapshot
    assert result["summary"]["snapshot_requests"] == 0
    assert_buckets_add_up(result["summary"])
    expected = {pair: types for pair, types in before.items() if pair[1] == "5001"}
    assert from_files(tmp_path / "kept") == expected == from_table(results_db)


def test_no_snapshot_without_a_record_and_none_asked_for_without_one(account: HubSpotSimulator) -> None:
    summary = run_dag("snap_none", dag_file=DAGS).xcom("archive")["summary"]

    assert account.stats.by_endpoint["read"] == 0 and summary["snapshot_requests"] == 0
    assert summary["already_absent"] == 0  # unknown without a snapshot (the simulator answers 204)
    with pytest.raises(ValueError, match="snapshot=True needs results_table= or results_path="):
        BatchArchiveAssociationsOperator(
            task_id="x",
            inputs=[[1, 2]],
            snapshot=True,
            from_object_type="contacts",
            to_object_type="companies",
        )


@pytest.mark.timeout(240)
@needs_task_state_store
def test_a_try_killed_after_its_snapshot_leaves_the_retry_a_complete_one(
    account: HubSpotSimulator, results_db: Path, tmp_path: Path
) -> None:
    before = state_types(account)
    account.reconfigure(latency_seconds=0.15)
    logical = pendulum.datetime(2026, 3, 3, tz="UTC")

    kill_mid_run("snap_killed", DAGS, logical, account, after=3)  # snapshot read, then sends under way
    result = retry_killed_task("snap_killed", DAGS, logical, "archive")

    summary = result["summary"]
    assert (summary["received"], summary["archived"], summary["already_absent"]) == (62, 62, 2)
    assert_buckets_add_up(summary)
    time.sleep(0.5)
    assert account.state.pairs(*FROM_TO) == set()
    assert from_files(tmp_path / "kept") == before == from_table(results_db)
    assert account.stats.by_endpoint["read"] == 2  # one per try: the retry's finds the removed ones gone
