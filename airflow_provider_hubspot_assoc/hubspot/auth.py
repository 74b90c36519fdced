"""The bearer token of every request: a private app's, or an OAuth app's, refreshed before it expires.

No Airflow import. The OAuth form is never posted to a host ``require_safe_url`` did not see, nor
re-posted after a redirect.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from urllib.parse import urlencode, urljoin

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from airflow_provider_hubspot_assoc.exceptions import HubSpotAuthError
from airflow_provider_hubspot_assoc.hubspot.answers import (
    Retryable,
    json_body,
    lost_answer,
    redirected,
    request_failed,
)
from airflow_provider_hubspot_assoc.hubspot.config import (
    ClientConfig,
    ClientStats,
    clean_token,
    require_safe_url,
)
from airflow_provider_hubspot_assoc.hubspot.http import FORM, SEND_ERRORS, Http

log = logging.getLogger(__name__)

REFRESH_ATTEMPTS = 5  # with the backoff below, a token endpoint down for 15 s at most is ridden out
REFRESH_BACKOFF = 0.5  # seconds, doubled per attempt (random up to that) ...
REFRESH_BACKOFF_MAX = 10.0  # ... and never more than this
DEFAULT_TOKEN_LIFETIME = 1800.0  # HubSpot's access tokens live 30 minutes when it does not say
# Refresh early, with this part of a token's lifetime left (at most EARLY_MAX seconds): a request
# sent with a token about to expire may arrive after it did.
EARLY_PART = 0.1
EARLY_MAX = 300.0


class TokenSource:
    """Hands out the bearer token; refreshes OAuth access tokens before they expire, once for all threads.

    :param config: the client's settings (credentials, host, timeouts).
    :param http: the HTTP pool the refresh goes through.
    :param on_new_token: called with each new access token (the hook registers it with Airflow's
        secret masker).
    :param stats: the client's counters (``token_refreshes``).
    """

    def __init__(
        self,
        config: ClientConfig,
        http: Http,
        on_new_token: Callable[[str], None] | None,
        stats: ClientStats,
    ) -> None:
        self._config = config
        self._http = http
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
            retry=retry_if_exception_type(Retryable),
            stop=stop_after_attempt(REFRESH_ATTEMPTS),
            wait=wait_random_exponential(multiplier=REFRESH_BACKOFF, max=REFRESH_BACKOFF_MAX),
            reraise=True,
        ):
            with attempt:
                try:
                    # never re-posted to another host: redirects are not followed
                    answer = self._http.send("POST", url, urlencode(form).encode(), {"Content-Type": FORM})
                except SEND_ERRORS as error:
                    if lost_answer(error) is not None:
                        raise Retryable(f"OAuth token refresh: {type(error).__name__}") from None
                    raise request_failed(error, "OAuth token refresh") from None
                if answer.status_code >= 500 or answer.status_code == 429:
                    raise Retryable(
                        f"OAuth token refresh: HTTP {answer.status_code}", status=answer.status_code
                    )
        if 300 <= answer.status_code < 400:
            raise redirected(answer, "OAuth token refresh")
        body = json_body(answer)
        if answer.status_code != 200 or "access_token" not in body:
            raise HubSpotAuthError.from_answer(answer.status_code, body, "OAuth token refresh failed")
        try:
            token = clean_token(str(body["access_token"]), "OAuth access token HubSpot answered")
        except ValueError as error:
            raise HubSpotAuthError(f"OAuth token refresh: {error}", status=answer.status_code) from None
        if self._on_new_token:
            self._on_new_token(token)
        lifetime = float(body.get("expires_in") or DEFAULT_TOKEN_LIFETIME)
        self._expires_at = time.monotonic() + lifetime - min(EARLY_MAX, lifetime * EARLY_PART)
        self._token = token
        self._stats.add("token_refreshes")
        log.info("HubSpot OAuth access token refreshed; valid for %d s", int(lifetime))
