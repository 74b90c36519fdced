"""One request to HubSpot, answered: the bearer token, pacing, and safe retries (HTTP itself: ``http``).

Both archive endpoints are idempotent (archiving what is already gone changes nothing), which is what
makes retrying a POST safe here. No Airflow import.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    stop_before_delay,
    wait_random_exponential,
)

from airflow_provider_hubspot_assoc.exceptions import (
    HubSpotAuthError,
    HubSpotDailyLimitError,
    HubSpotRetriesExhaustedError,
    HubSpotScopeError,
    HubSpotUnreachableError,
    HubSpotValidationError,
)
from airflow_provider_hubspot_assoc.hubspot.answers import (
    Retryable,
    as_dict,
    json_body,
    lost_answer,
    redirected,
    request_failed,
    retry_after,
    success_body,
)
from airflow_provider_hubspot_assoc.hubspot.auth import TokenSource
from airflow_provider_hubspot_assoc.hubspot.config import ClientConfig, ClientStats
from airflow_provider_hubspot_assoc.hubspot.daily import DailyBudget, daily_reset_at
from airflow_provider_hubspot_assoc.hubspot.http import JSON, SEND_ERRORS, Answer, Http, json_bytes
from airflow_provider_hubspot_assoc.hubspot.pacing import RateLimiter

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = {423, 477, 500, 502, 503, 504, 521, 522, 523, 524}
LOCKED_WAIT = 2.0  # seconds at least after a 423 (a record locked by another write for a moment)
BACKOFF = 0.25  # seconds, doubled per attempt (random up to that) ...
BACKOFF_MAX = 30.0  # ... and never more than this between two attempts
# HTTP connections (and sending threads) when max_in_flight is not set: at least this many, and enough
# for the window's whole limit at a latency of two windows (``in_flight_for`` asks for fewer).
LEAST_POOL = 32
# ... and at most this many, whatever limit a connection states: HubSpot's highest (250 per 10 s) needs
# 58 at 1.5 s, and a thread per request of a huge stated window would take the worker down.
MOST_POOL = 256


class Transport:
    """Sends one request at the pace HubSpot allows and retries what is safe to retry.

    :param config: the client's settings.
    :param stats: the client's counters, added to here.
    :param limiter: the rate limiter shared by every thread of the client.
    :param budget: the account's day: HubSpot's daily count and the connection's ``requests_per_day``.
    :param on_new_token: called with each new OAuth access token.
    """

    def __init__(
        self,
        config: ClientConfig,
        stats: ClientStats,
        limiter: RateLimiter,
        budget: DailyBudget,
        on_new_token: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self.stats = stats
        self.limiter = limiter
        self.budget = budget
        self.pool_size = config.max_in_flight or min(
            MOST_POOL, max(LEAST_POOL, 2 * config.requests_per_window)
        )
        # The environment (proxies, CA bundle) is read here, once: not at every request.
        self.http = Http(config.base_url, self.pool_size, config.connect_timeout, config.read_timeout)
        self.tokens = TokenSource(config, self.http, on_new_token, stats)
        self.on_request: Callable[[], None] | None = None  # called just before each attempt goes out

    def close(self) -> None:
        self.http.close()

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
        return status, as_dict(raw)

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
                retry=retry_if_exception_type(Retryable),
                stop=stop_after_attempt(self.config.max_attempts)
                | stop_after_delay(budget)
                | stop_before_delay(budget),
                wait=self._wait,
                before_sleep=self._before_retry,
                reraise=True,
            ):
                with attempt:
                    if attempts:
                        self.stats.add("retries")
                    attempts += 1
                    try:
                        return self._send_once(method, path, body, what, may_refresh=not refreshed)
                    except Retryable as failure:
                        refreshed = refreshed or failure.status == 401
                        reached = reached or failure.reached
                        maybe_applied = maybe_applied or failure.maybe_applied
                        raise
        except Retryable as error:
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
        least = error.wait if isinstance(error, Retryable) else 0.0
        wanted = max(least, wait_random_exponential(multiplier=BACKOFF, max=BACKOFF_MAX)(state))
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
        token = self.tokens.token()
        sent_at = self.limiter.acquire()
        try:  # the day last, as late as can be: the answers of requests in flight meanwhile count
            ticket = self.budget.take(what)  # a spent day raises here: nothing is sent
        except HubSpotDailyLimitError:
            self.limiter.forget(sent_at)
            raise
        if self.on_request is not None:
            self.on_request()
        started = time.monotonic()
        try:
            answer = self.http.send(
                method,
                self.config.base_url + path,
                None if body is None else json_bytes(body),
                # never sent to a host require_safe_url did not see: redirects are not followed
                {"Authorization": f"Bearer {token}", **({"Content-Type": JSON} if body is not None else {})},
            )
        except SEND_ERRORS as error:
            self._count(None)
            retry = lost_answer(error)  # not sent at all, or sent with its answer lost
            if retry is not None:
                raise retry from None
            raise request_failed(error, what) from None
        took = time.monotonic() - started
        self._count(took)
        if answer.status_code != 429:  # a 429 is uncounted: ``_rate_limited`` tells the limiter
            self.limiter.observe(answer.headers, sent_at, took)
        self.budget.observe(answer.headers, ticket)
        return self._read(answer, token, what, may_refresh, sent_at)

    def _read(
        self, answer: Answer, token: str, what: str, may_refresh: bool, sent_at: float
    ) -> tuple[int, Any]:
        """The answer's status and body, or the error (or retry) it means."""
        status = answer.status_code
        if status < 300:
            return status, success_body(answer)
        if status < 400:
            raise redirected(answer, what)
        payload = json_body(answer)
        wait = retry_after(answer.headers.get("Retry-After"))
        if status == 429:
            return self._rate_limited(payload, wait, what, answer.headers, sent_at)
        if status == 401:
            expired = payload.get("category") == "EXPIRED_AUTHENTICATION"
            if self.tokens.refreshable and (may_refresh or expired):
                self.tokens.invalidate(token)
                raise Retryable("401: access token refused; refreshing it", status=401)
            if self.tokens.refreshable:
                what = f"{what} (with a freshly refreshed OAuth access token)"
            raise HubSpotAuthError.from_answer(status, payload, what)
        if status == 403:
            refused = HubSpotScopeError.from_answer(status, payload, what)
            if refused.missing_scopes:
                refused.args = (f"{refused.args[0]} Missing scopes: {', '.join(refused.missing_scopes)}",)
            raise refused
        if status in RETRYABLE_STATUSES:
            least = LOCKED_WAIT if status == 423 else (wait or 0.0)
            # A 5xx may come from a gateway that lost the answer of a request HubSpot carried out.
            raise Retryable(
                f"HTTP {status} {payload.get('message', '')}".strip(),
                least,
                status,
                maybe_applied=status >= 500,
            )
        raise HubSpotValidationError.from_answer(status, payload, what)

    def _rate_limited(
        self,
        payload: dict[str, Any],
        wait: float | None,
        what: str,
        headers: Mapping[str, str],
        sent_at: float,
    ) -> tuple[int, dict[str, Any]]:
        self.stats.add("rate_limited")
        if payload.get("policyName") == "DAILY":
            reset_at = daily_reset_at(self.config.account_timezone, wait, headers)
            raise HubSpotDailyLimitError(
                f"{what}: HubSpot's daily request limit is used up; "
                f"it resets at {reset_at.to_iso8601_string()}",
                reset_at=reset_at,
                status=429,
                category="DAILY",
                body=payload,
            )
        # Hold the other threads no longer than a retry budget; this request waits for Retry-After
        # itself, so one past its budget ends its retries at once.
        held = self.limiter.refused(
            sent_at, headers, None if wait is None else min(wait, self.config.max_retry_seconds)
        )
        raise Retryable(f"429 {payload.get('policyName', 'rate limit')}", wait or held, 429)

    def _count(self, latency: float | None) -> None:
        requests_so_far = self.stats.count_request(latency)
        every = self.config.progress_every
        if every and requests_so_far % every == 0:
            stats = self.stats
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
