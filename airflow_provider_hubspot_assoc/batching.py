"""Duplicate removal and grouping of removals into HubSpot requests. No Airflow import.

Archive removals are grouped by ``from`` id into HubSpot's multi-``to`` inputs; label removals by
pair into one input with several ``types``. Every request carries at most ``batch_size`` inputs and
``max_pairs_per_request`` pairs (``request_size``), and remembers which removals it holds so each
one's outcome can be reported by row.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from typing import Any

from airflow_provider_hubspot_assoc.kinds import CATEGORIES, Kind
from airflow_provider_hubspot_assoc.models import archive_inputs
from airflow_provider_hubspot_assoc.request_size import RequestSize
from airflow_provider_hubspot_assoc.row_parser import Rejection, Removal

ID_SPAN = 10**20  # record ids have at most 20 digits: a pair's key is from id * ID_SPAN + to id
# Keys of removals seen, held in a set (about 70 bytes each) before they move to a file on disk.
MAX_KEYS_IN_MEMORY = 200_000
# Bits of the bitmap of keys on disk: with 5M keys, about 7% of new keys are looked up there.
FILTER_BITS = 2**26
FILTER_MASK = FILTER_BITS - 1
DISK_CACHE_KB = 16_000  # SQLite's page cache for the keys on disk
KEY_BYTES = 24  # a key on disk: (10**20)**2 * 8 * 2**31 < 2**192
SPILL_CHUNK = 10_000  # keys a statement of a spill inserts
# Keys of a spill in one statement: the n keys of one blob, KEY_BYTES each.
_INSERT_KEYS = (
    "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i + 1 < ?1) "
    f"INSERT INTO seen SELECT substr(?2, i * {KEY_BYTES} + 1, {KEY_BYTES}) FROM k"
)
# Rejected and duplicate rows a batch carries before it is closed without inputs, per input it holds.
LEDGER_PER_REMOVAL = 10


class Deduplicator:
    """Remembers removals seen, exactly, at bounded memory.

    Keys are exact integers. The newest (up to ``max_in_memory``) live in a set (about 70 bytes
    each); when it is full they move, in one batch, to a temporary on-disk SQLite table, so a
    stream of any length runs at constant memory. A bitmap of the keys on disk (``FILTER_BITS``,
    8 MB) sends to the disk only the keys it may hold: most new keys are never looked up there.
    """

    def __init__(self, max_in_memory: int = MAX_KEYS_IN_MEMORY) -> None:
        self.max_in_memory = max_in_memory
        self._seen: set[int] = set()
        self._disk: sqlite3.Connection | None = None
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._on_disk = bytearray()  # bit ``hash(key) & FILTER_MASK`` set for every key on disk
        self._count = 0

    def _key(self, removal: Removal) -> int:
        key = int(removal.from_id) * ID_SPAN + int(removal.to_id)
        if removal.type_id is not None:
            category = CATEGORIES.index(removal.category) if removal.category in CATEGORIES else 4
            key = (key * 8 + category) * 2**31 + removal.type_id
        return key

    def is_duplicate(self, removal: Removal) -> bool:
        """True if an equal removal was seen before; remembers this one otherwise."""
        return self.seen_key(self._key(removal))

    def seen_pair(self, from_id: int, to_id: int) -> bool:
        """``is_duplicate`` of a plain pair (no type), its ids given as ints: nothing is parsed."""
        return self.seen_key(from_id * ID_SPAN + to_id)

    def seen_key(self, key: int) -> bool:
        """``is_duplicate`` of the removal whose key is ``key``."""
        if key in self._seen:
            return True
        if self._disk is not None:
            bit = hash(key) & FILTER_MASK
            if (
                self._on_disk[bit >> 3] & (1 << (bit & 7))
                and self._disk.execute(
                    "SELECT 1 FROM seen WHERE key = ?", (key.to_bytes(KEY_BYTES, "big"),)
                ).fetchone()
            ):
                return True
        self._seen.add(key)
        self._count += 1
        if len(self._seen) >= self.max_in_memory:
            self._spill()
        return False

    def _spill(self) -> None:
        """Move the keys held in memory to the disk, in one statement."""
        if self._disk is None:
            self._folder = tempfile.TemporaryDirectory(prefix="hubspot-assoc-dedupe-")
            self._disk = sqlite3.connect(os.path.join(self._folder.name, "seen.db"), isolation_level=None)
            self._disk.execute("PRAGMA journal_mode=OFF")
            self._disk.execute("PRAGMA synchronous=OFF")
            self._disk.execute(f"PRAGMA cache_size=-{DISK_CACHE_KB}")
            self._disk.execute("CREATE TABLE seen (key BLOB PRIMARY KEY) WITHOUT ROWID")
            self._on_disk = bytearray(FILTER_BITS // 8)
        # In key order: the B-tree fills in sequence instead of splitting pages at random places. The
        # keys go as one parameter per statement, cut by SQLite itself (binding a parameter per key
        # cost twice as much), SPILL_CHUNK at a time (the bytes of all at once would top the memory).
        keys = sorted(self._seen)
        self._disk.execute("BEGIN")  # one transaction: not one commit per key
        for start in range(0, len(keys), SPILL_CHUNK):
            chunk = keys[start : start + SPILL_CHUNK]
            blob = b"".join([key.to_bytes(KEY_BYTES, "big") for key in chunk])
            self._disk.execute(_INSERT_KEYS, (len(chunk), blob))
        self._disk.execute("COMMIT")
        bits = self._on_disk
        for key in self._seen:
            bit = hash(key) & FILTER_MASK
            bits[bit >> 3] |= 1 << (bit & 7)
        self._seen = set()

    def close(self) -> None:
        if self._disk is not None:
            self._disk.close()
            self._disk = None
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None
        self._on_disk = bytearray()

    def __len__(self) -> int:
        return self._count


class Batch(list[dict[str, Any]]):
    """HubSpot's native inputs of one request, plus the rows it accounts for.

    Besides its removals, a batch carries the rows rejected or found duplicate while it was filled,
    and ``last_row``, the number of the last input row it completes: once the batch and every batch
    before it are finished, every row up to ``last_row`` is accounted for. ``mid_row`` says the batch
    was closed inside a row whose other removals (a native input with many targets) come later.
    """

    def __init__(self, kind: Kind) -> None:
        super().__init__()
        self.kind = Kind(kind)
        self.seq = 0
        self.removals: list[Removal] = []
        self.rejections: list[Rejection] = []
        self.duplicate_removals: list[Removal] = []
        self.last_row = 0
        self.mid_row = False

    @property
    def duplicates(self) -> int:
        return len(self.duplicate_removals)

    @property
    def rows_accounted(self) -> int:
        return len(self.removals) + len(self.rejections) + self.duplicates


class Batcher:
    """Fills requests to ``size`` (inputs and pairs); each ``add_*`` returns a batch once one is closed.

    A batch is closed when the next removal would not fit (a new input past ``batch_size``, or a
    pair past ``max_pairs_per_request``), so later to ids of a from id already in it still join its
    input. ``size`` is read at every removal: a cap lowered during the run applies from the next one.
    Rejected and duplicate rows ride along with the batch being filled; if many of them come
    without removals, a batch with no inputs is closed so they are accounted for all the same.
    """

    def __init__(self, kind: Kind, size: RequestSize | int, max_ledger: int | None = None) -> None:
        self.kind = Kind(kind)
        self.size = RequestSize.of(size)
        self.max_ledger = max_ledger or self.size.max_inputs * LEDGER_PER_REMOVAL
        self._open = Batch(kind)
        self._keys: set[Any] = set()  # the open batch's inputs: from ids (archive), else pairs
        self._archive = self.kind is Kind.ARCHIVE

    def _key(self, removal: Removal) -> Any:
        return removal.from_id if self._archive else removal.pair

    def room_for(self, removals: list[Removal], alone: bool = False) -> bool:
        """Whether ``removals`` (one row's) fit in the open batch (``alone``: in an empty one)."""
        keys = {self._key(r) for r in removals}
        if alone:
            inputs, pairs = len(keys), len(removals)
        else:
            inputs = len(self._keys) + sum(1 for key in keys if key not in self._keys)
            pairs = len(self._open.removals) + len(removals)
        if self.kind is not Kind.ARCHIVE:
            return inputs <= self.size.input_cap(self.kind)
        return inputs <= self.size.max_inputs and pairs <= self.size.max_pairs

    def add(self, removal: Removal, row: int | None = None, row_complete: bool = True) -> Batch | None:
        """Add a removal; ``row_complete=False`` when more removals of the same row follow.

        Returns the batch closed to make room for it, if one was.
        """
        keys, removals, size = self._keys, self._open.removals, self.size
        closed = None
        if self._archive:  # once per input row: the size's caps are read here, not through calls
            key: Any = removal.from_id
            if removals and (
                (key not in keys and len(keys) >= size.max_inputs) or len(removals) >= size.max_pairs
            ):
                closed = self.flush()
                keys, removals = self._keys, self._open.removals
        else:
            key = removal.pair
            if removals and key not in keys and len(keys) >= size.input_cap(self.kind):
                closed = self.flush()
                keys, removals = self._keys, self._open.removals
        removals.append(removal)
        keys.add(key)
        batch = self._open
        if row_complete:
            row = row if row is not None else removal.row
            if row > batch.last_row:
                batch.last_row = row
        batch.mid_row = not row_complete
        return closed

    def add_rejection(self, rejection: Rejection, row_complete: bool = True) -> Batch | None:
        """Add a rejected row, or one rejected type of a row (``row_complete=False`` when more follow)."""
        self._open.rejections.append(rejection)
        return self._advance(rejection.row, self._ledger_full(), row_complete)

    def add_duplicate(self, removal: Removal, row_complete: bool = True) -> Batch | None:
        self._open.duplicate_removals.append(removal)
        return self._advance(removal.row, self._ledger_full(), row_complete)

    @property
    def open_removals(self) -> int:
        """Removals in the batch being filled."""
        return len(self._open.removals)

    def _ledger_full(self) -> bool:
        return len(self._open.rejections) + self._open.duplicates >= self.max_ledger

    def _advance(self, row: int, close: bool, row_complete: bool = True) -> Batch | None:
        if row_complete:
            self._open.last_row = max(self._open.last_row, row)
        self._open.mid_row = not row_complete
        return self.flush() if close else None

    def flush(self) -> Batch | None:
        """Close the open batch (inputs built from its removals); None if it accounts for nothing."""
        batch, self._open = self._open, Batch(self.kind)
        self._keys = set()
        if not batch.rows_accounted:
            self._open.last_row = batch.last_row
            return None
        if self.kind is Kind.ARCHIVE:
            batch += archive_inputs([(removal.from_id, removal.to_id) for removal in batch.removals])
        else:
            types: dict[tuple[str, str], list[dict[str, Any]]] = {}
            for removal in batch.removals:
                types.setdefault(removal.pair, []).append(
                    {"associationCategory": removal.category, "associationTypeId": removal.type_id}
                )
            batch += [
                {"from": {"id": pair[0]}, "to": {"id": pair[1]}, "types": specs}
                for pair, specs in types.items()
            ]
        return batch
