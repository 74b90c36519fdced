"""Two clients of one HubSpot app, neither told to share: no 429 storm, nothing lost."""

from __future__ import annotations

import threading

import pytest

from airflow_provider_hubspot_assoc.hubspot import ClientConfig, HubSpotClient
from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.testing import HubSpotSimulator

PER_CLIENT = 50


@pytest.mark.hubspot_simulator(
    ten_second_limit=20, window_seconds=1.0, latency_seconds=0.05, daily_limit=None
)
def test_two_clients_racing_for_one_apps_limit_back_off_instead_of_storming(
    hubspot_simulator: HubSpotSimulator,
) -> None:
    sim = hubspot_simulator
    for n in range(2 * PER_CLIENT):
        sim.state.associate("contacts", str(1000 + n), "companies", "5000")

    def archive(first: int) -> None:
        config = ClientConfig(
            base_url=sim.url,
            access_token=sim.token,
            requests_per_window=20,
            window_seconds=1.0,
            batch_size=1,
            max_attempts=20,
        )
        with HubSpotClient(config) as client:
            inputs = [
                {"from": {"id": str(1000 + first + i)}, "to": [{"id": "5000"}]} for i in range(PER_CLIENT)
            ]
            list(client.send_batches(Kind.ARCHIVE, "contacts", "companies", ([item] for item in inputs)))

    workers = [threading.Thread(target=archive, args=(first,)) for first in (0, PER_CLIENT)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    answers = [r.status for r in sim.stats.log if r.endpoint == "archive"]
    assert sim.state.count("contacts", "companies") == 0
    # Without the slow-down after a 429 this was 19-25%; with it about 8% (time-scaled 1-s window).
    assert answers.count(429) / len(answers) < 0.15, f"{answers.count(429)} of {len(answers)} were 429s"
