"""Safety of a destructive tool: nothing is done that was not asked, nothing claimed without proof."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator
from tests.airflow_helpers import run_dag, use_simulator

pytestmark = pytest.mark.usefixtures("airflow_db")

DAGS = Path(__file__).resolve().parent.parent / "dags" / "safety_dags.py"
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
