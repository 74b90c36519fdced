"""Per-request work of the HTTP client: the environment (proxies, netrc, CA bundle) is read once, when
the client starts, not at every request."""

from __future__ import annotations

from typing import Any

import pytest
import requests.sessions
import requests.utils

from airflow_provider_hubspot_assoc.hubspot import ClientConfig, HubSpotClient
from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.testing import HubSpotSimulator


def test_no_proxy_or_netrc_lookup_per_request(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    for n in range(20):
        sim.state.associate("contacts", str(1000 + n), "companies", "5000")
    looked_up: list[str] = []
    for module in (requests.sessions, requests.utils):
        for name in ("get_netrc_auth", "get_environ_proxies"):
            if hasattr(module, name):
                real = getattr(module, name)

                def spy(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
                    looked_up.append(_name)
                    return _real(*args, **kwargs)

                monkeypatch.setattr(module, name, spy)
    config = ClientConfig(base_url=sim.url, access_token=sim.token, batch_size=1)
    with HubSpotClient(config) as client:
        started = len(looked_up)  # what the client read when it started
        inputs = [{"from": {"id": str(1000 + n)}, "to": [{"id": "5000"}]} for n in range(20)]
        answers = list(client.send_batches(Kind.ARCHIVE, "contacts", "companies", ([i] for i in inputs)))

    assert len(answers) == 20 and sim.state.count("contacts", "companies") == 0
    assert looked_up[started:] == []  # 20 requests, not one look-up among them


def test_proxies_from_the_environment_still_apply(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read once at start, the environment's proxy settings still decide where requests go."""
    sim = hubspot_simulator
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    config = ClientConfig(base_url=sim.url, access_token=sim.token, max_attempts=1)
    with HubSpotClient(config) as client:
        assert client.transport.session.proxies.get("http") == "http://127.0.0.1:9"
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with HubSpotClient(config) as client:
        assert "http" not in client.transport.session.proxies
