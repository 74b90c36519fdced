"""Bad-row isolation: a batch HubSpot refuses as a whole is bisected until the refused rows are found.

One bad row must not sink the 99 good ones sent with it. No Airflow import.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from airflow_provider_hubspot_assoc.exceptions import (
    HubSpotError,
    HubSpotRetriesExhaustedError,
    HubSpotUnreachableError,
    HubSpotValidationError,
)
from airflow_provider_hubspot_assoc.hubspot.config import ClientStats
from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.models import BatchError, BatchResponse, archive_inputs, merge, pairs_of

log = logging.getLogger(__name__)

Inputs = list[dict[str, Any]]
SendBatch = Callable[[Inputs], BatchResponse]  # one request; raises HubSpot's refusal


def send_isolating(
    send: SendBatch, kind: Kind, inputs: Inputs, max_requests: int, stats: ClientStats
) -> BatchResponse:
    """Send a batch; if HubSpot refuses it as a whole (a 400 naming no input), find the bad rows.

    The refused batch is split in halves, recursively, until the rows HubSpot refuses are
    isolated; everything else is sent. Isolated rows come back as failed with HubSpot's message.
    At most ``max_requests`` extra requests are spent per batch; rows not isolated within that
    budget are reported failed with the refusal, never dropped.

    Only a 400 is bisected (a 404 is about the path, not the rows). Before bisecting, one request
    with no inputs is sent: if HubSpot refuses it the same way, the refusal is not about any row
    (say "Unable to infer object type") and the batch is reported failed after 1 extra request.

    :param send: sends one request of native inputs (kind and object types bound).
    :param kind: what the inputs ask for (archive, labels archive, create).
    :param inputs: the batch's native inputs.
    :param max_requests: the extra requests this batch may cost.
    :param stats: the client's counters (``isolation_requests``).
    """
    try:
        return send(inputs)
    except HubSpotValidationError as refusal:
        if refusal.status != 400 or len(pairs_of(kind, inputs)) <= 1:
            return failed_response(kind, inputs, refusal)
        probes = min(1, max_requests)
        if probes and _refuses_any_request(send, refusal, stats):
            log.warning("HubSpot refuses even an empty request (%s); not isolating rows", refusal)
            return failed_response(
                kind, inputs, refusal, note="HubSpot refuses any request here: not about particular rows"
            )
        log.warning(
            "HubSpot refused a request of %d pairs as a whole (%s); isolating the bad rows by bisection",
            len(pairs_of(kind, inputs)),
            refusal,
        )
        allowed = max_requests - probes
        budget = [allowed]
        parts = _bisect(send, kind, split_inputs(kind, inputs), refusal, budget)
        extra = allowed - budget[0]  # the probe is counted in the stats already
        merged = merge(parts)
        log.warning(
            "Isolation done: %d of %d pairs refused, %d extra requests",
            len(merged.failed_pairs()),
            merged.pairs_sent,
            extra + probes,
        )
        stats.add("isolation_requests", extra)
        return merged


def _refuses_any_request(send: SendBatch, refusal: HubSpotValidationError, stats: ClientStats) -> bool:
    """Whether HubSpot refuses a request with no inputs the way it refused the batch (one request).

    Archiving or creating nothing changes nothing, so the probe is safe; any other outcome, including an
    acceptance or a different refusal, means the refusal may be about rows, so bisection goes on.
    """
    stats.add("isolation_requests")
    try:
        send([])
    except HubSpotValidationError as again:
        return _same_refusal(again, refusal)
    except HubSpotRetriesExhaustedError:
        return False
    return False


def _bisect(
    send: SendBatch,
    kind: Kind,
    halves: tuple[Inputs, Inputs],
    refusal: HubSpotValidationError,
    budget: list[int],
) -> list[BatchResponse]:
    answers: list[BatchResponse] = []
    for half in halves:
        if not half:
            continue
        if budget[0] <= 0:
            answers.append(failed_response(kind, half, refusal, note="not isolated: bisection budget spent"))
            continue
        budget[0] -= 1
        try:
            answers.append(send(half))
        except HubSpotValidationError as again:
            if again.status != 400 or len(pairs_of(kind, half)) <= 1:
                answers.append(failed_response(kind, half, again))
            else:
                answers += _bisect(send, kind, split_inputs(kind, half), again, budget)
    return answers


def _same_refusal(one: HubSpotError, other: HubSpotError) -> bool:
    """Same status, category and HubSpot message (correlation ids differ from answer to answer)."""
    return (one.status, one.category, one.body.get("message")) == (
        other.status,
        other.category,
        other.body.get("message"),
    )


def split_inputs(kind: Kind, inputs: Inputs) -> tuple[Inputs, Inputs]:
    """Two halves of a request by pairs; a multi-``to`` input may be cut in two."""
    if kind is not Kind.ARCHIVE:
        middle = len(inputs) // 2
        return inputs[:middle], inputs[middle:]
    pairs = pairs_of(kind, inputs)
    middle = len(pairs) // 2
    return archive_inputs(pairs[:middle]), archive_inputs(pairs[middle:])


def failed_response(kind: Kind, batch: Inputs, error: HubSpotError, note: str | None = None) -> BatchResponse:
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
