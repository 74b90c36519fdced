"""Who may call: bearer tokens (private apps and OAuth), scopes per object type, the OAuth token endpoint.

Private-app tokens come from ``SimulatorConfig.tokens`` and never expire; OAuth access tokens are
issued by the refresh grant and expire after ``access_token_lifetime_seconds`` (or after
``FaultConfig.expire_tokens_after`` uses). Nothing here ever logs or returns a token it was sent.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import pendulum

from airflow_provider_hubspot_assoc.models import iso_timestamp
from airflow_provider_hubspot_assoc.object_types import canonical_name
from airflow_provider_hubspot_assoc.testing.config import SimulatorConfig
from airflow_provider_hubspot_assoc.testing.server.errors import Answer, ApiError, error_body

PORTAL_ID = 24_681_357
SCOPES_LINK = "https://developers.hubspot.com/scopes"


@dataclass
class IssuedToken:
    """What a bearer token stands for: its scopes, the app it counts against, its expiry."""

    scopes: frozenset[str]
    app: str
    expires_at: float
    oauth: bool = True
    uses: int = 0


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


def check_scopes(token: IssuedToken, writes: bool, from_type: str, to_type: str) -> None:
    """Raise HubSpot's 403 ``MISSING_SCOPES`` unless the token may use both object types."""
    if writes:
        missing = sorted({write_scope(t) for t in (from_type, to_type)} - token.scopes)
    else:
        missing = sorted({write_scope(t) for t in (from_type, to_type) if not read_scopes(t) & token.scopes})
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


class Tokens:
    """The tokens the simulator accepts and the OAuth access tokens it has issued.

    :param lock: the simulator's lock (settings and issued tokens change while requests run).
    """

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self.issued: dict[str, IssuedToken] = {}

    def authenticate(self, config: SimulatorConfig, headers: dict[str, str]) -> IssuedToken:
        """The token of ``Authorization: Bearer ...``, or HubSpot's 401 (unknown or expired)."""
        scheme, _, token = headers.get("authorization", "").partition(" ")
        with self._lock:
            if scheme.lower() != "bearer" or not token:
                found = None
            elif token in config.tokens:
                found = IssuedToken(
                    config.tokens[token], app=f"private:{token}", expires_at=float("inf"), oauth=False
                )
            else:
                found = self.issued.get(token)
            if found is None:
                raise ApiError(
                    401, error_body("Authentication credentials not found.", "INVALID_AUTHENTICATION")
                )
            if found.oauth:
                self._use(found, config.faults.expire_tokens_after)
        return found

    @staticmethod
    def _use(token: IssuedToken, expire_after: int) -> None:
        token.uses += 1
        if expire_after and token.uses > expire_after:
            token.expires_at = min(token.expires_at, time.monotonic())
        if time.monotonic() >= token.expires_at:
            ago = max(int(time.monotonic() - token.expires_at), 0)
            expired_at = iso_timestamp(pendulum.now("UTC").subtract(seconds=ago))
            raise ApiError(
                401,
                error_body(
                    f"The OAuth token used to make this call expired {ago} second(s) ago.",
                    "EXPIRED_AUTHENTICATION",
                    context={"expire time": [expired_at]},
                ),
            )

    def revoke(self, token: str) -> None:
        with self._lock:
            self.issued.pop(token, None)

    def expire_all(self) -> None:
        with self._lock:
            for issued in self.issued.values():
                issued.expires_at = time.monotonic() - 1

    def clear(self) -> None:
        with self._lock:
            self.issued.clear()

    def oauth_token(self, config: SimulatorConfig, body: bytes) -> Answer:
        """``POST /oauth/v1/token`` (and v3, 2026-03): the refresh grant, with RFC 6749 errors."""
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        with self._lock:
            secret = config.oauth_clients.get(form.get("client_id", ""))
            if secret is None or not secrets.compare_digest(secret, form.get("client_secret", "")):
                return 400, _oauth_error(
                    "BAD_CLIENT_ID",
                    "missing or unknown client id",
                    "invalid_client",
                    "missing or unknown client id",
                )
            if form.get("grant_type") != "refresh_token":
                return 400, _oauth_error(
                    "BAD_GRANT_TYPE", "grant_type must be refresh_token", "unsupported_grant_type"
                )
            refresh = form.get("refresh_token", "")
            scopes = config.oauth_refresh_tokens.get(refresh)
            if scopes is None:
                return 400, _oauth_error(
                    "BAD_REFRESH_TOKEN",
                    "missing or invalid refresh token",
                    "invalid_grant",
                    "refresh token is invalid, expired or revoked",
                )
            access = "sim-oauth-" + secrets.token_urlsafe(24)
            lifetime = config.access_token_lifetime_seconds
            self.issued[access] = IssuedToken(
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


def _oauth_error(status: str, message: str, error: str, description: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status, "message": message, "error": error}
    if description is not None:
        body["error_description"] = description
    body["correlationId"] = str(uuid.uuid4())
    return body
