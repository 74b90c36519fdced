"""Nothing is lost under faults: every kind of failure, through real Airflow, real HTTP and retries.

Each scenario archives the same rows through ``BatchArchiveAssociationsOperator`` while the
simulator misbehaves, then asserts the bucket sums, the exact buckets and HubSpot's final state.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator
from tests.airflow_helpers import run_dag, set_rows

pytestmark = pytest.mark.usefixtures("airflow_db")

BUCKETS = ("archived", "rejected", "failed", "duplicates", "planned")


def connect(
    monkeypatch: pytest.MonkeyPatch, sim: HubSpotSimulator, oauth: bool = False, **extra: Any
) -> None:
    extra = {"read_timeout": 0.5, "max_attempts": 12, "max_retry_seconds": 60, **extra}
    conn: dict[str, Any] = {"conn_type": "hubspot", "host": sim.url, "extra": extra}
    if oauth:
        extra.update(
            auth_type="oauth",
            client_id="sim-client-id",
            client_secret="sim-client-secret",
            refresh_token="sim-refresh-token",
            tier="professional",
        )
    else:
        conn["password"] = sim.token
    monkeypatch.setenv("AIRFLOW_CONN_HUBSPOT_DEFAULT", json.dumps(conn))


def seed(sim: HubSpotSimulator, contacts: int = 60, companies: int = 10) -> list[tuple[str, str]]:
    pairs = [(str(100 + c), str(5000 + k)) for c in range(contacts) for k in range(companies)]
    for from_id, to_id in pairs:
        sim.state.associate("contacts", from_id, "companies", to_id)
    return pairs


def archive_everything(
    sim: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, rows: list[Any]
) -> dict[str, Any]:
    set_rows(monkeypatch, rows)
    result = run_dag("t_xcom_archive")
    assert result.task_states[("archive", -1)] == "success"
    summary: dict[str, Any] = result.xcom("archive")["summary"]
    assert summary["received"] == sum(summary[b] for b in BUCKETS)
    return summary


@pytest.mark.parametrize(
    ("faults", "counter"),
    [
        ({"rate_limit_rate": 0.4}, "rate_limited"),
        ({"burst_429_every": 2, "burst_429_length": 3}, "rate_limited"),
        ({"server_error_rate": 0.4}, "retries"),
        ({"slow_rate": 0.3, "slow_seconds": 1.0, "scripted": ["slow", 0, "slow"]}, "retries"),
        ({"drop_rate": 0.3}, "retries"),
        ({"server_error_rate": 0.3, "drop_rate": 0.2, "apply_before_fault": True}, "retries"),
    ],
    ids=[
        "429-storm",
        "429-bursts",
        "5xx-bursts",
        "timeouts",
        "dropped-connections",
        "answers-lost-after-apply",
    ],
)
# An injected 429 says the window is full; a 1-s window keeps the waits short.
@pytest.mark.hubspot_simulator(window_seconds=1.0)
def test_every_pair_is_archived_through_faults(
    faults: dict[str, Any], counter: str, hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    pairs = seed(sim)
    connect(monkeypatch, sim)
    sim.set_faults(**faults)

    summary = archive_everything(sim, monkeypatch, [list(p) for p in pairs])

    assert (summary["archived"], summary["failed"]) == (600, 0)
    assert summary[counter] > 0  # the fault really struck, and was survived
    assert sim.state.count("contacts", "companies") == 0
    assert sim.stats.faults  # the simulator injected faults


def test_oauth_token_expiring_mid_run(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    pairs = seed(sim)
    connect(monkeypatch, sim, oauth=True)
    sim.set_faults(expire_tokens_after=2)

    summary = archive_everything(sim, monkeypatch, [list(p) for p in pairs])

    assert (summary["archived"], summary["failed"]) == (600, 0)
    assert sim.stats.token_refreshes >= 3  # refreshed again each time the token expired
    assert sim.state.count("contacts", "companies") == 0


@pytest.mark.hubspot_simulator(unknown_record="error")  # unknown records fail with 207 (default: no-op)
def test_hubspot_answering_207_for_a_fraction_of_inputs(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    pairs = seed(sim)
    unknown = [(str(880000 + i), "5000") for i in range(60)]  # 10%: records HubSpot does not have
    connect(monkeypatch, sim)
    sim.set_faults(server_error_rate=0.2)

    summary = archive_everything(sim, monkeypatch, [list(p) for p in pairs + unknown])

    assert (summary["received"], summary["archived"], summary["failed"]) == (660, 600, 60)
    assert sim.state.count("contacts", "companies") == 0
