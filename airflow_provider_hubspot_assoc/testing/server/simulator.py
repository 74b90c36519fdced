"""``HubSpotSimulator``: the account, its settings and the server, and the order a request goes through.

A request is routed (``routing``), authenticated and counted against the limits (``auth``,
``limits``), maybe given a fault (``faults``), checked for scopes and carried out (``endpoints``),
then answered and recorded (``stats``). Inspection requests (``/_sim/...``) skip all of that.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_hubspot_assoc.models import iso_timestamp
from airflow_provider_hubspot_assoc.testing.config import FaultConfig, SimulatorConfig, scripted_answer
from airflow_provider_hubspot_assoc.testing.server import faults as hostile
from airflow_provider_hubspot_assoc.testing.server import routing
from airflow_provider_hubspot_assoc.testing.server.auth import IssuedToken, Tokens, check_scopes
from airflow_provider_hubspot_assoc.testing.server.endpoints import Call, Endpoints
from airflow_provider_hubspot_assoc.testing.server.errors import Answer, ApiError, Drop, error_body
from airflow_provider_hubspot_assoc.testing.server.httpd import Server, handler_for
from airflow_provider_hubspot_assoc.testing.server.inspection import inspect
from airflow_provider_hubspot_assoc.testing.server.limits import (
    DailyCounter,
    Policy,
    RateLimited,
    RateLimits,
    RollingWindow,
)
from airflow_provider_hubspot_assoc.testing.server.stats import RequestRecord, SimulatorStats
from airflow_provider_hubspot_assoc.testing.state import AccountState

log = logging.getLogger("airflow_provider_hubspot_assoc.testing.server")

JSON = "application/json;charset=utf-8"
# What ``handle`` returns: status, headers, body bytes.
Response = tuple[int, dict[str, str], bytes]


class HubSpotSimulator:
    """A stateful HubSpot CRM associations API on 127.0.0.1: account state, limits, faults, HTTP server.

    :param config: the settings; ``SimulatorConfig()`` (an empty account) when not given.
    :param overrides: settings that replace those of ``config`` (or of the default).
    """

    def __init__(self, config: SimulatorConfig | None = None, **overrides: Any) -> None:
        self.config = config or SimulatorConfig(**overrides)
        if config is not None:
            for key, value in overrides.items():
                setattr(self.config, key, value)
            self.config.normalise()
        self.lock = threading.RLock()
        self.state = self._seeded(self.config.seed)
        self.stats = SimulatorStats()
        self._in_flight = 0
        self._tokens = Tokens(self.lock)
        self._issued = self._tokens.issued  # the same dict: OAuth access tokens issued so far
        self._faults = hostile.FaultPicker(self.lock, self.config.random_seed)
        self._endpoints = Endpoints(self)
        self.limits = RateLimits(self.config)
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def _seeded(self, seed: str) -> AccountState:
        """A new account with the seed's data set, plus ``preload`` random associations."""
        state = AccountState()
        state.seed(seed)
        self.preloaded = state.preload(self.config.preload, self.config.random_seed)
        return state

    def start(self) -> HubSpotSimulator:
        """Start serving on ``config.host``:``config.port`` in a background thread."""
        self._server = Server((self.config.host, self.config.port), handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # stop() returns within 50 ms
            name="hubspot-simulator",
            daemon=True,
        )
        self._thread.start()
        log.info("HubSpot simulator listening on %s", self.url)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> HubSpotSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the simulator is not running: call start() or use it as a context manager")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    @property
    def token(self) -> str:
        """The first configured private-app token (all scopes by default)."""
        return next(iter(self.config.tokens))

    @property
    def window(self) -> RollingWindow:
        """The 10-second window (counts per app)."""
        return self.limits.window

    @property
    def daily(self) -> DailyCounter:
        """The account's daily count."""
        return self.limits.daily

    # ------------------------------------------------------------ test controls
    def set_faults(self, **settings: Any) -> None:
        """Change fault injection while running, e.g. ``set_faults(server_error_rate=0.2)``."""
        with self.lock:
            merged = {**asdict(self.config.faults), **settings}
            self.config.faults = FaultConfig(**merged)

    def script(self, *answers: int | str) -> None:
        """Answer the next requests with these statuses/faults, in order (see ``FaultConfig.scripted``)."""
        checked = [scripted_answer(answer) for answer in answers]
        with self.lock:
            self.config.faults.scripted.extend(checked)

    def reconfigure(self, **settings: Any) -> None:
        """Change settings while running; limits are rebuilt (their counts start over)."""
        with self.lock:
            for key, value in settings.items():
                if not hasattr(self.config, key):
                    raise AttributeError(f"SimulatorConfig has no setting {key!r}")
                setattr(self.config, key, value)
            self.config.normalise()
            self.limits = RateLimits(self.config)

    def reset(self, seed: str | None = None) -> None:
        """Forget all state, statistics and faults; seed again."""
        with self.lock:
            self.state = self._seeded(seed or self.config.seed)
            self.stats = SimulatorStats()
            self.config.faults = FaultConfig()
            self._tokens.clear()
            self._faults.restart()
            self.limits = RateLimits(self.config)

    def revoke(self, token: str) -> None:
        """Make a token invalid (private app token deleted, or OAuth token revoked)."""
        with self.lock:
            self.config.tokens.pop(token, None)
            self._tokens.revoke(token)

    def expire_access_tokens(self) -> None:
        """Expire every OAuth access token issued so far (as if 30 minutes had passed)."""
        self._tokens.expire_all()

    # ----------------------------------------------------------------- handling
    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Response:
        """Answer one request: (status, headers, body). Raises ``Drop`` to close without answer."""
        if raw_path.startswith(routing.INSPECTION_PREFIX):
            return self._answer(method, raw_path, headers, body)
        with self.lock:
            self._in_flight += 1
            self.stats.peak_in_flight = max(self.stats.peak_in_flight, self._in_flight)
        try:
            return self._answer(method, raw_path, headers, body)
        finally:
            with self.lock:
                self._in_flight -= 1

    def unreadable(self, method: str, raw_path: str, reason: str) -> Response:
        """The answer to a request whose body could not be framed: a 400 (the connection closes)."""
        path = urlsplit(raw_path).path
        inspection = path.startswith(routing.INSPECTION_PREFIX)
        record = None if inspection else RequestRecord(time.time(), method, path, 0, "unknown")
        headers = {"X-HubSpot-Correlation-Id": str(uuid.uuid4()), "Connection": "close"}
        return self._json((400, error_body(f"Invalid input: {reason}")), headers, record)

    def _answer(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Response:
        split = urlsplit(raw_path)
        path = split.path
        answer_headers = {"X-HubSpot-Correlation-Id": str(uuid.uuid4())}
        if path.startswith(routing.INSPECTION_PREFIX):  # answered, not counted in the statistics
            try:
                answer = inspect(self, method, path, split.query, body)
            except Exception:
                answer = _failure(method, path)
            return self._json(answer, answer_headers, None)
        record = RequestRecord(time.time(), method, path, 0, "unknown")
        try:
            if method == "POST" and path in routing.OAUTH_TOKEN_PATHS:
                record.endpoint = "oauth_token"
                with self.lock:
                    self.stats.token_refreshes += 1
                return self._json(self._tokens.oauth_token(self.config, body), answer_headers, record)
            if method == "GET" and path == routing.ACCOUNT_INFO_PATH:
                record.endpoint = "account_info"
                self._admit(headers, answer_headers)
                return self._json((200, self._endpoints.account_info()), answer_headers, record)
            found = routing.route(method, path)
            if found is None:
                raise ApiError(404, error_body(f"No route for {method} {path}", "OBJECT_NOT_FOUND"))
            return self._api(found, headers, body, answer_headers, record)
        except ApiError as error:
            if isinstance(error, RateLimited):
                with self.lock:
                    self.stats.rate_limited += 1
                    self.stats.daily_limited += error.policy == "DAILY"
            answer_headers.update(error.headers)
            return self._json((error.status, error.body), answer_headers, record)
        except Drop:
            record.status = 0
            self._record(record)
            raise
        except Exception:
            return self._json(_failure(method, path), answer_headers, record)

    def _admit(self, headers: dict[str, str], answer_headers: dict[str, str]) -> IssuedToken:
        """Authenticate the request and count it against the limits (or raise 401 / 429)."""
        token = self._tokens.authenticate(self.config, headers)
        self.limits.admit(token.app, token.oauth, answer_headers)
        return token

    def _api(
        self,
        found: routing.Route,
        headers: dict[str, str],
        body: bytes,
        answer_headers: dict[str, str],
        record: RequestRecord,
    ) -> Response:
        """An association endpoint: auth and limits, fault, scopes, the endpoint itself, the answer."""
        record.endpoint = found.endpoint.name
        token = self._admit(headers, answer_headers)
        faults = self.config.faults
        fault = self._faults.choose(faults)
        odd = hostile.scripted_answer(fault)
        if odd is not None:
            record.fault, fault = str(fault), None
        late = fault is not None and faults.apply_before_fault and hostile.loses_answer(fault)
        limits = self.limits

        def refuse(policy: Policy) -> ApiError:
            return limits.injected(policy, token.app, token.oauth, answer_headers)

        if fault is not None and not late:
            record.fault = str(fault)
            hostile.inject(fault, faults, refuse)
        if self.config.latency_seconds:
            time.sleep(self.config.latency_seconds)
        from_type, to_type = self._endpoints.object_types(found.from_raw, found.to_raw)
        check_scopes(token, found.endpoint.writes, from_type, to_type)
        call = Call(from_type, to_type, body, found.version, record, found.type_id)
        handler = self._endpoints.handler(found.endpoint.name)
        if odd is not None:
            return self._hostile(odd, handler, call, answer_headers)
        answer = handler(call)
        if late and fault is not None:
            record.fault = str(fault)
            hostile.inject(fault, faults, refuse)
        return self._json(answer, answer_headers, record)

    def _hostile(
        self, odd: hostile.Hostile, handler: Callable[[Call], Answer], call: Call, headers: dict[str, str]
    ) -> Response:
        """A scripted hostile answer (``hostile.HOSTILE``): carry the request out or not, then answer."""
        started = iso_timestamp()
        answer: Answer = (204, None)
        if odd.applied:
            if odd.keep_pairs:
                kept = hostile.without_first_pairs(call.record.endpoint, call.body, odd.keep_pairs)
                call = dataclasses.replace(call, body=kept)
            answer = handler(call)
        if odd.then == "drop":
            raise Drop()
        if odd.then == "slow":
            time.sleep(self.config.faults.slow_seconds)
        if odd.body is not None:
            headers["Content-Type"] = odd.content_type
            return self._finish(200, headers, odd.body(started), call.record)
        return self._json(answer, headers, call.record)

    def _json(self, answer: Answer, headers: dict[str, str], record: RequestRecord | None) -> Response:
        """The answer as JSON bytes (204: no body), with one correlation id per answer."""
        status, payload = answer
        if status == 204:
            return self._finish(204, headers, b"", record)
        headers["Content-Type"] = JSON
        if isinstance(payload, dict) and isinstance(payload.get("correlationId"), str):
            headers["X-HubSpot-Correlation-Id"] = payload["correlationId"]
        return self._finish(status, headers, json.dumps(payload).encode(), record)

    def _finish(
        self, status: int, headers: dict[str, str], body: bytes, record: RequestRecord | None
    ) -> Response:
        if record is not None:
            record.status = status
            self._record(record)
        return status, headers, body

    def _record(self, record: RequestRecord) -> None:
        with self.lock:
            self.stats.add(record)


def _failure(method: str, path: str) -> Answer:
    """A simulator bug: a 500 answer (and the traceback in the log) rather than a dropped connection."""
    log.exception("HubSpot simulator failed on %s %s", method, path)
    return 500, error_body(
        "The simulator failed on this request; its log has the traceback.", "INTERNAL_ERROR"
    )
