"""Safety of a destructive tool: nothing is done that was not asked, nothing claimed without proof."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator
from tests.airflow_helpers import run_dag, use_simulator

pytestmark = pytest.mark.usefixtures("airflow_db")

DAGS = Path(__file__).resolve().parents[2] / "dags" / "safety_dags.py"
BUCKETS = ("archived", "rejected", "failed", "duplicates", "unknown", "planned")


def assert_buckets_add_up(summary: dict[str, Any]) -> None:
    assert summary["received"] == sum(summary.get(b, 0) for b in BUCKETS), summary


def seed(sim: HubSpotSimulator, contacts: int = 5, companies: int = 2) -> set[tuple[str, str]]:
    pairs = {(str(100 + c), str(5000 + k)) for c in range(contacts) for k in range(companies)}
    for from_id, to_id in pairs:
        sim.state.associate("contacts", from_id, "companies", to_id)
    return pairs


@pytest.mark.parametrize("kind", ["generator", "iterator", "map", "tuple"])
def test_one_shot_inputs_are_read_once_and_every_row_is_sent_when_skipping(
    kind: str, hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(hubspot_simulator)
    use_simulator(monkeypatch, hubspot_simulator)

    result = run_dag(f"s_one_shot_{kind}_skip", dag_file=DAGS)

    summary = result.xcom("archive")["summary"]
    assert (summary["received"], summary["archived"], summary["rejected"]) == (11, 10, 1)
    assert_buckets_add_up(summary)
    assert hubspot_simulator.state.pairs("contacts", "companies") == set()


@pytest.mark.parametrize("kind", ["generator", "iterator", "map", "tuple"])
def test_one_shot_inputs_are_read_once_and_every_row_is_sent_when_failing_on_invalid_rows(
    kind: str, hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows are checked before anything is sent, and then sent: not checked, then found empty."""
    seed(hubspot_simulator)
    use_simulator(monkeypatch, hubspot_simulator)

    result = run_dag(f"s_one_shot_{kind}_fail_valid", dag_file=DAGS)

    summary = result.xcom("archive")["summary"]
    assert (summary["received"], summary["archived"], summary["rejected"]) == (10, 10, 0)
    assert_buckets_add_up(summary)
    assert hubspot_simulator.state.pairs("contacts", "companies") == set()


@pytest.mark.parametrize("kind", ["generator", "iterator", "map", "tuple"])
def test_one_shot_inputs_with_an_invalid_row_fail_before_sending_anything(
    kind: str, hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    pairs = seed(hubspot_simulator)
    use_simulator(monkeypatch, hubspot_simulator)

    result = run_dag(f"s_one_shot_{kind}_fail_invalid", dag_file=DAGS)

    assert result.state == "failed"
    assert hubspot_simulator.state.pairs("contacts", "companies") == pairs
    assert hubspot_simulator.stats.by_endpoint["archive"] == 0


def archive_requests(sim: HubSpotSimulator) -> int:
    return sum(1 for r in sim.stats.log if r.endpoint in ("archive", "archive_labels"))


def test_a_mirror_with_no_desired_rows_refuses_and_says_what_it_would_have_deleted(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    pairs = seed(hubspot_simulator, contacts=3)  # 100, 101 (named in from_ids) and 102
    use_simulator(monkeypatch, hubspot_simulator)

    result = run_dag("s_sync_empty_desired", dag_file=DAGS)

    assert result.task_states[("sync", -1)] == "failed"
    assert archive_requests(hubspot_simulator) == 0
    assert hubspot_simulator.state.pairs("contacts", "companies") == pairs
    task_log = "".join(capfd.readouterr())
    assert "would delete 4 associations" in task_log
    assert "allow_empty_desired=True" in task_log


def test_a_mirror_whose_query_returns_no_rows_refuses(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import json
    import sqlite3

    db = tmp_path / "warehouse.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE desired (contact_id TEXT, company_id TEXT)")
        conn.execute("INSERT INTO desired VALUES ('100', '5000')")
    monkeypatch.setenv("AIRFLOW_CONN_HUBSPOT_TEST_SQL", json.dumps({"conn_type": "sqlite", "host": str(db)}))
    pairs = seed(hubspot_simulator, contacts=3)
    use_simulator(monkeypatch, hubspot_simulator)

    result = run_dag("s_sync_empty_desired_sql", dag_file=DAGS)

    assert result.task_states[("sync", -1)] == "failed"
    assert archive_requests(hubspot_simulator) == 0
    assert hubspot_simulator.state.pairs("contacts", "companies") == pairs


def test_allow_empty_desired_lets_a_mirror_remove_everything_of_the_named_records(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(hubspot_simulator, contacts=3)
    use_simulator(monkeypatch, hubspot_simulator)

    result = run_dag("s_sync_empty_desired_allowed", dag_file=DAGS)

    summary = result.xcom("sync")["summary"]
    assert (summary["received"], summary["archived"]) == (4, 4)
    assert_buckets_add_up(summary)
    assert hubspot_simulator.state.pairs("contacts", "companies") == {("102", "5000"), ("102", "5001")}


def test_a_dry_run_mirror_with_no_desired_rows_reports_the_plan_flagged(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    pairs = seed(hubspot_simulator, contacts=3)
    use_simulator(monkeypatch, hubspot_simulator)

    result = run_dag("s_sync_empty_desired_dry_run", dag_file=DAGS).xcom("sync")

    assert result["sync"]["planned_deletions"] == 4
    assert result["sync"]["empty_desired"] is True
    assert result["summary"]["planned"] == 4
    assert archive_requests(hubspot_simulator) == 0
    assert hubspot_simulator.state.pairs("contacts", "companies") == pairs


def test_from_ids_given_as_a_plain_string_is_refused_never_split(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    from airflow_provider_hubspot_assoc.operators import SyncAssociationsOperator

    with pytest.raises(ValueError, match="from_ids must be a list or tuple"):
        SyncAssociationsOperator(
            task_id="sync",
            inputs=[],
            from_ids="10 1",
            from_object_type="contacts",
            to_object_type="companies",
        )
    for record_id in ("1", "10", "100"):
        hubspot_simulator.state.associate("contacts", record_id, "companies", "5000")
    use_simulator(monkeypatch, hubspot_simulator)

    result = run_dag("s_sync_from_ids_string", dag_file=DAGS)  # renders to "10 1" at run time

    assert result.task_states[("sync", -1)] == "failed"
    assert "from_ids must be a list or tuple" in "".join(capfd.readouterr())
    assert hubspot_simulator.stats.requests == 0
    assert hubspot_simulator.state.count("contacts", "companies") == 3


def test_a_dry_run_mirror_over_max_deletes_reports_the_plan_with_the_cap_flagged(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    pairs = seed(hubspot_simulator, contacts=3)
    use_simulator(monkeypatch, hubspot_simulator)

    result = run_dag("s_sync_dry_run_over_cap", dag_file=DAGS)

    assert result.state == "success", result.task_states
    sync = result.xcom("sync")["sync"]
    assert (sync["planned_deletions"], sync["max_deletes"], sync["over_max_deletes"]) == (5, 2, True)
    assert archive_requests(hubspot_simulator) == 0
    assert hubspot_simulator.state.pairs("contacts", "companies") == pairs
