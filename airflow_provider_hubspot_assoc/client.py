"""HTTP client for HubSpot's association endpoints: auth, pacing, safe retries, concurrency.

``HubSpotClient`` is what ``HubSpotHook`` builds from an Airflow connection; it has no Airflow
import so benchmarks and unit tests use it directly. Both archive endpoints are idempotent
(archiving what is already gone changes nothing), which is what makes retrying a POST safe here.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import pendulum
import requests
import urllib3
from requests.adapters import HTTPAdapter
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    stop_before_delay,
    wait_random_exponential,
)

from airflow_provider_hubspot_assoc.batch_read import NO_ASSOCIATIONS, CurrentAssociations
from airflow_provider_hubspot_assoc.exceptions import (
    HubSpotAuthError,
    HubSpotDailyLimitError,
    HubSpotError,
    HubSpotRequestError,
    HubSpotRetriesExhaustedError,
    HubSpotScopeError,
    HubSpotUnreachableError,
    HubSpotValidationError,
)
from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.models import (
    BatchError,
    BatchResponse,
    NotJson,
    Pair,
    iso_timestamp,
    merge,
)
from airflow_provider_hubspot_assoc.object_types import validate_object_type, validate_record_id
from airflow_provider_hubspot_assoc.ratelimit import RateLimiter

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.hubapi.com"
DEFAULT_TOKEN_PATH = "/oauth/v1/token"  # HubSpot's OAuth token endpoint (v1 sunsets 2027-02-16)
_API_VERSION = re.compile(r"v4|[0-9]{4}-[0-9]{2}(-beta)?")  # whole string (fullmatch), ASCII digits
RETRYABLE_STATUSES = {423, 477, 500, 502, 503, 504, 521, 522, 523, 524}
# Transport failures worth another try: no answer, or one cut off or garbled on the way (both
# endpoints are idempotent, so a request whose answer was lost can be sent again).
_LOST_ANSWER = (
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
DEFAULT_BATCH_SIZE = 100  # HubSpot's documented limit of inputs per batch request


def require_safe_url(url: str, what: str = "HubSpot host") -> str:
    """Return ``url`` without a trailing slash; https is required except for loopback addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{what} must be an http(s) URL, got {url!r}")
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


@dataclass
class OAuthCredentials:
    client_id: str
    client_secret: str
    refresh_token: str
    token_url: str = DEFAULT_TOKEN_PATH

    def __repr__(self) -> str:  # never show secrets
        return f"OAuthCredentials(client_id={self.client_id!r}, token_url={self.token_url!r})"


@dataclass
class ClientConfig:
    """How to reach HubSpot and how hard to push it."""

    base_url: str = DEFAULT_BASE_URL
    api_version: str = "v4"
    access_token: str | None = field(default=None, repr=False)
    oauth: OAuthCredentials | None = None
    requests_per_window: int = 190
    window_seconds: float = 10.0
    rate_limit_share: float = 1.0  # the part of the app's limit this client may use
    daily_limit: int | None = None
    account_timezone: str = "UTC"
    max_in_flight: int | None = None  # None: chosen from the rate limit and the measured latency
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 8
    max_retry_seconds: float = 900.0
    batch_size: int = DEFAULT_BATCH_SIZE
    progress_every: int = 50
    max_isolation_requests: int = 40  # extra requests per refused batch to isolate its bad rows

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
        if not 1 <= self.batch_size <= 1000:
            raise ValueError(f"batch_size must be between 1 and 1000, got {self.batch_size}")


@dataclass
class ClientStats:
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    pairs_sent: int = 0
    token_refreshes: int = 0
    isolation_requests: int = 0
    started: float = field(default_factory=time.monotonic)
    latency: float | None = None  # moving average of round trips, seconds

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


class _Retryable(Exception):
    """A failure worth another try; ``wait`` is the least time to wait before it.

    ``reached``: the request got to HubSpot (an HTTP answer, or a connection that broke after the
    request was sent). ``maybe_applied``: HubSpot may have carried it out though no answer says so.
    """

    def __init__(
        self,
        reason: str,
        wait: float = 0.0,
        status: int | None = None,
        *,
        reached: bool = True,
        maybe_applied: bool = False,
    ) -> None:
        super().__init__(reason)
        self.wait = wait
        self.status = status
        self.reached = reached
        self.maybe_applied = maybe_applied


def _never_connected(error: requests.RequestException) -> str | None:
    """Why no byte of the request reached HubSpot (refused, DNS, TLS, connect timeout); else None."""
    if isinstance(error, requests.exceptions.SSLError):
        return "TLS handshake failed"
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return "connection timed out"
    if isinstance(error, requests.exceptions.ProxyError):
        return "the proxy refused the connection"
    if isinstance(error, requests.ConnectionError):
        cause = error.args[0] if error.args else None
        reason = getattr(cause, "reason", cause)
        if isinstance(reason, urllib3.exceptions.NameResolutionError):
            return "the host name could not be resolved (DNS)"
        if isinstance(reason, urllib3.exceptions.NewConnectionError):
            return "connection refused"
    return None


class _TokenSource:
    """Hands out the bearer token; refreshes OAuth access tokens before they expire."""

    def __init__(
        self,
        config: ClientConfig,
        session: requests.Session,
        on_new_token: Callable[[str], None] | None,
        stats: ClientStats,
    ) -> None:
        self._config = config
        self._session = session
        self._on_new_token = on_new_token
        self._stats = stats
        self._lock = threading.Lock()
        self._token: str | None = config.access_token if not config.oauth else None
        self._expires_at = math.inf if not config.oauth else 0.0

    @property
    def refreshable(self) -> bool:
        return self._config.oauth is not None

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires_at:
                self._refresh()
            assert self._token is not None
            return self._token

    def invalidate(self, token: str) -> None:
        """Forget ``token`` (HubSpot rejected it) so the next call refreshes, once for all threads."""
        with self._lock:
            if self._token == token:
                self._expires_at = 0.0

    def _refresh(self) -> None:
        oauth = self._config.oauth
        assert oauth is not None
        url = require_safe_url(urljoin(self._config.base_url + "/", oauth.token_url), "OAuth token URL")
        form = {
            "grant_type": "refresh_token",
            "client_id": oauth.client_id,
            "client_secret": oauth.client_secret,
            "refresh_token": oauth.refresh_token,
        }
        for attempt in Retrying(
            retry=retry_if_exception_type(_Retryable),
            stop=stop_after_attempt(5),
            wait=wait_random_exponential(multiplier=0.5, max=10),
            reraise=True,
        ):
            with attempt:
                try:
                    answer = self._session.post(
                        url,
                        data=form,
                        timeout=(self._config.connect_timeout, self._config.read_timeout),
                        allow_redirects=False,  # never re-post the secrets to another host
                    )
                except (requests.Timeout, *_LOST_ANSWER) as error:
                    raise _Retryable(f"OAuth token refresh: {type(error).__name__}") from None
                except requests.RequestException as error:
                    raise _request_failed(error, "OAuth token refresh") from None
                if answer.status_code >= 500 or answer.status_code == 429:
                    raise _Retryable(
                        f"OAuth token refresh: HTTP {answer.status_code}", status=answer.status_code
                    )
        if 300 <= answer.status_code < 400:
            raise _redirected(answer, "OAuth token refresh")
        body = _json(answer)
        if answer.status_code != 200 or "access_token" not in body:
            raise HubSpotAuthError.from_answer(answer.status_code, body, "OAuth token refresh failed")
        try:
            token = clean_token(str(body["access_token"]), "OAuth access token HubSpot answered")
        except ValueError as error:
            raise HubSpotAuthError(f"OAuth token refresh: {error}", status=answer.status_code) from None
        if self._on_new_token:
            self._on_new_token(token)
        lifetime = float(body.get("expires_in") or 1800)
        # Refresh early: with 10% of the lifetime (at most 5 minutes) left.
        self._expires_at = time.monotonic() + lifetime - min(300.0, lifetime * 0.1)
        self._token = token
        self._stats.token_refreshes += 1
        log.info("HubSpot OAuth access token refreshed; valid for %d s", int(lifetime))


def _request_failed(error: requests.RequestException, what: str) -> HubSpotRequestError:
    """A request ``requests`` could not make; named by type only, as its text may quote the token."""
    return HubSpotRequestError(f"{what}: the request could not be made ({type(error).__name__})")


def _redirected(answer: requests.Response, what: str) -> HubSpotRequestError:
    """A 3xx, which is not followed (it could send the token or OAuth secrets elsewhere)."""
    location = urlsplit(answer.headers.get("Location") or "")
    # scheme, host and path only: a query or user info may hold a secret
    target = f"{location.scheme}://{location.hostname}{location.path}" if location.hostname else location.path
    return HubSpotRequestError(
        f"{what}: HubSpot answered {answer.status_code}, a redirect to {target or 'nowhere'}; redirects are "
        "not followed: point the connection's host at the address that answers",
        status=answer.status_code,
    )


def _json(answer: requests.Response) -> dict[str, Any]:
    return _as_dict(_success_body(answer))


def _success_body(answer: requests.Response) -> Any:
    """The body as sent: decoded JSON of any type, None when empty, or ``NotJson``."""
    if not answer.content:
        return None
    try:
        return answer.json()
    except ValueError:
        kind = answer.headers.get("Content-Type", "no content type").split(";")[0]
        return NotJson(f"{kind}: {answer.text[:80]!r}")


def _as_dict(body: Any) -> dict[str, Any]:
    """A body as a dict for reading fields; other shapes keep their text under ``message``."""
    if body is None:
        return {}
    if isinstance(body, dict):
        return body
    return {"message": str(body)[:500]}


def pairs_of(kind: Kind, inputs: list[dict[str, Any]]) -> list[Pair]:
    """The (from id, to id) pairs of a request's native inputs."""
    if kind is Kind.ARCHIVE:
        return [(str(i["from"]["id"]), str(t["id"])) for i in inputs for t in i["to"]]
    return [(str(i["from"]["id"]), str(i["to"]["id"])) for i in inputs]


class HubSpotClient:
    """Sends HubSpot association requests at the pace HubSpot allows, retrying what is safe."""

    def __init__(self, config: ClientConfig, on_new_token: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.stats = ClientStats()
        self.limiter = RateLimiter(
            config.requests_per_window, config.window_seconds, share=config.rate_limit_share
        )
        self.limiter.daily_remaining = config.daily_limit
        self._max_workers = config.max_in_flight or 32
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=self._max_workers, max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers.update(
            {"Accept": "application/json", "User-Agent": "airflow-provider-hubspot-assoc"}
        )
        self._tokens = _TokenSource(config, self.session, on_new_token, self.stats)
        self.on_request: Callable[[], None] | None = None  # called just before each attempt goes out
        self._labels_cache: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._stats_lock = threading.Lock()

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> HubSpotClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ paths
    def path(self, from_type: str, to_type: str, suffix: str) -> str:
        """The endpoint path; object types are validated so nothing can be injected into it."""
        from_part = validate_object_type(from_type)
        to_part = validate_object_type(to_type)
        version = self.config.api_version
        if version == "v4":
            return f"/crm/v4/associations/{from_part}/{to_part}/{suffix}"
        return f"/crm/associations/{version}/{from_part}/{to_part}/{suffix}"

    # -------------------------------------------------------------- requests
    def request(
        self, method: str, path: str, body: Any = None, what: str = "HubSpot request"
    ) -> tuple[int, dict[str, Any]]:
        """Send one request with pacing and retries; returns (HTTP status, JSON body or {}).

        Retries stop after ``max_attempts``, or as soon as the next wait (backoff or Retry-After)
        would end more than ``max_retry_seconds`` after the first attempt. A 401 with an OAuth token
        gets one retry with a fresh token; a second 401 for the same request is a HubSpotAuthError,
        unless HubSpot says EXPIRED_AUTHENTICATION (a token shared by threads can expire between
        its refresh and this request); if retries run out on a 401, that is a HubSpotAuthError too.
        """
        status, raw = self.request_raw(method, path, body, what)
        return status, _as_dict(raw)

    def request_raw(
        self, method: str, path: str, body: Any = None, what: str = "HubSpot request"
    ) -> tuple[int, Any]:
        """``request``, with a 2xx body as it came: decoded JSON of any type, None, or ``NotJson``.

        When retries run out: ``HubSpotUnreachableError`` if no attempt reached HubSpot, else
        ``HubSpotRetriesExhaustedError`` saying whether an attempt may have been carried out.
        """
        attempts = 0
        refreshed = reached = maybe_applied = False
        budget = self.config.max_retry_seconds
        started = time.monotonic()
        try:
            for attempt in Retrying(
                retry=retry_if_exception_type(_Retryable),
                stop=stop_after_attempt(self.config.max_attempts)
                | stop_after_delay(budget)
                | stop_before_delay(budget),
                wait=self._wait,
                before_sleep=self._before_retry,
                reraise=True,
            ):
                with attempt:
                    if attempts:
                        with self._stats_lock:
                            self.stats.retries += 1
                    attempts += 1
                    try:
                        return self._send_once(method, path, body, what, may_refresh=not refreshed)
                    except _Retryable as failure:
                        refreshed = refreshed or failure.status == 401
                        reached = reached or failure.reached
                        maybe_applied = maybe_applied or failure.maybe_applied
                        raise
        except _Retryable as error:
            if error.status == 401:
                raise HubSpotAuthError(
                    f"{what}: HubSpot refused the access token (401) and the retries ran out",
                    status=401,
                ) from None
            if attempts >= self.config.max_attempts:
                bound = f"gave up after {attempts} attempts (max_attempts)"
            else:
                bound = (
                    f"gave up after {attempts} attempt(s) in {time.monotonic() - started:.1f} s, as the "
                    f"next wait would pass max_retry_seconds ({budget:g} s)"
                )
            if not reached:
                host = urlsplit(self.config.base_url).netloc.rpartition("@")[2]
                raise HubSpotUnreachableError(
                    f"could not reach HubSpot at {host}: {error}; {bound}", status=None
                ) from None
            asked = f" (HubSpot asked to wait {error.wait:g} s)" if error.wait > budget else ""
            raise HubSpotRetriesExhaustedError(
                f"{what}: {bound}; last failure: {error}{asked}",
                status=error.status,
                maybe_applied=maybe_applied,
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, state: RetryCallState) -> float:
        """Backoff, at least what HubSpot asked for, at most what is left of the retry budget.

        A wait capped here reaches the end of the budget, so ``stop_before_delay`` stops instead.
        """
        error = state.outcome.exception() if state.outcome else None
        least = error.wait if isinstance(error, _Retryable) else 0.0
        wanted = max(least, wait_random_exponential(multiplier=0.25, max=30)(state))
        left = self.config.max_retry_seconds - (state.seconds_since_start or 0.0)
        return max(0.0, min(wanted, left))

    @staticmethod
    def _before_retry(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "HubSpot: retrying after %s (attempt %d, waiting %.1f s)",
            error,
            state.attempt_number,
            state.next_action.sleep if state.next_action else 0.0,
        )

    def _send_once(
        self, method: str, path: str, body: Any, what: str, may_refresh: bool = True
    ) -> tuple[int, Any]:
        """One attempt; ``may_refresh``: a 401 may still be answered by refreshing the OAuth token."""
        # The token first: a slow OAuth refresh must not hold a rate-limit slot that frees on schedule
        # while the request it was taken for goes out late (a burst that HubSpot answers with 429s).
        token = self._tokens.token()
        self.limiter.acquire()
        if self.on_request is not None:
            self.on_request()
        started = time.monotonic()
        try:
            answer = self.session.request(
                method,
                self.config.base_url + path,
                json=body,
                headers={"Authorization": f"Bearer {token}"},
                timeout=(self.config.connect_timeout, self.config.read_timeout),
                allow_redirects=False,  # never send the token to a host require_safe_url did not see
            )
        except (requests.Timeout, *_LOST_ANSWER) as error:
            self._count(None)
            never = _never_connected(error)
            if never is not None:
                raise _Retryable(never, reached=False) from None
            # The request went out: HubSpot may have carried it out and lost only the answer.
            reason = (
                "timeout"
                if isinstance(error, requests.Timeout)
                else f"connection error ({type(error).__name__})"
            )
            raise _Retryable(reason, maybe_applied=True) from None
        except requests.RequestException as error:
            self._count(None)
            raise _request_failed(error, what) from None
        self._count(time.monotonic() - started)
        self.limiter.observe(answer.headers)
        status = answer.status_code
        if status < 300:
            return status, _success_body(answer)
        if status < 400:
            raise _redirected(answer, what)
        payload = _json(answer)
        retry_after = _retry_after(answer.headers.get("Retry-After"))
        if status == 429:
            return self._rate_limited(payload, retry_after, what)
        if status == 401:
            expired = payload.get("category") == "EXPIRED_AUTHENTICATION"
            if self._tokens.refreshable and (may_refresh or expired):
                self._tokens.invalidate(token)
                raise _Retryable("401: access token refused; refreshing it", status=401)
            if self._tokens.refreshable:
                what = f"{what} (with a freshly refreshed OAuth access token)"
            raise HubSpotAuthError.from_answer(status, payload, what)
        if status == 403:
            refused = HubSpotScopeError.from_answer(status, payload, what)
            if refused.missing_scopes:
                refused.args = (f"{refused.args[0]} Missing scopes: {', '.join(refused.missing_scopes)}",)
            raise refused
        if status in RETRYABLE_STATUSES:
            least = 2.0 if status == 423 else (retry_after or 0.0)
            # A 5xx may come from a gateway that lost the answer of a request HubSpot carried out.
            raise _Retryable(
                f"HTTP {status} {payload.get('message', '')}".strip(),
                least,
                status,
                maybe_applied=status >= 500,
            )
        raise HubSpotValidationError.from_answer(status, payload, what)

    def _rate_limited(
        self, payload: dict[str, Any], retry_after: float | None, what: str
    ) -> tuple[int, dict[str, Any]]:
        with self._stats_lock:
            self.stats.rate_limited += 1
        if payload.get("policyName") == "DAILY":
            reset_at = self._daily_reset(retry_after)
            raise HubSpotDailyLimitError(
                f"{what}: HubSpot's daily request limit is used up; "
                f"it resets at {reset_at.to_iso8601_string()}",
                reset_at=reset_at,
                status=429,
                category="DAILY",
                body=payload,
            )
        pause = retry_after if retry_after is not None else self.limiter.interval / 10
        # Hold the other threads no longer than a retry budget; this request waits for ``pause``
        # itself, so a Retry-After past its budget ends its retries at once.
        self.limiter.pause(min(pause, self.config.max_retry_seconds))
        raise _Retryable(f"429 {payload.get('policyName', 'rate limit')}", pause, 429)

    def _daily_reset(self, retry_after: float | None) -> pendulum.DateTime:
        now = pendulum.now(self.config.account_timezone)
        if retry_after is not None:
            return now.add(seconds=retry_after).in_timezone("UTC")
        return now.add(days=1).start_of("day").in_timezone("UTC")

    def _count(self, latency: float | None) -> None:
        with self._stats_lock:
            stats = self.stats
            stats.requests += 1
            if latency is not None:
                stats.latency = latency if stats.latency is None else 0.8 * stats.latency + 0.2 * latency
            if self.config.progress_every and stats.requests % self.config.progress_every == 0:
                log.debug(  # the operators log progress for people; this is for debugging the client
                    "HubSpot progress: %d requests, %d pairs sent, %d rate-limited (429), %d retries, "
                    "%.1f requests/s (limit %.1f/s)",
                    stats.requests,
                    stats.pairs_sent,
                    stats.rate_limited,
                    stats.retries,
                    stats.rate(),
                    self.limiter.rate,
                )

    # ----------------------------------------------------------- endpoints
    def archive_batch(
        self, kind: Kind, from_type: str, to_type: str, inputs: list[dict[str, Any]]
    ) -> BatchResponse:
        """Send one archive request."""
        suffix = kind.path_suffix
        path = self.path(from_type, to_type, suffix)
        pairs = pairs_of(kind, inputs)
        requested_at = iso_timestamp()
        status, body = self.request_raw("POST", path, {"inputs": inputs}, f"POST {path}")
        with self._stats_lock:
            self.stats.pairs_sent += len(pairs)
        return BatchResponse.from_answer(status, body, pairs, requested_at=requested_at)

    def archive_isolating(
        self, kind: Kind, from_type: str, to_type: str, inputs: list[dict[str, Any]]
    ) -> BatchResponse:
        """Send a batch; if HubSpot refuses it as a whole (a 400 naming no input), find the bad rows.

        The refused batch is split in halves, recursively, until the rows HubSpot refuses are
        isolated; everything else is sent. Isolated rows come back as failed with HubSpot's message.
        At most ``max_isolation_requests`` extra requests are spent per batch; rows not isolated
        within that budget are reported failed with the refusal, never dropped.

        Only a 400 is bisected (a 404 is about the path, not the rows). Before bisecting, one request
        with no inputs is sent: if HubSpot refuses it the same way, the refusal is not about any row
        (say "Unable to infer object type") and the batch is reported failed after 1 extra request.
        """
        try:
            return self.archive_batch(kind, from_type, to_type, inputs)
        except HubSpotValidationError as refusal:
            if refusal.status != 400 or len(pairs_of(kind, inputs)) <= 1:
                return failed_response(kind, inputs, refusal)
            probes = min(1, self.config.max_isolation_requests)
            if probes and self._refuses_any_request(kind, from_type, to_type, refusal):
                log.warning("HubSpot refuses even an empty request (%s); not isolating rows", refusal)
                return failed_response(
                    kind, inputs, refusal, note="HubSpot refuses any request here: not about particular rows"
                )
            log.warning(
                "HubSpot refused a request of %d pairs as a whole (%s); isolating the bad rows by bisection",
                len(pairs_of(kind, inputs)),
                refusal,
            )
            allowed = self.config.max_isolation_requests - probes
            budget = [allowed]
            parts = self._bisect(kind, from_type, to_type, split_inputs(kind, inputs), refusal, budget)
            extra = allowed - budget[0]  # the probe is counted in the stats already
            merged = merge(parts)
            log.warning(
                "Isolation done: %d of %d pairs refused, %d extra requests",
                len(merged.failed_pairs()),
                merged.pairs_sent,
                extra + probes,
            )
            with self._stats_lock:
                self.stats.isolation_requests += extra
            return merged

    def _refuses_any_request(
        self, kind: Kind, from_type: str, to_type: str, refusal: HubSpotValidationError
    ) -> bool:
        """Whether HubSpot refuses a request with no inputs the way it refused the batch (one request).

        Archiving nothing changes nothing, so the probe is safe; any other outcome, including an
        acceptance or a different refusal, means the refusal may be about rows, so bisection goes on.
        """
        with self._stats_lock:
            self.stats.isolation_requests += 1
        try:
            self.archive_batch(kind, from_type, to_type, [])
        except HubSpotValidationError as again:
            return _same_refusal(again, refusal)
        except HubSpotRetriesExhaustedError:
            return False
        return False

    def _bisect(
        self,
        kind: Kind,
        from_type: str,
        to_type: str,
        halves: tuple[list[dict[str, Any]], list[dict[str, Any]]],
        refusal: HubSpotValidationError,
        budget: list[int],
    ) -> list[BatchResponse]:
        answers: list[BatchResponse] = []
        for half in halves:
            if not half:
                continue
            if budget[0] <= 0:
                answers.append(
                    failed_response(kind, half, refusal, note="not isolated: bisection budget spent")
                )
                continue
            budget[0] -= 1
            try:
                answers.append(self.archive_batch(kind, from_type, to_type, half))
            except HubSpotValidationError as again:
                if again.status != 400 or len(pairs_of(kind, half)) <= 1:
                    answers.append(failed_response(kind, half, again))
                else:
                    answers += self._bisect(kind, from_type, to_type, split_inputs(kind, half), again, budget)
        return answers

    def in_flight_limit(self) -> int:
        """Requests in flight: enough to reach the rate limit at the measured latency."""
        if self.config.max_in_flight:
            return self.config.max_in_flight
        latency = self.stats.latency
        if latency is None:
            return 4
        return max(2, min(self._max_workers, math.ceil(self.limiter.rate * latency * 1.5) + 1))

    def run_batches(
        self, kind: Kind, from_type: str, to_type: str, batches: Iterable[list[dict[str, Any]]]
    ) -> Iterator[tuple[list[dict[str, Any]], BatchResponse | None]]:
        """Send batches concurrently; yield ``(batch, response)`` in the order the batches came.

        An empty batch is yielded with ``None`` (nothing to send). Requests run concurrently, but
        at most ``max(4 * in-flight limit, 16)`` batches are held from the oldest unfinished one on,
        so memory stays bounded behind one slow request. A batch HubSpot refuses as a whole (400, or
        retries exhausted) comes back as a response whose errors cover all its pairs, so nothing is
        lost; when an attempt may have been carried out (its answer lost), the response is
        ``unconfirmed`` instead. Auth, scope, daily-limit, unreachable and request errors (a
        redirect, a request that could not be made) stop the run: batches already sent are finished
        and yielded, then the error is raised with ``.batch`` set to the batch it struck (not
        applied) so a caller can send it again later, and ``.struck`` listing every such batch.
        """
        self.path(from_type, to_type, "batch/archive")  # validate before any request
        source = iter(batches)
        fatal: HubSpotError | None = None
        queue: deque[tuple[list[dict[str, Any]], Future[BatchResponse] | None]] = deque()
        with ThreadPoolExecutor(max_workers=self._max_workers, thread_name_prefix="hubspot") as pool:
            exhausted = False
            while True:
                limit = self.in_flight_limit()
                while fatal is None and not exhausted and len(queue) < max(4 * limit, 16):
                    if sum(1 for _, job in queue if job is not None and not job.done()) >= limit:
                        break
                    batch = next(source, None)
                    if batch is None:
                        exhausted = True
                    else:
                        job = (
                            pool.submit(self.archive_isolating, kind, from_type, to_type, batch)
                            if batch
                            else None
                        )
                        queue.append((batch, job))
                if not queue:
                    break
                batch, job = queue[0]
                if job is not None and not job.done():
                    running = [j for _, j in queue if j is not None and not j.done()]
                    wait(running, return_when=FIRST_COMPLETED)
                    continue
                queue.popleft()
                if job is None:
                    yield batch, None
                    continue
                try:
                    yield batch, job.result()
                except (
                    HubSpotAuthError,
                    HubSpotScopeError,
                    HubSpotDailyLimitError,
                    HubSpotRequestError,
                ) as error:
                    error.batch = batch
                    fatal = fatal or error
                    fatal.struck.append(batch)
                except (HubSpotValidationError, HubSpotRetriesExhaustedError) as error:
                    yield batch, failed_response(kind, batch, error)
        if fatal is not None:
            raise fatal

    def archive_many(
        self, kind: Kind, from_type: str, to_type: str, inputs: list[dict[str, Any]]
    ) -> BatchResponse:
        """Chunk native inputs into requests of at most ``batch_size`` pairs, send, merge."""
        batches = chunk_inputs(kind, inputs, self.config.batch_size)
        sent = self.run_batches(kind, from_type, to_type, batches)
        return merge(response for _, response in sent if response is not None)

    def get_labels(self, from_type: str, to_type: str) -> list[dict[str, Any]]:
        """Association type definitions of one direction (cached per client)."""
        key = (validate_object_type(from_type), validate_object_type(to_type))
        if key not in self._labels_cache:
            path = self.path(from_type, to_type, "labels")
            _, body = self.request("GET", path, None, f"GET {path}")
            self._labels_cache[key] = list(body.get("results") or [])
        return self._labels_cache[key]

    def read_associations(
        self, from_type: str, to_type: str, ids: Iterable[str | int]
    ) -> dict[str, list[dict[str, Any]]]:
        """Current associations of each from id: ``{from id: [{toObjectId, associationTypes}]}``.

        Ids go in chunks of 1000 with every page followed; an id with no associations maps to [].
        Only HubSpot's NO_ASSOCIATIONS_FOUND error means "none"; any other per-id error raises
        HubSpotError, so an id HubSpot could not read never looks as if its associations were gone.
        Results for ids a request did not name are ignored with a warning, and a to-id given twice
        is one entry (``batch_read.CurrentAssociations``): mirror mode deletes what this returns.
        """
        path = self.path(from_type, to_type, "batch/read")
        wanted = list(dict.fromkeys(validate_record_id(i, "from id") for i in ids))
        current = CurrentAssociations(wanted, f"POST {path}")
        for start in range(0, len(wanted), 1000):
            queue: list[dict[str, str]] = [{"id": i} for i in wanted[start : start + 1000]]
            while queue:
                status, body = self.request_raw("POST", path, {"inputs": queue}, f"POST {path}")
                _raise_read_errors(status, _as_dict(body), f"POST {path}")
                queue = current.take(queue, body)
        note = current.ignored_note()
        if note:
            log.warning(note)
        return current.as_lists()


def _same_refusal(one: HubSpotError, other: HubSpotError) -> bool:
    """Same status, category and HubSpot message (correlation ids differ from answer to answer)."""
    return (one.status, one.category, one.body.get("message")) == (
        other.status,
        other.category,
        other.body.get("message"),
    )


def _raise_read_errors(status: int, body: dict[str, Any], what: str) -> None:
    """Raise for per-id errors of a batch/read answer other than "this id has no associations"."""
    failures: list[str] = []
    categories: list[str] = []
    for error in body.get("errors") or []:
        if not isinstance(error, dict):
            error = {"message": str(error)}
        category = str(error.get("category") or "UNKNOWN")
        if (category, error.get("subCategory")) == NO_ASSOCIATIONS:
            continue
        context = error.get("context") if isinstance(error.get("context"), dict) else {}
        ids = [str(i) for i in (context or {}).get("fromObjectId") or []]
        subject = f"ids {', '.join(ids)}" if ids else "unnamed ids"
        failures.append(f"{subject}: {category}: {error.get('message') or 'no message'}")
        categories.append(category)
    if failures:
        shown = "; ".join(failures[:10]) + (f"; and {len(failures) - 10} more" if len(failures) > 10 else "")
        raise HubSpotError(
            f"{what}: HubSpot could not read the associations of some ids: {shown}",
            status=status,
            category=categories[0],
            body=body,
        )


def failed_response(
    kind: Kind, batch: list[dict[str, Any]], error: HubSpotError, note: str | None = None
) -> BatchResponse:
    """A response in which every pair of ``batch`` failed with ``error`` (a whole-request refusal)."""
    pairs = pairs_of(kind, batch)
    response = BatchResponse.from_answer(204, None, pairs)
    response.http_status = error.status or 0
    message = f"{error} ({note})" if note else str(error)
    if isinstance(error, HubSpotRetriesExhaustedError) and error.maybe_applied:
        response.unconfirmed = message  # HubSpot may have carried it out: unknown, not failed
        response.unknown_pairs = list(pairs)
        return response
    response.errors = [
        BatchError(
            category=error.category
            or ("UNREACHABLE" if isinstance(error, HubSpotUnreachableError) else "REQUEST_FAILED"),
            message=message,
            context={},
            pairs=tuple(pairs),
        )
    ]
    return response


def split_inputs(
    kind: Kind, inputs: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Two halves of a request by pairs; a multi-``to`` input may be cut in two."""
    if kind is not Kind.ARCHIVE:
        middle = len(inputs) // 2
        return inputs[:middle], inputs[middle:]
    flat = [{"from": item["from"], "to": [target]} for item in inputs for target in item["to"]]
    middle = len(flat) // 2
    return _regroup(flat[:middle]), _regroup(flat[middle:])


def _regroup(flat: list[dict[str, Any]]) -> list[dict[str, Any]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for item in flat:
        grouped.setdefault(str(item["from"]["id"]), []).extend(item["to"])
    return [{"from": {"id": from_id}, "to": targets} for from_id, targets in grouped.items()]


def chunk_inputs(
    kind: Kind, inputs: Iterable[dict[str, Any]], batch_size: int
) -> Iterator[list[dict[str, Any]]]:
    """Group native inputs into requests of at most ``batch_size`` pairs.

    An archive input whose ``to`` list would overflow a request is split across requests.
    """
    batch: list[dict[str, Any]] = []
    size = 0
    for item in inputs:
        if kind is Kind.ARCHIVE:
            targets = list(item["to"])
            while targets:
                room = batch_size - size
                part, targets = targets[:room], targets[room:]
                batch.append({"from": item["from"], "to": part})
                size += len(part)
                if size >= batch_size:
                    yield batch
                    batch, size = [], 0
        else:
            batch.append(item)
            size += 1
            if size >= batch_size:
                yield batch
                batch, size = [], 0
    if batch:
        yield batch


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - datetime.now(timezone.utc)).total_seconds(), 0.0)
