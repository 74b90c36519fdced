"""Errors raised by the HubSpot client and hook. None of them ever carries a token."""

from __future__ import annotations

from typing import Any, TypeVar

import pendulum

_Error = TypeVar("_Error", bound="HubSpotError")


class HubSpotError(Exception):
    """An answer from HubSpot that the client could not turn into a result."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        category: str | None = None,
        correlation_id: str | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.batch: list[dict[str, Any]] | None = None  # the request it struck, when it stopped a run
        # Every request from the first one a stopping error struck in that run, in order, and the answer
        # each got (None: struck, not applied; a request sent before the stop may have an answer).
        self.struck: list[list[dict[str, Any]]] = []
        self.answers: list[Any] = []
        # The answer of a batch sent in parts (re-chunked) for the parts sent before this error struck,
        # the rest as not sent; None: nothing of it was sent.
        self.partial: Any = None
        self.status = status
        self.category = category
        self.correlation_id = correlation_id
        self.body = body or {}

    @classmethod
    def from_answer(cls: type[_Error], status: int, body: dict[str, Any], what: str) -> _Error:
        """Build the error from HubSpot's error body (every field is optional there)."""
        message = str(body.get("message") or body.get("error_description") or "no message")
        category = body.get("category") or body.get("errorType") or body.get("error")
        text = f"{what}: HubSpot answered {status}"
        if category:
            text += f" {category}"
        text += f": {message}"
        if body.get("correlationId"):
            text += f" (correlation id {body['correlationId']})"
        return cls(
            text,
            status=status,
            category=str(category) if category else None,
            correlation_id=body.get("correlationId"),
            body=body,
        )


class HubSpotAuthError(HubSpotError):
    """401: the token is wrong, revoked or expired, or the OAuth refresh failed."""


class HubSpotScopeError(HubSpotError):
    """403 MISSING_SCOPES: the app lacks scopes; ``missing_scopes`` names them."""

    @property
    def missing_scopes(self) -> list[str]:
        scopes: list[str] = []
        for detail in self.body.get("errors") or []:
            context = detail.get("context") or {} if isinstance(detail, dict) else {}
            for key in ("requiredScopes", "requiredGranularScopes", "missingScopes"):
                scopes += [s for s in context.get(key, []) if s not in scopes]
        return scopes


class HubSpotValidationError(HubSpotError):
    """400 (and other 4xx not retried): HubSpot refused the request as a whole."""


class HubSpotRetriesExhaustedError(HubSpotError):
    """A retryable failure (429, 5xx, timeout, dropped connection) outlasted the retry budget.

    ``maybe_applied`` is True when an attempt may have reached HubSpot and been carried out though
    its answer was lost (a read timeout, a connection dropped after the request was sent, a 5xx):
    the outcome of such a request is unknown, not failed.
    """

    def __init__(self, message: str, *, maybe_applied: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.maybe_applied = maybe_applied


class HubSpotRequestError(HubSpotError):
    """A request that could not be sent, or a redirect: a setup problem, not retried.

    The message names only the failure's type and the request, never the underlying error's text
    (which can hold the Authorization header).
    """


class HubSpotUnreachableError(HubSpotRequestError):
    """No attempt of a request reached HubSpot (connection refused, DNS, TLS): nothing was applied.

    The run stops: the next requests would not get through either.
    """


class HubSpotDailyLimitError(HubSpotError):
    """429 DAILY: the account's daily request limit is used up until ``reset_at``."""

    def __init__(self, message: str, *, reset_at: pendulum.DateTime, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.reset_at = reset_at


class InvalidInputError(ValueError):
    """An input row that cannot be sent; the message names the row and the field."""

    def __init__(self, message: str, *, row: int | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.row = row
        self.field = field
