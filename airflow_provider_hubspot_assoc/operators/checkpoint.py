"""Checkpoints: what a retried try, or a run resumed after a deferral, needs to go on where one stopped.

Confirmed progress is saved to the task's state store (Airflow 3.3+) as the run goes, and rides in
the trigger's event when the run defers. A mirror's plan rides along: inline when small, else kept
where a retry on any worker finds it. Removals an earlier try left failed or unknown are sent again
first, and a request ledger counts requests across tries (``ledger.py``).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_hubspot_assoc._compat import ObjectStoragePath, TaskLog
from airflow_provider_hubspot_assoc.batching import Batch
from airflow_provider_hubspot_assoc.exceptions import HubSpotDailyLimitError
from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.ledger import RequestLedger
from airflow_provider_hubspot_assoc.operators.artifacts import artifact, local_artifact
from airflow_provider_hubspot_assoc.operators.outcome_policy import counts_text
from airflow_provider_hubspot_assoc.progress import Pipeline, Progress
from airflow_provider_hubspot_assoc.row_parser import Removal
from airflow_provider_hubspot_assoc.triggers.wait import HubSpotWaitTrigger
from airflow_provider_hubspot_assoc.writeback import ResultsWriter

if TYPE_CHECKING:
    from airflow_provider_hubspot_assoc._compat import Context

CHECKPOINT_KEY = "hubspot_assoc_progress"
# How often confirmed progress is saved while sending (a retried try re-sends at most this much).
CHECKPOINT_EVERY_SECONDS = 1.0
PLAN_KEY = f"{CHECKPOINT_KEY}_plan"
# The maximums HubSpot named to the run (``RequestSize.named``), kept across its sessions and tries.
REQUEST_SIZE_KEY = "request_size"
# Planned deletions carried in the checkpoint itself, and per extra state-store key for a larger plan:
# about 40 bytes each, so each value stays under the state store's 64 KB default.
PLAN_CARRY_LIMIT = 1_000

StateStore = Any  # context["task_state_store"]: .get(key), .set(key, value), .delete(key)


def state_store(context: Context) -> StateStore | None:
    """The task's state store; None before Airflow 3.3, which resumes only after a deferral."""
    return context.get("task_state_store")


def load_checkpoint(context: Context) -> dict[str, Any] | None:
    """The checkpoint an earlier try saved, if any."""
    store = state_store(context)
    if store is None:
        return None
    state = store.get(CHECKPOINT_KEY)
    return state if isinstance(state, dict) else None


def carried_checkpoint(context: Context, event: dict[str, Any] | None, log: TaskLog) -> dict[str, Any] | None:
    """The checkpoint a deferral carried in its trigger's event, else the stored one.

    ``dag.test()`` keeps only the event of a deferral's kwargs: the checkpoint rides there.
    """
    event = event or {}
    log.info("Resuming after %s", event.get("moment", "a deferral"))
    return event.get("checkpoint") or load_checkpoint(context)


def starting_progress(
    checkpoint: dict[str, Any] | None,
    run_fingerprint: str,
    keep_rows: int,
    log: TaskLog,
    kind: Kind = Kind.ARCHIVE,
) -> tuple[Progress, list[Removal] | None, bool]:
    """Where this try starts: an earlier try's checkpoint, or the beginning.

    Returns the progress; the removals to send again when the earlier try was failed by the
    failure policy (else None); and whether the run starts from the beginning.
    """
    if checkpoint is not None and Progress.usable(checkpoint, run_fingerprint):
        progress = Progress.from_json(checkpoint, keep_rows, kind)
        log.info(
            "Resuming after input row %d, confirmed by an earlier try: %s",
            progress.rows_done,
            counts_text(progress.tally),
        )
        if not checkpoint.get("retry_failed"):
            return progress, None, False
        again = progress.take_for_retry()
        if again is not None:
            return progress, again, False
        log.warning(
            "The failed rows of the earlier try are not on this worker; sending every row again "
            "(archiving and creating are idempotent)"
        )
        progress.close()
    elif checkpoint is not None:
        log.warning(
            "Ignoring a checkpoint made for other inputs or by another version (%s != %s)",
            checkpoint.get("fingerprint"),
            run_fingerprint,
        )
    return Progress.start(run_fingerprint, keep_rows, kind), None, True


def open_ledger(context: Context, dry_run: bool, resumed: bool) -> RequestLedger | None:
    """The task instance's request ledger (none in a dry run, which sends nothing)."""
    if dry_run:
        return None
    ledger = RequestLedger(local_artifact(context, "requests.count"))
    if not resumed:
        ledger.reset()  # a run that starts over owes nothing to requests of a run it replaces
    return ledger


class RunCheckpoint:
    """Saves one run's checkpoint, except while removals of an earlier try are being sent again.

    :param context: the task's context (its state store, when there is one).
    :param loaded: the checkpoint this run started from.
    :param state_of: builds the checkpoint of the progress confirmed now.
    :param writer: the write-back table's writer, flushed first: the table never runs behind.
    :param ledger: the request ledger (none in a dry run).
    :param every_seconds: how often ``save_if_due`` saves.
    """

    def __init__(
        self,
        context: Context,
        loaded: dict[str, Any] | None,
        state_of: Callable[[], dict[str, Any]],
        writer: ResultsWriter | None,
        ledger: RequestLedger | None = None,
        every_seconds: float = CHECKPOINT_EVERY_SECONDS,
    ) -> None:
        self.store = state_store(context)
        self.loaded = loaded
        self.state_of = state_of
        self.writer = writer
        self.ledger = ledger
        self.every_seconds = every_seconds
        self._pipeline: Pipeline | None = None
        self._resend_until = 0
        self._last_saved = time.monotonic()

    def resend_first(
        self, pipeline: Pipeline, again: list[Removal] | None, batches: Iterator[Batch], log: TaskLog
    ) -> Iterator[Batch]:
        """``batches``, after those sending again what an earlier try left failed or unknown."""
        self._pipeline = pipeline
        if again is None:
            return batches
        log.info("Sending again the %d removals an earlier try left failed or unknown", len(again))
        if self.writer is not None:
            keys = {(r.row, r.from_id, r.to_id, r.type_id) for r in again}
            pipeline.recorded |= self.writer.forget_for_resend(keys)
        resend = list(pipeline.retry(again))
        # Until every re-sent removal is confirmed, the earlier checkpoint stays as it is: a try that
        # dies meanwhile leaves the next one the same removals to send again.
        self._resend_until = resend[-1].seq if resend else 0
        return itertools.chain(resend, batches)

    def resending(self) -> bool:
        """Removals of an earlier try are being sent again and are not all confirmed yet."""
        return (
            bool(self._resend_until)
            and self._pipeline is not None
            and self._pipeline.next_seq <= self._resend_until
        )

    def save(self, state: dict[str, Any] | None = None) -> None:
        self._last_saved = time.monotonic()
        if self.writer is not None:  # the table never runs behind the checkpoint
            self.writer.flush()
        if self.resending():
            return
        if self.store is not None:
            self.store.set(CHECKPOINT_KEY, state or self.state_of())

    def save_if_due(self) -> None:
        """Save about every ``every_seconds`` (measured from the last save) while batches are confirmed."""
        if time.monotonic() - self._last_saved >= self.every_seconds:
            self.save()

    def save_quietly(self, log: TaskLog) -> None:
        """Save on the way out of a failing try; a failure here must not hide the one being raised."""
        try:
            self.save()
        except Exception as error:
            log.warning("Could not save the checkpoint of this failing try: %s", type(error).__name__)

    def for_deferral(self) -> dict[str, Any]:
        """Save and return the checkpoint a deferral carries to the resumed run."""
        state = self.state_of()
        if self.resending() and self.loaded:
            # The earlier try's progress as it is, but what HubSpot named meanwhile holds: else each
            # session re-sends the same oversize request, learns the maximum again, and defers again.
            learned = state.get(REQUEST_SIZE_KEY)
            state = {**self.loaded, **({REQUEST_SIZE_KEY: learned} if learned else {})}
        self.save(state)
        return state

    def resume_trigger(self, limit: HubSpotDailyLimitError) -> HubSpotWaitTrigger:
        """Save the checkpoint; the trigger that carries it to the run resumed when the daily limit resets."""
        state = self.for_deferral()
        reason = "HubSpot's daily request limit resets"
        return HubSpotWaitTrigger(limit.reset_at, reason=reason, payload={"checkpoint": state})

    def keep_for_retry(self) -> None:
        """Keep the checkpoint for Airflow's retry, which sends again only failed and unknown removals."""
        state = self.state_of()
        state["retry_failed"] = True
        self.save(state)

    def clear(self, plan: dict[str, Any] | None = None) -> None:
        """The run is done: forget its checkpoint, and the pieces of a mirror's plan kept with it."""
        if self.store is None:
            return
        self.store.delete(CHECKPOINT_KEY)
        for key in plan_piece_keys(plan):
            self.store.delete(key)

    def requests(self, counted: float) -> int:
        """The run's requests: the counters', or the ledger's when it saw more (a killed try's)."""
        return int(max(counted, self.ledger.count if self.ledger is not None else 0))

    def finish(self, failed: bool, stopped: bool, plan: dict[str, Any] | None) -> None:
        """Keep what a retry needs (``failed``: the failure policy fails the task), or clear it all.

        A run that ``stopped`` (HubSpot unreachable) keeps its last checkpoint as it is.
        """
        if failed and not stopped:
            self.keep_for_retry()
        elif not failed and not stopped:
            self.clear(plan)
        if self.ledger is not None:
            self.ledger.close(remove=not failed and not stopped)


# ------------------------------------------------------------------ a mirror's plan
def carried_inline(deletions: int) -> bool:
    """A plan this small rides in the checkpoint itself; a larger one is kept apart (``keep_plan``)."""
    return deletions <= PLAN_CARRY_LIMIT


def compact(deletion: dict[str, Any]) -> list[Any]:
    """A planned deletion as the checkpoint carries it: ``[from, to]`` or ``[from, to, category, type]``."""
    if "association_type_id" in deletion:
        return [
            deletion["from_id"],
            deletion["to_id"],
            deletion["association_category"],
            deletion["association_type_id"],
        ]
    return [deletion["from_id"], deletion["to_id"]]


def deletion_of(compacted: list[Any]) -> dict[str, Any]:
    """The planned deletion a compact one stands for (the row the archive machinery sends)."""
    deletion: dict[str, Any] = {"from_id": str(compacted[0]), "to_id": str(compacted[1])}
    if len(compacted) == 4:
        deletion.update(association_category=str(compacted[2]), association_type_id=int(compacted[3]))
    return deletion


def _jsonl(items: Iterable[Any]) -> bytes:
    return b"".join(json.dumps(item).encode() + b"\n" for item in items)


def keep_plan(context: Context, compacted: list[list[Any]], results_path: str | None) -> dict[str, Any]:
    """Keep a large plan where a retry on any worker finds it, before anything is sent.

    Under ``results_path`` when set, else in the task's state store in pieces (Airflow 3.3+), else
    in a file on this worker. Returns the reference the checkpoint carries (with the plan's SHA-256).
    """
    lines = _jsonl(compacted)
    reference: dict[str, Any] = {"sha256": hashlib.sha256(lines).hexdigest(), "count": len(compacted)}
    store = state_store(context)
    if not results_path and store is not None:
        pieces = range(0, len(compacted), PLAN_CARRY_LIMIT)
        for number, start in enumerate(pieces):
            store.set(f"{PLAN_KEY}_{number}", compacted[start : start + PLAN_CARRY_LIMIT])
        return {**reference, "pieces": len(pieces)}
    target = artifact(context, "sync_plan.jsonl", results_path)
    with target.open("wb") as handle:
        handle.write(lines)
    return {**reference, "path": str(target)}


def read_kept_plan(context: Context, reference: dict[str, Any], log: TaskLog) -> list[Any] | None:
    """The plan an earlier try kept, or None (with a warning) when it is gone or not the same."""
    path = str(reference.get("path"))
    try:
        if "pieces" in reference:
            store = state_store(context)
            path = "the task's state store"
            parts = [store.get(key) for key in plan_piece_keys(reference)]  # type: ignore[union-attr]
            lines = _jsonl(item for part in parts for item in part or [])
        else:
            source = ObjectStoragePath(path) if "://" in path else Path(path)
            with source.open("rb") as handle:
                lines = handle.read()
    except (OSError, AttributeError, TypeError) as error:
        log.warning("The sync plan in %s cannot be read (%s); planning again", path, error)
        return None
    if hashlib.sha256(lines).hexdigest() != reference.get("sha256"):
        log.warning("The sync plan file %s is not the one the checkpoint names; planning again", path)
        return None
    return [json.loads(line) for line in lines.splitlines() if line]


def plan_piece_keys(reference: dict[str, Any] | None) -> list[str]:
    """The state-store keys of a plan kept there in pieces (none for a plan kept elsewhere)."""
    if not reference or "pieces" not in reference:
        return []
    return [f"{PLAN_KEY}_{number}" for number in range(int(reference["pieces"]))]
