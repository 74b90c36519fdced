"""The ``hubspot-assoc-sim`` command, the inspection API (HTTP ``/_sim/*`` and Python), and log hygiene."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import asdict

import pytest
import requests

from airflow_provider_hubspot_assoc.testing import ALL_SCOPES, HubSpotSimulator

from ._cli import RunningCli, start_cli
from ._support import (
    PRIMARY,
    UNLABELED,
    Api,
    archive_body,
    archive_path,
    labels_archive_path,
    labels_body,
    read_body,
    read_path,
)

# Distinctive secrets, so that finding one in a log cannot be a coincidence.
PRIVATE_TOKEN = f"pat-na1-{uuid.uuid4()}"
CLIENT_ID = f"client-{uuid.uuid4().hex[:8]}"
CLIENT_SECRET = f"secret-{uuid.uuid4()}"
REFRESH_TOKEN = f"refresh-{uuid.uuid4()}"
WRONG_TOKEN = f"wrong-{uuid.uuid4()}"


# ------------------------------------------------------------------------------------------- CLI
@pytest.fixture
def cli() -> Iterator[RunningCli]:
    running = start_cli("--seed", "demo", "--window-seconds", "1", "--token", PRIVATE_TOKEN, "-v")
    try:
        yield running
    finally:
        running.stop()


def test_cli_serves_inspects_archives_and_stops(cli: RunningCli) -> None:
    assert cli.port > 0
    assert "seed demo" in cli.first_line
    assert requests.get(f"{cli.url}/_sim/health", timeout=5).json() == {"ok": True}

    stats = requests.get(f"{cli.url}/_sim/stats", timeout=5).json()
    assert stats["archived_pairs"] == 0
    listed = requests.get(f"{cli.url}/_sim/associations?from=contacts&to=companies", timeout=5).json()
    assert listed["from"] == "contacts" and listed["to"] == "companies"
    assert listed["count"] == len(listed["pairs"]) > 200  # the demo seed: 200 contacts, 1-2 companies each
    contact, company = listed["pairs"][0]
    reverse = requests.get(f"{cli.url}/_sim/associations?from=companies&to=contacts", timeout=5).json()
    assert [company, contact] in reverse["pairs"]

    headers = {"Authorization": f"Bearer {PRIVATE_TOKEN}"}
    body = archive_body({contact: [company]})
    assert requests.post(cli.url + archive_path(), json=body, headers=headers, timeout=5).status_code == 204
    assert requests.post(cli.url + archive_path(), json=body, headers={}, timeout=5).status_code == 401
    # The default private token is replaced by --token.
    default = {"Authorization": "Bearer sim-private-app-token"}
    assert requests.post(cli.url + archive_path(), json=body, headers=default, timeout=5).status_code == 401

    after = requests.get(f"{cli.url}/_sim/associations?from=contacts&to=companies", timeout=5).json()
    assert after["count"] == listed["count"] - 1
    assert [contact, company] not in after["pairs"]
    reverse_after = requests.get(f"{cli.url}/_sim/associations?from=companies&to=contacts", timeout=5).json()
    assert [company, contact] not in reverse_after["pairs"]
    stats = requests.get(f"{cli.url}/_sim/stats", timeout=5).json()
    assert stats["archived_pairs"] == 1
    assert stats["by_endpoint"]["archive"] == 3
    assert stats["by_status"]["204"] == 1
    assert stats["by_status"]["401"] == 2

    assert cli.stop() == 0  # SIGTERM: a clean exit
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{cli.url}/_sim/health", timeout=2)


def test_cli_logs_no_secrets(cli: RunningCli) -> None:
    headers = {"Authorization": f"Bearer {PRIVATE_TOKEN}"}
    read = requests.post(cli.url + read_path(), json=read_body(["1001"]), headers=headers, timeout=5)
    assert read.status_code == 200
    refresh = requests.post(
        f"{cli.url}/oauth/v1/token",
        data={
            "grant_type": "refresh_token",
            "client_id": "sim-client-id",
            "client_secret": "sim-client-secret",
            "refresh_token": "sim-refresh-token",
        },
        timeout=5,
    )
    assert refresh.status_code == 200
    access = refresh.json()["access_token"]
    oauth = {"Authorization": f"Bearer {access}"}
    assert (
        requests.post(cli.url + read_path(), json=read_body(["1001"]), headers=oauth, timeout=5).status_code
        == 200
    )
    bad_refresh = requests.post(
        f"{cli.url}/oauth/v1/token",
        data={
            "grant_type": "refresh_token",
            "client_id": "sim-client-id",
            "client_secret": "x",
            "refresh_token": "y",
        },
        timeout=5,
    )
    assert bad_refresh.status_code == 400
    wrong = {"Authorization": f"Bearer {WRONG_TOKEN}"}
    assert (
        requests.post(cli.url + read_path(), json=read_body(["1001"]), headers=wrong, timeout=5).status_code
        == 401
    )

    assert cli.stop() == 0
    output = cli.stdout + cli.stderr  # everything after the banner, which names the accepted secrets
    # -v logged every request (so the check below looks at real request logs) ...
    assert output.count("POST /crm/v4/associations/contacts/companies/batch/read") == 3
    assert "POST /oauth/v1/token" in output
    # ... and none of the secrets.
    for secret in (PRIVATE_TOKEN, access, "sim-client-secret", "sim-refresh-token", WRONG_TOKEN):
        assert secret not in output


# ------------------------------------------------------------------------- log hygiene in-process
@pytest.mark.hubspot_simulator(
    tokens={PRIVATE_TOKEN: ALL_SCOPES},
    oauth_clients={CLIENT_ID: CLIENT_SECRET},
    oauth_refresh_tokens={REFRESH_TOKEN: ALL_SCOPES},
)
def test_simulator_logs_no_secrets(
    hubspot_simulator: HubSpotSimulator,
    api: Api,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    sim = hubspot_simulator
    sim.state.associate("contacts", "101", "companies", "201", ["Primary"])
    sim.state.associate("contacts", "102", "companies", "201")
    assert api.token == PRIVATE_TOKEN

    assert api.post(read_path(), read_body(["101"])).status_code == 200
    assert api.post(labels_archive_path(), labels_body([("101", "201", [PRIMARY])])).status_code == 204
    assert api.get("/crm/v4/associations/contacts/companies/labels").status_code == 200
    access = api.access_token(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN)
    assert api.post(archive_path(), archive_body({"101": ["201"]}), token=access).status_code == 204
    assert (
        api.refresh(
            client_id=CLIENT_ID, client_secret="not-the-secret", refresh_token=REFRESH_TOKEN
        ).status_code
        == 400
    )
    assert (
        api.refresh(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token=WRONG_TOKEN).status_code
        == 400
    )
    assert api.post(read_path(), read_body(["102"]), token=WRONG_TOKEN).status_code == 401
    sim.expire_access_tokens()
    assert api.post(read_path(), read_body(["102"]), token=access).status_code == 401
    sim.script("drop")
    with pytest.raises(requests.ConnectionError):
        api.post(read_path(), read_body(["102"]))
    assert sim.state.count() == 1

    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    captured = capfd.readouterr()
    assert "POST /crm/v4/associations/contacts/companies/batch/read" in logged
    assert "POST /oauth/v1/token" in logged
    for secret in (PRIVATE_TOKEN, access, CLIENT_SECRET, REFRESH_TOKEN, WRONG_TOKEN):
        assert secret not in logged
        assert secret not in captured.out + captured.err
    # The inspection API never holds a token either.
    recorded = repr([asdict(record) for record in sim.stats.log]) + repr(sim.stats.as_json())
    for secret in (PRIVATE_TOKEN, access, CLIENT_SECRET, REFRESH_TOKEN, WRONG_TOKEN):
        assert secret not in recorded


# --------------------------------------------------------------------------- Python inspection API
@pytest.mark.hubspot_simulator(seed="demo")
def test_python_inspection_api(hubspot_simulator: HubSpotSimulator, api: Api) -> None:
    sim = hubspot_simulator
    state = sim.state
    total = state.count()
    forward = state.pairs("contacts", "companies")
    assert state.count("contacts", "companies") == len(forward) == len(state.pairs("companies", "contacts"))
    assert {(b, a) for a, b in forward} == state.pairs("companies", "contacts")
    assert total == len(forward) + state.count("deals", "companies") + state.count(
        "deals", "contacts"
    ) + state.count("tickets", "contacts")
    assert sim.stats.requests == 0

    (contact, company), (other_contact, other_company) = sorted(forward)[:2]
    assert api.post(archive_path(), archive_body({contact: [company]})).status_code == 204
    assert (
        api.post(
            labels_archive_path(), labels_body([(other_contact, other_company, [UNLABELED])])
        ).status_code
        == 204
    )
    still_associated = bool(state.associated("contacts", contact, "companies"))
    read_status = 200 if still_associated else 207
    assert api.post(read_path(), read_body([contact])).status_code == read_status
    assert api.post(archive_path(), archive_body({contact: [company]}), token="nope").status_code == 401

    assert state.count() == total - 2
    assert state.pairs("contacts", "companies") == forward - {
        (contact, company),
        (other_contact, other_company),
    }
    stats = sim.stats
    assert stats.requests == 4
    assert stats.by_status[204] == 2
    assert stats.by_status[401] == 1
    assert stats.by_endpoint == {"archive": 2, "archive_labels": 1, "read": 1}
    assert stats.archived_pairs == 1
    assert stats.archived_labels == 1
    assert stats.pairs_received == 2
    log = list(stats.log)
    assert [(r.method, r.endpoint, r.status) for r in log] == [
        ("POST", "archive", 204),
        ("POST", "archive_labels", 204),
        ("POST", "read", read_status),
        ("POST", "archive", 401),
    ]
    assert (log[0].inputs, log[0].pairs) == (1, 1)
    assert log[0].path == archive_path()

    expected = stats.as_json()
    over_http = requests.get(f"{sim.url}/_sim/stats", timeout=5).json()
    assert over_http == expected
    assert sim.stats.requests == 4  # inspection requests are not counted
    assert "inspect" not in sim.stats.by_endpoint
    assert requests.get(f"{sim.url}/_sim/count", timeout=5).json() == {"count": total - 2}


def test_inspection_reset_and_faults_over_http(hubspot_simulator: HubSpotSimulator, api: Api) -> None:
    sim = hubspot_simulator
    assert sim.state.count() == 0
    reset = requests.post(f"{sim.url}/_sim/reset?seed=demo", timeout=5)
    assert reset.json() == {"ok": True}
    demo_count = sim.state.count()
    assert demo_count > 0
    assert requests.get(f"{sim.url}/_sim/count", timeout=5).json() == {"count": demo_count}

    faults = requests.post(f"{sim.url}/_sim/faults", json={"server_error_rate": 1.0}, timeout=5)
    assert faults.status_code == 200
    assert faults.json()["server_error_rate"] == 1.0
    contact, company = sorted(sim.state.pairs("contacts", "companies"))[0]
    assert api.post(archive_path(), archive_body({contact: [company]})).status_code >= 500
    assert sim.state.count() == demo_count
    requests.post(f"{sim.url}/_sim/faults", json={"server_error_rate": 0.0}, timeout=5)
    assert api.post(archive_path(), archive_body({contact: [company]})).status_code == 204
    assert sim.state.count() == demo_count - 1

    assert requests.post(f"{sim.url}/_sim/reset", timeout=5).json() == {"ok": True}
    assert sim.state.count() == 0  # back to the configured seed ("empty")
    assert sim.stats.by_endpoint == {}  # the reset request itself is not counted
    assert sim.stats.archived_pairs == 0
    assert requests.get(f"{sim.url}/_sim/nothing", timeout=5).status_code == 404
