"""Adversarial review of the carried request size (``RequestSize.named``, ``carry_over``): defects
found, each shown through dag.test() against the simulator over HTTP."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator
from tests.airflow_helpers import load_dag, run_dag, set_rows, use_simulator
from tests.e2e.operators.test_operators_dag import assert_buckets_add_up, seed_pairs
from tests.versions import needs_task_state_store

pytestmark = pytest.mark.usefixtures("airflow_db")

DAGS = Path(__file__).resolve().parents[2] / "dags" / "review_cap_dags.py"


@pytest.fixture
def between_tries() -> Iterator[list[object]]:
    """What the DAG's retry callback does between two tries: HubSpot changing."""
    load_dag("rcap_archive_retried", DAGS)
    steps = sys.modules[f"_dags_{DAGS.stem}"].BETWEEN_TRIES
    yield steps
    steps.clear()


# On the old code this looped until the timeout: each session re-sent the failed removals as one
# oversize request, learned the maximum again, sent 3 parts and deferred, forgetting the maximum.
@pytest.mark.timeout(60)
@needs_task_state_store
def test_a_maximum_named_while_resending_failed_removals_holds_after_a_deferral(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, between_tries: list[object]
) -> None:
    """Try 1 sends 40 removals in one request; HubSpot refuses it (and the empty probe) as a whole,
    so all 40 fail and the failure policy fails the try. Before try 2, HubSpot names a maximum of
    10 inputs and allows 4 requests a "day" (an earlier version's checkpoint, with no maximum in it,
    is the same case). Try 2 re-sends the 40: refused once (maximum 10), 3 parts, the day is used
    up. While the failed removals are re-sent, a deferral carries the earlier try's checkpoint: it
    must carry the maximum learned too, or every session refuses, splits and defers again."""
    sim = hubspot_simulator
    pairs = seed_pairs(sim, 40, companies=1)
    use_simulator(monkeypatch, sim, max_in_flight=1)
    set_rows(monkeypatch, [list(p) for p in pairs])
    sim.script(400, 400)  # try 1: the batch and the empty probe, refused the same way
    between_tries.append(lambda: sim.reconfigure(max_inputs=10, daily_limit=4, daily_reset_seconds=1.0))

    result = run_dag("rcap_archive_retried", dag_file=DAGS)

    assert result.state == "success", result.task_states
    summary = result.xcom("archive")["summary"]
    assert (summary["received"], summary["archived"], summary["failed"]) == (40, 40, 0), summary
    assert_buckets_add_up(summary)
    assert sim.state.count("contacts", "companies") == 0
    archives = [(r.status, r.inputs) for r in sim.stats.log if r.endpoint == "archive"]
    # Try 1: the batch and the probe, refused. Try 2: refused once (the maximum named), 3 parts, the
    # deferral, then the 4 parts of the re-sent removals at the maximum carried (a refusal's inputs
    # are not counted: 0).
    assert archives == [(400, 0)] * 3 + [(204, 10)] * (3 + 4), archives
    # Carried out: the 3 parts before the deferral, and all 4 after it (re-sent removals are
    # confirmed together; archiving a pair again removes nothing more).
    assert sorted(set(sim.stats.pair_sends.values())) == [1, 2]
