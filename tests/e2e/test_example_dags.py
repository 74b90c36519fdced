"""Every example DAG runs with real Airflow against the simulator and a SQLite "warehouse"."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pendulum
import pytest

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator
from tests.airflow_helpers import postgres_database, run_dag, use_simulator

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "example_dags"

pytestmark = pytest.mark.usefixtures("airflow_db")


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> sqlite3.Connection:
    path = tmp_path / "warehouse.db"
    monkeypatch.setenv(
        "AIRFLOW_CONN_HUBSPOT_WAREHOUSE", json.dumps({"conn_type": "sqlite", "host": str(path)})
    )
    db = sqlite3.connect(path, isolation_level=None)
    return db


def test_nightly_cleanup_removes_closed_lost_deal_contacts_and_the_restore_dag_undoes_it(
    hubspot_simulator: HubSpotSimulator, warehouse: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    decision_maker = sim.state.define_label("deals", "contacts", "Decision maker")
    deals = {"9001": "closedlost", "9002": "closedwon", "9003": "closedlost"}
    links = [("9001", "101"), ("9001", "102"), ("9002", "101"), ("9003", "103")]
    for deal, contact in links:
        labels = [(decision_maker.category, decision_maker.type_id)] if contact == "102" else []
        sim.state.associate("deals", deal, "contacts", contact, labels)
    before = sim.state.typed_pairs("deals", "contacts")
    warehouse.execute("CREATE TABLE deals (deal_id INTEGER, stage TEXT)")
    warehouse.execute("CREATE TABLE deal_contacts (deal_id INTEGER, contact_id INTEGER)")
    warehouse.executemany("INSERT INTO deals VALUES (?, ?)", deals.items())
    warehouse.executemany("INSERT INTO deal_contacts VALUES (?, ?)", links)
    use_simulator(monkeypatch, sim)

    result = run_dag("hubspot_nightly_closed_lost_cleanup", EXAMPLES / "example_hubspot_nightly_cleanup.py")

    assert result.state == "success"
    assert result.xcom("archive_closed_lost_deal_contacts")["summary"]["archived"] == 3
    assert sim.state.pairs("deals", "contacts") == {("9002", "101")}

    # The restore DAG, triggered with the cleanup's run id as its param: every type comes back.
    restored = run_dag(
        "hubspot_restore_closed_lost_cleanup",
        EXAMPLES / "example_hubspot_restore.py",
        run_conf={"run_id": result.run_id},
    )

    assert restored.state == "success"
    summary = restored.xcom("restore_closed_lost_deal_contacts")["summary"]
    assert (summary["received"], summary["restored"]) == (4, 4)  # 3 unlabeled types and one label
    assert sim.state.typed_pairs("deals", "contacts") == before
    outcomes = warehouse.execute(
        "SELECT dag_id, outcome, COUNT(*) FROM hubspot_cleanup_results GROUP BY 1, 2 ORDER BY 1"
    ).fetchall()
    assert outcomes == [
        ("hubspot_nightly_closed_lost_cleanup", "archived", 3),
        ("hubspot_restore_closed_lost_cleanup", "restored", 4),
    ]


def test_warehouse_sync_removes_labels_and_confirms(
    hubspot_simulator: HubSpotSimulator, warehouse: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    billing = sim.state.define_label("contacts", "companies", "Billing contact")
    key = (billing.category, billing.type_id)
    for contact in ("101", "102", "103"):
        sim.state.associate("contacts", contact, "companies", "5000", [key])
    warehouse.execute(
        "CREATE TABLE label_removals (contact_id INTEGER, company_id INTEGER, label TEXT, synced_at TEXT)"
    )
    warehouse.executemany(
        "INSERT INTO label_removals VALUES (?, ?, 'Billing contact', ?)",
        [(101, 5000, None), (102, 5000, None), (103, 5000, "2026-11-01")],
    )
    use_simulator(monkeypatch, sim)

    result = run_dag("hubspot_warehouse_label_sync", EXAMPLES / "example_hubspot_warehouse_sync.py")

    assert result.state == "success"
    assert result.task_states[("confirm_labels_gone", -1)] == "success"
    assert key not in sim.state.types_of("contacts", "101", "companies", "5000")
    assert key not in sim.state.types_of("contacts", "102", "companies", "5000")
    assert key in sim.state.types_of("contacts", "103", "companies", "5000")  # already synced: untouched
    assert sim.state.count("contacts", "companies") == 3  # the associations themselves stay
    synced = warehouse.execute("SELECT contact_id FROM label_removals WHERE synced_at IS NOT NULL").fetchall()
    assert sorted(synced) == [(101,), (102,), (103,)]  # the rows it handled are marked

    archive_requests = sim.stats.by_endpoint["archive_labels"]
    again = run_dag("hubspot_warehouse_label_sync", EXAMPLES / "example_hubspot_warehouse_sync.py")

    assert again.state == "success"
    assert sim.stats.by_endpoint["archive_labels"] == archive_requests  # the next run sends nothing


def test_backfill_runs_one_day_in_three_pooled_shards(
    hubspot_simulator: HubSpotSimulator, warehouse: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    check_backfill(hubspot_simulator, monkeypatch, warehouse.executescript)


@pytest.mark.postgres
def test_backfill_sql_runs_on_postgres(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    with postgres_database() as (run_sql, connection):
        monkeypatch.setenv("AIRFLOW_CONN_HUBSPOT_WAREHOUSE", connection)
        check_backfill(hubspot_simulator, monkeypatch, run_sql)


def check_backfill(sim: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, run_sql: Any) -> None:
    from airflow.models.pool import Pool

    # What `airflow pools set hubspot_api 3 ...` does, without a second interpreter importing Airflow.
    Pool.create_or_update_pool("hubspot_api", 3, "HubSpot rate limit", include_deferred=False)
    moves = [(100 + i, 5000 + i % 4, "2026-11-28" if i < 30 else "2026-11-29") for i in range(40)]
    for contact, company, _ in moves:
        sim.state.associate("contacts", contact, "companies", company)
    values = ", ".join(f"({contact}, {company}, '{day}')" for contact, company, day in moves)
    run_sql(
        "CREATE TABLE contact_company_moves (contact_id INTEGER, company_id INTEGER, moved_at TEXT);"
        f"INSERT INTO contact_company_moves VALUES {values};"
    )
    use_simulator(monkeypatch, sim)

    result = run_dag(
        "hubspot_backfill_contact_moves",
        EXAMPLES / "example_hubspot_backfill.py",
        # A manual run's data interval ends at its logical date: this run covers 28 November.
        logical_date=pendulum.datetime(2026, 11, 29, tz="UTC"),
    )

    assert result.state == "success"
    archived = [result.xcom("archive_moves", shard)["summary"]["archived"] for shard in range(3)]
    assert sum(archived) == 30 and all(archived)
    assert {int(f) for f, _ in sim.state.pairs("contacts", "companies")} == {100 + i for i in range(30, 40)}


def test_demo_command_prints_counts_that_match_the_simulator(tmp_path: Path) -> None:
    """The README's first command, end to end (its own Airflow home, here in a new folder).

    It runs as a user's shell would: without the test suite's Airflow settings, but with an
    ``AIRFLOW_HOME`` of the user's own that the demo must leave alone.
    """
    users_home = tmp_path / "users-airflow"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env["AIRFLOW_HOME"] = str(users_home)
    env["HUBSPOT_ASSOC_DEMO_DIR"] = str(tmp_path / "demo")  # not there yet, as on a fresh clone
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "run_demo.py")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "matches the simulator's state:     yes" in done.stdout
    assert "archived:                          71" in done.stdout
    assert not users_home.exists()  # the user's own Airflow home was not touched


def test_warehouse_mirror_deletes_extras_and_writes_outcomes_back(
    hubspot_simulator: HubSpotSimulator, warehouse: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    for contact in ("101", "102", "103"):
        for company in ("5000", "5001", "5002"):
            sim.state.associate("contacts", contact, "companies", company)
    warehouse.execute("CREATE TABLE contact_companies (contact_id INTEGER, company_id INTEGER)")
    warehouse.executemany(
        "INSERT INTO contact_companies VALUES (?, ?)", [(101, 5000), (102, 5000), (102, 5001), (103, 5002)]
    )
    use_simulator(monkeypatch, sim)

    result = run_dag("hubspot_warehouse_mirror", EXAMPLES / "example_hubspot_warehouse_mirror.py")

    assert result.state == "success"
    assert sim.state.pairs("contacts", "companies") == {
        ("101", "5000"),
        ("102", "5000"),
        ("102", "5001"),
        ("103", "5002"),
    }
    written = warehouse.execute(
        "SELECT from_id, to_id, outcome FROM hubspot_sync_results ORDER BY 1, 2"
    ).fetchall()
    assert written == [
        ("101", "5001", "archived"),
        ("101", "5002", "archived"),
        ("102", "5002", "archived"),
        ("103", "5000", "archived"),
        ("103", "5001", "archived"),
    ]
    assert result.xcom("mirror_contact_companies")["summary"]["archived"] == 5
