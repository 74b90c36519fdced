"""Bad-row isolation: a batch HubSpot refuses as a whole is bisected until the refused rows are found.

One bad row must not sink the 99 good ones sent with it. A refusal that names a maximum the request
was over ("The maximum number of inputs supported in a batch is N") is about its size, not its
rows: the run's ``RequestSize`` is lowered to N and the same pairs go again in smaller requests,
none of them failed, none bisected. No Airflow import.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

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
from airflow_provider_hubspot_assoc.hubspot.config import ClientStats
from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.models import BatchError, BatchResponse, archive_inputs, pairs_of
from airflow_provider_hubspot_assoc.request_size import RequestSize
from airflow_provider_hubspot_assoc.response_merge import merge

log = logging.getLogger(__name__)

Inputs = list[dict[str, Any]]
SendBatch = Callable[[Inputs], BatchResponse]  # one request; raises HubSpot's refusal
# Errors that stop a run: the next requests would meet them too (or must not be sent, past a limit).
# Raised from a batch sent in parts, they carry the answers of the parts sent before them.
STOPPING = (HubSpotAuthError, HubSpotScopeError, HubSpotDailyLimitError, HubSpotRequestError)


def send_isolating(
    send: SendBatch,
    kind: Kind,
    inputs: Inputs,
    max_requests: int,
    stats: ClientStats,
    size: RequestSize | None = None,
) -> BatchResponse:
    """Send a batch; if HubSpot refuses it as a whole (a 400 naming no input), find the bad rows.

    With ``size``, a batch larger than it (made before a cap was lowered) is sent in parts within it;
    a 400 naming a maximum the batch was over lowers ``size`` to it (logged once) and sends the batch
    again in parts: its pairs are neither failed nor bisected. A maximum the batch was not over, or
    no readable maximum, is any other refusal.

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
    :param size: the run's request size, shared with its batcher.
    """
    if size is not None and not size.fits(kind, inputs):
        return _send_parts(
            size.split(kind, inputs),
            lambda part: send_isolating(send, kind, part, max_requests, stats, size),
            kind,
        )
    try:
        return send(inputs)
    except HubSpotValidationError as refusal:
        if size is not None and refusal.status == 400 and _oversize(refusal, size, kind, inputs):
            return send_isolating(send, kind, inputs, max_requests, stats, size)
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
        answers = _bisect(send, kind, split_inputs(kind, inputs), refusal, budget)
        extra = allowed - budget[0]  # the probe is counted in the stats already
        merged = merge(answers)
        log.warning(
            "Isolation done: %d of %d pairs refused, %d extra requests",
            len(merged.failed_pairs()),
            merged.pairs_sent,
            extra + probes,
        )
        stats.add("isolation_requests", extra)
        return merged


def _oversize(refusal: HubSpotValidationError, size: RequestSize, kind: Kind, inputs: Inputs) -> bool:
    """Whether HubSpot refused ``inputs`` for being over a maximum it names; lowers ``size`` to it."""
    if refusal.category not in (None, "VALIDATION_ERROR"):
        return False
    lowered = size.learn(kind, inputs, refusal.body.get("message"))
    if lowered:
        log.warning(
            "HubSpot refused a request of %d inputs (%d pairs): %r. Sending %s for the rest of the run; "
            "the refused pairs go again in smaller requests",
            len(inputs),
            len(pairs_of(kind, inputs)),
            refusal.body.get("message"),
            lowered,
        )
    return lowered is not None


def _send_parts(parts: list[Inputs], send: SendBatch, kind: Kind) -> BatchResponse:
    """One answer for a batch sent in ``parts``, in order.

    When a part meets an error that stops the run, the parts answered before it must not be
    reported as unsent: the error carries ``partial``, their answers plus the rest as not sent.
    """
    answers: list[BatchResponse] = []
    for index, part in enumerate(parts):
        try:
            answers.append(send(part))
        except HubSpotRetriesExhaustedError as error:  # this part only: the others keep their answers
            answers.append(failed_response(kind, part, error))
        except STOPPING as error:
            # A part sent in parts itself may have answers already (``partial``): they are its own.
            done = [*answers, error.partial] if error.partial is not None else answers
            rest = [item for later in parts[index + (error.partial is not None) :] for item in later]
            if done:
                error.partial = merge(
                    [*done, *([failed_response(kind, rest, error, "not sent")] if rest else [])]
                )
            raise
    return answers[0] if len(answers) == 1 else merge(answers)


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
