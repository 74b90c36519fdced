"""Asset events through real Airflow (``dag.test()``), read back from the metadata database.

An archive task emits one event for ``hubspot://<conn id>/associations/<from>/<to>`` per successful
task instance that archived something: mapped instances each emit their own (Airflow records events
per task instance, with its map index), dry runs and runs that archived nothing emit none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator
from tests.airflow_helpers import run_dag, set_rows, use_simulator

pytestmark = pytest.mark.usefixtures("airflow_db")

DAGS = Path(__file__).resolve().parents[2] / "dags" / "assets_dags.py"
CONN_IDS = ("hubspot_assets", "hubspot_assets_mapped", "hubspot_assets_templated")
URI = "hubspot://hubspot_assets/associations/contacts/companies"
BUCKETS = ("archived", "rejected", "failed", "duplicates", "planned")
CONSUMERS = ("assets_consumer", "assets_alias_consumer")


@pytest.fixture
def sim(hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch) -> HubSpotSimulator:
    """Contacts 101-112, each with companies 5000-5002; every test connection points at it."""
    for contact in range(101, 113):
        for company in range(5000, 5003):
            hubspot_simulator.state.associate("contacts", str(contact), "companies", str(company))
    for conn_id in CONN_IDS:
        use_simulator(monkeypatch, hubspot_simulator, conn_id=conn_id)
    return hubspot_simulator


def pairs(contacts: range) -> list[list[str]]:
    return [[str(c), str(k)] for c in contacts for k in range(5000, 5003)]


def run_events(dag_id: str, **run_kwargs: Any) -> list[tuple[str, int, dict[str, Any]]]:
    """Run the DAG; the Asset events its latest run emitted: (uri, map index, extra)."""
    result = run_dag(dag_id, dag_file=DAGS, **run_kwargs)
    assert result.state == "success", result.task_states
    for value in result.xcoms.values():
        if isinstance(value, dict) and "summary" in value:  # every row in exactly one bucket
            summary = value["summary"]
            assert summary["received"] == sum(summary[b] for b in BUCKETS), summary
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        run_id = (
            session.query(DagRun.run_id).filter(DagRun.dag_id == dag_id).order_by(DagRun.id.desc()).first()
        )[0]
        rows = (
            session.query(AssetModel.uri, AssetEvent.source_map_index, AssetEvent.extra)
            .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
            .filter(AssetEvent.source_dag_id == dag_id, AssetEvent.source_run_id == run_id)
            .order_by(AssetEvent.source_map_index)
            .all()
        )
    return [(uri, map_index, extra) for uri, map_index, extra in rows]


def serialized_outlets(dag_id: str, task_id: str) -> list[tuple[str, str]]:
    """A task's outlets as the scheduler and the UI read them: the DAG's serialized form."""
    from airflow.models.serialized_dag import SerializedDagModel
    from airflow.utils.session import create_session

    with create_session() as session:
        serialized = SerializedDagModel.get(dag_id, session=session)
        assert serialized is not None
        (task,) = [t["__var"] for t in serialized.data["dag"]["tasks"] if t["__var"]["task_id"] == task_id]
    outlets = task["partial_kwargs"]["outlets"] if task.get("_is_mapped") else task["outlets"]
    return [(o["__type"], o["__var"]["name"]) for o in outlets]


def queued_consumers() -> set[tuple[str, str]]:
    """(consumer DAG, asset uri) that asset events have queued a run for."""
    from airflow.models.asset import AssetDagRunQueue, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = (
            session.query(AssetDagRunQueue.target_dag_id, AssetModel.uri)
            .join(AssetModel, AssetModel.id == AssetDagRunQueue.asset_id)
            .filter(AssetDagRunQueue.target_dag_id.in_(CONSUMERS))
            .all()
        )
    return {(dag_id, uri) for dag_id, uri in rows}


@pytest.fixture
def no_queued_runs() -> None:
    from airflow.models.asset import AssetDagRunQueue
    from airflow.utils.session import create_session

    with create_session() as session:
        session.query(AssetDagRunQueue).filter(AssetDagRunQueue.target_dag_id.in_(CONSUMERS)).delete()


def test_an_archive_run_emits_one_event_and_queues_the_downstream_dags(
    sim: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, no_queued_runs: None
) -> None:
    set_rows(monkeypatch, pairs(range(101, 104)))

    events = run_events("assets_archive")

    assert events == [(URI, -1, {"archived": 9})]
    # Both downstream DAGs get a run queued: the one on the Asset, and the one on the alias.
    assert queued_consumers() == {("assets_consumer", URI), ("assets_alias_consumer", URI)}


def test_each_mapped_task_instance_that_archived_emits_its_event(
    sim: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Three chunks archive something; the fourth holds only invalid rows (skipped) and archives nothing.
    set_rows(
        monkeypatch, [pairs(range(101, 103)), pairs(range(103, 104)), pairs(range(104, 107)), [["x", "1"]]]
    )

    events = run_events("assets_mapped")

    uri = "hubspot://hubspot_assets_mapped/associations/contacts/companies"
    assert events == [(uri, 0, {"archived": 6}), (uri, 1, {"archived": 3}), (uri, 2, {"archived": 9})]
    # What the scheduler and the UI know of the mapped task: the alias is among its outlets.
    assert serialized_outlets("assets_mapped", "archive") == [("asset_alias", "hubspot_associations")]


def test_a_dry_run_emits_no_event(
    sim: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, no_queued_runs: None
) -> None:
    set_rows(monkeypatch, pairs(range(101, 104)))

    assert run_events("assets_dry_run") == []
    assert queued_consumers() == set()
    assert sim.state.count("contacts", "companies") == 12 * 3


def test_a_mirror_run_emits_one_event_and_its_dry_run_none(
    sim: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_rows(monkeypatch, pairs(range(101, 104))[:1])  # 101 keeps company 5000: two deletions

    assert run_events("assets_sync_dry_run") == []
    assert run_events("assets_sync") == [(URI, -1, {"archived": 2})]


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param([["x1", "5000"], ["101", "zero"]], id="all-rejected"),
        pytest.param(
            [["900", "5000"], ["901", "5001"]],  # contacts HubSpot does not know: failed, per pair
            marks=pytest.mark.hubspot_simulator(unknown_record="error"),
            id="all-failed",
        ),
        pytest.param([], id="no-rows"),
    ],
)
def test_a_run_that_archived_nothing_emits_no_event(
    rows: list[list[str]], sim: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_rows(monkeypatch, rows)

    assert run_events("assets_archive") == []


def test_templated_object_types_emit_the_event_of_the_rendered_pair(
    sim: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_rows(monkeypatch, pairs(range(101, 102)))

    events = run_events("assets_templated", run_conf={"from": "contact", "to": "0-2"})

    uri = "hubspot://hubspot_assets_templated/associations/contacts/companies"
    assert events == [(uri, -1, {"archived": 3})]
