"""Pacing against the simulator over HTTP: one client keeps within the window, clients of one app that
do not talk to each other share it through HubSpot's headers, and nothing is sent past the day.

Windows are time-scaled (1 s instead of 10) so each test lasts a few seconds; what is checked is
what the simulator counted (429s, requests), never how fast we were.
"""

from __future__ import annotations

import threading

import pendulum
import pytest

from airflow_provider_hubspot_assoc.exceptions import HubSpotDailyLimitError
from airflow_provider_hubspot_assoc.hubspot import ClientConfig, HubSpotClient
from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.testing import HubSpotSimulator

COMPANY = "5000"


def seed(sim: HubSpotSimulator, count: int) -> list[str]:
    contacts = [str(1000 + n) for n in range(count)]
    for contact in contacts:
        sim.state.associate("contacts", contact, "companies", COMPANY)
    return contacts


def archive_one_by_one(sim: HubSpotSimulator, contacts: list[str], **settings: object) -> HubSpotClient:
    config = ClientConfig(
        base_url=sim.url,
        access_token=sim.token,
        requests_per_window=sim.config.ten_second_limit,
        window_seconds=sim.config.window_seconds,
        batch_size=1,
        max_attempts=20,
        **settings,  # type: ignore[arg-type]
    )
    with HubSpotClient(config) as client:
        batches = ([{"from": {"id": contact}, "to": [{"id": COMPANY}]}] for contact in contacts)
        for _, response in client.send_batches(Kind.ARCHIVE, "contacts", "companies", batches):
            assert response is not None and not response.errors
        return client


def archive_answers(sim: HubSpotSimulator) -> list[int]:
    return [record.status for record in sim.stats.log if record.endpoint == "archive"]


@pytest.mark.hubspot_simulator(
    ten_second_limit=10, window_seconds=1.0, latency_seconds=0.05, daily_limit=None
)
def test_one_client_never_meets_a_429_over_several_windows(hubspot_simulator: HubSpotSimulator) -> None:
    sim = hubspot_simulator
    archive_one_by_one(sim, seed(sim, 45))  # four and a half windows' worth
    assert archive_answers(sim).count(429) == 0
    assert sim.state.count("contacts", "companies") == 0


@pytest.mark.parametrize("clients", [2, 4])
@pytest.mark.hubspot_simulator(
    ten_second_limit=20, window_seconds=1.0, latency_seconds=0.05, daily_limit=None
)
def test_clients_of_one_app_share_its_limit_without_being_told(
    hubspot_simulator: HubSpotSimulator, clients: int
) -> None:
    sim = hubspot_simulator
    contacts = seed(sim, 120)
    part = len(contacts) // clients
    workers = [
        threading.Thread(target=archive_one_by_one, args=(sim, contacts[n * part : (n + 1) * part]))
        for n in range(clients)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    answers = archive_answers(sim)
    assert sim.state.count("contacts", "companies") == 0  # every request went through in the end
    # Before the headers were read by send time this was 9 % (2 clients) and 24 % (4); now 0-3 % on a
    # quiet machine, up to 5.5 % for four with 1-s windows on a loaded one (CI runs the lanes beside
    # the suite). The bound tells the two apart; the benchmark measures the target at HubSpot's 10 s.
    bound = {2: 0.05, 4: 0.12}[clients]
    assert answers.count(429) <= bound * len(answers), f"{answers.count(429)} of {len(answers)} were 429s"


@pytest.mark.hubspot_simulator(daily_limit=2, day_ends_in=30.0, account_timezone="Asia/Tokyo")
def test_nothing_is_sent_past_daily_remaining_zero_and_the_day_ends_on_hubspots_clock(
    hubspot_simulator: HubSpotSimulator,
) -> None:
    sim = hubspot_simulator
    contacts = seed(sim, 8)

    with pytest.raises(HubSpotDailyLimitError, match="Daily-Remaining 0") as stopped:
        # Three in flight from the start, while nothing tells yet how many are left today.
        archive_one_by_one(sim, contacts, max_in_flight=3, account_timezone="Asia/Tokyo")

    assert sim.stats.requests == 2 and sim.stats.daily_limited == 0  # no DAILY 429
    assert sim.state.count("contacts", "companies") == 6
    # Midnight in Tokyo on the simulator's clock, 30 s away, not on this machine's clock (hours away).
    now = pendulum.now("UTC")
    assert now.add(seconds=25) <= stopped.value.reset_at <= now.add(seconds=32)
    assert stopped.value.status is None and stopped.value.category == "DAILY"
