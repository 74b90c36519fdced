"""Many BatchResponses folded into one: the run's summary of every request it sent.

``merge`` folds the answers of one batch's requests (a batch sent in parts) or of a whole run;
``ResponseAccumulator`` does it as answers arrive, keeping a bounded number of errors so the
summary fits in XCom (the failed rows themselves are kept by the operator elsewhere). No Airflow
import.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

import pendulum

from airflow_provider_hubspot_assoc.models import CANONICAL_TIME, BatchError, BatchResponse

KEPT_ERRORS = 100  # errors a merged response keeps (the rest are counted): it must fit in XCom


# A merge answers like its most telling part; other codes rank last.
_HTTP_RANK = {204: 0, 200: 1, 201: 1, 207: 2}


def merge(responses: Iterable[BatchResponse]) -> BatchResponse:
    """One BatchResponse for many requests: earliest start, latest completion, all errors.

    The merged status is the least finished one (CANCELED beats PENDING beats PROCESSING beats
    COMPLETE), so a downstream sensor never sees COMPLETE while part of the work is not.
    """
    order = {"CANCELED": 0, "PENDING": 1, "PROCESSING": 2, "COMPLETE": 3}
    merged = BatchResponse(status="COMPLETE", http_status=204)
    statuses: list[str] = []
    for response in responses:
        statuses.append(response.status)
        merged.errors += response.errors
        merged.results += response.results
        merged.links.update(response.links)
        merged.pairs_sent += response.pairs_sent
        merged.unmatched_errors += response.unmatched_errors
        merged.unconfirmed = merged.unconfirmed or response.unconfirmed
        merged.unknown_pairs += response.unknown_pairs
        merged.http_status = max(
            merged.http_status, response.http_status, key=lambda code: _HTTP_RANK.get(code, 3)
        )
        for attr, pick in (("requested_at", min), ("started_at", min), ("completed_at", max)):
            value = getattr(response, attr)
            current = getattr(merged, attr)
            if value is not None:
                setattr(merged, attr, value if current is None else _pick_time(pick, current, value))
    if statuses:
        merged.status = min(statuses, key=lambda s: order.get(s, 3))
    return merged


@functools.lru_cache(maxsize=256)  # a run's merged start and end times come back at every request
def _instant(text: str) -> Any:
    return pendulum.parse(text)


def _pick_time(pick: Callable[..., Any], current: str, value: str) -> str:
    """``min``/``max`` of two ISO timestamps compared as instants, not as text.

    HubSpot may leave out a zero fraction ("08:00:01Z" vs "08:00:01.500Z"), which sorts wrongly as
    text. Timestamps that do not parse are compared as text.
    """
    if current == value:
        return current
    if CANONICAL_TIME.fullmatch(current) and CANONICAL_TIME.fullmatch(value):
        return str(pick(current, value))  # one fixed-width form in UTC: text order is time order
    try:
        instants = (_instant(current), _instant(value))
        return (current, value)[pick((0, 1), key=lambda i: instants[i])]
    except (ValueError, TypeError):
        return str(pick(current, value))


class ResponseAccumulator:
    """Merges responses as they arrive, keeping at most ``keep_errors`` errors (and their count).

    A long run can produce errors for millions of pairs; the full list of failed rows is kept by the
    operator elsewhere, so the merged BatchResponse stays small enough for XCom.
    """

    def __init__(self, keep_errors: int = KEPT_ERRORS) -> None:
        self.keep_errors = keep_errors
        self.merged = BatchResponse(status="COMPLETE", http_status=204)
        self.total_errors = 0
        self.responses = 0

    def add(self, response: BatchResponse) -> None:
        self.responses += 1
        self.total_errors += len(response.errors)
        merged = merge([self.merged, response])  # not a trimmed copy first: that costs more than this
        merged.errors = merged.errors[: self.keep_errors]
        merged.results = []
        self.merged = merged

    def to_state(self) -> dict[str, Any]:
        return {
            "merged": self.merged.to_json(),
            "total_errors": self.total_errors,
            "responses": self.responses,
        }

    @classmethod
    def from_state(cls, keep_errors: int, state: dict[str, Any]) -> ResponseAccumulator:
        accumulator = cls(keep_errors)
        merged = state["merged"]
        accumulator.merged = BatchResponse(
            status=merged["status"],
            errors=[BatchError.from_json(e) for e in merged.get("errors") or []],
            requested_at=merged.get("requestedAt"),
            started_at=merged.get("startedAt"),
            completed_at=merged.get("completedAt"),
            links=dict(merged.get("links") or {}),
        )
        accumulator.total_errors = int(state["total_errors"])
        accumulator.responses = int(state["responses"])
        return accumulator

    def to_json(self) -> dict[str, Any]:
        data = self.merged.to_json()
        data["numErrors"] = self.total_errors
        cut = self.total_errors - len(self.merged.errors)
        if cut:
            data["errorsTruncated"] = cut
        return data
