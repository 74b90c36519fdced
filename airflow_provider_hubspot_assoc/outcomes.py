"""Where every input row ends up: the buckets, and the rejected/failed rows in full.

Every removal read lands in exactly one bucket: ``archived`` (``restored`` for a create),
``rejected`` (invalid, with the reason), ``failed`` (HubSpot's error), ``duplicates``, ``unknown``
(sent, but no answer proves what HubSpot did, and reading it back did not tell), or, in a dry run,
``planned``. ``received`` always equals their sum. No Airflow import.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from typing import IO, Any

from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.results_table import RECORD_FIELDS
from airflow_provider_hubspot_assoc.row_parser import Rejection, Removal

BUCKETS = ("archived", "rejected", "failed", "duplicates", "unknown", "planned")
# Rows of each list kept in memory (and in the XCom result); all of them spill to a file beyond.
DEFAULT_KEEP_ROWS = 100


@dataclass
class Tally:
    """The buckets' counts. ``archived`` counts the writes HubSpot carried out, whatever ``kind``: the
    summary, the logs and the write-back name that bucket ``kind.done`` (``restored`` for a create)."""

    received: int = 0
    archived: int = 0
    rejected: int = 0
    failed: int = 0
    duplicates: int = 0
    unknown: int = 0
    planned: int = 0
    already_absent: int = 0  # part of archived: HubSpot said the association was already gone
    kind: Kind = field(default=Kind.ARCHIVE, repr=False, compare=False)

    def accounted(self) -> int:
        return sum(getattr(self, bucket) for bucket in BUCKETS)

    def check(self) -> None:
        """Raise if a row is missing from the buckets or counted twice (a bug, never user error)."""
        if self.accounted() != self.received:
            raise RuntimeError(f"bucket sums do not add up: {self.as_json()}")

    def as_json(self) -> dict[str, int]:
        """The counts as a checkpoint keeps them."""
        return {item.name: getattr(self, item.name) for item in fields(self) if item.name != "kind"}

    def named(self) -> list[tuple[str, int]]:
        """Each bucket with its count, in order, named as the summary names it."""
        return [(self.kind.done if b == "archived" else b, getattr(self, b)) for b in BUCKETS]

    def summary(self) -> dict[str, int]:
        """The counts as the result's ``summary`` gives them (``already_absent`` only for removals)."""
        counts = {"received": self.received, **dict(self.named())}
        if not self.kind.creates:
            counts["already_absent"] = self.already_absent
        return counts


class RowSpool:
    """Collects rows of one kind; the first ``keep`` in memory, all of them in a JSONL file beyond."""

    def __init__(self, name: str, keep: int) -> None:
        self.name = name
        self.keep = keep
        self.count = 0
        self.not_kept = 0  # rows counted by an earlier try whose spill file is not on this worker
        self._head: list[dict[str, Any]] = []
        self._file: IO[str] | None = None

    def to_state(self) -> dict[str, Any]:
        """What a checkpoint keeps: the head, the count, and the spill file (left in place) with its
        size then, so a resume cuts off rows written after the checkpoint instead of repeating them."""
        size = None
        if self._file is not None:
            self._file.flush()
            size = os.path.getsize(self._file.name)
        return {
            "head": list(self._head),
            "count": self.count,
            "not_kept": self.not_kept,
            "file": self._file.name if self._file is not None else None,
            "size": size,
        }

    @classmethod
    def from_state(cls, name: str, keep: int, state: dict[str, Any]) -> RowSpool:
        spool = cls(name, keep)
        spool._head = list(state.get("head") or [])
        spool.count = int(state.get("count") or 0)
        spool.not_kept = int(state.get("not_kept") or 0)
        path = state.get("file")
        if path and os.path.exists(path):
            if state.get("size") is not None:
                os.truncate(path, int(state["size"]))  # rows past the checkpoint come again
            spool._file = open(path, "a+")  # noqa: SIM115 - kept open until close()
        elif spool.count > len(spool._head):
            spool.not_kept += spool.count - len(spool._head)
        return spool

    def add(self, item: dict[str, Any]) -> None:
        self.count += 1
        if self._file is None and len(self._head) < self.keep:
            self._head.append(item)
            return
        if self._file is None:
            self._file = tempfile.NamedTemporaryFile("w+", suffix=f"-{self.name}.jsonl", delete=False)  # noqa: SIM115
            for earlier in self._head:
                self._file.write(json.dumps(earlier) + "\n")
        self._file.write(json.dumps(item) + "\n")

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every row added, in order (from the spill file once there is one)."""
        if self._file is None:
            yield from self._head
            return
        self._file.flush()
        with open(self._file.name) as source:
            for line in source:
                yield json.loads(line)

    @property
    def head(self) -> list[dict[str, Any]]:
        return list(self._head)

    @property
    def overflowed(self) -> bool:
        return self._file is not None

    def copy_to(self, open_destination: Any) -> None:
        """Write every row (JSONL) into a writable binary or text file object."""
        if self._file is None:
            for item in self._head:
                open_destination.write((json.dumps(item) + "\n").encode())
            return
        self._file.flush()
        with open(self._file.name, "rb") as source:
            shutil.copyfileobj(source, open_destination)

    def close(self, remove: bool = True) -> None:
        if self._file is not None:
            self._file.close()
            if remove:
                os.unlink(self._file.name)
            self._file = None


# One input row's outcome as the results table stores it: a tuple of ``RECORD_FIELDS`` (row number,
# from id, to id, association category, type id, label, outcome, error code, error message). Built
# for every input row of a run that writes back, so a plain tuple: no dict to build and take apart.
OutcomeRecord = tuple[Any, ...]
OUTCOME = RECORD_FIELDS.index("outcome")  # where a record holds its outcome
# HubSpot's error message as stored (its messages are short; a proxy's HTML page is not).
MAX_MESSAGE_CHARS = 2000


def outcome_record(
    item: Removal | Rejection, outcome: str, error_code: str | None = None, error_message: str | None = None
) -> OutcomeRecord:
    """One input row's outcome, as the write-back table stores it (its message cut to
    ``MAX_MESSAGE_CHARS``)."""
    if isinstance(error_message, str):
        error_message = error_message[:MAX_MESSAGE_CHARS]
    if isinstance(item, Rejection):
        return (item.row, None, None, None, None, None, outcome, error_code, error_message)
    return (
        item.row,
        item.from_id,
        item.to_id,
        item.category,
        item.type_id,
        item.label,
        outcome,
        error_code,
        error_message,
    )


def outcome_records(removals: Iterable[Removal], outcome: str) -> list[OutcomeRecord]:
    """``outcome_record`` of each removal, with no error (a whole request done, duplicates, planned)."""
    return [
        (r.row, r.from_id, r.to_id, r.category, r.type_id, r.label, outcome, None, None) for r in removals
    ]


def record_fields(record: OutcomeRecord) -> dict[str, Any]:
    """An outcome record's cells by column name."""
    return dict(zip(RECORD_FIELDS, record, strict=True))
