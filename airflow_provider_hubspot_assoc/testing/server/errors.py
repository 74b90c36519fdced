"""HubSpot's answer bodies for errors and batches, and the exceptions that carry an answer out.

Every module of the server raises ``ApiError`` to answer with an error, or ``Drop`` to close the
connection without any answer; the dispatcher (``simulator.py``) turns them into bytes.
"""

from __future__ import annotations

import uuid
from typing import Any

from airflow_provider_hubspot_assoc.models import iso_timestamp
from airflow_provider_hubspot_assoc.object_types import canonical_name, singular_name

# One request answered: (HTTP status, JSON payload or None for no body).
Answer = tuple[int, Any]


class ApiError(Exception):
    """An error answer: HTTP status plus HubSpot's error body."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(body.get("message", ""))
        self.status = status
        self.body = body
        self.headers = headers or {}


class Drop(Exception):
    """Close the connection without an answer."""


def error_body(message: str, category: str = "VALIDATION_ERROR", **extra: Any) -> dict[str, Any]:
    """HubSpot's top-level error body (``Error`` in the specs, which requires ``category``).

    Every error of the simulator has one; only 429s (``errorType``) and the OAuth token endpoint
    (RFC 6749 ``error``) answer in their own documented shapes.
    """
    body: dict[str, Any] = {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
    }
    body.update(extra)
    return body


def validation_error(message: str, **extra: Any) -> ApiError:
    """A 400 ``VALIDATION_ERROR``: the answer to every malformed request."""
    return ApiError(400, error_body(message, **extra))


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


def batch_response(
    started: str, results: list[Any], errors: list[dict[str, Any]], success: int = 200
) -> Answer:
    """A ``BatchResponse``: ``success`` (200, or 201 for a create), or 207 with ``errors`` and
    ``numErrors`` when any input failed."""
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
    return success, answer


def error_type_name(object_type: str) -> str:
    """How HubSpot names an object type in error contexts: ``contact`` for ``0-1``.

    Standard objects get their singular name (bodies observed from HubSpot use ``CONTACT`` in
    ``INVALID_OBJECT_IDS`` and ``deal``/``company`` in batch/read errors); nothing documents custom
    objects, so they keep their type id (``2-123``) or fully qualified name.
    """
    return singular_name(object_type) if canonical_name(object_type) is not None else object_type


def invalid_object_ids_context(bad: list[tuple[str, str]]) -> dict[str, list[str]]:
    """``context`` of HubSpot's "One or more associations are invalid" for (object type, id) pairs.

    Observed on a v4 association write: ``{"INVALID_OBJECT_IDS": ["CONTACT=38374264688 is not
    valid"], "objectId": ["38374264688"], "objectType": ["CONTACT"]}``: standard type names in
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
