"""Issue 13, point 5: archive 10,000 pairs carrying unlabeled, HubSpot-defined and two user-defined
labels, then restore them; the simulator's set of (from, to, category, type id) is the same before the
archive and after the restore. A full archive, a restore SIGKILLed halfway and retried, a label-only
run, a mirror run; every run through dag.test()."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pendulum
import pytest

from airflow_provider_hubspot_assoc._compat import HAS_TASK_STATE_STORE
from airflow_provider_hubspot_assoc.testing import HubSpotSimulator
from tests.airflow_helpers import run_dag, use_simulator
from tests.e2e.operators.restore_support import DAGS, FROM_TO, Typed, assert_buckets_add_up, typed
from tests.killing import kill_mid_run, retry_killed_task

pytestmark = [
    pytest.mark.usefixtures("airflow_db"),
    # 1,000 inputs a request and no 10-second limit to speak of: each run takes a few seconds.
    pytest.mark.hubspot_simulator(ten_second_limit=100_000, max_inputs=1_000),
]

CONTACTS = [str(c) for c in range(10_000, 12_500)]
COMPANIES = ["7000", "7001", "7002", "7003"]
# Labels of a pair by its number: unlabeled only, one user label, the other, both; Primary (HubSpot
# defined) on each contact's first company besides.
MIX: list[tuple[str, ...]] = [(), ("Billing",), ("Former",), ("Billing", "Former")]


def labels_of(n: int, company: int) -> tuple[str, ...]:
    return (("Primary",) if company == 0 and n % 3 else ()) + MIX[n % 4]


@pytest.fixture
def big_account(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, results_db: Path, tmp_path: Path
) -> HubSpotSimulator:
    """10,000 pairs (2,500 contacts x 4 companies), and the archive runs' input tables."""
    sim = hubspot_simulator
    sim.state.define_label(*FROM_TO, "Billing")
    sim.state.define_label(*FROM_TO, "Former")
    pairs, labels = [], []
    for n, contact in enumerate(CONTACTS):
        for index, company in enumerate(COMPANIES):
            names = labels_of(n + index, index)
            sim.state.associate(FROM_TO[0], contact, FROM_TO[1], company, names)
            pairs.append((contact, company))
            labels += [(contact, company, name) for name in names]
    with sqlite3.connect(results_db) as db:
        db.execute("CREATE TABLE archive_pairs (from_id TEXT, to_id TEXT)")
        db.executemany("INSERT INTO archive_pairs VALUES (?, ?)", pairs)
        db.execute("CREATE TABLE archive_labels (from_id TEXT, to_id TEXT, label TEXT)")
        db.executemany("INSERT INTO archive_labels VALUES (?, ?, ?)", labels)
        db.execute("CREATE TABLE desired_pairs (from_id TEXT, to_id TEXT)")  # keep each first company
        db.executemany("INSERT INTO desired_pairs VALUES (?, ?)", [(c, COMPANIES[0]) for c in CONTACTS])
    use_simulator(monkeypatch, sim, requests_per_10s=100_000)
    monkeypatch.setenv("AIRFLOW_VAR_SNAPSHOT_PATH", f"file://{tmp_path / 'kept'}")
    return sim


def left_after(archive_dag: str, before: Typed) -> Typed:
    """What each archive run leaves: nothing; the unlabeled types; each contact's first company."""
    if archive_dag == "rs10k_archive":
        return set()
    if archive_dag == "rs10k_labels":
        return {item for item in before if item[3] == 279}
    return {item for item in before if item[1] == COMPANIES[0]}


def restore_rows(db: Path, dag_id: str) -> list[tuple[str, int]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT outcome, COUNT(*) FROM hubspot_results WHERE dag_id = ? GROUP BY outcome", (dag_id,)
        ).fetchall()


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    ("archive_dag", "restore_dag"),
    [
        ("rs10k_archive", "rs10k_restore"),
        ("rs10k_archive", "rs10k_restore_killed"),
        ("rs10k_labels", "rs10k_restore_files"),
        ("rs10k_mirror", "rs10k_restore"),
    ],
)
def test_ten_thousand_pairs_come_back_exactly(
    big_account: HubSpotSimulator,
    monkeypatch: pytest.MonkeyPatch,
    results_db: Path,
    archive_dag: str,
    restore_dag: str,
    capfd: pytest.CaptureFixture[str],
) -> None:
    sim = big_account
    before = typed(sim)
    assert len({item[:2] for item in before}) == 10_000
    assert {item[2:] for item in before} >= {("HUBSPOT_DEFINED", 279), ("HUBSPOT_DEFINED", 1)}
    assert len({item[2:] for item in before if item[2] == "USER_DEFINED"}) == 2

    archived = run_dag(archive_dag, dag_file=DAGS)
    assert archived.state == "success"
    removed = before - left_after(archive_dag, before)
    assert removed and typed(sim) == before - removed
    monkeypatch.setenv("AIRFLOW_VAR_RESTORE_RUN_ID", archived.run_id)
    monkeypatch.setenv("AIRFLOW_VAR_RESTORE_DAG_ID", archive_dag)

    result = restore(sim, restore_dag)
    if restore_dag == "rs10k_restore_killed" and HAS_TASK_STATE_STORE:  # Airflow 3.3+: it went on
        assert "Resuming after input row" in "".join(capfd.readouterr())

    assert typed(sim) == before
    summary = result["summary"]
    assert_buckets_add_up(summary)
    assert (summary["received"], summary["restored"]) == (len(removed), len(removed))
    assert result["restore"] == {
        **result["restore"],
        "records": records_of(archive_dag, removed),
        "not_removed": 0,
    }
    if restore_dag != "rs10k_restore_files":  # written back, one row per type, whatever the tries
        assert restore_rows(results_db, restore_dag) == [("restored", len(removed))]


def records_of(archive_dag: str, removed: Typed) -> int:
    """Snapshot records: one per pair removed (its every type), one per label for a label run."""
    return len(removed) if archive_dag == "rs10k_labels" else len({item[:2] for item in removed})


def restore(sim: HubSpotSimulator, restore_dag: str) -> dict[str, Any]:
    if restore_dag != "rs10k_restore_killed":
        result = run_dag(restore_dag, dag_file=DAGS)
        assert result.state == "success"
        return result.xcom("restore")  # type: ignore[no-any-return]
    # One create request at a time, each a little slow, so the kill lands halfway.
    sim.reconfigure(latency_seconds=0.1)
    logical = pendulum.datetime(2026, 4, 4, tz="UTC")
    kill_mid_run(restore_dag, DAGS, logical, sim, after=8, endpoint="create")
    assert typed(sim) != set()  # part of it is back
    sim.reconfigure(latency_seconds=0.0)
    return retry_killed_task(restore_dag, DAGS, logical, "restore")
