"""Long runs: the daily limit defers and resumes; a crashed try is resumed from its checkpoint."""

from __future__ import annotations

import pytest

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator
from tests.airflow_helpers import run_dag, set_rows, use_simulator
from tests.e2e.operators.test_operators_dag import assert_buckets_add_up, seed_pairs
from tests.versions import needs_task_state_store

pytestmark = pytest.mark.usefixtures("airflow_db")


@pytest.mark.hubspot_simulator(daily_limit=4, daily_reset_seconds=1.0)
def test_daily_limit_defers_until_the_reset_and_completes(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    pairs = seed_pairs(sim, 90, companies=10)  # 900 pairs: 9 requests of 100, 4 allowed per "day"
    use_simulator(monkeypatch, sim, max_in_flight=1)
    set_rows(monkeypatch, [list(p) for p in pairs])

    result = run_dag("t_xcom_archive")

    assert result.state == "success"
    summary = result.xcom("archive")["summary"]
    assert (summary["received"], summary["archived"], summary["failed"]) == (900, 900, 0)
    assert_buckets_add_up(summary)
    # 9 requests, 4 a day: it deferred at least twice, each time on Daily-Remaining 0, unsent.
    assert sim.stats.daily_limited == 0
    assert sim.state.count("contacts", "companies") == 0
    assert sim.stats.peak_in_flight == 1  # the connection's max_in_flight=1 held
    assert max(sim.stats.pair_sends.values()) == 1  # nothing re-sent after a deferral


@needs_task_state_store
def test_a_crashed_try_resumes_from_its_checkpoint(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    pairs = seed_pairs(sim, 30, companies=5)  # 150 pairs in 15 requests of 10
    use_simulator(monkeypatch, sim)
    set_rows(monkeypatch, [list(p) for p in pairs])
    sim.reconfigure(latency_seconds=0.25)  # slower than a checkpoint, even on a busy machine
    sim.script(*([0] * 7), 401)  # the 8th request: the token is refused; the first try dies there

    result = run_dag("t_resumable")

    assert result.state == "success"
    summary = result.xcom("archive")["summary"]
    assert (summary["received"], summary["archived"]) == (150, 150)
    assert_buckets_add_up(summary)
    assert sim.state.count("contacts", "companies") == 0
    sends = sim.stats.pair_sends
    assert set(sends) == set(pairs)
    assert max(sends.values()) <= 2  # at most once more than needed
    resent = sum(1 for n in sends.values() if n == 2)
    assert resent < 60  # the confirmed prefix of the first try was not sent again
    assert sum(1 for r in sim.stats.log if r.status == 401) == 1


@pytest.mark.hubspot_simulator(daily_limit=10, daily_reset_seconds=1.0)
def test_native_rows_split_across_requests_survive_a_deferral(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows with 7 targets in requests of 5 pairs: a deferral inside a row loses none of its pairs."""
    sim = hubspot_simulator
    seed_pairs(sim, 20, companies=7)  # 140 pairs, at least 28 requests, 10 allowed per "day"
    use_simulator(monkeypatch, sim, max_in_flight=1, batch_size=5, max_pairs_per_request=5)
    targets = [{"id": str(5000 + k)} for k in range(7)]
    set_rows(monkeypatch, [{"from": {"id": str(100 + c)}, "to": targets} for c in range(20)])

    result = run_dag("t_xcom_archive")

    assert result.state == "success"
    summary = result.xcom("archive")["summary"]
    assert (summary["received"], summary["archived"], summary["failed"]) == (140, 140, 0)
    assert_buckets_add_up(summary)
    assert sim.stats.daily_limited == 0  # 28 requests, 10 a day: deferred before each day's end
    assert sim.state.count("contacts", "companies") == 0
    assert max(sim.stats.pair_sends.values()) <= 2  # a split row's first part may go once more
