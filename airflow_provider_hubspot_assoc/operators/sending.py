"""Sending a run's batches through the hook, and accounting for what no answer settled.

Batches go out in order and are confirmed as their answers come back, with the checkpoint saved
and a progress line logged as the run goes. Removals whose outcome no answer proved are read back
at the end; when HubSpot cannot be reached, what was not sent is put in ``failed``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from airflow_provider_hubspot_assoc._compat import AirflowNotFoundException, TaskLog
from airflow_provider_hubspot_assoc.batching import Batch
from airflow_provider_hubspot_assoc.exceptions import HubSpotUnreachableError
from airflow_provider_hubspot_assoc.hooks.hubspot import HubSpotHook
from airflow_provider_hubspot_assoc.hubspot.isolation import failed_response
from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.operators.checkpoint import RunCheckpoint
from airflow_provider_hubspot_assoc.outcomes import OUTCOME
from airflow_provider_hubspot_assoc.progress import Pipeline, Progress
from airflow_provider_hubspot_assoc.reporting import ProgressReporter
from airflow_provider_hubspot_assoc.request_size import DEFAULT_BATCH_SIZE, DEFAULT_MAX_PAIRS, RequestSize
from airflow_provider_hubspot_assoc.settlement import Reader
from airflow_provider_hubspot_assoc.writeback import ResultsWriter


def send_all(
    hook: HubSpotHook,
    kind: Kind,
    object_types: tuple[str, str],
    pipeline: Pipeline,
    batches: Iterator[Batch],
    saver: RunCheckpoint,
    reporter: ProgressReporter,
    log: TaskLog,
) -> None:
    """Send every batch, in order; batches with no inputs are confirmed without a request."""
    from_type, to_type = object_types
    progress = pipeline.progress
    for sent, response in hook.send_batches(kind, from_type, to_type, batches, pipeline.size):
        assert isinstance(sent, Batch)
        pipeline.finish(sent, response)
        saver.save_if_due()
        if reporter.due():
            requests = int(progress.totals(hook.request_stats()).get("requests", 0))
            line = reporter.line(
                progress.rows_done, pipeline.rows_read, progress.tally, requests, hook.allowed_rate()
            )
            log.info("%s", line)


def settle_unknown(progress: Progress, read: Reader, writer: ResultsWriter | None, log: TaskLog) -> None:
    """Read back writes whose answer was lost or proved nothing, and put each in its bucket."""
    if not progress.tally.unknown:
        return
    count, done = progress.tally.unknown, progress.tally.kind.done
    log.warning("Reading back %d %s whose outcome no answer proved", count, progress.tally.kind.writes)
    records = progress.settle_unknown(read)
    if writer is not None:
        writer.replace_outcomes(("unknown",), records)
    log.info(
        "Of %d of unknown outcome: %d %s, %d failed (%s), %d still unknown",
        count,
        sum(1 for r in records if r[OUTCOME] == done),
        done,
        sum(1 for r in records if r[OUTCOME] == "failed"),
        "still absent" if progress.tally.kind.creates else "still associated",
        progress.tally.unknown,
    )


def account_unsent(
    kind: Kind, pipeline: Pipeline, batches: Iterable[Batch], unreachable: HubSpotUnreachableError
) -> None:
    """Put what was not sent, HubSpot being unreachable, in ``failed``, so every row has a bucket.

    Reads the rest of the rows (no request is sent); the checkpoint saved before still points at
    the last confirmed row, so a retry sends them.
    """
    answered = zip(unreachable.struck, unreachable.answers, strict=True)
    for batch, answer in [*answered, *((batch, None) for batch in batches)]:
        assert isinstance(batch, Batch)
        if answer is None and batch:
            answer = failed_response(kind, batch, unreachable, "not sent")
        pipeline.finish(batch, answer)


def reporter_for(progress: Progress, total_rows: int | None, every_seconds: float) -> ProgressReporter:
    """The progress lines of this try, counting what earlier tries confirmed as done already."""
    earlier: dict[str, Any] = progress.totals({})
    return ProgressReporter(
        total_rows,
        rows_before=progress.rows_done,
        requests_before=int(earlier.get("requests", 0)),
        removals_before=progress.tally.archived + progress.tally.failed + progress.tally.unknown,
        every_seconds=every_seconds,
    )


def request_size(
    hook: HubSpotHook, batch_size: int | None, max_pairs: int | None, dry_run: bool
) -> RequestSize:
    """The task's ``batch_size`` and ``max_pairs_per_request``, else the connection's (the hook was
    given the task's); a dry run needs no connection."""
    if batch_size is not None and max_pairs is not None:
        return RequestSize(batch_size, max_pairs)
    try:
        config = hook.client_config()
    except AirflowNotFoundException:
        if not dry_run:
            raise
        return RequestSize(batch_size or DEFAULT_BATCH_SIZE, max_pairs or DEFAULT_MAX_PAIRS)
    return RequestSize(config.batch_size, config.max_pairs_per_request)
