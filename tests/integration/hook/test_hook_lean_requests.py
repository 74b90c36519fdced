"""Per-request work of the HTTP client: the environment (proxies, CA bundle) is read once, when the client
starts, not at every request; netrc is never read; the proxies it names still decide where requests go."""

from __future__ import annotations

import base64
import netrc
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


@pytest.fixture
def forward_proxy() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A plain-HTTP forward proxy on loopback: records each request's headers (names in lower case),
    passes it on unchanged (``Proxy-*`` headers left out) and hands back the answer."""
    seen: list[dict[str, str]] = []
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # not through itself

    class Forward(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append({name.lower(): value for name, value in self.headers.items()})
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k: v for k, v in self.headers.items() if not k.lower().startswith("proxy-")}
            onward = urllib.request.Request(self.path, data=body, headers=headers, method="POST")
            try:
                with direct.open(onward, timeout=10) as answer:
                    status, payload = answer.status, answer.read()
            except urllib.error.HTTPError as refused:
                status, payload = refused.code, refused.read()
            self.send_response(status)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_a_proxy_named_with_a_user_gets_its_basic_auth_and_hubspot_the_token(
    hubspot_simulator: HubSpotSimulator,
    monkeypatch: pytest.MonkeyPatch,
    forward_proxy: tuple[str, list[dict[str, str]]],
) -> None:
    sim = hubspot_simulator
    seed(sim)
    address, seen = forward_proxy
    monkeypatch.setenv("HTTP_PROXY", f"http://proxy%20user:p%40ss@{address}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with HubSpotClient(ClientConfig(base_url=sim.url, access_token=sim.token, max_attempts=1)) as client:
        answers = list(client.send_batches(Kind.ARCHIVE, "contacts", "companies", [INPUTS[:1]]))

    assert answers[0][1] is not None and not answers[0][1].errors
    assert sim.state.count("contacts", "companies") == 19  # it went through the proxy to HubSpot
    expected = "Basic " + base64.b64encode(b"proxy user:p@ss").decode()
    assert [headers.get("proxy-authorization") for headers in seen] == [expected]
    assert seen[0]["authorization"] == f"Bearer {sim.token}"


@pytest.fixture
def keep_alive_server() -> Iterator[tuple[str, threading.Event]]:
    """A loopback HTTP/1.1 server that keeps connections open; the event is set when a client closes
    its connection (the server reads the end of it)."""
    closed = threading.Event()

    class KeepAlive(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            body = b'{"portalId": 7}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def finish(self) -> None:
            super().finish()
            closed.set()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), KeepAlive)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", closed
    server.shutdown()
    server.server_close()


def test_closing_the_client_closes_its_kept_alive_connections(
    keep_alive_server: tuple[str, threading.Event], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A closed client leaves no connection open to HubSpot's host, and a request after ``close``
    still goes out (on a new connection), as a hook's client stays after the hook closes it."""
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    url, closed = keep_alive_server
    client = HubSpotClient(ClientConfig(base_url=url, access_token="tok", max_attempts=1))
    assert client.request("GET", "/account-info/v3/details")[1] == {"portalId": 7}
    assert not closed.wait(0.2)  # kept alive for the next request
    client.close()
    assert closed.wait(5.0), "the connection to HubSpot's host stayed open after close()"
    assert client.request("GET", "/account-info/v3/details")[1] == {"portalId": 7}
    client.close()
