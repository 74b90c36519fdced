"""Mirror mode: HubSpot ends up with exactly the desired associations of the given records."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator
from tests.airflow_helpers import run_dag, set_rows, use_simulator

pytestmark = pytest.mark.usefixtures("airflow_db")

CONTACTS = [str(101 + i) for i in range(10)]
COMPANIES = [str(5000 + k) for k in range(5)]


@pytest.fixture
def account(hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch) -> HubSpotSimulator:
    """Contacts 101-110 and 120 with companies 5000-5004; 130 too (not part of any sync)."""
    for contact in [*CONTACTS, "120", "130"]:
        for company in COMPANIES:
            hubspot_simulator.state.associate("contacts", contact, "companies", company)
    use_simulator(monkeypatch, hubspot_simulator)
    return hubspot_simulator


def desired_rows() -> list[list[str]]:
    return [[c, k] for c in CONTACTS for k in COMPANIES[:3]]  # keep 5000-5002 of 101-110


def archive_requests(sim: HubSpotSimulator) -> int:
    return sum(1 for r in sim.stats.log if r.endpoint in ("archive", "archive_labels"))


def test_mirror_deletes_exactly_the_extra_associations(
    account: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_rows(monkeypatch, desired_rows())

    result = run_dag("t_sync").xcom("sync")

    expected = {(c, k) for c in CONTACTS for k in COMPANIES[:3]} | {("130", k) for k in COMPANIES}
    assert account.state.pairs("contacts", "companies") == expected  # 120 (from_ids) lost all five
    assert result["sync"]["planned_deletions"] == 10 * 2 + 5
    assert result["sync"]["from_ids"] == 11
    summary = result["summary"]
    assert (summary["received"], summary["archived"], summary["failed"]) == (25, 25, 0)


@pytest.mark.hubspot_simulator(daily_limit=3, daily_reset_seconds=1.0)
def test_a_mirror_deferred_by_the_daily_limit_finishes_its_plan_and_counts_every_deletion(
    account: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The plan made before the deferral is carried on, not remade: nothing is lost from the counts
    or from the results table, and HubSpot is not read again (its daily budget goes to deletions)."""
    db = tmp_path / "results.db"
    monkeypatch.setenv(
        "AIRFLOW_CONN_HUBSPOT_TEST_RESULTS", json.dumps({"conn_type": "sqlite", "host": str(db)})
    )
    set_rows(monkeypatch, desired_rows())

    result = run_dag("t_sync_deferring").xcom("sync")

    # 1 read + 5 deletion requests, 3 requests per "day": deferred on Daily-Remaining 0, unsent.
    assert account.stats.daily_limited == 0
    expected = {(c, k) for c in CONTACTS for k in COMPANIES[:3]} | {("130", k) for k in COMPANIES}
    assert account.state.pairs("contacts", "companies") == expected
    assert account.stats.by_endpoint["read"] == 1
    assert max(account.stats.pair_sends.values()) == 1
    summary = result["summary"]
    assert (summary["received"], summary["archived"], summary["failed"]) == (25, 25, 0)
    assert result["sync"]["planned_deletions"] == 25
    with sqlite3.connect(db) as conn:
        written = conn.execute("SELECT row_number, outcome FROM hubspot_results ORDER BY 1").fetchall()
    assert written == [(n, "archived") for n in range(1, 26)]


def test_mirror_with_column_map_and_templated_from_ids(
    account: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Desired rows in the user's column names; the plan itself is never read through column_map."""
    set_rows(monkeypatch, [{"contact_id": c, "company_id": k} for c, k in desired_rows()])

    result = run_dag("t_sync_column_map")

    assert result.state == "success", result.task_states
    expected = {(c, k) for c in CONTACTS for k in COMPANIES[:3]} | {("130", k) for k in COMPANIES}
    assert account.state.pairs("contacts", "companies") == expected  # 120 (from_ids) lost all five
    assert result.xcom("sync")["summary"]["archived"] == 25


def test_mirror_refuses_before_sending_when_max_deletes_is_exceeded(
    account: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_rows(monkeypatch, desired_rows())

    result = run_dag("t_sync_capped")

    assert result.task_states[("sync", -1)] == "failed"
    assert archive_requests(account) == 0
    assert account.state.count("contacts", "companies") == 12 * 5


def test_mirror_dry_run_reports_the_plan_and_sends_no_archive_request(
    account: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_rows(monkeypatch, desired_rows())

    result = run_dag("t_sync_dry_run").xcom("sync")

    assert archive_requests(account) == 0
    assert result["sync"]["planned_deletions"] == 20
    assert result["summary"]["planned"] == 20
    assert {"from_id": "101", "to_id": "5003"} in result["sync"]["sample_deletions"]
    assert account.state.count("contacts", "companies") == 12 * 5


def test_label_mirror_removes_undesired_labels_and_keeps_associations(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    billing = sim.state.define_label("contacts", "companies", "Billing contact")
    user = (billing.category, billing.type_id)
    primary = ("HUBSPOT_DEFINED", 1)
    unlabeled = ("HUBSPOT_DEFINED", 279)
    sim.state.associate("contacts", "101", "companies", "5000", ["Primary", user])
    sim.state.associate("contacts", "101", "companies", "5001", [user])
    sim.state.associate("contacts", "102", "companies", "5000", ["Primary"])
    use_simulator(monkeypatch, sim)
    set_rows(monkeypatch, [[101, 5000, "Primary"], [102, 5000, "Billing contact"]])

    result = run_dag("t_sync_labels").xcom("sync")

    assert sim.state.types_of("contacts", "101", "companies", "5000") == {unlabeled, primary}
    assert sim.state.types_of("contacts", "101", "companies", "5001") == {unlabeled}
    assert sim.state.types_of("contacts", "102", "companies", "5000") == {unlabeled}
    assert result["summary"]["archived"] == 3


@pytest.mark.parametrize(
    "deletion",
    [
        {"from_id": "101", "to_id": "5003"},
        {"from_id": "101", "to_id": "5003", "association_category": "USER_DEFINED", "association_type_id": 7},
    ],
)
def test_a_planned_deletion_survives_the_checkpoints_compact_form(deletion: dict[str, object]) -> None:
    from airflow_provider_hubspot_assoc.operators.checkpoint import compact, deletion_of

    restored = deletion_of(json.loads(json.dumps(compact(deletion))))
    assert list(restored.items()) == list(deletion.items())  # same plan, same fingerprint
