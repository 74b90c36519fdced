"""Per-request work of the HTTP client: the environment (proxies, CA bundle) is read once, when the client
starts, not at every request; netrc is never read; the proxies it names still decide where requests go."""

from __future__ import annotations

import netrc
from pathlib import Path
from typing import Any

import pytest
import requests.sessions
import requests.utils

from airflow_provider_hubspot_assoc.exceptions import HubSpotUnreachableError
from airflow_provider_hubspot_assoc.hubspot import ClientConfig, HubSpotClient
from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.testing import HubSpotSimulator

INPUTS = [{"from": {"id": str(1000 + n)}, "to": [{"id": "5000"}]} for n in range(20)]


def seed(sim: HubSpotSimulator) -> None:
    for n in range(20):
        sim.state.associate("contacts", str(1000 + n), "companies", "5000")


def spy_lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every proxy or netrc look-up from now on, by name (``requests``' helpers and the stdlib's netrc)."""
    looked_up: list[str] = []
    for module in (requests.sessions, requests.utils):
        for name in ("get_netrc_auth", "get_environ_proxies"):
            if hasattr(module, name):
                real = getattr(module, name)

                def spy(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
                    looked_up.append(_name)
                    return _real(*args, **kwargs)

                monkeypatch.setattr(module, name, spy)
    real_netrc = netrc.netrc

    def read_netrc(*args: Any, **kwargs: Any) -> Any:
        looked_up.append("netrc")
        return real_netrc(*args, **kwargs)

    monkeypatch.setattr(netrc, "netrc", read_netrc)
    return looked_up


def test_no_proxy_or_netrc_lookup_per_request(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    seed(sim)
    looked_up = spy_lookups(monkeypatch)
    config = ClientConfig(base_url=sim.url, access_token=sim.token, batch_size=1)
    with HubSpotClient(config) as client:
        started = list(looked_up)  # what the client read when it started
        answers = list(client.send_batches(Kind.ARCHIVE, "contacts", "companies", ([i] for i in INPUTS)))

    assert len(answers) == 20 and sim.state.count("contacts", "companies") == 0
    assert started == ["get_environ_proxies"]  # the proxies, once per client
    assert looked_up[len(started) :] == []  # 20 requests, not one look-up among them


def test_a_netrc_for_the_host_is_not_read_nor_sent(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Its basic auth would replace the bearer token: the requests carry the token, and succeed."""
    sim = hubspot_simulator
    seed(sim)
    rc = tmp_path / ".netrc"
    rc.write_text("machine 127.0.0.1 login someone password not-the-token\n")
    rc.chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NETRC", str(rc))
    looked_up = spy_lookups(monkeypatch)
    with HubSpotClient(ClientConfig(base_url=sim.url, access_token=sim.token, batch_size=1)) as client:
        answers = list(client.send_batches(Kind.ARCHIVE, "contacts", "companies", ([i] for i in INPUTS)))

    assert all(response is not None and not response.errors for _, response in answers)
    assert sim.state.count("contacts", "companies") == 0 and "netrc" not in looked_up
    assert {record.status for record in sim.stats.log} == {204}


def test_proxies_from_the_environment_still_apply(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read once at start, the environment's proxy settings still decide where requests go."""
    sim = hubspot_simulator
    seed(sim)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    config = ClientConfig(base_url=sim.url, access_token=sim.token, max_attempts=1)
    with HubSpotClient(config) as client:
        assert client.transport.http.proxy == "http://127.0.0.1:9"
        with pytest.raises(HubSpotUnreachableError, match="the proxy refused the connection"):
            list(client.send_batches(Kind.ARCHIVE, "contacts", "companies", [INPUTS[:1]]))
    assert sim.stats.requests == 0  # it went to the proxy, not to the simulator

    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with HubSpotClient(config) as client:
        assert client.transport.http.proxy is None
        answers = list(client.send_batches(Kind.ARCHIVE, "contacts", "companies", [INPUTS[:1]]))
    assert answers[0][1] is not None and sim.state.count("contacts", "companies") == 19
