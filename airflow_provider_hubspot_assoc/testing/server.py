"""A stateful HubSpot CRM associations simulator served over real HTTP on 127.0.0.1.

Use it from Python::

    with HubSpotSimulator(SimulatorConfig(seed="demo")) as sim:
        requests.post(f"{sim.url}/crm/v4/associations/contacts/companies/batch/archive", ...)
        sim.state.count("contacts", "companies")

or as a command, ``hubspot-assoc-sim --port 8790 --seed demo``. What it implements, and which
undocumented behaviours it lets you switch, is in ``docs/simulator.md``. It never logs a token:
request logs name the method, path and status only.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import re
import secrets
import socket
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import asdict, dataclass, field, fields
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pendulum

from airflow_provider_hubspot_assoc.kinds import CATEGORIES
from airflow_provider_hubspot_assoc.models import iso_timestamp
from airflow_provider_hubspot_assoc.object_types import (
    InvalidObjectTypeError,
    canonical_name,
    object_type_id,
    singular_name,
    validate_object_type,
)
from airflow_provider_hubspot_assoc.testing import faults as hostile
from airflow_provider_hubspot_assoc.testing import loading
from airflow_provider_hubspot_assoc.testing.config import FaultConfig, SimulatorConfig
from airflow_provider_hubspot_assoc.testing.limits import DailyCounter, RollingWindow
from airflow_provider_hubspot_assoc.testing.state import AccountState, TypeKey

log = logging.getLogger(__name__)

PORTAL_ID = 24_681_357
DATED_VERSIONS = ("2025-09", "2026-03", "2026-09", "2026-09-beta")
_SEGMENT = r"([^/]+)"
ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(rf"^/crm/v4/associations/{_SEGMENT}/{_SEGMENT}/batch/archive$"), "archive"),
    (
        "POST",
        re.compile(rf"^/crm/v4/associations/{_SEGMENT}/{_SEGMENT}/batch/labels/archive$"),
        "archive_labels",
    ),
    ("POST", re.compile(rf"^/crm/v4/associations/{_SEGMENT}/{_SEGMENT}/batch/read$"), "read"),
    ("GET", re.compile(rf"^/crm/v4/associations/{_SEGMENT}/{_SEGMENT}/labels$"), "labels"),
    ("GET", re.compile(rf"^/crm/associations/v4/{_SEGMENT}/{_SEGMENT}/labels$"), "labels"),
]
for _version in DATED_VERSIONS:
    _base = f"/crm/associations/{re.escape(_version)}"
    ROUTES += [
        ("POST", re.compile(rf"^{_base}/{_SEGMENT}/{_SEGMENT}/batch/archive$"), "archive"),
        (
            "POST",
            re.compile(rf"^{_base}/{_SEGMENT}/{_SEGMENT}/batch/labels/archive$"),
            "archive_labels",
        ),
        ("POST", re.compile(rf"^{_base}/{_SEGMENT}/{_SEGMENT}/batch/read$"), "read"),
        ("GET", re.compile(rf"^{_base}/{_SEGMENT}/{_SEGMENT}/labels$"), "labels"),
    ]
OAUTH_TOKEN_PATHS = ("/oauth/v1/token", "/oauth/v3/token", "/oauth/2026-03/token")
SCOPES_LINK = "https://developers.hubspot.com/scopes"


class ApiError(Exception):
    """An error answer: HTTP status plus HubSpot's error body."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(body.get("message", ""))
        self.status = status
        self.body = body
        self.headers = headers or {}


def error_body(message: str, category: str | None = "VALIDATION_ERROR", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"status": "error", "message": message, "correlationId": str(uuid.uuid4())}
    if category:
        body["category"] = category
    body.update(extra)
    return body


def standard_error(
    message: str, category: str, context: dict[str, list[str]], sub: str | None = None
) -> dict[str, Any]:
    """A per-input error of a BatchResponse (``StandardError``: every required field present)."""
    item: dict[str, Any] = {
        "status": "error",
        "category": category,
        "message": message,
        "context": context,
        "errors": [],
        "links": {},
    }
    if sub:
        item["subCategory"] = sub
    return item


def error_type_name(object_type: str) -> str:
    """How HubSpot names an object type in error contexts: ``contact`` for ``0-1``.

    Standard objects get their singular name (the facts file's observed bodies use ``CONTACT`` in
    ``INVALID_OBJECT_IDS`` and ``deal``/``company`` in batch/read errors); nothing documents custom
    objects, so they keep their type id (``2-123``) or fully qualified name.
    """
    return singular_name(object_type) if canonical_name(object_type) is not None else object_type


def invalid_object_ids_context(bad: list[tuple[str, str]]) -> dict[str, list[str]]:
    """``context`` of HubSpot's "One or more associations are invalid" for (object type, id) pairs.

    Observed on a v4 association write (facts §b): ``{"INVALID_OBJECT_IDS": ["CONTACT=38374264688 is
    not valid"], "objectId": ["38374264688"], "objectType": ["CONTACT"]}``: standard type names in
    upper case.
    """
    kinds = [error_type_name(t).upper() if canonical_name(t) is not None else t for t, _ in bad]
    return {
        "INVALID_OBJECT_IDS": [
            f"{kind}={rid} is not valid" for kind, (_, rid) in zip(kinds, bad, strict=True)
        ],
        "objectId": [rid for _, rid in bad],
        "objectType": kinds,
    }


def write_scope(object_type: str) -> str:
    """The write scope we require per object type in the path (HubSpot leaves this undocumented)."""
    name = canonical_name(object_type)
    if name == "tickets":
        return "tickets"
    if name is None:
        return "crm.objects.custom.write"
    return f"crm.objects.{name}.write"


def read_scopes(object_type: str) -> set[str]:
    """Scopes any of which allow reading an object type's associations."""
    write = write_scope(object_type)
    return {write, write.removesuffix(".write") + ".read"} if write != "tickets" else {"tickets"}


@dataclass
class IssuedToken:
    scopes: frozenset[str]
    app: str
    expires_at: float
    oauth: bool = True
    uses: int = 0


@dataclass
class RequestRecord:
    """One request as the inspection API shows it (never the token or the body)."""

    at: float
    method: str
    path: str
    status: int
    endpoint: str
    inputs: int = 0
    pairs: int = 0
    fault: str | None = None


@dataclass
class SimulatorStats:
    requests: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    by_endpoint: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
    daily_limited: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    archived_pairs: int = 0
    archived_labels: int = 0
    pairs_received: int = 0
    token_refreshes: int = 0
    peak_in_flight: int = 0  # most API requests being answered at one time
    pair_sends: Counter[tuple[str, str]] = field(default_factory=Counter)  # archive sends per (from, to)
    log: deque[RequestRecord] = field(default_factory=lambda: deque(maxlen=200_000))

    def as_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            "by_endpoint": dict(self.by_endpoint),
            "rate_limited": self.rate_limited,
            "daily_limited": self.daily_limited,
            "faults": dict(self.faults),
            "archived_pairs": self.archived_pairs,
            "archived_labels": self.archived_labels,
            "pairs_received": self.pairs_received,
            "token_refreshes": self.token_refreshes,
            "peak_in_flight": self.peak_in_flight,
        }


class _Drop(Exception):
    """Close the connection without an answer."""


class HubSpotSimulator:
    """The simulator: account state, limits, faults and the HTTP server around them."""

    def __init__(self, config: SimulatorConfig | None = None, **overrides: Any) -> None:
        self.config = config or SimulatorConfig(**overrides)
        if config is not None:
            for key, value in overrides.items():
                setattr(self.config, key, value)
        self.state = self._seeded(self.config.seed)
        self.stats = SimulatorStats()
        self._lock = threading.RLock()
        self._in_flight = 0
        self._random = random.Random(self.config.random_seed)
        self._issued: dict[str, IssuedToken] = {}
        self._counted = 0  # authenticated API requests, for burst faults
        self._build_limits()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def _seeded(self, seed: str) -> AccountState:
        """A new account with the seed's data set, plus ``preload`` random associations."""
        state = AccountState()
        state.seed(seed)
        self.preloaded = state.preload(self.config.preload, self.config.random_seed)
        return state

    def _build_limits(self) -> None:
        self.window = RollingWindow(self.config.ten_second_limit, self.config.window_seconds)
        self.daily = DailyCounter(
            self.config.daily_limit, self.config.account_timezone, self.config.daily_reset_seconds
        )

    def start(self) -> HubSpotSimulator:
        simulator = self

        class Handler(_Handler):
            sim = simulator

        self._server = _Server((self.config.host, self.config.port), Handler)
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

    # ------------------------------------------------------------ test controls
    def set_faults(self, **settings: Any) -> None:
        """Change fault injection while running, e.g. ``set_faults(server_error_rate=0.2)``."""
        with self._lock:
            merged = {**asdict(self.config.faults), **settings}
            self.config.faults = FaultConfig(**merged)

    def script(self, *answers: int | str) -> None:
        """Answer the next requests with these statuses/faults, in order (see ``FaultConfig.scripted``)."""
        with self._lock:
            self.config.faults.scripted.extend(answers)

    def reconfigure(self, **settings: Any) -> None:
        """Change settings while running; limits are rebuilt (their counts start over)."""
        with self._lock:
            for key, value in settings.items():
                if not hasattr(self.config, key):
                    raise AttributeError(f"SimulatorConfig has no setting {key!r}")
                setattr(self.config, key, value)
            self._build_limits()

    def reset(self, seed: str | None = None) -> None:
        """Forget all state, statistics and faults; seed again."""
        with self._lock:
            self.state = self._seeded(seed or self.config.seed)
            self.stats = SimulatorStats()
            self.config.faults = FaultConfig()
            self._issued.clear()
            self._counted = 0
            self._build_limits()

    def revoke(self, token: str) -> None:
        """Make a token invalid (private app token deleted, or OAuth token revoked)."""
        with self._lock:
            self.config.tokens.pop(token, None)
            self._issued.pop(token, None)

    def expire_access_tokens(self) -> None:
        """Expire every OAuth access token issued so far (as if 30 minutes had passed)."""
        with self._lock:
            for issued in self._issued.values():
                issued.expires_at = time.monotonic() - 1

    # ----------------------------------------------------------------- handling
    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Answer one request: (status, headers, body). Raises ``_Drop`` to close without answer."""
        if raw_path.startswith("/_sim/"):
            return self._answer(method, raw_path, headers, body)
        with self._lock:
            self._in_flight += 1
            self.stats.peak_in_flight = max(self.stats.peak_in_flight, self._in_flight)
        try:
            return self._answer(method, raw_path, headers, body)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _answer(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        split = urlsplit(raw_path)
        path = split.path
        answer_headers = {"X-HubSpot-Correlation-Id": str(uuid.uuid4())}
        endpoint = "unknown"
        record = RequestRecord(time.time(), method, path, 0, endpoint)
        try:
            if path.startswith("/_sim/"):
                record.endpoint = "inspect"
                try:
                    status, payload = self._inspect(method, path, split.query, body)
                except loading.LoadError as error:  # bad input answered, never a dropped connection
                    status, payload = 400, error_body(str(error))
                return self._json(status, payload, answer_headers, record)
            if method == "POST" and path in OAUTH_TOKEN_PATHS:
                record.endpoint = "oauth_token"
                status, payload = self._oauth_token(body)
                return self._json(status, payload, answer_headers, record)
            if method == "GET" and path == "/account-info/v3/details":
                record.endpoint = "account_info"
                self._authorize(headers, answer_headers, record)
                return self._json(200, self._account_info(), answer_headers, record)
            route = self._route(method, path)
            if route is None:
                raise ApiError(404, error_body(f"No route for {method} {path}", "OBJECT_NOT_FOUND"))
            record.endpoint, dated, from_raw, to_raw = route
            token = self._authorize(headers, answer_headers, record)
            fault = self._choose_fault()
            odd = hostile.scripted_answer(fault)
            if odd is not None:
                record.fault, fault = str(fault), None
            late = fault is not None and self.config.faults.apply_before_fault and self._loses_answer(fault)
            if fault is not None and not late:
                self._raise_fault(fault, record)
            if self.config.latency_seconds:
                time.sleep(self.config.latency_seconds)
            from_type, to_type = self._object_types(from_raw, to_raw)
            self._check_scopes(token, record.endpoint, from_type, to_type)
            handler = getattr(self, f"_do_{record.endpoint}")
            if odd is not None:
                return self._hostile(odd, handler, (from_type, to_type, body, dated), record, answer_headers)
            status, payload = handler(from_type, to_type, body, dated, record)
            if late and fault is not None:
                self._raise_fault(fault, record)
            if status == 204:
                return self._finish(204, answer_headers, b"", record)
            return self._json(status, payload, answer_headers, record)
        except ApiError as error:
            answer_headers.update(error.headers)
            return self._json(error.status, error.body, answer_headers, record)
        except _Drop:
            record.status = 0
            self._record(record)
            raise

    def _hostile(
        self,
        odd: hostile.Hostile,
        handler: Any,
        call: tuple[str, str, bytes, bool],
        record: RequestRecord,
        headers: dict[str, str],
    ) -> tuple[int, dict[str, str], bytes]:
        """A scripted hostile answer (``hostile.HOSTILE``): carry the request out or not, then answer."""
        started = iso_timestamp()
        status, payload = 204, None
        if odd.applied:
            from_type, to_type, body, dated = call
            if odd.keep_pairs:
                body = hostile.without_first_pairs(record.endpoint, body, odd.keep_pairs)
            status, payload = handler(from_type, to_type, body, dated, record)
        if odd.then == "drop":
            raise _Drop()
        if odd.then == "slow":
            time.sleep(self.config.faults.slow_seconds)
        if odd.body is not None:
            headers["Content-Type"] = odd.content_type
            return self._finish(200, headers, odd.body(started), record)
        if status == 204:
            return self._finish(204, headers, b"", record)
        return self._json(status, payload, headers, record)

    def _json(
        self, status: int, payload: Any, headers: dict[str, str], record: RequestRecord
    ) -> tuple[int, dict[str, str], bytes]:
        headers["Content-Type"] = "application/json;charset=utf-8"
        if isinstance(payload, dict) and isinstance(payload.get("correlationId"), str):
            headers["X-HubSpot-Correlation-Id"] = payload["correlationId"]  # one id per answer
        return self._finish(status, headers, json.dumps(payload).encode(), record)

    def _finish(
        self, status: int, headers: dict[str, str], body: bytes, record: RequestRecord
    ) -> tuple[int, dict[str, str], bytes]:
        record.status = status
        self._record(record)
        return status, headers, body

    def _record(self, record: RequestRecord) -> None:
        with self._lock:
            stats = self.stats
            stats.requests += 1
            stats.by_status[record.status] += 1
            stats.by_endpoint[record.endpoint] += 1
            if record.fault:
                stats.faults[record.fault] += 1
            stats.log.append(record)

    @staticmethod
    def _route(method: str, path: str) -> tuple[str, bool, str, str] | None:
        for route_method, pattern, name in ROUTES:
            match = pattern.match(path)
            if match and route_method == method:
                return name, not path.startswith("/crm/v4/") and "/v4/" not in path, match[1], match[2]
        return None

    # --------------------------------------------------------------------- auth
    def _authorize(
        self, headers: dict[str, str], answer: dict[str, str], record: RequestRecord
    ) -> IssuedToken:
        value = headers.get("authorization", "")
        scheme, _, token = value.partition(" ")
        with self._lock:
            if scheme.lower() != "bearer" or not token:
                issued = None
            elif token in self.config.tokens:
                issued = IssuedToken(
                    self.config.tokens[token], app=f"private:{token}", expires_at=float("inf"), oauth=False
                )
            else:
                issued = self._issued.get(token)
            if issued is None:
                raise ApiError(
                    401, error_body("Authentication credentials not found.", "INVALID_AUTHENTICATION")
                )
            faults = self.config.faults
            if issued.oauth:
                issued.uses += 1
                if faults.expire_tokens_after and issued.uses > faults.expire_tokens_after:
                    issued.expires_at = min(issued.expires_at, time.monotonic())
                if time.monotonic() >= issued.expires_at:
                    ago = max(int(time.monotonic() - issued.expires_at), 0)
                    expired_at = iso_timestamp(pendulum.now("UTC").subtract(seconds=ago))
                    raise ApiError(
                        401,
                        error_body(
                            f"The OAuth token used to make this call expired {ago} second(s) ago.",
                            "EXPIRED_AUTHENTICATION",
                            context={"expire time": [expired_at]},
                        ),
                    )
        self._rate_limit(issued, answer, record)
        return issued

    def _rate_limit(self, token: IssuedToken, answer: dict[str, str], record: RequestRecord) -> None:
        config = self.config
        daily_ok, daily_remaining = (True, None) if token.oauth else self.daily.try_acquire()
        if not daily_ok:
            window_state = self.window.try_acquire(token.app, enforce=False)[1]
            self._limit_headers(answer, window_state, token, 0)
            raise self._too_many_requests("DAILY", self.daily.seconds_until_reset())
        accepted, window_state, wait = self.window.try_acquire(token.app, config.enforce_ten_secondly)
        self._limit_headers(answer, window_state, token, daily_remaining)
        if not accepted:
            raise self._too_many_requests("TEN_SECONDLY_ROLLING", wait)

    def _too_many_requests(self, policy: str, wait: float) -> ApiError:
        """A 429 with HubSpot's body, counted; ``Retry-After`` (whole seconds) only if configured."""
        with self._lock:
            self.stats.rate_limited += 1
            self.stats.daily_limited += policy == "DAILY"
        extra = {"Retry-After": str(max(int(wait + 0.999), 1))} if self.config.retry_after_on_429 else {}
        return ApiError(429, self._rate_limit_body(policy), extra)

    def _limit_headers(
        self, answer: dict[str, str], state: Any, token: IssuedToken, daily_remaining: int | None
    ) -> None:
        answer.update(
            {
                "X-HubSpot-RateLimit-Max": str(state.limit),
                "X-HubSpot-RateLimit-Remaining": str(state.remaining),
                "X-HubSpot-RateLimit-Interval-Milliseconds": str(state.interval_ms),
                "X-HubSpot-RateLimit-Secondly": str(state.limit // 10),
                "X-HubSpot-RateLimit-Secondly-Remaining": str(state.remaining // 10),
            }
        )
        if not token.oauth and self.config.daily_limit is not None:
            remaining = daily_remaining if daily_remaining is not None else self.daily.remaining()
            answer["X-HubSpot-RateLimit-Daily"] = str(self.config.daily_limit)
            answer["X-HubSpot-RateLimit-Daily-Remaining"] = str(remaining)

    @staticmethod
    def _rate_limit_body(policy: str) -> dict[str, Any]:
        message = {
            "DAILY": "You have reached your daily limit.",
            "TEN_SECONDLY_ROLLING": "You have reached your ten_secondly_rolling limit.",
        }[policy]
        return {
            "status": "error",
            "message": message,
            "errorType": "RATE_LIMIT",
            "correlationId": str(uuid.uuid4()),
            "policyName": policy,
            "requestId": str(uuid.uuid4()),
        }

    def _check_scopes(self, token: IssuedToken, endpoint: str, from_type: str, to_type: str) -> None:
        if endpoint in ("archive", "archive_labels"):
            missing = sorted({write_scope(t) for t in (from_type, to_type)} - token.scopes)
        else:
            missing = sorted(
                {write_scope(t) for t in (from_type, to_type) if not read_scopes(t) & token.scopes}
            )
        if missing:
            raise ApiError(
                403,
                error_body(
                    "This app hasn't been granted all required scopes to make this call. Read more "
                    f"about required scopes here: {SCOPES_LINK}.",
                    "MISSING_SCOPES",
                    errors=[
                        {
                            "message": "One or more of the following scopes are required.",
                            "context": {"requiredScopes": missing},
                        }
                    ],
                    links={"scopes": SCOPES_LINK},
                ),
            )

    # ------------------------------------------------------------------- faults
    def _choose_fault(self) -> int | str | None:
        """This request's fault: the next scripted answer, else one drawn from the configured rates."""
        with self._lock:
            faults = self.config.faults
            self._counted += 1
            if faults.scripted:
                return faults.scripted.pop(0) or None
            rng = self._random
            if faults.burst_429_every and faults.burst_429_length:
                cycle = faults.burst_429_every + faults.burst_429_length
                if (self._counted - 1) % cycle >= faults.burst_429_every:
                    return 429
            if faults.rate_limit_rate and rng.random() < faults.rate_limit_rate:
                return 429
            if faults.drop_rate and rng.random() < faults.drop_rate:
                return "drop"
            if faults.server_error_rate and rng.random() < faults.server_error_rate:
                return rng.choice(faults.server_error_statuses)
            if faults.slow_rate and rng.random() < faults.slow_rate:
                return "slow"
            return None

    @staticmethod
    def _loses_answer(choice: int | str) -> bool:
        """Faults that can strike after HubSpot carried a request out: a drop or a 5xx."""
        return choice == "drop" or (isinstance(choice, int) and choice >= 500)

    def _raise_fault(self, choice: int | str, record: RequestRecord) -> None:
        record.fault = str(choice)
        if choice == "drop":
            raise _Drop()
        if choice == "slow":
            time.sleep(self.config.faults.slow_seconds)
            return
        if choice in ("daily", 429):
            raise self._too_many_requests("DAILY" if choice == "daily" else "TEN_SECONDLY_ROLLING", 1.0)
        status = int(choice)
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
        category = "INTERNAL_ERROR" if status == 500 else None
        raise ApiError(status, error_body(f"Simulated {status} {phrase}", category))

    # ----------------------------------------------------------------- requests
    def _object_types(self, from_raw: str, to_raw: str) -> tuple[str, str]:
        types = []
        for raw in (from_raw, to_raw):
            try:
                types.append(object_type_id(validate_object_type(raw)))
            except InvalidObjectTypeError:
                status = self.config.unknown_object_type_status
                category = None if status == 400 else "OBJECT_NOT_FOUND"
                raise ApiError(
                    status, error_body(f"Unable to infer object type from: {raw}", category)
                ) from None
        return types[0], types[1]

    @staticmethod
    def _parse(body: bytes) -> Any:
        try:
            return json.loads(body.decode("utf-8") if body else "")
        except UnicodeDecodeError:
            raise ApiError(400, error_body("Invalid input JSON: the body is not UTF-8")) from None
        except json.JSONDecodeError as error:
            raise ApiError(
                400,
                error_body(f"Invalid input JSON on line {error.lineno}, column {error.colno}: {error.msg}"),
            ) from None

    @staticmethod
    def _required(obj: Any, fields: list[str], where: str) -> None:
        if not isinstance(obj, dict):
            raise ApiError(400, error_body(f"Invalid input JSON: {where} must be an object"))
        missing = [name for name in fields if obj.get(name) is None]
        if missing:
            raise ApiError(
                400,
                error_body(
                    "Invalid input JSON on line 1, column 2. Some required fields were not set: "
                    f"[{', '.join(missing)}]"
                ),
            )

    def _inputs(self, body: bytes, limit: int) -> list[Any]:
        payload = self._parse(body)
        self._required(payload, ["inputs"], "the body")
        inputs = payload["inputs"]
        if not isinstance(inputs, list):
            raise ApiError(400, error_body("Invalid input JSON: inputs must be an array"))
        if len(inputs) > limit:
            raise ApiError(
                400,
                error_body(
                    f"The maximum number of inputs supported in a batch is {limit}. Please reduce the "
                    "number of items and try again"
                ),
            )
        return inputs

    @staticmethod
    def _id(value: Any, where: str) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ApiError(400, error_body(f"Invalid input JSON: {where} must be a string"))
        return str(value)

    def _batch_answer(self, dated: bool, errors: list[dict[str, Any]], started: str) -> tuple[int, Any]:
        status = self.config.dated_success_status if dated else self.config.v4_success_status
        if not errors and status == 204:
            return 204, None
        answer: dict[str, Any] = {
            "status": "COMPLETE",
            "results": [],
            "requestedAt": started,
            "startedAt": started,
            "completedAt": iso_timestamp(),
            "links": {},
        }
        if errors:
            answer["errors"] = errors
            answer["numErrors"] = len(errors)
            return 207, answer
        return 200, answer

    def _record_check(self, object_type: str, record_id: str, bad: list[tuple[str, str]]) -> bool:
        if self.state.has_record(object_type, record_id):
            return True
        bad.append((object_type, record_id))
        return False

    def _unknown_record_error(
        self, from_id: str, to_id: str | None, bad: list[tuple[str, str]]
    ) -> dict[str, Any]:
        context = {**invalid_object_ids_context(bad), "fromObjectId": [from_id]}
        if to_id is not None:
            context["toObjectId"] = [to_id]
        return standard_error("One or more associations are invalid", "VALIDATION_ERROR", context)

    def _missing_association_error(
        self, from_type: str, from_id: str, to_type: str, to_id: str
    ) -> dict[str, Any]:
        return standard_error(
            f"No {singular_name(to_type)} {to_id} is associated with {singular_name(from_type)} {from_id}.",
            "OBJECT_NOT_FOUND",
            {"fromObjectId": [from_id], "toObjectId": [to_id]},
            sub="crm.associations.NO_ASSOCIATIONS_FOUND",
        )

    def _reject_unknown(self, bad: list[tuple[str, str]]) -> None:
        if bad and self.config.unknown_record == "reject":
            raise ApiError(
                400,
                error_body(
                    "One or more associations are invalid",
                    context=invalid_object_ids_context(bad),
                ),
            )

    def _do_archive(
        self, from_type: str, to_type: str, body: bytes, dated: bool, record: RequestRecord
    ) -> tuple[int, Any]:
        started = iso_timestamp()
        inputs = self._inputs(body, self.config.max_inputs)
        planned: list[tuple[str, str]] = []
        for index, item in enumerate(inputs):
            self._required(item, ["from", "to"], f"inputs[{index}]")
            self._required(item["from"], ["id"], f"inputs[{index}].from")
            from_id = self._id(item["from"]["id"], f"inputs[{index}].from.id")
            if not isinstance(item["to"], list):
                raise ApiError(400, error_body(f"Invalid input JSON: inputs[{index}].to must be an array"))
            for position, target in enumerate(item["to"]):
                self._required(target, ["id"], f"inputs[{index}].to[{position}]")
                planned.append((from_id, self._id(target["id"], f"inputs[{index}].to[{position}].id")))
        if self.config.max_pairs is not None and len(planned) > self.config.max_pairs:
            raise ApiError(
                400,
                error_body(
                    f"The maximum number of associations supported in a batch is {self.config.max_pairs}. "
                    "Please reduce the number of items and try again"
                ),
            )
        record.inputs, record.pairs = len(inputs), len(planned)
        return self._apply(from_type, to_type, [(f, t, None) for f, t in planned], dated, started)

    def _do_archive_labels(
        self, from_type: str, to_type: str, body: bytes, dated: bool, record: RequestRecord
    ) -> tuple[int, Any]:
        started = iso_timestamp()
        inputs = self._inputs(body, self.config.max_inputs)
        planned: list[tuple[str, str, TypeKey | None]] = []
        for index, item in enumerate(inputs):
            self._required(item, ["from", "to", "types"], f"inputs[{index}]")
            self._required(item["from"], ["id"], f"inputs[{index}].from")
            self._required(item["to"], ["id"], f"inputs[{index}].to")
            from_id = self._id(item["from"]["id"], f"inputs[{index}].from.id")
            to_id = self._id(item["to"]["id"], f"inputs[{index}].to.id")
            if not isinstance(item["types"], list):
                raise ApiError(400, error_body(f"Invalid input JSON: inputs[{index}].types must be an array"))
            for spec in item["types"]:
                self._required(spec, ["associationCategory", "associationTypeId"], f"inputs[{index}].types")
                category, type_id = spec["associationCategory"], spec["associationTypeId"]
                if category not in CATEGORIES:
                    raise ApiError(
                        400,
                        error_body(
                            "Invalid input JSON on line 1, column 2: Cannot deserialize value of type "
                            f'`AssociationCategory` from String "{category}": not one of the values '
                            f"accepted for Enum class: [{', '.join(CATEGORIES)}]"
                        ),
                    )
                if (
                    isinstance(type_id, bool)
                    or not isinstance(type_id, int)
                    or not -(2**31) <= type_id < 2**31
                ):
                    raise ApiError(
                        400,
                        error_body(
                            "Invalid input JSON on line 1, column 2: Cannot deserialize value of type "
                            f"`int` from {json.dumps(type_id)}: not a valid `int` value"
                        ),
                    )
                if self.state.definition(from_type, to_type, category, type_id) is None:
                    raise ApiError(
                        400,
                        error_body(
                            f"{category} association type {type_id} is not defined "
                            f"from {from_type} to {to_type}",
                            context={"associationTypeId": [str(type_id)], "associationCategory": [category]},
                        ),
                    )
                planned.append((from_id, to_id, (category, type_id)))
        record.inputs, record.pairs = len(inputs), len(planned)
        return self._apply(from_type, to_type, planned, dated, started)

    def _apply(
        self,
        from_type: str,
        to_type: str,
        planned: list[tuple[str, str, TypeKey | None]],
        dated: bool,
        started: str,
    ) -> tuple[int, Any]:
        """Carry out archive operations; collect per-input errors as configured."""
        config = self.config
        all_bad: list[tuple[str, str]] = []
        checked: list[tuple[str, str, TypeKey | None, list[tuple[str, str]]]] = []
        with self._lock:
            self.stats.pair_sends.update((f, t) for f, t, _ in planned)
        poison = set(self.config.faults.poison_ids)
        if poison and any(f in poison or t in poison for f, t, _ in planned):
            raise ApiError(400, error_body("One or more associations are invalid"))
        for from_id, to_id, key in planned:
            bad: list[tuple[str, str]] = []
            self._record_check(from_type, from_id, bad)
            self._record_check(to_type, to_id, bad)
            all_bad += bad
            checked.append((from_id, to_id, key, bad))
        self._reject_unknown(all_bad)
        errors: list[dict[str, Any]] = []
        reported_from: set[str] = set()
        gone_now: set[tuple[str, str]] = set()  # pairs this request removed entirely
        with self.state.transaction():
            for from_id, to_id, key, bad in checked:
                if bad and config.unknown_record == "error":
                    from_unknown = bad[0] == (from_type, from_id)
                    if from_unknown and key is None:
                        if from_id not in reported_from:
                            reported_from.add(from_id)
                            errors.append(self._unknown_record_error(from_id, None, bad[:1]))
                    else:
                        errors.append(self._unknown_record_error(from_id, to_id, bad))
                    continue
                had_pair = bool(self.state.types_of(from_type, from_id, to_type, to_id))
                if key is None:
                    existed = self.state.archive_pair(from_type, from_id, to_type, to_id)
                else:
                    existed = self.state.archive_label(from_type, from_id, to_type, to_id, key)
                if had_pair and not self.state.types_of(from_type, from_id, to_type, to_id):
                    gone_now.add((from_id, to_id))
                with self._lock:
                    self.stats.pairs_received += 1
                    if existed:
                        if key is None:
                            self.stats.archived_pairs += 1
                        else:
                            self.stats.archived_labels += 1
                removed_earlier_in_request = (from_id, to_id) in gone_now and not existed
                if (
                    not existed
                    and not bad
                    and not removed_earlier_in_request
                    and config.missing_association == "error"
                ):
                    errors.append(self._missing_association_error(from_type, from_id, to_type, to_id))
        return self._batch_answer(dated, errors, started)

    def _do_read(
        self, from_type: str, to_type: str, body: bytes, dated: bool, record: RequestRecord
    ) -> tuple[int, Any]:
        started = iso_timestamp()
        inputs = self._inputs(body, self.config.max_read_inputs)
        record.inputs = len(inputs)
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        served: list[tuple[str, int, dict[str, Any]]] = []
        for index, item in enumerate(inputs):
            self._required(item, ["id"], f"inputs[{index}]")
            from_id = self._id(item["id"], f"inputs[{index}].id")
            after = item.get("after")
            offset = int(after) if isinstance(after, str) and after.isdigit() else 0
            entry = self._read_entry(from_type, to_type, from_id, offset)
            if entry is None:
                # Observed (facts §b): message "No company is associated with deal 515690208449.",
                # context {"fromObjectId": [...], "fromObjectType": ["deal"], "toObjectType": ["company"]}.
                from_name, to_name = error_type_name(from_type), error_type_name(to_type)
                errors.append(
                    standard_error(
                        f"No {to_name} is associated with {from_name} {from_id}.",
                        "OBJECT_NOT_FOUND",
                        {"fromObjectId": [from_id], "fromObjectType": [from_name], "toObjectType": [to_name]},
                        sub="crm.associations.NO_ASSOCIATIONS_FOUND",
                    )
                )
                continue
            results.append(entry)
            served.append((from_id, offset, entry))
        results += hostile.extra_read_results(
            self.config.faults,
            self.config.read_page_size,
            served,
            {str(item.get("id")) for item in inputs},
            partial(self._read_entry, from_type, to_type),
            lambda: self._type_json(from_type, to_type, self.state.unlabeled_key(from_type, to_type)),
        )
        answer: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "requestedAt": started,
            "startedAt": started,
            "completedAt": iso_timestamp(),
            "links": {},
        }
        if errors:
            answer["errors"] = errors
            answer["numErrors"] = len(errors)
            return 207, answer
        return 200, answer

    def _read_entry(
        self, from_type: str, to_type: str, from_id: str, offset: int, size: int | None = None
    ) -> dict[str, Any] | None:
        """One batch-read result: ``size`` targets of ``from_id`` from ``offset`` (None: it has none)."""
        found = self.state.associated(from_type, from_id, to_type)
        if not found:
            return None
        page = size or self.config.read_page_size
        entry: dict[str, Any] = {
            "from": {"id": from_id},
            "to": [
                {
                    "toObjectId": to_id,
                    "associationTypes": [self._type_json(from_type, to_type, key) for key in sorted(types)],
                }
                for to_id, types in found[offset : offset + page]
            ],
        }
        if offset + page < len(found):
            entry["paging"] = {"next": {"after": str(offset + page)}}
        return entry

    def _type_json(self, from_type: str, to_type: str, key: TypeKey) -> dict[str, Any]:
        spec: dict[str, Any] = {"category": key[0], "typeId": key[1]}
        label = self.state.label_name(from_type, to_type, key)
        if label is not None:
            spec["label"] = label
        return spec

    def _do_labels(
        self, from_type: str, to_type: str, body: bytes, dated: bool, record: RequestRecord
    ) -> tuple[int, Any]:
        return 200, {"results": [d.as_json() for d in self.state.definitions(from_type, to_type)]}

    # -------------------------------------------------------------------- oauth
    def _oauth_token(self, body: bytes) -> tuple[int, dict[str, Any]]:
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        with self._lock:
            self.stats.token_refreshes += 1
            secret = self.config.oauth_clients.get(form.get("client_id", ""))
            if secret is None or not secrets.compare_digest(secret, form.get("client_secret", "")):
                return 400, {
                    "status": "BAD_CLIENT_ID",
                    "message": "missing or unknown client id",
                    "error": "invalid_client",
                    "error_description": "missing or unknown client id",
                    "correlationId": str(uuid.uuid4()),
                }
            if form.get("grant_type") != "refresh_token":
                return 400, {
                    "status": "BAD_GRANT_TYPE",
                    "message": "grant_type must be refresh_token",
                    "error": "unsupported_grant_type",
                    "correlationId": str(uuid.uuid4()),
                }
            refresh = form.get("refresh_token", "")
            scopes = self.config.oauth_refresh_tokens.get(refresh)
            if scopes is None:
                return 400, {
                    "status": "BAD_REFRESH_TOKEN",
                    "message": "missing or invalid refresh token",
                    "error": "invalid_grant",
                    "error_description": "refresh token is invalid, expired or revoked",
                    "correlationId": str(uuid.uuid4()),
                }
            access = "sim-oauth-" + secrets.token_urlsafe(24)
            lifetime = self.config.access_token_lifetime_seconds
            self._issued[access] = IssuedToken(
                scopes, app=f"oauth:{form['client_id']}", expires_at=time.monotonic() + lifetime
            )
        return 200, {
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": max(int(lifetime), 1),
            "token_type": "bearer",
            "token_use": "access_token",
            "hub_id": PORTAL_ID,
            "scopes": sorted(scopes),
        }

    def _account_info(self) -> dict[str, Any]:
        now = pendulum.now(self.config.account_timezone)
        offset = now.utcoffset()
        return {
            "portalId": PORTAL_ID,
            "accountType": "STANDARD",
            "timeZone": self.config.account_timezone,
            "companyCurrency": "USD",
            "additionalCurrencies": [],
            "utcOffset": now.format("ZZ"),
            "utcOffsetMilliseconds": int(offset.total_seconds() * 1000) if offset else 0,
            "uiDomain": "app.hubspot.com",
            "dataHostingLocation": "na1",
        }

    # --------------------------------------------------------------- inspection
    def _inspect(self, method: str, path: str, query: str, body: bytes) -> tuple[int, Any]:
        params = {k: v[0] for k, v in parse_qs(query).items()}
        if method == "GET" and path == "/_sim/health":
            return 200, {"ok": True}
        if method == "GET" and path == "/_sim/stats":
            return 200, self.stats.as_json()
        if method == "GET" and path == "/_sim/associations":
            from_type, to_type = params.get("from", "contacts"), params.get("to", "companies")
            pairs = sorted(self.state.pairs(from_type, to_type))
            return 200, {"from": from_type, "to": to_type, "count": len(pairs), "pairs": pairs}
        if method == "GET" and path == "/_sim/count":
            return 200, {"count": self.state.count()}
        if method == "POST" and path == "/_sim/reset":
            self.reset(params.get("seed"))
            return 200, {"ok": True}
        if method == "POST" and path == "/_sim/faults":
            settings = loading.json_object(body)
            unknown = sorted(set(settings) - {item.name for item in fields(FaultConfig)})
            if unknown:
                raise loading.LoadError(f"no fault setting {', '.join(unknown)}")
            try:
                self.set_faults(**settings)
            except (TypeError, ValueError) as error:
                raise loading.LoadError(f"fault settings: {error}") from None
            return 200, asdict(self.config.faults)
        if method == "POST" and path == "/_sim/load":
            return 200, loading.load(self.state, loading.json_object(body))
        return 404, error_body(f"No inspection route {method} {path}", "OBJECT_NOT_FOUND")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class _Handler(BaseHTTPRequestHandler):
    """Moves bytes between the socket and ``HubSpotSimulator.handle``; keeps connections alive."""

    sim: HubSpotSimulator
    protocol_version = "HTTP/1.1"
    server_version = "HubSpotSimulator/1.0"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            status, answer_headers, payload = self.sim.handle(self.command, self.path, headers, body)
        except _Drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(status)
        for name, value in answer_headers.items():
            self.send_header(name, value)
        if status != 204:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload and status != 204:
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        # The request line holds the method and path only; headers (and so the token) are never logged.
        log.debug("%s %s", self.address_string(), format % args)
