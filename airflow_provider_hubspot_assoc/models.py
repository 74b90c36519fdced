"""HubSpot's BatchResponse as a typed model, matched to the inputs of the request that produced it.

HubSpot answers an archive with 204 and no body, 200 with a BatchResponse, or 207 with per-input
errors (all three have been seen on these endpoints); a create with 201 (200 on the 2026-09 path, and
HubSpot has switched a create endpoint from 201 to 200 before) or 207, each a BatchResponse whose
results name the pairs created. ``BatchResponse.from_answer`` accepts each; ``response_merge`` folds
the answers of many requests into one. No Airflow import.

A 2xx is proof only when it is one of those answers: a 204 (archive), or a JSON BatchResponse whose
status is COMPLETE, whose ``errors`` is a list and whose ``numErrors`` (when given) is no larger than
that list. Then the pairs it does not name as failed were archived; a pair counts as created only
when a result names it as well. Anything else (not JSON, another shape, PENDING, PROCESSING, CANCELED,
errors HubSpot counted but did not list, a create result missing) proves nothing about those pairs:
``BatchResponse.unconfirmed`` then says why, and their outcome is unknown until read back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from airflow_provider_hubspot_assoc.kinds import Kind

STATUSES = ("PENDING", "PROCESSING", "CANCELED", "COMPLETE")
MESSAGE_CHARS = 500  # of an odd error entry or body kept as a message: enough to read, not a dump


class NotJson(str):
    """A 2xx body that is not JSON (the text's content type and first characters, for messages)."""


# Pair = (from id, to id); label removal key = (from id, to id, category, type id).
Pair = tuple[str, str]

# The 2xx statuses HubSpot answers each kind of request with (any other proves nothing): archive 204
# (v4), 200 (dated paths) or 207; create 201 (v4, 2025-09, 2026-03), 200 (2026-09) or 207.
# https://developers.hubspot.com/docs/api-reference/legacy/crm/associations/associate-records/batch/create-associations-labeled
ANSWERS: dict[Kind, tuple[int, ...]] = {
    Kind.ARCHIVE: (204, 200, 207),
    Kind.LABELS: (204, 200, 207),
    Kind.CREATE: (201, 200, 207),
}


def pairs_of(kind: Kind, inputs: list[dict[str, Any]]) -> list[Pair]:
    """The (from id, to id) pairs of a request's native inputs, in order (labels and create: one an input)."""
    if kind is Kind.ARCHIVE:
        return [(str(i["from"]["id"]), str(t["id"])) for i in inputs for t in i["to"]]
    return [(str(i["from"]["id"]), str(i["to"]["id"])) for i in inputs]


def archive_inputs(pairs: Iterable[Pair]) -> list[dict[str, Any]]:
    """HubSpot's archive inputs of ``pairs``: one input per from id, holding its to ids in order."""
    targets: dict[str, list[dict[str, str]]] = {}
    for from_id, to_id in pairs:
        listed = targets.get(from_id)  # (setdefault would build a list for every pair)
        if listed is None:
            targets[from_id] = [{"id": to_id}]
        else:
            listed.append({"id": to_id})
    return [{"from": {"id": from_id}, "to": to} for from_id, to in targets.items()]


# ``iso_timestamp``'s form: two of them compare as instants when compared as text.
CANONICAL_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")


def iso_timestamp(moment: datetime | None = None) -> str:
    """HubSpot's timestamp format (ISO 8601, milliseconds, UTC ``Z``); now when no moment is given.

    Formatted by the standard library: two of these are made per request, and pendulum's ``format``
    costs ten times as much.
    """
    at = (moment or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return f"{at:%Y-%m-%dT%H:%M:%S}.{at.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class BatchError:
    """One entry of ``errors[]`` (HubSpot's StandardError), with the pairs it concerns."""

    category: str
    message: str
    status: str = "error"
    sub_category: str | None = None
    context: dict[str, list[str]] = field(default_factory=dict)
    pairs: tuple[Pair, ...] = ()

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> BatchError:
        context = raw.get("context") if isinstance(raw.get("context"), dict) else {}
        sub = raw.get("subCategory")
        return cls(
            category=str(raw.get("category") or "UNKNOWN"),
            message=str(raw.get("message") or ""),
            status=str(raw.get("status") or "error"),
            sub_category=str(sub) if sub is not None else None,
            context={str(k): [str(x) for x in v] for k, v in (context or {}).items() if isinstance(v, list)},
            pairs=tuple((str(p[0]), str(p[1])) for p in raw.get("pairs") or [] if len(p) == 2),
        )

    @property
    def from_ids(self) -> list[str]:
        return self.context.get("fromObjectId", [])

    @property
    def to_ids(self) -> list[str]:
        return self.context.get("toObjectId", [])

    @property
    def means_already_gone(self) -> bool:
        """HubSpot says there was no association to remove (a retried request's first try did)."""
        return (self.sub_category or "").endswith("NO_ASSOCIATIONS_FOUND")

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "status": self.status,
            "category": self.category,
            "message": self.message,
            "context": self.context,
        }
        if self.sub_category:
            data["subCategory"] = self.sub_category
        if self.pairs:
            data["pairs"] = [list(p) for p in self.pairs]
        return data


@dataclass
class BatchResponse:
    """A BatchResponse, plus which pairs of the request were sent and which failed."""

    status: str = "COMPLETE"
    errors: list[BatchError] = field(default_factory=list)
    requested_at: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    results: list[Any] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)
    http_status: int = 204
    pairs_sent: int = 0
    unmatched_errors: int = 0
    unconfirmed: str | None = None  # why this answer proves nothing for the pairs it does not name
    unknown_pairs: list[Pair] = field(default_factory=list)  # sent, but neither confirmed nor failed

    @classmethod
    def from_answer(
        cls,
        http_status: int,
        body: Any,
        pairs: list[Pair],
        *,
        requested_at: str | None = None,
        kind: Kind = Kind.ARCHIVE,
    ) -> BatchResponse:
        """Build from an HTTP answer (``ANSWERS[kind]``) and match errors (and, for a create, results)
        to ``pairs``.

        ``body`` is the decoded JSON (of any type), None for no body, or ``NotJson``.
        """
        now = iso_timestamp()
        unconfirmed = no_proof(http_status, body, kind)
        body = body if isinstance(body, dict) else {}
        status = body.get("status") if body.get("status") in STATUSES else "COMPLETE"
        listed = body.get("errors") if isinstance(body.get("errors"), list) else []
        # An entry that is not an object names no input: it could be about any pair sent.
        errors = [
            BatchError.from_json(e) if isinstance(e, dict) else BatchError("UNKNOWN", str(e)[:MESSAGE_CHARS])
            for e in listed
        ]
        response = cls(
            status=str(status),
            requested_at=body.get("requestedAt") or requested_at or now,
            started_at=body.get("startedAt") or requested_at or now,
            completed_at=body.get("completedAt") or now,
            results=list(body.get("results") or []),
            links=dict(body.get("links") or {}),
            http_status=http_status,
            pairs_sent=len(pairs),
            unconfirmed=unconfirmed,
        )
        response.errors, response.unmatched_errors = match_errors(errors, pairs)
        named = response.failed_pairs()
        if not unconfirmed and response.unmatched_errors:
            # An error that names no pair we sent could be about any of them: none is confirmed.
            unconfirmed = (
                f"{response.unmatched_errors} error(s) in HubSpot's answer name no input of this request"
            )
        elif not unconfirmed and kind is Kind.CREATE:
            named |= created_pairs(response.results)
            missing = sum(pair not in named for pair in pairs)
            if missing:
                unconfirmed = (
                    f"HubSpot's answer names {missing} of the {len(pairs)} pairs sent neither as created "
                    "nor as failed"
                )
        if unconfirmed:
            response.unconfirmed = unconfirmed
            response.unknown_pairs = [pair for pair in pairs if pair not in named]
        return response

    @property
    def num_errors(self) -> int:
        return len(self.errors)

    def failed_pairs(self) -> set[Pair]:
        return {pair for error in self.errors for pair in error.pairs}

    def to_json(self, max_errors: int | None = None) -> dict[str, Any]:
        """HubSpot's BatchResponse shape (JSON-ready); ``errors`` capped with the count cut."""
        errors = self.errors if max_errors is None else self.errors[:max_errors]
        data: dict[str, Any] = {
            "status": self.status,
            "requestedAt": self.requested_at,
            "startedAt": self.started_at,
            "completedAt": self.completed_at,
            "numErrors": self.num_errors,
            "errors": [e.to_json() for e in errors],
            "results": self.results,
            "links": self.links,
        }
        if len(errors) < len(self.errors):
            data["errorsTruncated"] = len(self.errors) - len(errors)
        return data


def no_proof(http_status: int, body: Any, kind: Kind = Kind.ARCHIVE) -> str | None:
    """Why a 2xx answer to a ``kind`` request is no proof of what it did; None when it is proof."""
    if http_status not in ANSWERS[kind]:
        return f"HubSpot answered HTTP {http_status}, which is not one of its answers to this request"
    if http_status == 204:
        return None
    if isinstance(body, NotJson):
        return f"HubSpot answered HTTP {http_status} with a body that is not JSON ({body})"
    if not isinstance(body, dict) or "status" not in body or not isinstance(body.get("results"), list):
        shape = type(body).__name__ if not isinstance(body, dict) else f"keys {sorted(map(str, body))[:8]}"
        return f"HubSpot answered HTTP {http_status} with something that is not a BatchResponse ({shape})"
    status = body["status"]
    if status != "COMPLETE":
        return f"HubSpot answered HTTP {http_status} with status {str(status)[:40]!r}, not COMPLETE"
    errors = body.get("errors", [])
    if not isinstance(errors, list):
        return f"HubSpot answered HTTP {http_status} with errors that are not a list"
    counted = body.get("numErrors")
    if counted is not None and (
        isinstance(counted, bool) or not isinstance(counted, int) or counted > len(errors)
    ):
        return (
            f"HubSpot answered HTTP {http_status} counting numErrors {str(counted)[:20]} but listing "
            f"{len(errors)} error(s)"
        )
    return None


def created_pairs(results: list[Any]) -> set[Pair]:
    """The pairs a create answer's results name (``LabelsBetweenObjectPair``: ids as strings or numbers)."""
    return {
        (str(result["fromObjectId"]), str(result["toObjectId"]))
        for result in results
        if isinstance(result, dict)
        and result.get("fromObjectId") is not None
        and result.get("toObjectId") is not None
    }


def created_labels(results: list[Any]) -> dict[Pair, set[str]]:
    """The labels a create answer's results name for each pair (``LabelsBetweenObjectPair.labels``).

    The only place the answer names types: a labeled type sent is proven only when its label is here.
    """
    labels: dict[Pair, set[str]] = {}
    for pair in created_pairs(results):
        labels.setdefault(pair, set())
    for result in results:
        if isinstance(result, dict) and isinstance(result.get("labels"), list):
            pair = (str(result.get("fromObjectId")), str(result.get("toObjectId")))
            labels.setdefault(pair, set()).update(str(name) for name in result["labels"])
    return labels


def match_errors(errors: list[BatchError], pairs: list[Pair]) -> tuple[list[BatchError], int]:
    """Attach to each error the sent pairs it names (by ``fromObjectId``/``toObjectId`` context).

    An error naming only a from id concerns every sent pair with that from id. Returns the errors
    and how many of them named no sent pair.
    """
    if not errors:  # most answers: nothing to match
        return [], 0
    by_from: dict[str, list[Pair]] = {}
    for pair in pairs:
        by_from.setdefault(pair[0], []).append(pair)
    matched: list[BatchError] = []
    unmatched = 0
    for error in errors:
        found: list[Pair] = []
        for from_id in error.from_ids:
            candidates = by_from.get(from_id, [])
            if error.to_ids:
                candidates = [p for p in candidates if p[1] in error.to_ids]
            found += [p for p in candidates if p not in found]
        if not found:
            unmatched += 1
        matched.append(
            BatchError(
                error.category, error.message, error.status, error.sub_category, error.context, tuple(found)
            )
        )
    return matched, unmatched
