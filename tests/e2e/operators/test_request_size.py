"""Request size through Airflow: ``max_pairs_per_request`` as an operator parameter and as a
connection extra, and a run HubSpot re-chunks with "The maximum number of inputs ... is N"."""

from __future__ import annotations

import pytest

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator
from tests.airflow_helpers import run_dag, set_rows, use_simulator
from tests.e2e.operators.test_operators_dag import assert_buckets_add_up, seed_pairs

pytestmark = pytest.mark.usefixtures("airflow_db")


@pytest.mark.hubspot_simulator(max_inputs=10)
def test_the_task_pair_cap_wins_and_a_named_maximum_rechunks_the_run(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    pairs = seed_pairs(sim, 60, companies=3)  # 60 inputs of 3 to ids: 180 pairs
    use_simulator(monkeypatch, sim, max_pairs_per_request=5)  # the task's 200 wins
    set_rows(monkeypatch, [list(p) for p in pairs])

    result = run_dag("t_request_size")

    assert result.state == "success"
    summary = result.xcom("archive")["summary"]
    assert (summary["received"], summary["archived"], summary["failed"]) == (180, 180, 0)
    assert_buckets_add_up(summary)
    assert summary["isolation_requests"] == 0  # re-chunked, not bisected
    archives = [r for r in sim.stats.log if r.endpoint == "archive"]
    # One request of 60 inputs (180 pairs, within the task's 200) is refused; then requests of 10.
    assert [(r.status, r.inputs, r.pairs) for r in archives] == [(400, 0, 0)] + [(204, 10, 30)] * 6
    assert summary["requests"] == 7
    assert sim.state.count("contacts", "companies") == 0
    assert max(sim.stats.pair_sends.values()) == 1


def test_the_connection_extras_set_inputs_and_pairs_per_request(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    pairs = seed_pairs(sim, 10, companies=3)  # 10 from ids of 3 to ids
    use_simulator(monkeypatch, sim, max_in_flight=1, batch_size=4, max_pairs_per_request=6)
    set_rows(monkeypatch, [list(p) for p in pairs])

    result = run_dag("t_xcom_archive")

    assert result.state == "success"
    summary = result.xcom("archive")["summary"]
    assert (summary["received"], summary["archived"], summary["failed"]) == (30, 30, 0)
    assert_buckets_add_up(summary)
    archives = [(r.status, r.inputs, r.pairs) for r in sim.stats.log if r.endpoint == "archive"]
    assert archives == [(204, 2, 6)] * 5  # 6 pairs a request: 2 from ids with their 3 to ids each


# On the old code this looped for ever (each session sent the batch's first parts again, then
# deferred), until the suite's timeout.
@pytest.mark.hubspot_simulator(max_inputs=10, daily_limit=4, daily_reset_seconds=1.0)
def test_a_maximum_hubspot_named_holds_after_a_deferral(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run deferred on the daily limit goes on in another session: it keeps the maximum HubSpot
    named before, instead of sending an oversize request again to learn it a second time.

    With 4 requests a "day", the first batch of 60 inputs refused and sent again in 6 parts cannot be
    confirmed within one session; a session that forgot the maximum formed that batch again and never
    got past it."""
    sim = hubspot_simulator
    pairs = seed_pairs(sim, 60, companies=3)  # 60 inputs of 3 to ids; requests of 10: 4 "days"
    use_simulator(monkeypatch, sim, max_in_flight=1)
    set_rows(monkeypatch, [list(p) for p in pairs])

    result = run_dag("t_xcom_archive")

    assert result.state == "success"
    summary = result.xcom("archive")["summary"]
    assert (summary["received"], summary["archived"], summary["failed"]) == (180, 180, 0)
    assert_buckets_add_up(summary)
    assert sim.stats.daily_limited == 0  # deferred before each "day" ran out
    archives = [(r.status, r.inputs) for r in sim.stats.log if r.endpoint == "archive"]
    # Refused once, in the first session only. Its 3 parts sent before the deferral go once more: a
    # batch is confirmed whole, and archiving a pair again removes nothing more.
    assert archives == [(400, 0)] + [(204, 10)] * (3 + 6)
    assert sim.state.count("contacts", "companies") == 0
    assert max(sim.stats.pair_sends.values()) == 2
