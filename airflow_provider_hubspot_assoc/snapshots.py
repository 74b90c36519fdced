"""Snapshots: what a run is about to remove, recorded before each request, and read back for a restore.

Just before the pairs of upcoming requests are sent, the current associations of their from-ids are
read (batch read: one request per ``SNAPSHOT_IDS`` from-ids, every page), and for each removal the
association types it will remove are recorded: every type of the pair for an archive, the named label
when the pair has it for a label removal (every type when it names the unlabeled type, which removes
the whole association). A removal that finds nothing to remove is absent before its
request (``already_absent``). The records are handed to a sink that makes them durable before the
batches are sent.

A try that dies after its requests went out leaves a retry that reads those pairs gone: what an
earlier try recorded is loaded first (``earlier``) and kept, so a re-read never erases it. A removal
HubSpot proved not carried out (failed) voids its record instead (``void``): what it recorded was
never removed, and a label someone removes before a retry must not come back with a restore. A
restore reads the records back through ``restoring.py``. No Airflow import.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from airflow_provider_hubspot_assoc.batching import Batch
from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.row_parser import Removal

SNAPSHOT_IDS = 1000  # from-ids read at once: HubSpot's batch-read limit, so one request (plus pages)
SNAPSHOT_OUTCOME = "snapshot"  # the results table's outcome of a record written before its request
VOID = "void"  # a record's flag: the same try's records of this removal are void (it was not carried out)
VOID_MARK = b'"void"'  # in every line that holds a void record (json.dumps writes the key so)
# A void's earlier sessions (tries, sessions before a deferral) whose records of the removal it drops too.
VOID_SESSIONS = "void_sessions"
Spec = dict[str, Any]  # {"category", "typeId", "label"}
RemovalKey = tuple[int, str, str, int | None]  # (row, from id, to id, type id), as ``Pipeline`` keys it
Reader = Callable[[list[str]], dict[str, list[dict[str, Any]]]]  # from ids -> HubSpot's current targets
Sink = Callable[[list[dict[str, Any]]], None]  # makes records durable before it returns


def removal_key(removal: Removal) -> RemovalKey:
    return (removal.row, removal.from_id, removal.to_id, removal.type_id)


def spec_of(raw: dict[str, Any]) -> Spec:
    """An association type as a snapshot records it."""
    return {
        "category": str(raw.get("category")),
        "typeId": int(raw.get("typeId", 0)),
        "label": raw.get("label"),
    }


def union(*lists: Iterable[Spec] | None) -> list[Spec]:
    """Every type of the lists, once each by (category, type id), in the order first seen."""
    seen: dict[tuple[str, int], Spec] = {}
    for specs in lists:
        for spec in specs or []:
            seen.setdefault((str(spec["category"]), int(spec["typeId"])), spec_of(spec))
    return list(seen.values())


def removed_types(kind: Kind, removal: Removal, current: dict[str, list[dict[str, Any]]]) -> list[Spec]:
    """The types ``removal`` will remove, given its from-id's current targets (``[]``: nothing)."""
    target = next(
        (t for t in current.get(removal.from_id) or [] if str(t["toObjectId"]) == removal.to_id), None
    )
    specs = [spec_of(spec) for spec in (target or {}).get("associationTypes") or []]
    if kind is Kind.ARCHIVE:
        return specs
    named = [s for s in specs if s["category"] == removal.category and s["typeId"] == removal.type_id]
    # The unlabeled type (label null) takes the whole association with it, every label included:
    # https://developers.hubspot.com/docs/api-reference/crm-associations-v4/guide
    return specs if any(s["label"] is None for s in named) else named


def record(object_types: tuple[str, str], removal: Removal, types: list[Spec]) -> dict[str, Any]:
    """One snapshot record (a JSONL line; a results-table row of outcome ``snapshot``)."""
    return {
        "from_type": object_types[0],
        "to_type": object_types[1],
        "from_id": removal.from_id,
        "to_id": removal.to_id,
        "types": types,
        "row_number": removal.row,
        "association_category": removal.category,
        "association_type_id": removal.type_id,
        "label": removal.label,
    }


class SnapshotTaker:
    """Reads and records what the upcoming batches remove, before they are handed on to be sent.

    :param kind: what the run removes.
    :param object_types: (from type, to type).
    :param read: current associations of some from-ids (the hook's batch read, or a mirror's plan).
    :param sink: makes a chunk's records durable; None when they were recorded already (a mirror).
    :param earlier: types an earlier try recorded, by removal key (kept whatever a re-read finds),
        without those a void dropped.
    :param absent: where removals with nothing to remove go (``Pipeline.absent``).
    :param void_sink: makes void records durable (the files, where records outlive a failed try);
        None: a record of a failed removal needs no void (the table's goes with the try's end).
    """

    def __init__(
        self,
        kind: Kind,
        object_types: tuple[str, str],
        read: Reader,
        sink: Sink | None,
        earlier: dict[RemovalKey, list[Spec]],
        absent: set[RemovalKey],
        void_sink: Sink | None = None,
    ) -> None:
        self.kind = kind
        self.void_sink = void_sink
        self.recorded: set[RemovalKey] = set()  # removals with a record of this session's, not voided
        # Removals earlier sessions recorded (a killed try, a session before a deferral), and which: a
        # removal this session finds still there (read before it sends it, or read back) and HubSpot
        # did not carry out was not carried out by them either.
        self.sent_before: dict[RemovalKey, set[str]] = {}
        # False when ``read`` tells nothing of HubSpot's state (a mirror going on with an earlier
        # session's plan): a removal it finds no type of was not read gone, and was not carried out by
        # this try's sessions before a deferral (``try_prefix``: a deferral leaves nothing unconfirmed
        # to send again), though maybe by a killed try.
        self.reads_current = True
        self.try_prefix = ""
        self.voids: list[dict[str, Any]] = []  # void records not durable yet
        self.object_types = object_types
        self.read = read
        self.sink = sink
        self.earlier = earlier
        self.absent = absent
        self.pending: dict[RemovalKey, list[Spec]] = {}  # recorded, outcome not written yet
        self.outcome_types = True  # outcome rows ask their types (``types_of``): a results table
        self.held: list[Batch] = []  # read ahead, not handed on (what an error left unsent)
        self.error: Exception | None = None  # why reading or recording a snapshot failed

    def batches(self, batches: Iterable[Batch]) -> Iterator[Batch]:
        """``batches``, each handed on only after its chunk's snapshot is durable.

        A read or a write that fails ends the iteration (the batches handed on are finished by the
        sender) and is kept in ``error``; ``held`` keeps the batches not handed on, in order.
        """
        from_ids: set[str] = set()
        for batch in batches:
            new = {r.from_id for r in batch.removals} - from_ids
            if self.held and len(from_ids) + len(new) > SNAPSHOT_IDS:
                if not self._recorded(from_ids):
                    self.held.append(batch)
                    return
                yield from self._hand_on()
                from_ids, new = set(), {r.from_id for r in batch.removals}
            self.held.append(batch)
            from_ids |= new
        if self._recorded(from_ids):
            yield from self._hand_on()

    def _recorded(self, from_ids: set[str]) -> bool:
        """Read and record the held batches' removals; False (``error`` set) when that failed."""
        removals = [r for batch in self.held for r in batch.removals]
        try:
            self.flush_voids()
            if removals:
                current = self.read(sorted(from_ids, key=int))
                self.sink_records(self.take(removals, current))
        except Exception as error:
            self.error = error
            return False
        return True

    def _hand_on(self) -> Iterator[Batch]:
        while self.held:  # one at a time: what a stopped sender did not take stays held
            yield self.held.pop(0)

    def take(
        self, removals: Iterable[Removal], current: dict[str, list[dict[str, Any]]]
    ) -> list[dict[str, Any]]:
        """Note what each removal will remove; return the records to make durable."""
        records = []
        for removal in removals:
            key = removal_key(removal)
            found = removed_types(self.kind, removal, current)
            earlier = self.earlier.get(key)
            if not found and not earlier:
                self.absent.add(key)
            types = union(earlier, found)
            if types and self.outcome_types:
                self.pending[key] = types
            if found:
                records.append(record(self.object_types, removal, found))
                if self.void_sink is not None:
                    self.recorded.add(key)
            elif self.reads_current:  # gone before this session sends it: an earlier one may have removed it
                self.sent_before.pop(key, None)
            elif key in self.sent_before:
                self.sent_before[key] = {s for s in self.sent_before[key] if s.startswith(self.try_prefix)}
        return records

    def void(self, removal: Removal) -> None:
        """HubSpot proved ``removal`` not carried out: void this try's record of it (made durable by
        ``flush_voids``, before the next chunk's records and at the end of the try)."""
        key = removal_key(removal)
        if self.void_sink is None:
            return
        recorded = key in self.recorded
        self.recorded.discard(key)
        before = self.sent_before.pop(key, None)
        if recorded or before:
            void: dict[str, Any] = {**record(self.object_types, removal, []), VOID: True}
            if before:
                void[VOID_SESSIONS] = sorted(before)
            self.voids.append(void)

    def flush_voids(self) -> None:
        if self.voids and self.void_sink is not None:
            self.void_sink(self.voids)
            self.voids = []

    def sink_records(self, records: list[dict[str, Any]]) -> None:
        if self.sink is not None and records:
            self.sink(records)

    def types_of(self, outcome: dict[str, Any]) -> list[Spec] | None:
        """The types an outcome record removed (archived or unknown), for the results table."""
        if outcome.get("from_id") is None:
            return None
        key = (
            int(outcome["row_number"]),
            str(outcome["from_id"]),
            str(outcome["to_id"]),
            outcome.get("association_type_id"),
        )
        if outcome["outcome"] == "duplicate":  # sent once, under the removal's own outcome (written later)
            return None
        # A removal an earlier try (or session, before a deferral) sent and this one only settles
        # by reading back was not taken here: what that try recorded is its snapshot.
        if outcome["outcome"] == "unknown":  # settled later: its record is written again
            return self.pending.get(key) or self.earlier.get(key)
        types = self.pending.pop(key, None) or self.earlier.get(key)
        return types if outcome["outcome"] == "archived" else None


# ------------------------------------------------------------------ reading snapshots back
def complete_lines(data: bytes) -> list[bytes]:
    """The lines of a JSONL file that were written whole: every writer ends a line with a newline, so
    a last piece without one is what a try killed while writing left (its requests never went out)."""
    return data.split(b"\n")[:-1]


def session_of(file_name: str) -> str:
    """The try and session a snapshot file was written by: its name without the part number."""
    return file_name.rsplit("-", 1)[0]


def removal_key_of(item: dict[str, Any]) -> RemovalKey | None:
    """The removal key of a snapshot record or a failed row (``row_number`` or ``row``); None when it
    names no removal."""
    try:
        type_id = item.get("association_type_id")
        return (
            int(item.get("row_number", item.get("row"))),  # type: ignore[arg-type]
            str(item["from_id"]),
            str(item["to_id"]),
            None if type_id is None else int(type_id),
        )
    except (KeyError, TypeError, ValueError):
        return None


def void_keys(lines: Iterable[bytes], session: str) -> dict[str, set[RemovalKey]]:
    """The removals the void records of ``session``'s lines drop, by the session whose records they
    drop: their own, and the earlier sessions they name (only lines that may hold one are parsed)."""
    keys: dict[str, set[RemovalKey]] = {}
    for line in lines:
        if VOID_MARK in line:
            item = _parsed(line)
            key = removal_key_of(item) if item is not None and item.get(VOID) is True else None
            if key is None:
                continue
            assert item is not None
            others = item.get(VOID_SESSIONS)
            named = [str(o) for o in others if o] if isinstance(others, list) else []
            for name in [session, *named]:
                keys.setdefault(name, set()).add(key)
    return keys


def is_void(line: bytes) -> bool:
    """Whether a snapshot line is a void record."""
    if VOID_MARK not in line:
        return False
    item = _parsed(line)
    return item is not None and item.get(VOID) is True


def is_live(line: bytes, voided: set[RemovalKey]) -> bool:
    """Whether a snapshot line counts: it is no void record, and no record its session voided. A line
    that cannot be read counts (whoever reads it names it)."""
    if not voided and VOID_MARK not in line:
        return True
    item = _parsed(line)
    if item is None:
        return True
    return item.get(VOID) is not True and removal_key_of(item) not in voided


def _parsed(line: bytes) -> dict[str, Any] | None:
    try:
        item = json.loads(line)
    except ValueError:
        return None
    return item if isinstance(item, dict) else None
