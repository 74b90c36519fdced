"""Hardening of the HTTP client: token hygiene, cut-off answers, Retry-After caps, OAuth 401s, redirects,
per-id read errors, token-then-slot ordering, and when a whole-batch refusal is worth bisecting.

Where the simulator cannot produce a condition (a cut-off body, a redirect, a 477 with a long
Retry-After), a tiny scripted ``http.server`` on loopback stands in for HubSpot.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import urllib3

from airflow_provider_hubspot_assoc.checked_batches import check_rows
from airflow_provider_hubspot_assoc.exceptions import (
    HubSpotAuthError,
    HubSpotError,
    HubSpotRetriesExhaustedError,
    InvalidInputError,
)
from airflow_provider_hubspot_assoc.hubspot import ClientConfig, HubSpotClient, OAuthCredentials
from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.models import BatchResponse
from airflow_provider_hubspot_assoc.response_merge import merge
from airflow_provider_hubspot_assoc.testing import HubSpotSimulator

from ._support import OAUTH_EXTRA, archive_inputs, remaining, seed_pairs
from .conftest import HookFactory

SECRET_TOKEN = "pat-na1-abcdef01-2345-6789-abcd-ef0123456789"

Answer = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Scripted:
    """A loopback HTTP server answering each request with the next scripted answer (the last repeats)."""

    answers: list[Answer]
    seen: list[Seen] = field(default_factory=list)
    url: str = ""


def send(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Answer:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        handler.send_response(status)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    return answer


def cut_off(handler: BaseHTTPRequestHandler) -> None:
    """A chunked answer whose connection closes in the middle of a chunk."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    handler.wfile.write(b'40\r\n{"portalId": 1')
    handler.wfile.flush()
    handler.close_connection = True


def bad_gzip(handler: BaseHTTPRequestHandler) -> None:
    """An answer that claims gzip but is not."""
    data = b"this is not gzip at all"
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Encoding", "gzip")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


@pytest.fixture
def scripted() -> Iterator[Callable[..., Scripted]]:
    servers: list[ThreadingHTTPServer] = []

    def start(*answers: Answer) -> Scripted:
        script = Scripted(list(answers))
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with lock:
                    script.seen.append(Seen(self.command, self.path, dict(self.headers), body))
                    answer = script.answers.pop(0) if len(script.answers) > 1 else script.answers[0]
                answer(self)

            do_GET = do_POST = _serve

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        script.url = f"http://127.0.0.1:{server.server_address[1]}"
        return script

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def client_for(url: str, **settings: Any) -> HubSpotClient:
    settings.setdefault("access_token", "tok")
    return HubSpotClient(ClientConfig(base_url=url, **settings))


def send_all(client: HubSpotClient, inputs: list[dict[str, Any]]) -> BatchResponse:
    """Archive ``inputs`` (one request's worth) through the client's batch sender; the merged answer."""
    sent = client.send_batches(Kind.ARCHIVE, "contacts", "companies", [inputs])
    return merge(response for _, response in sent if response is not None)


def finishes_within(seconds: float, work: Callable[[], Any]) -> tuple[bool, BaseException | None]:
    """Run ``work`` in a daemon thread; return (finished in time, what it raised)."""
    raised: list[BaseException | None] = [None]

    def run() -> None:
        try:
            work()
        except BaseException as error:  # handed back to the test
            raised[0] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    return not thread.is_alive(), raised[0]


# --------------------------------------------------------------------------- 1. token hygiene
def test_a_token_with_a_trailing_newline_is_stripped_and_works(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sim = hubspot_simulator
    ok, message = make_hook(password=f"  {sim.token}\n").test_connection()
    assert ok is True, message
    assert [r.status for r in sim.stats.log] == [200, 200]


def test_a_token_with_inner_whitespace_is_refused_without_showing_it(make_hook: HookFactory) -> None:
    token = "pat-na1 secret-part"
    hook = make_hook(password=token)
    with pytest.raises(ValueError, match="whitespace") as refused:
        hook.client_config()
    assert "whitespace" in str(refused.value) and "secret-part" not in str(refused.value)
    ok, message = hook.test_connection()
    assert ok is False and "secret-part" not in message and "pat-na1" not in message


@pytest.mark.parametrize(
    "failure",
    [
        # http.client's refusal of a header value quotes it; urllib3's errors may quote the request
        ValueError(f"Invalid header value b'Bearer {SECRET_TOKEN}'"),
        urllib3.exceptions.LocationParseError(f"http://x/?Authorization=Bearer {SECRET_TOKEN}"),
    ],
    ids=["ValueError", "LocationParseError"],
)
def test_a_request_exception_never_carries_its_text(
    hubspot_simulator: HubSpotSimulator,
    make_hook: HookFactory,
    monkeypatch: pytest.MonkeyPatch,
    failure: Exception,
) -> None:
    hook = make_hook(password=SECRET_TOKEN)

    def leaky(*args: Any, **kwargs: Any) -> None:
        raise failure

    # Every request of the client goes through a host's pool, whether the pool manager picks it or not.
    monkeypatch.setattr(urllib3.HTTPConnectionPool, "urlopen", leaky)
    with pytest.raises(HubSpotError) as refused:
        hook.account_details()
    assert SECRET_TOKEN not in f"{refused.value} {refused.value!r}"
    assert type(failure).__name__ in str(refused.value) and "account details" in str(refused.value)
    assert refused.value.__cause__ is None and refused.value.__suppress_context__
    ok, message = hook.test_connection()
    assert ok is False and SECRET_TOKEN not in message


def test_an_oauth_token_with_surrounding_whitespace_is_stripped(
    scripted: Callable[..., Scripted],
) -> None:
    server = scripted(
        send(200, {"access_token": " fresh-token\n", "expires_in": 1800}),
        send(200, {"portalId": 7}),
    )
    oauth = OAuthCredentials("id", "secret", "refresh")
    with client_for(server.url, access_token=None, oauth=oauth) as client:
        assert client.request("GET", "/account-info/v3/details")[1] == {"portalId": 7}
    assert server.seen[1].headers["Authorization"] == "Bearer fresh-token"


def test_an_oauth_token_with_inner_whitespace_is_refused_without_showing_it(
    scripted: Callable[..., Scripted],
) -> None:
    server = scripted(send(200, {"access_token": "fresh secret-part", "expires_in": 1800}))
    oauth = OAuthCredentials("id", "secret", "refresh")
    with (
        client_for(server.url, access_token=None, oauth=oauth) as client,
        pytest.raises(HubSpotAuthError) as refused,
    ):
        client.request("GET", "/account-info/v3/details")
    assert "whitespace" in str(refused.value) and "secret-part" not in str(refused.value)
    assert len(server.seen) == 1


@pytest.mark.parametrize(
    "bad",
    ["\x00", "\x7f", "\r\n", "\u00e9", "\u2028", "\u200b"],
    ids=["nul", "del", "inner-crlf", "latin-1-letter", "line-separator", "zero-width-space"],
)
def test_an_oauth_token_a_header_cannot_carry_is_refused_without_showing_it(
    bad: str, scripted: Callable[..., Scripted]
) -> None:
    token = f"fresh-SECRETMARK{bad}tail"
    server = scripted(send(200, {"access_token": token, "expires_in": 1800}), send(200, {"portalId": 7}))
    oauth = OAuthCredentials("id", "secret", "refresh")
    with (
        client_for(server.url, access_token=None, oauth=oauth) as client,
        pytest.raises(HubSpotAuthError) as refused,
    ):
        client.request("GET", "/account-info/v3/details")
    text = f"{refused.value} {refused.value!r} {refused.value.body!r}"
    assert "HTTP header" in text and "SECRETMARK" not in text and "tail" not in text
    assert len(server.seen) == 1  # the token request only: the bad token was never sent


# ----------------------------------------------------------------------- 2. cut-off answers
@pytest.mark.parametrize("fault", [cut_off, bad_gzip], ids=["chunked-cut-off", "bad-content-encoding"])
def test_an_answer_cut_off_mid_body_is_retried(scripted: Callable[..., Scripted], fault: Answer) -> None:
    server = scripted(fault, send(200, {"portalId": 7}))
    with client_for(server.url, max_attempts=3) as client:
        assert client.request("GET", "/account-info/v3/details")[1] == {"portalId": 7}
        assert client.stats.retries == 1
    assert len(server.seen) == 2


def test_cut_off_archive_answers_are_retried_by_send_batches(scripted: Callable[..., Scripted]) -> None:
    server = scripted(cut_off, send(204))
    inputs = [{"from": {"id": "1"}, "to": [{"id": "2"}]}]
    with client_for(server.url, max_attempts=3) as client:
        response = send_all(client, inputs)
    assert response.num_errors == 0 and len(server.seen) == 2


# --------------------------------------------------------------------- 3. Retry-After caps
@pytest.mark.parametrize("status", [477, 429, 503])
def test_a_retry_after_past_the_retry_budget_gives_up_at_once(
    scripted: Callable[..., Scripted], status: int
) -> None:
    server = scripted(send(status, {"message": "later"}, {"Retry-After": "86400"}))
    client = client_for(server.url, max_attempts=5, max_retry_seconds=2.0)
    started = time.monotonic()
    finished, raised = finishes_within(10.0, lambda: client.request("GET", "/account-info/v3/details"))
    client.close()
    assert finished, "the client slept on a Retry-After far past its retry budget"
    assert isinstance(raised, HubSpotRetriesExhaustedError) and raised.status == status
    assert time.monotonic() - started < 3.0
    assert len(server.seen) == 1


def test_waits_never_outlast_the_retry_budget(scripted: Callable[..., Scripted]) -> None:
    server = scripted(send(503, {"message": "later"}, {"Retry-After": "0.4"}))
    client = client_for(server.url, max_attempts=50, max_retry_seconds=1.5)
    started = time.monotonic()
    with pytest.raises(HubSpotRetriesExhaustedError):
        client.request("GET", "/account-info/v3/details")
    client.close()
    assert time.monotonic() - started < 1.5 + 0.5
    assert 2 <= len(server.seen) <= 5


# ------------------------------------------------------------------------ 4. OAuth 401 once
def test_a_401_that_persists_after_a_fresh_token_stops_the_run(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sim = hubspot_simulator
    sent = seed_pairs(sim, 2, 2)
    sim.script(*([401] * 20))
    hook = make_hook(extra=OAUTH_EXTRA, max_attempts=8)

    with pytest.raises(HubSpotAuthError) as refused:
        hook.archive_associations("contacts", "companies", archive_inputs(sent))

    assert refused.value.status == 401 and refused.value.batch == archive_inputs(sent)
    assert sim.stats.by_endpoint["archive"] == 2  # the first try and one try with a fresh token
    assert sim.stats.token_refreshes == hook.client.stats.token_refreshes == 2
    assert remaining(sim) == set(sent)


# ----------------------------------------------------------------------------- 5. redirects
def test_the_oauth_form_is_never_reposted_to_a_redirect_target(scripted: Callable[..., Scripted]) -> None:
    thief = scripted(send(200, {"access_token": "stolen", "expires_in": 1800}))
    server = scripted(send(307, {}, {"Location": f"{thief.url}/collect?code=leak-me"}))
    oauth = OAuthCredentials("id", "client-secret-value", "refresh-token-value")
    with (
        client_for(server.url, access_token=None, oauth=oauth) as client,
        pytest.raises(HubSpotError) as refused,
    ):
        client.request("GET", "/account-info/v3/details")
    assert thief.seen == []
    assert "307" in str(refused.value) and "leak-me" not in str(refused.value)
    assert len(server.seen) == 1  # not retried


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_api_redirects_are_not_followed(scripted: Callable[..., Scripted], status: int) -> None:
    other = scripted(send(200, {"portalId": 666}))
    server = scripted(send(status, {}, {"Location": f"{other.url}/x?token=leak-me"}))
    with client_for(server.url, max_attempts=3) as client, pytest.raises(HubSpotError) as refused:
        client.request("GET", "/account-info/v3/details")
    assert not isinstance(refused.value, HubSpotRetriesExhaustedError)
    assert other.seen == [] and len(server.seen) == 1
    assert str(status) in str(refused.value) and "leak-me" not in str(refused.value)


def test_a_redirected_archive_stops_the_run(scripted: Callable[..., Scripted]) -> None:
    server = scripted(send(308, {}, {"Location": "https://elsewhere.example/x"}))
    inputs = [{"from": {"id": "1"}, "to": [{"id": "2"}]}]
    with client_for(server.url) as client, pytest.raises(HubSpotError) as refused:
        send_all(client, inputs)
    assert refused.value.status == 308 and refused.value.batch == inputs
    assert len(server.seen) == 1


# -------------------------------------------------------------------- 6. per-id read errors
def test_read_associations_treats_only_no_associations_found_as_none(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sim = hubspot_simulator
    seed_pairs(sim, 1, 2)  # contact 100 has two companies; 101 has none
    found = make_hook().read_associations("contacts", "companies", ["100", "101"])
    assert sorted(t["toObjectId"] for t in found["100"]) == ["5000", "5001"]
    assert found["101"] == []


def test_read_associations_raises_on_any_other_per_id_error(scripted: Callable[..., Scripted]) -> None:
    answer = {
        "status": "COMPLETE",
        "results": [{"from": {"id": "100"}, "to": [{"toObjectId": 5000, "associationTypes": []}]}],
        "numErrors": 2,
        "errors": [
            {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                "message": "No company is associated with contact 101.",
                "context": {"fromObjectId": ["101"]},
            },
            {
                "status": "error",
                "category": "INTERNAL_ERROR",
                "message": "Something went wrong reading",
                "context": {"fromObjectId": ["102"]},
            },
        ],
    }
    server = scripted(send(207, answer))
    with client_for(server.url) as client, pytest.raises(HubSpotError) as refused:
        client.read_associations("contacts", "companies", ["100", "101", "102"])
    text = str(refused.value)
    assert "INTERNAL_ERROR" in text and "Something went wrong reading" in text and "102" in text
    assert "101" not in text


def test_read_associations_stops_when_hubspot_repeats_a_paging_cursor(
    scripted: Callable[..., Scripted],
) -> None:
    page = {
        "status": "COMPLETE",
        "results": [
            {
                "from": {"id": "100"},
                "to": [{"toObjectId": 5000, "associationTypes": []}],
                "paging": {"next": {"after": "MTAw"}},
            }
        ],
    }
    server = scripted(send(200, page))  # the same page, with the same cursor, every time
    with client_for(server.url) as client, pytest.raises(HubSpotError, match="paging cursor 'MTAw'"):
        client.read_associations("contacts", "companies", ["100"])
    assert len(server.seen) == 2  # the first page, then the cursor once


# --------------------------------------------------------------- 7. token before the slot
def test_the_token_is_obtained_before_a_rate_limit_slot_is_taken(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    hook = make_hook(extra=OAUTH_EXTRA)
    client = hook.client
    order: list[str] = []
    acquire, token = client.limiter.acquire, client._tokens.token

    def acquiring() -> Any:
        order.append("slot")
        return acquire()

    def tokening() -> str:
        order.append("token")
        return token()

    client.limiter.acquire = acquiring  # type: ignore[method-assign]
    client._tokens.token = tokening  # type: ignore[method-assign]
    hook.account_details()
    assert order == ["token", "slot"]


# ------------------------------------------------------------- 8. when bisection is worth it
def test_a_404_for_the_path_is_not_bisected(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    sim = hubspot_simulator
    sent = seed_pairs(sim, 4, 10)
    hook = make_hook(api_version="2020-01")  # a version HubSpot does not serve: 404 for every path

    response = hook.archive_associations("contacts", "companies", archive_inputs(sent))

    assert response.failed_pairs() == set(sent) and "404" in response.errors[0].message
    assert sim.stats.requests == 1 and hook.client.stats.isolation_requests == 0


def test_a_400_that_refuses_any_request_costs_at_most_two_extra_requests(
    scripted: Callable[..., Scripted],
) -> None:
    refusal = {"status": "error", "message": "Unable to infer object type from: x"}
    server = scripted(send(400, refusal))
    inputs = [
        {"from": {"id": str(100 + c)}, "to": [{"id": str(5000 + k)} for k in range(10)]} for c in range(10)
    ]
    with client_for(server.url, max_isolation_requests=40) as client:
        response = send_all(client, inputs)
        assert client.stats.isolation_requests == 1  # one request with no inputs, refused the same way
    assert len(server.seen) == 2 and json.loads(server.seen[1].body) == {"inputs": []}
    assert len(response.failed_pairs()) == 100
    assert "Unable to infer object type from: x" in response.errors[0].message


# ------------------------------------------------------------------------------- small ones
@pytest.mark.parametrize("version", ["v4\n", "\uff12\uff10\uff12\uff16-03", "v4 ", "2026-0\uff13"])
def test_api_versions_are_matched_whole_and_in_ascii(version: str) -> None:
    with pytest.raises(ValueError, match="api_version"):
        ClientConfig(base_url="http://127.0.0.1:1", access_token="tok", api_version=version)


@pytest.mark.parametrize("type_id", ["\u00b2", "\u0663", "\uff11"])
def test_association_type_ids_must_be_ascii_digits(type_id: str) -> None:
    rows = [
        {
            "from": {"id": "1"},
            "to": {"id": "2"},
            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": t}],
        }
        for t in ("1", "2", "3", "4", "5", "6", type_id)
    ]
    with pytest.raises(InvalidInputError) as refused:
        check_rows(Kind.LABELS, rows)
    assert refused.value.row == 7 and "row 7" in str(refused.value)
