"""How to reach HubSpot and how hard to push it: the client's settings, checked, and its counters.

Also the checks every setting that ends up in a request goes through: the host (https, except on
loopback), the token (visible ASCII) and the endpoint paths (validated object types). No Airflow import.
"""

from __future__ import annotations

import ipaddress
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_hubspot_assoc.object_types import validate_object_type
from airflow_provider_hubspot_assoc.request_size import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_PAIRS,
    check_batch_size,
    check_max_pairs,
)

DEFAULT_BASE_URL = "https://api.hubapi.com"
DEFAULT_TOKEN_PATH = "/oauth/v1/token"  # HubSpot's OAuth token endpoint (v1 sunsets 2027-02-16)
_API_VERSION = re.compile(r"v4|[0-9]{4}-[0-9]{2}(-beta)?")  # whole string (fullmatch), ASCII digits


def require_safe_url(url: str, what: str = "HubSpot host") -> str:
    """Return ``url`` without a trailing slash; https is required except for loopback addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{what} must be an http(s) URL, got {url!r}")
    try:
        _ = parts.port  # read for its check: a port that is no number from 0 to 65535 raises
    except ValueError:
        raise ValueError(
            f"{what} {parts.scheme}://{parts.hostname} has a port that is not a number from 0 to 65535"
        ) from None
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ValueError(
            f"{what} {parts.scheme}://{parts.hostname} must use https: a token is sent with every request "
            "(plain http is allowed only for loopback addresses such as the simulator)"
        )
    return url.rstrip("/")


def clean_token(token: str, what: str = "access token") -> str:
    """``token`` without surrounding whitespace (a newline pasted from a file); it must then be visible
    ASCII (0x21-0x7E), the only characters that go into an ``Authorization`` header unchanged.

    Anything else fails in ``requests``, ``urllib3`` or ``http.client``, some of them quoting the
    header, token included, or is sent re-encoded and refused as a wrong token. The error raised
    here names the position and kind of the first bad character, never the token or a part of it.
    """
    stripped = token.strip()
    if not stripped:
        raise ValueError(f"the HubSpot {what} is empty; check how it was pasted")
    for position, char in enumerate(stripped, start=1):
        if not "\x21" <= char <= "\x7e":
            kind = (
                "whitespace"
                if char.isspace()
                else "a control character"
                if char < "\x80"
                else "a non-ASCII character"
            )
            raise ValueError(
                f"the HubSpot {what} cannot go into an HTTP header: character {position} of "
                f"{len(stripped)} is {kind} (a token is visible ASCII only, with no whitespace inside); "
                "check how it was pasted"
            )
    return stripped


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def association_path(api_version: str, from_type: str, to_type: str, suffix: str) -> str:
    """An associations endpoint's path; object types are validated so nothing can be injected into it."""
    from_part = validate_object_type(from_type)
    to_part = validate_object_type(to_type)
    if api_version == "v4":
        return f"/crm/v4/associations/{from_part}/{to_part}/{suffix}"
    return f"/crm/associations/{api_version}/{from_part}/{to_part}/{suffix}"


@dataclass
class OAuthCredentials:
    """An OAuth app's credentials; the access token is obtained (and refreshed) with them.

    :param client_id: the app's client id.
    :param client_secret: the app's client secret (never shown in a repr).
    :param refresh_token: the installation's refresh token (never shown in a repr).
    :param token_url: the token endpoint, a path below the base URL or a full URL.
    """

    client_id: str
    client_secret: str
    refresh_token: str
    token_url: str = DEFAULT_TOKEN_PATH

    def __repr__(self) -> str:  # never show secrets
        return f"OAuthCredentials(client_id={self.client_id!r}, token_url={self.token_url!r})"


@dataclass
class ClientConfig:
    """How to reach HubSpot and how hard to push it.

    :param base_url: HubSpot's API host (https, except on loopback).
    :param api_version: ``v4`` or a date version such as ``2026-03``.
    :param access_token: a private app's token; or ``oauth`` instead.
    :param oauth: an OAuth app's credentials.
    :param requests_per_window: requests allowed per ``window_seconds`` (HubSpot's burst limit).
    :param window_seconds: the burst limit's rolling window.
    :param rate_limit_share: the part of the app's burst limit this client may use.
    :param daily_limit: the daily limit the connection assumes (its tier's figure, or
        ``requests_per_day``); shown by the connection test, not enforced.
    :param daily_budget: requests this client may send per day of the account (``requests_per_day``);
        past it, requests raise ``HubSpotDailyLimitError`` unsent. None: HubSpot's own count
        (``X-HubSpot-RateLimit-Daily-Remaining``) decides, the same way.
    :param account_timezone: where the account's day (and HubSpot's daily limit) starts at midnight.
    :param max_in_flight: concurrent requests; None chooses them from the rate limit and latency.
    :param connect_timeout: seconds to connect.
    :param read_timeout: seconds to wait for an answer.
    :param max_attempts: attempts per request (retries of 429, 5xx, timeouts).
    :param max_retry_seconds: the time one request may spend retrying.
    :param batch_size: HubSpot inputs per write request (an archive input: a from id with its to ids).
    :param max_pairs_per_request: (from, to) pairs per write request.
    :param progress_every: debug-log the client's counters every this many requests (0: never).
    :param max_isolation_requests: extra requests per refused batch to isolate its bad rows.
    """

    base_url: str = DEFAULT_BASE_URL
    api_version: str = "v4"
    access_token: str | None = field(default=None, repr=False)
    oauth: OAuthCredentials | None = None
    requests_per_window: int = 190  # the Professional and Enterprise tiers' burst limit (HubSpot's docs)
    window_seconds: float = 10.0  # HubSpot's rolling window
    rate_limit_share: float = 1.0
    daily_limit: int | None = None
    daily_budget: int | None = None
    account_timezone: str = "UTC"
    max_in_flight: int | None = None
    connect_timeout: float = 10.0
    read_timeout: float = 60.0  # far past a normal answer: a request silent this long is taken as lost
    max_attempts: int = 8  # with the transport's backoff, up to about a minute of an outage ridden out
    max_retry_seconds: float = 900.0  # long enough for a few 10-s windows and a gateway restart
    batch_size: int = DEFAULT_BATCH_SIZE
    max_pairs_per_request: int = DEFAULT_MAX_PAIRS
    progress_every: int = 50
    # One bad row in a batch of 100 costs about 2 log2(100) = 14 requests: 40 isolate two or three.
    max_isolation_requests: int = 40

    def __post_init__(self) -> None:
        self.base_url = require_safe_url(self.base_url)
        if not isinstance(self.api_version, str) or not _API_VERSION.fullmatch(self.api_version):
            raise ValueError(
                f"api_version must be 'v4' or a date version such as '2026-03', got {self.api_version!r}"
            )
        if not self.access_token and not self.oauth:
            raise ValueError("HubSpot needs a private-app access token or OAuth credentials")
        if self.access_token and not self.oauth:
            self.access_token = clean_token(self.access_token)
        check_batch_size(self.batch_size)
        check_max_pairs(self.max_pairs_per_request)
        if self.daily_budget is not None and self.daily_budget < 1:
            raise ValueError(f"requests_per_day must be a positive number, got {self.daily_budget}")


# A moving average of round trips: each new latency weighs this much (about the last 5 requests).
LATENCY_WEIGHT = 0.2


@dataclass
class ClientStats:
    """What a client did so far; threads add to it through ``add`` and ``count_request``."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    pairs_sent: int = 0
    token_refreshes: int = 0
    isolation_requests: int = 0
    started: float = field(default_factory=time.monotonic)
    latency: float | None = None  # moving average of round trips, seconds
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, counter: str, count: int = 1) -> None:
        """Add ``count`` to one of the counters (``retries``, ``pairs_sent``...)."""
        with self._lock:
            setattr(self, counter, getattr(self, counter) + count)

    def count_request(self, latency: float | None) -> int:
        """Count a request (``latency`` None: no answer came); returns the requests so far."""
        with self._lock:
            self.requests += 1
            if latency is not None:
                self.latency = (
                    latency
                    if self.latency is None
                    else (1 - LATENCY_WEIGHT) * self.latency + LATENCY_WEIGHT * latency
                )
            return self.requests

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.requests / elapsed if elapsed > 0 else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "retries": self.retries,
            "rate_limited": self.rate_limited,
            "pairs_sent": self.pairs_sent,
            "isolation_requests": self.isolation_requests,
            "seconds": round(time.monotonic() - self.started, 3),
        }
