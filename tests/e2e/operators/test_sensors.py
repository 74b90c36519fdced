"""Both sensors, in poke, reschedule and deferrable modes, through real Airflow and the simulator."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator
from tests.airflow_helpers import run_dag, set_rows, use_simulator

pytestmark = pytest.mark.usefixtures("airflow_db")

GOOD = {"status": "COMPLETE", "numErrors": 1, "errors": [{}], "summary": {"archived": 95, "failed": 5}}
TOO_MANY = {"status": "COMPLETE", "numErrors": 2, "errors": [{}, {}], "summary": {"archived": 8, "failed": 2}}
CANCELED = {"status": "CANCELED", "numErrors": 0, "errors": []}
PENDING = {"status": "PENDING", "numErrors": 0, "errors": []}


def after_first_read(sim: HubSpotSimulator, action: Any) -> threading.Thread:
    """Run ``action`` once the sensor has read HubSpot at least once (eventual consistency)."""

    def wait_then_act() -> None:
        deadline = time.monotonic() + 60
        while sim.stats.by_endpoint["read"] < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        action()

    thread = threading.Thread(target=wait_then_act, daemon=True)
    thread.start()
    return thread


def respond(monkeypatch: pytest.MonkeyPatch, response: Any) -> None:
    monkeypatch.setenv("HUBSPOT_TEST_RESPONSE", json.dumps(response))


@pytest.mark.parametrize(
    "dag_id", ["t_response_sensor", "t_response_sensor_deferrable", "t_response_sensor_reschedule"]
)
@pytest.mark.parametrize(
    ("response", "state"),
    [
        (GOOD, "success"),
        (TOO_MANY, "failed"),
        (CANCELED, "failed"),
        (PENDING, "failed"),
        ([GOOD, GOOD], "success"),
    ],
    ids=["complete", "too-many-errors", "canceled", "pending-times-out", "mapped"],
)
def test_batch_response_sensor(
    dag_id: str, response: Any, state: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    respond(monkeypatch, response)

    result = run_dag(dag_id)

    assert result.task_states[("check", -1)] == state


@pytest.mark.parametrize("dag_id", ["t_archived_sensor", "t_archived_sensor_deferrable"])
def test_archived_sensor_waits_until_hubspot_no_longer_shows_the_pairs(
    dag_id: str, hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    pairs = [("101", "5000"), ("102", "5000"), ("102", "5001")]
    for from_id, to_id in [*pairs, ("103", "5000")]:
        sim.state.associate("contacts", from_id, "companies", to_id)
    use_simulator(monkeypatch, sim)
    set_rows(monkeypatch, [list(p) for p in pairs])
    # HubSpot is eventually consistent: the pairs disappear only after the sensor first saw them.
    after_first_read(sim, lambda: [sim.state.archive_pair("contacts", f, "companies", t) for f, t in pairs])

    result = run_dag(dag_id)

    assert result.task_states[("confirm", -1)] == "success"
    reads = [r for r in sim.stats.log if r.endpoint == "read"]
    assert len(reads) >= 2  # it saw them present, then gone
    assert sim.state.pairs("contacts", "companies") == {("103", "5000")}


def test_archived_sensor_times_out_while_pairs_remain(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    sim.state.associate("contacts", "101", "companies", "5000")
    use_simulator(monkeypatch, sim)
    set_rows(monkeypatch, [["101", "5000"]])

    result = run_dag("t_archived_sensor_times_out")

    assert result.task_states[("confirm", -1)] == "failed"


def test_archived_labels_sensor_checks_the_label_not_the_pair(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    sim.state.associate("contacts", "101", "companies", "5000", ["Primary"])
    sim.state.associate("contacts", "102", "companies", "5000")
    use_simulator(monkeypatch, sim)
    set_rows(monkeypatch, [[101, 5000, "Primary"], [102, 5000, 1, "HUBSPOT_DEFINED"]])
    after_first_read(
        sim, lambda: sim.state.archive_label("contacts", "101", "companies", "5000", ("HUBSPOT_DEFINED", 1))
    )

    result = run_dag("t_archived_labels_sensor")

    assert result.task_states[("confirm", -1)] == "success"
    assert sim.state.pairs("contacts", "companies") == {("101", "5000"), ("102", "5000")}
