"""The archive operators' snapshot: where its records go, how its reads are told apart from the run's
other requests, and the steps a run takes (``SnapshotSteps``, mixed into the operators' base).

A snapshot (``snapshots.py``) is on by default whenever the run keeps a record (``results_table`` or
``results_path``). Its records go to the results table (rows of outcome ``snapshot``, ``types`` JSON)
and to JSONL files under ``results_path``,
``snapshots/<dag>/<run>/<task>/<map index>/try-<n>-<session>-<part>.jsonl``, one file per read, each
closed before the batches it covers are sent (object storage cannot append, and a closed file
survives a SIGKILL).
"""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_hubspot_assoc._compat import ObjectStoragePath
from airflow_provider_hubspot_assoc.batching import Batch
from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.operators.artifacts import safe_run_id
from airflow_provider_hubspot_assoc.snapshots import (
    VOID_MARK,
    Reader,
    RemovalKey,
    SnapshotTaker,
    Spec,
    complete_lines,
    is_live,
    is_void,
    removal_key_of,
    session_of,
    union,
    void_keys,
)
from airflow_provider_hubspot_assoc.writeback import ResultsWriter

if TYPE_CHECKING:
    from airflow_provider_hubspot_assoc._compat import Context
    from airflow_provider_hubspot_assoc.hooks.hubspot import HubSpotHook
    from airflow_provider_hubspot_assoc.progress import Pipeline

FOLDER = "snapshots"


def snapshot_wanted(snapshot: bool | None, results_table: str | None, results_path: str | None) -> bool:
    """``snapshot``, defaulting to on when the run keeps a record; on without one is an error."""
    keeps_record = bool(results_table) or bool(results_path)
    if snapshot and not keeps_record:
        raise ValueError(
            "snapshot=True needs results_table= or results_path=, where the snapshot of what each request "
            "removes is recorded"
        )
    return keeps_record if snapshot is None else bool(snapshot)


def task_identity(context: Context) -> dict[str, Any]:
    """The run, DAG, task and map index a snapshot record belongs to (as the results table keys them)."""
    ti = context["ti"]
    map_index = getattr(ti, "map_index", None)
    return {
        "run_id": str(context["run_id"]),
        "dag_id": ti.dag_id,
        "task_id": ti.task_id,
        "map_index": map_index if map_index is not None else -1,
    }


def snapshot_folder(results_path: str, identity: dict[str, Any]) -> Any:
    """``<results_path>/snapshots/<dag>/<run>/<task>/<map index>/`` (the run id made safe as a path)."""
    run = safe_run_id(identity["run_id"])
    parts = (FOLDER, identity["dag_id"], run, identity["task_id"], str(identity["map_index"]))
    return ObjectStoragePath(results_path.rstrip("/") + "/" + "/".join(parts))


class JsonlSnapshots:
    """The snapshot files of one task instance's try.

    :param folder: the task instance's snapshot folder (``snapshot_folder``).
    :param identity: run, DAG, task and map index, written into every line (a reader filters on them).
    :param try_number: the Airflow try writing them.
    """

    def __init__(self, folder: Any, identity: dict[str, Any], try_number: int) -> None:
        self.folder = folder
        self.identity = identity
        # A run resumed after a deferral is the same try: its own session keeps its files apart.
        self.try_prefix = f"try-{try_number}-"
        self.prefix = f"{self.try_prefix}{uuid.uuid4().hex[:8]}"
        self.parts = 0
        # Filled by ``earlier``: the sessions (tries, and sessions before a deferral) that recorded
        # each removal, for the voids of this one (``SnapshotTaker.sent_before``).
        self.sessions: dict[RemovalKey, set[str]] = {}

    def write(self, records: list[dict[str, Any]]) -> None:
        """One file for these records, closed (durable) when this returns."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.parts += 1
        lines = b"".join(json.dumps({**self.identity, **r}).encode() + b"\n" for r in records)
        with (self.folder / f"{self.prefix}-{self.parts:06d}.jsonl").open("wb") as handle:
            handle.write(lines)

    def earlier(self) -> dict[RemovalKey, list[Spec]]:
        """What every earlier try (and session) of this task instance recorded, by removal key, without
        the records a void dropped."""
        found: dict[RemovalKey, list[Spec]] = {}
        for name, _, line in live_lines(self.folder):
            item = json.loads(line)
            key = removal_key_of(item)
            if key is not None:
                found[key] = union(found.get(key), item.get("types"))
                self.sessions.setdefault(key, set()).add(session_of(name))
        return found


def live_lines(folder: Any, on_voided: Callable[[], None] | None = None) -> Iterator[tuple[str, int, bytes]]:
    """The snapshot lines of one task instance's folder that count (``snapshots.is_live``): (file name,
    line number, line), files in name order; ``on_voided`` is called for each record a void dropped.
    Each file is read twice: first for the voids of its session, then for its lines, so that no run's
    records are held in memory at once."""
    if not folder.exists():
        return
    paths = sorted((p for p in folder.iterdir() if p.name.endswith(".jsonl")), key=lambda p: p.name)
    voided: dict[str, set[RemovalKey]] = {}
    for path in paths:
        with path.open("rb") as handle:
            data = handle.read()
        if VOID_MARK in data:
            for session, keys in void_keys(complete_lines(data), session_of(path.name)).items():
                voided.setdefault(session, set()).update(keys)
    for path in paths:
        dropped = voided.get(session_of(path.name), set())
        with path.open("rb") as handle:
            lines = complete_lines(handle.read())
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            if is_live(line, dropped):
                yield path.name, number, line
            elif on_voided is not None and not is_void(line):
                on_voided()


def sink_for(
    writer: ResultsWriter | None, files: JsonlSnapshots | None
) -> Callable[[list[dict[str, Any]]], None]:
    """Writes a chunk's records to the table and the files, each committed before it returns."""

    def sink(records: list[dict[str, Any]]) -> None:
        if writer is not None:
            writer.add_snapshot(records)
        if files is not None:
            files.write(records)

    return sink


def earlier_records(
    writer: ResultsWriter | None, files: JsonlSnapshots | None
) -> dict[RemovalKey, list[Spec]]:
    """What earlier tries of this task instance recorded, in the table and in the files."""
    found: dict[RemovalKey, list[Spec]] = {}
    for source in (writer.earlier_snapshot() if writer else {}, files.earlier() if files else {}):
        for key, types in source.items():
            found[key] = union(found.get(key), types)
    return found


class SnapshotRequests:
    """Counts the snapshot's reads apart from the run's other requests (and out of its request ledger).

    The reads are made in the thread that hands batches to the sender; the archive requests, in the
    sender's threads. A flag local to the reading thread tells the request listener which is which.
    """

    def __init__(self) -> None:
        self.count = 0
        self._local = threading.local()

    @contextmanager
    def reading(self) -> Iterator[None]:
        self._local.on = True
        try:
            yield
        finally:
            self._local.on = False

    def listener(self, other: Callable[[], None] | None) -> Callable[[], None]:
        """The hook's request listener: counts a snapshot read here, passes any other request on."""

        def heard() -> None:
            if getattr(self._local, "on", False):
                self.count += 1
            elif other is not None:
                other()

        return heard

    def apart(self, stats: dict[str, float]) -> dict[str, float]:
        """The hook's counters with the snapshot's reads taken out of ``requests`` and given apart."""
        if not stats:
            return stats
        return {**stats, "requests": stats.get("requests", 0) - self.count, "snapshot_requests": self.count}


def taker_for(
    context: Context,
    kind: Kind,
    object_types: tuple[str, str],
    read: Reader,
    writer: ResultsWriter | None,
    results_path: str | None,
    counter: SnapshotRequests,
) -> SnapshotTaker:
    """The snapshot taker of this try: its reads counted apart, its records in the table and the files,
    what earlier tries recorded loaded first, and the table's outcome rows given their types."""
    identity = task_identity(context)
    try_number = int(getattr(context["ti"], "try_number", 1) or 1)
    files = (
        JsonlSnapshots(snapshot_folder(results_path, identity), identity, try_number)
        if results_path
        else None
    )

    def counted(from_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        with counter.reading():
            return read(from_ids)

    taker = SnapshotTaker(
        kind,
        object_types,
        counted,
        sink_for(writer, files),
        earlier_records(writer, files),
        set(),
        # Files outlive a failed try: its records of what it did not remove are voided there.
        files.write if files is not None else None,
    )
    if files is not None:
        taker.sent_before = files.sessions
        taker.try_prefix = files.try_prefix
    if writer is not None:
        writer.types_of = taker.types_of
    else:
        taker.outcome_types = False  # files only: no outcome row asks, and nothing is kept per removal
    return taker


class RunSnapshot:
    """One run's snapshot, as the operator drives it; with no taker (snapshot off, a dry run) it only
    keeps the request counters apart.

    :param taker: the run's snapshot taker, or None.
    :param requests: counts the snapshot's reads.
    :param ahead: records before the first request what is known then (``_snapshot_ahead``).
    """

    def __init__(
        self,
        taker: SnapshotTaker | None,
        requests: SnapshotRequests,
        ahead: Callable[[SnapshotTaker], None],
    ) -> None:
        self.taker = taker
        self.requests = requests
        self.ahead = ahead

    def start(self, hook: HubSpotHook, tick: Callable[[], None]) -> None:
        """Before the first request: the hook's requests told apart, and what is known then recorded."""
        hook.set_request_listener(self.requests.listener(tick))
        if self.taker is not None:
            self.ahead(self.taker)

    def batches(self, batches: Iterator[Batch]) -> Iterator[Batch]:
        """``batches``, each handed on once its snapshot is durable."""
        return self.taker.batches(batches) if self.taker is not None else batches

    def check(self) -> None:
        """Raise what stopped the snapshot (reading or recording it failed)."""
        if self.taker is not None and self.taker.error is not None:
            raise self.taker.error

    def unsent(self, batches: Iterator[Batch]) -> Iterator[Batch]:
        """What was not sent: the batches the snapshot held, then the rest of ``batches``."""
        return itertools.chain(self.taker.held, batches) if self.taker is not None else batches

    def keep_voids(self, log: Any) -> None:
        """Make this session's voids durable whatever ends it (a deferral, an error): the next session
        writes its own files, so a void not written now never drops this session's records. A failure
        is logged, not raised over what ended the run (``finish`` tries again)."""
        if self.taker is None:
            return
        try:
            self.taker.flush_voids()
        except Exception:
            log.exception("Could not write the void records of removals HubSpot did not carry out")

    def finish(self, writer: ResultsWriter | None) -> None:
        """The run ended: its voids are made durable, and the table's rows written ahead go, every
        outcome row carrying its types."""
        if self.taker is not None:
            self.taker.flush_voids()
        if writer is not None and self.taker is not None:
            writer.drop_snapshot_rows()


class SnapshotSteps:
    """The snapshot steps of ``BaseHubSpotArchiveOperator`` (mixed into it; its ``__init__`` takes the
    parameter).

    :param snapshot: just before each request's pairs are sent, read (batch read, 1,000 from-ids a
        request) and record the association types each removal removes, so a restore can put them
        back (``snapshots.py``). Default: on when ``results_table`` or ``results_path`` is set, where
        the records go; True without either is an error. Its reads are ``summary.snapshot_requests``.

    A mirror overrides ``_snapshot_reader`` (its plan's read) and ``_snapshot_ahead`` (its plan,
    recorded whole before the first request).
    """

    kind: ClassVar[Kind]
    snapshot: bool
    is_dry_run: bool
    results_path: str | None
    _snapshot_requests: SnapshotRequests
    _resending: bool = False  # this try sends again what an earlier one did not carry out

    def _run_snapshot(
        self,
        context: Context,
        hook: HubSpotHook,
        types: tuple[str, str],
        writer: ResultsWriter | None,
        pipeline: Pipeline,
    ) -> RunSnapshot:
        """This run's snapshot: a taker when the run takes one (a dry run reads nothing for it)."""
        taker = None
        if self.snapshot and not self.is_dry_run:
            self._snapshot_requests = SnapshotRequests()
            reader = self._snapshot_reader(hook, types)
            taker = taker_for(
                context, self.kind, types, reader, writer, self.results_path, self._snapshot_requests
            )
            taker.absent = pipeline.absent
            pipeline.progress.on_failed = taker.void
        return RunSnapshot(taker, self._snapshot_requests, self._snapshot_ahead)

    def _request_stats(self, hook: HubSpotHook) -> dict[str, float]:
        """The hook's counters of this try, the snapshot's reads counted apart from ``requests``."""
        return self._snapshot_requests.apart(hook.request_stats())

    def _snapshot_reader(self, hook: HubSpotHook, types: tuple[str, str]) -> Reader:
        """Where the snapshot reads current associations: the hook's batch read (pacing, budget)."""
        return partial(hook.read_associations, *types)

    def _snapshot_ahead(self, taker: SnapshotTaker) -> None:
        """Record before the first request what is known then (a mirror: its whole plan)."""
