"""What an HTTP answer, or its absence, means: bodies read defensively, failures worth another try,
and errors that name a failure's type but never quote it (its text can hold the Authorization header).

Shared by the transport (API requests) and auth (OAuth token refreshes). No Airflow import.
"""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import urllib3

from airflow_provider_hubspot_assoc.exceptions import HubSpotRequestError
from airflow_provider_hubspot_assoc.hubspot.http import Answer
from airflow_provider_hubspot_assoc.models import MESSAGE_CHARS, NotJson

_errors = urllib3.exceptions
# Transport failures worth another try: no answer, or one cut off or garbled on the way (the write
# endpoints are idempotent, so a request whose answer was lost can be sent again). The rest of
# ``http.SEND_ERRORS`` is a request that could not be made (``request_failed``).
LOST_ANSWER = (
    _errors.TimeoutError,  # connecting or waiting for the answer
    _errors.ProtocolError,  # the connection dropped, or the answer was cut off
    _errors.DecodeError,  # a gzip or deflate body that does not decode
    _errors.SSLError,
    _errors.ProxyError,
    _errors.NewConnectionError,
    _errors.PoolError,
)
NOT_JSON_CHARS = 80  # of a body that is not JSON, quoted to say what came instead


class Retryable(Exception):
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


def never_connected(error: Exception) -> str | None:
    """Why no byte of the request reached HubSpot (refused, DNS, TLS, connect timeout); else None."""
    if isinstance(error, _errors.SSLError):
        return "TLS handshake failed"
    if isinstance(error, _errors.ProxyError):
        return "the proxy refused the connection"
    if isinstance(error, _errors.NameResolutionError):
        return "the host name could not be resolved (DNS)"
    if isinstance(error, _errors.NewConnectionError):  # a subclass of ConnectTimeoutError: first
        return "connection refused"
    if isinstance(error, _errors.ConnectTimeoutError):
        return "connection timed out"
    return None


def lost_answer(error: Exception) -> Retryable | None:
    """The retry a failed send is worth: not sent at all, or sent with its answer lost (HubSpot may
    have carried it out); None when the request could not be made (``request_failed``)."""
    if not isinstance(error, LOST_ANSWER):
        return None
    never = never_connected(error)
    if never is not None:
        return Retryable(never, reached=False)
    reason = (
        "timeout" if isinstance(error, _errors.TimeoutError) else f"connection error ({type(error).__name__})"
    )
    return Retryable(reason, maybe_applied=True)


def request_failed(error: Exception, what: str) -> HubSpotRequestError:
    """A request that could not be made; named by type only, as its text may quote the token."""
    return HubSpotRequestError(f"{what}: the request could not be made ({type(error).__name__})")


def redirected(answer: Answer, what: str) -> HubSpotRequestError:
    """A 3xx, which is not followed (it could send the token or OAuth secrets elsewhere)."""
    location = urlsplit(answer.headers.get("Location") or "")
    # scheme, host and path only: a query or user info may hold a secret
    target = f"{location.scheme}://{location.hostname}{location.path}" if location.hostname else location.path
    return HubSpotRequestError(
        f"{what}: HubSpot answered {answer.status_code}, a redirect to {target or 'nowhere'}; redirects are "
        "not followed: point the connection's host at the address that answers",
        status=answer.status_code,
    )


def json_body(answer: Answer) -> dict[str, Any]:
    """The body as a dict for reading fields (see ``as_dict``)."""
    return as_dict(success_body(answer))


def success_body(answer: Answer) -> Any:
    """The body as sent: decoded JSON of any type, None when empty, or ``NotJson``."""
    if not answer.content:
        return None
    try:
        return answer.json()
    except ValueError:
        kind = answer.headers.get("Content-Type", "no content type").split(";")[0]
        return NotJson(f"{kind}: {answer.text[:NOT_JSON_CHARS]!r}")


def as_dict(body: Any) -> dict[str, Any]:
    """A body as a dict for reading fields; other shapes keep their text under ``message``."""
    if body is None:
        return {}
    if isinstance(body, dict):
        return body
    return {"message": str(body)[:MESSAGE_CHARS]}


def retry_after(value: str | None) -> float | None:
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
