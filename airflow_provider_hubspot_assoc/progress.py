"""A run's progress: rows turned into batches, batches' outcomes confirmed in order, and a checkpoint.

The sender hands batches back in the order they were made (several requests are in flight, but
their answers are yielded in order), and each is confirmed as it comes. Confirming a batch puts its
rows into their buckets and moves ``rows_done`` to the last input row it covers. A checkpoint
therefore says "rows 1..N are done, with these counts", and a resumed run skips rows 1..N (replaying
them only to remember duplicates), so a batch is sent again only if it was not confirmed: each pair
at most once more than needed.
No Airflow import.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from airflow_provider_hubspot_assoc.accounting import account
from airflow_provider_hubspot_assoc.batching import Batch, Batcher, Deduplicator
from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.models import BatchError, BatchResponse
from airflow_provider_hubspot_assoc.outcomes import (
    DEFAULT_KEEP_ROWS,
    OutcomeRecord,
    RowSpool,
    Tally,
    outcome_record,
)
from airflow_provider_hubspot_assoc.request_size import RequestSize
from airflow_provider_hubspot_assoc.response_merge import ResponseAccumulator
from airflow_provider_hubspot_assoc.row_checks import Checked, CheckedRow, Entry, entries_of
from airflow_provider_hubspot_assoc.row_parser import Rejection, Removal
from airflow_provider_hubspot_assoc.settlement import UNKNOWN_OUTCOME, Reader, removal_of, settle, verdict

CHECKPOINT_VERSION = 1


def fingerprint(*parts: Any) -> str:
    """Identifies a run's inputs, so a checkpoint is used only by the run it belongs to."""
    try:
        text = json.dumps(parts, sort_keys=True, default=str)
    except TypeError:  # a dict whose keys are not all strings (e.g. {1: 2}) cannot sort its keys
        text = json.dumps(_typed_keys(parts), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _typed_keys(value: Any) -> Any:
    """``value`` with every dict key made a string that keeps its type: {1: 2} -> {"int:1": 2}."""
    if isinstance(value, dict):
        return {f"{type(key).__name__}:{key}": _typed_keys(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_typed_keys(item) for item in value]
    return value


@dataclass
class Progress:
    """Everything confirmed so far, as it goes into a checkpoint."""

    fingerprint: str
    keep_rows: int = DEFAULT_KEEP_ROWS
    rows_done: int = 0
    tally: Tally = field(default_factory=Tally)
    failed: RowSpool = field(default_factory=lambda: RowSpool("failed", DEFAULT_KEEP_ROWS))
    rejected: RowSpool = field(default_factory=lambda: RowSpool("rejected", DEFAULT_KEEP_ROWS))
    unknown: RowSpool = field(default_factory=lambda: RowSpool("unknown", DEFAULT_KEEP_ROWS))
    responses: ResponseAccumulator = field(default_factory=ResponseAccumulator)
    earlier: dict[str, float] = field(default_factory=dict)  # requests, retries... of earlier tries
    # While the confirmed batches end inside an input row, a checkpoint must not record that row's
    # first removals as done (a resume skips whole rows): it keeps the state at the last row boundary.
    mid_row: bool = False
    _at_boundary: dict[str, Any] | None = field(default=None, repr=False)
    # Told of each removal proven not carried out (failed), when it is: a snapshot voids its record.
    on_failed: Callable[[Removal], None] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def start(cls, run_fingerprint: str, keep_rows: int, kind: Kind = Kind.ARCHIVE) -> Progress:
        return cls(
            run_fingerprint,
            keep_rows,
            tally=Tally(kind=kind),
            failed=RowSpool("failed", keep_rows),
            rejected=RowSpool("rejected", keep_rows),
            unknown=RowSpool("unknown", keep_rows),
            responses=ResponseAccumulator(keep_rows),
        )

    def to_json(self, current_stats: dict[str, float] | None = None) -> dict[str, Any]:
        """The checkpoint: confirmed state at the last input-row boundary, plus request counters."""
        confirmed = self._at_boundary if self.mid_row and self._at_boundary else self._confirmed()
        return {
            "version": CHECKPOINT_VERSION,
            "fingerprint": self.fingerprint,
            **confirmed,
            "earlier": self.totals(current_stats or {}),
        }

    def _confirmed(self) -> dict[str, Any]:
        return {
            "rows_done": self.rows_done,
            "tally": self.tally.as_json(),
            "failed": self.failed.to_state(),
            "rejected": self.rejected.to_state(),
            "unknown": self.unknown.to_state(),
            "responses": self.responses.to_state(),
        }

    def enter_batch(self, mid_row: bool) -> None:
        """Called before a batch is confirmed: keep the boundary state if this one ends mid-row."""
        if mid_row and not self.mid_row:
            self._at_boundary = self._confirmed()

    def leave_batch(self, mid_row: bool) -> None:
        self.mid_row = mid_row
        if not mid_row:
            self._at_boundary = None

    @classmethod
    def from_json(cls, state: dict[str, Any], keep_rows: int, kind: Kind = Kind.ARCHIVE) -> Progress:
        return cls(
            fingerprint=str(state["fingerprint"]),
            keep_rows=keep_rows,
            rows_done=int(state["rows_done"]),
            tally=Tally(**state["tally"], kind=kind),
            failed=RowSpool.from_state("failed", keep_rows, state["failed"]),
            rejected=RowSpool.from_state("rejected", keep_rows, state["rejected"]),
            unknown=RowSpool.from_state("unknown", keep_rows, state.get("unknown") or {}),
            responses=ResponseAccumulator.from_state(keep_rows, state["responses"]),
            earlier=dict(state.get("earlier") or {}),
        )

    @classmethod
    def usable(cls, state: Any, run_fingerprint: str) -> bool:
        return (
            isinstance(state, dict)
            and state.get("version") == CHECKPOINT_VERSION
            and state.get("fingerprint") == run_fingerprint
        )

    def totals(self, current: dict[str, float]) -> dict[str, float]:
        """Request counters of this try plus those of earlier tries and deferrals."""
        keys = set(current) | set(self.earlier)
        return {k: self.earlier.get(k, 0) + current.get(k, 0) for k in keys}

    def close(self, keep_files: bool = False) -> None:
        """Close the row spools; ``keep_files`` leaves their spill files for a retry's checkpoint."""
        for spool in (self.failed, self.rejected, self.unknown):
            spool.close(remove=not keep_files)

    def take_for_retry(self) -> list[Removal] | None:
        """Take the failed and unknown removals out of their buckets, to send them again.

        None when some of them are not on this worker (their spill file stayed with an earlier try).
        """
        if self.failed.not_kept or self.unknown.not_kept:
            return None
        items = [*self.failed.rows(), *self.unknown.rows()]
        removals = [removal_of(item) for item in items if "from_id" in item]
        self.tally.received -= len(removals)
        self.tally.failed -= self.failed.count
        self.tally.unknown -= self.unknown.count
        for spool in (self.failed, self.unknown):
            spool.close()
        self.failed = RowSpool("failed", self.keep_rows)
        self.unknown = RowSpool("unknown", self.keep_rows)
        return removals

    def settle_unknown(self, read: Reader) -> list[OutcomeRecord]:
        """Read back the writes of unknown outcome; returns their write-back records, settled.

        Carried out (``settlement.verdict``: gone after a removal, present after a create): in
        ``archived`` (named ``tally.kind.done``). Not carried out: failed ("still associated after
        archive", "still absent after create"). Unreadable: unknown still, and they count against the
        failure policy like failed ones.
        """
        items = list(self.unknown.rows())
        found = settle((removal_of(item) for item in items), read)
        meaning = verdict(self.tally.kind, found)
        done = self.tally.kind.done
        why = {(i["row"], i["from_id"], i["to_id"], i.get("association_type_id")): i["error"] for i in items}
        tally, records = self.tally, []
        self.unknown.close()
        self.unknown = RowSpool("unknown", self.keep_rows)
        for removal in meaning.done:
            tally.unknown -= 1
            tally.archived += 1
            records.append(outcome_record(removal, done, None, meaning.confirmed))
        still: list[tuple[str, str]] = []
        for removal in meaning.undone:
            tally.unknown -= 1
            tally.failed += 1
            lost = why[(removal.row, removal.from_id, removal.to_id, removal.type_id)]["message"]
            message = f"{meaning.message} (the answer proved nothing: {lost})"
            self.failed.add({**removal.describe(), "error": {"category": meaning.code, "message": message}})
            if self.on_failed is not None:
                self.on_failed(removal)
            records.append(outcome_record(removal, "failed", meaning.code, message))
            still.append(removal.pair)
        if still:
            error = BatchError(meaning.code, meaning.message, pairs=tuple(still))
            self.responses.add(BatchResponse(errors=[error], http_status=200, pairs_sent=0))
        for removal in found.unread:
            detail = why[(removal.row, removal.from_id, removal.to_id, removal.type_id)]
            detail = {**detail, "message": f"{detail['message']}; reading it back failed: {found.read_error}"}
            self.unknown.add({**removal.describe(), "error": detail})
            records.append(outcome_record(removal, "unknown", UNKNOWN_OUTCOME, detail["message"]))
        return records


class Pipeline:
    """Turns checked rows into numbered batches, and confirms each finished batch into ``progress``.

    ``size``: the inputs and pairs a request holds (a bare number: ``batch_size`` inputs, with the
    default pair cap); the sender shares it, so a maximum HubSpot names shapes the batches made next.
    """

    def __init__(
        self,
        kind: Kind,
        size: RequestSize | int,
        progress: Progress,
        dry_run: bool = False,
        on_outcomes: Callable[[list[OutcomeRecord]], None] | None = None,
    ) -> None:
        self.kind = Kind(kind)
        progress.tally.kind = self.kind  # the buckets are named for what this pipeline sends
        self.on_outcomes = on_outcomes  # receives one record per input row as batches are confirmed
        self.size = RequestSize.of(size)
        self.progress = progress
        self.dry_run = dry_run
        self.deduplicator = Deduplicator()
        self.planned_requests = 0
        self.rows_read = 0  # input rows read so far, this try (a stream's only known total)
        self.sample: list[dict[str, Any]] = []
        self._made = 0
        self._next = 1
        # Removals past the checkpoint that an earlier, killed try archived and wrote back: they count
        # as archived whatever the re-sent request answers, and are not written again.
        self.recorded: set[tuple[int, str, str, int | None]] = set()
        # Removals a snapshot found nothing to remove for, before their request: already absent.
        self.absent: set[tuple[int, str, str, int | None]] = set()

    def retry(self, removals: Iterable[Removal]) -> Iterator[Batch]:
        """Batches that send again removals an earlier try left failed or unknown.

        Their rows were confirmed before (they are at or before ``rows_done``); confirming these
        batches puts them back into their buckets without moving ``rows_done``.
        """
        batcher = Batcher(self.kind, self.size)
        for removal in removals:
            closed = batcher.add(removal, removal.row)
            if closed is not None:
                yield self._number(closed)
        last = batcher.flush()
        if last is not None:
            yield self._number(last)

    def batches(self, parsed_rows: Iterable[CheckedRow]) -> Iterator[Batch]:
        """Batches of checked rows in order, each numbered (see ``entry_batches``)."""
        return self.entry_batches(entries_of(parsed_rows))

    def entry_batches(self, entries: Iterable[Entry]) -> Iterator[Batch]:
        """Batches in order, each numbered; rows up to ``rows_done`` only feed the duplicate check.

        The hot loop of a run: a row of one plain pair (an entry with ids) is handled here, with no
        call it can do without; any other row goes through ``_feed``.
        """
        batcher = Batcher(self.kind, self.size)
        done = self.progress.rows_done
        seen = self.deduplicator.seen_pair
        add = batcher.add
        try:
            for number, from_id, to_id, parsed in entries:
                self.rows_read = number
                if parsed is None:  # one plain pair, as its ids (``row_checks.Entry``)
                    if number <= done:
                        seen(from_id, to_id)
                        continue
                    removal = Removal(number, str(from_id), str(to_id))
                    closed = batcher.add_duplicate(removal) if seen(from_id, to_id) else add(removal, number)
                    if closed is not None:
                        yield self._number(closed)
                    continue
                if number <= done:
                    if not isinstance(parsed, Rejection):
                        for item in parsed:
                            if isinstance(item, Removal):
                                self.deduplicator.is_duplicate(item)
                    continue
                for closed in self._feed(batcher, number, parsed):
                    yield self._number(closed)
            last = batcher.flush()
            if last is not None:
                yield self._number(last)
        finally:
            self.deduplicator.close()

    def _feed(self, batcher: Batcher, number: int, parsed: Checked) -> list[Batch]:
        """Add one row; returns the batches it closed (a list, not a generator: one row of many)."""
        if isinstance(parsed, Rejection):
            closed = batcher.add_rejection(parsed)
            return [closed] if closed is not None else []
        made: list[Batch] = []
        last = len(parsed) - 1
        # A row that fits in one request is not split across two (a one-pair row: ``add`` sees to it);
        # a restore's rejected types take no room.
        if last and batcher.open_removals:
            sending = [item for item in parsed if isinstance(item, Removal)]
            if not batcher.room_for(sending) and batcher.room_for(sending, True):
                closed = batcher.flush()
                if closed is not None:
                    made.append(closed)
        is_duplicate = self.deduplicator.is_duplicate
        for index, item in enumerate(parsed):
            complete = index == last  # a native input with many targets gives several removals
            if isinstance(item, Rejection):  # one type of a restore's row (``check_types``)
                closed = batcher.add_rejection(item, complete)
            elif is_duplicate(item):
                closed = batcher.add_duplicate(item, complete)
            else:
                closed = batcher.add(item, number, complete)
            if closed is not None:
                made.append(closed)
        return made

    def _number(self, batch: Batch) -> Batch:
        self._made += 1
        batch.seq = self._made
        if batch and not self.sample:
            self.sample = list(batch)
        if batch:
            self.planned_requests += 1
        return batch

    @property
    def next_seq(self) -> int:
        """The number of the next batch to confirm (all before it are confirmed)."""
        return self._next

    def finish(self, batch: Batch, response: BatchResponse | None) -> None:
        """Confirm a batch's outcome (None: not sent), in the order the batches were made.

        A batch out of order means a sender broke its promise: confirming it would move
        ``rows_done`` past rows whose outcome is not known, and a checkpoint would skip them.
        """
        if batch.seq != self._next:
            raise RuntimeError(f"batch {batch.seq} finished out of order: batch {self._next} comes first")
        self._confirm(batch, response)
        self._next += 1

    def _confirm(self, batch: Batch, response: BatchResponse | None) -> None:
        progress, tally = self.progress, self.progress.tally
        progress.enter_batch(batch.mid_row)
        keep = self.on_outcomes is not None  # records are built only for a write-back sink
        records: list[OutcomeRecord] = []
        tally.received += batch.rows_accounted
        tally.duplicates += batch.duplicates
        tally.rejected += len(batch.rejections)
        for rejection in batch.rejections:
            progress.rejected.add(rejection.describe())
            if keep:
                records.append(outcome_record(rejection, "rejected", "INVALID_INPUT", str(rejection)))
        if keep:
            records += [outcome_record(r, "duplicate") for r in batch.duplicate_removals]
        if response is None:
            if self.dry_run:
                tally.planned += len(batch.removals)
                if keep:
                    records += [outcome_record(r, "planned") for r in batch.removals]
            elif batch.removals:
                raise RuntimeError("a batch with removals was confirmed without a response")
        else:
            # An answer that proved nothing must not make the run look PENDING or CANCELED: its
            # pairs are in the unknown bucket, and read back before the run ends.
            progress.responses.add(replace(response, status="COMPLETE") if response.unconfirmed else response)
            records += account(
                self.kind, batch.removals, response, progress, self.recorded, self.absent, keep
            )
        progress.rows_done = max(progress.rows_done, batch.last_row)
        progress.leave_batch(batch.mid_row)
        if self.on_outcomes is not None:
            self.on_outcomes(records)
