"""What a restore re-creates: one archive task's snapshot records, as create rows. No Airflow import.

A run that takes a snapshot (``snapshots.py``) records, for each removal, the association types it
removed: in its results table (``types``, on the outcome rows, and on rows of outcome ``snapshot``
that a run killed before its end leaves behind) and as JSONL under its ``results_path``. A restore
reads the records of one task run (``SourceFilter``: run, DAG, task, and optionally map index) and
turns each into one create row, HubSpot's native input ``{"from", "to", "types"}`` holding every type
the removal removed (so a pair's unlabeled type and its labels travel in one input).

Only what the run removed, or may have removed, is restored. A record whose removal is known not to
have been carried out (its outcome row says ``failed``, ``rejected``, ``duplicate`` or ``planned``; in
files, the run's ``failed.jsonl`` lists it) is skipped: that association was never removed, and
creating it now could undo a change someone made since. Records of removals ``archived`` or
``unknown``, and records with no outcome (a try killed after its snapshot), are restored.

Each type of a record is checked on its own against the label definitions read now: a type whose
label was deleted since is rejected alone, and the record's other types are still sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from airflow_provider_hubspot_assoc.label_resolver import LabelResolver
from airflow_provider_hubspot_assoc.object_types import InvalidObjectTypeError, object_type_id
from airflow_provider_hubspot_assoc.row_checks import Checked, CheckedRow, check_types
from airflow_provider_hubspot_assoc.row_parser import Rejection, RowParser
from airflow_provider_hubspot_assoc.snapshots import SNAPSHOT_OUTCOME, removal_key_of

# Outcomes of a removal that was, or may have been, carried out: its record is restored.
REMOVED = ("archived", "unknown")
# The results-table columns a restore reads, in the order that keeps one removal's rows together.
ORDER = ("map_index", "row_number", "from_id", "to_id", "association_type_id")
SOURCE_COLUMNS = (*ORDER, "outcome", "types")

RecordKey = tuple[int, int, str, str, int | None]  # (map index, row, from id, to id, type id)


@dataclass(frozen=True)
class SourceFilter:
    """The task run whose snapshot a restore reads: run id, DAG, task, and map index (None: all).

    A restore never spans runs or tasks: their records may be of other object types or of removals
    made on purpose, so each part but the map index is required (``of`` refuses a missing one).
    """

    run_id: str
    dag_id: str
    task_id: str
    map_index: int | None = None

    @classmethod
    def of(cls, run_id: Any, dag_id: Any, task_id: Any, map_index: Any = None) -> SourceFilter:
        """The filter of the given values (rendered templates), or ``ValueError`` naming the parameter."""
        named = {"source_run_id": run_id, "source_dag_id": dag_id, "source_task_id": task_id}
        for name, value in named.items():
            if not isinstance(value, str) or not value.strip():
                raise ValueError(
                    f"{name} is {value!r}: a restore needs the run id, DAG id and task id of the run to "
                    "undo, so that it never re-creates what another run removed"
                )
        if isinstance(map_index, str):
            map_index = map_index.strip() or None
        if map_index is not None:
            try:
                map_index = int(map_index)
            except (TypeError, ValueError):
                raise ValueError(f"source_map_index must be a whole number, got {map_index!r}") from None
        return cls(run_id.strip(), dag_id.strip(), task_id.strip(), map_index)

    def matches(self, record: dict[str, Any]) -> bool:
        """Whether a JSONL record (which names its run, DAG, task and map index) is of this run."""
        same = (record.get("run_id"), record.get("dag_id"), record.get("task_id")) == (
            self.run_id,
            self.dag_id,
            self.task_id,
        )
        return same and (self.map_index is None or record.get("map_index") == self.map_index)

    def __str__(self) -> str:
        index = "" if self.map_index is None else f", map index {self.map_index}"
        return f"run {self.run_id!r} of DAG {self.dag_id!r}, task {self.task_id!r}{index}"


@dataclass
class SourceFigures:
    """What a restore read: snapshot records, and those skipped as not removed."""

    records: int = 0
    not_removed: int = 0

    def as_json(self) -> dict[str, int]:
        return {"records": self.records, "not_removed": self.not_removed}


def _specs(value: Any) -> list[dict[str, Any]] | None:
    """A record's recorded types (a list, or the JSON text a table holds); None when unreadable."""
    if isinstance(value, str | bytes):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if not isinstance(value, list) or not all(isinstance(spec, dict) for spec in value):
        return None
    return value


def _union(lists: Iterable[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for specs in lists:
        for spec in specs:
            seen.setdefault((str(spec.get("category")), str(spec.get("typeId"))), spec)
    return list(seen.values())


def create_row(from_id: Any, to_id: Any, recorded: Any, where: str) -> dict[str, Any]:
    """One create row: HubSpot's native input with the recorded types, the unlabeled one first.

    Recorded types that cannot be read are passed on as they are, so the row is rejected naming
    ``types``; ``source`` says which snapshot record the row comes from, ``labels`` the label names
    recorded by type id (to name a label whose definition was deleted since).
    """
    specs = _specs(recorded)
    types: Any = recorded
    labels: dict[str, str] = {}
    if specs is not None:
        ordered = sorted(specs, key=lambda spec: spec.get("label") is not None)
        types = [
            {"associationCategory": s.get("category"), "associationTypeId": s.get("typeId")} for s in ordered
        ]
        labels = {str(s.get("typeId")): str(s["label"]) for s in ordered if s.get("label") is not None}
    return {"from": {"id": from_id}, "to": {"id": to_id}, "types": types, "source": where, "labels": labels}


def table_rows(rows: Iterable[dict[str, Any]], figures: SourceFigures) -> Iterator[dict[str, Any]]:
    """Results-table rows of one run, ordered by ``ORDER``, as create rows (one per removal recorded).

    A removal's rows (its snapshot row, its outcome row) come together: their types are united, and
    its outcome decides whether it is restored (see the module's docstring).
    """
    group: list[dict[str, Any]] = []
    for row in rows:
        if group and _table_key(row) != _table_key(group[0]):
            yield from _removal(group, figures)
            group = []
        group.append(row)
    if group:
        yield from _removal(group, figures)


def _table_key(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row.get(column) for column in ORDER)


def _removal(rows: list[dict[str, Any]], figures: SourceFigures) -> Iterator[dict[str, Any]]:
    recorded = [row["types"] for row in rows if row.get("types") not in (None, "", "null", "[]")]
    if not recorded:
        return  # no snapshot record: nothing was found to remove (or a rejected or duplicate row)
    figures.records += 1
    outcomes = {row.get("outcome") for row in rows} - {SNAPSHOT_OUTCOME}
    if outcomes and outcomes.isdisjoint(REMOVED):
        figures.not_removed += 1
        return
    first = rows[0]
    where = f"row {first.get('row_number')}, map index {first.get('map_index')}"
    readable = [_specs(value) for value in recorded]
    types = _union(s for s in readable if s is not None) if None not in readable else recorded[0]
    yield create_row(first.get("from_id"), first.get("to_id"), types, where)


def file_rows(
    lines: Iterable[tuple[str, str | bytes]],
    source: SourceFilter,
    failed: set[RecordKey],
    object_types: tuple[str, str],
    figures: SourceFigures,
) -> Iterator[dict[str, Any]]:
    """Snapshot JSONL lines (each with where it was read) as create rows, one per record of ``source``.

    ``failed``: keys of the run's failed removals (not restored). A line that is not a JSON object,
    or a record of other object types than the restore's, is rejected naming ``record``,
    ``from_type`` or ``to_type``. A removal recorded by two tries gives two rows: the second's types
    are counted as duplicates and sent once.
    """
    wanted = tuple(object_type_id(t) for t in object_types)
    for where, line in lines:
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            figures.records += 1
            value = line[:200].decode(errors="replace") if isinstance(line, bytes) else line[:200]
            refused = {"field": "record", "reason": "not a JSON object", "value": value}
            yield {"source": where, "refused": refused}
            continue
        if not source.matches(record) or _specs(record.get("types")) == []:
            continue
        figures.records += 1
        if record_key(record) in failed:
            figures.not_removed += 1
            continue
        row = create_row(record.get("from_id"), record.get("to_id"), record.get("types"), where)
        for name, expected in zip(("from_type", "to_type"), wanted, strict=True):
            if _type_id(record.get(name)) != expected:
                reason = f"recorded for {record.get(name)!r}, not this restore's {expected}"
                row["refused"] = {"field": name, "reason": reason, "value": record.get(name)}
                break
        yield row


def _type_id(value: Any) -> str | None:
    try:
        return object_type_id(str(value))
    except InvalidObjectTypeError:
        return None


def record_key(item: dict[str, Any], map_index: int | None = None) -> RecordKey | None:
    """A removal's key in a snapshot record or a failed row (``row`` or ``row_number``), or None."""
    removal = removal_key_of(item)
    try:
        index = int(item["map_index"] if map_index is None else map_index)
    except (KeyError, TypeError, ValueError):
        return None
    return None if removal is None else (index, *removal)


def check_rows(
    rows: Iterable[dict[str, Any]], parser: RowParser, resolver: LabelResolver | None
) -> Iterator[CheckedRow]:
    """Create rows checked type by type (``row_checks.check_types``): a type that cannot be resolved
    (its label definition was deleted since) is rejected alone, the record's other types are sent. A
    record the source refused, or that cannot be parsed, is rejected as a whole. Every rejection names
    the snapshot record it comes from."""
    for number, raw in enumerate(rows, start=1):
        refused = raw.get("refused")
        parsed: Checked
        if refused is not None:
            parsed = Rejection(number, refused["field"], refused["reason"], refused.get("value"))
        else:
            parsed = check_types(raw, number, parser, resolver)
        if isinstance(parsed, Rejection):
            yield number, _placed(parsed, raw)
        else:
            yield number, [_placed(item, raw) if isinstance(item, Rejection) else item for item in parsed]


def _placed(rejection: Rejection, raw: dict[str, Any]) -> Rejection:
    """The rejection, naming the label its type was recorded with and the snapshot record."""
    reason = rejection.reason
    label = (raw.get("labels") or {}).get(str(rejection.value))
    if rejection.field == "association_type_id" and label is not None:
        reason += f": the label {label!r} it was recorded with is no longer defined"
    return replace(rejection, reason=f"{reason} (snapshot record: {raw.get('source')})")
