"""What a run's snapshot recorded, read back pair by pair: how the tests look at a snapshot.

The restore reads snapshots through ``airflow_provider_hubspot_assoc.restoring`` (which also skips
removals that failed); these helpers only unite each pair's recorded types, for assertions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from airflow_provider_hubspot_assoc.snapshots import Spec, spec_of, union

PairKey = tuple[str, str, str, str]  # (from type, to type, from id, to id)


def _types(value: Any) -> list[Spec]:
    """A record's ``types``: a list, or the JSON text a table column holds."""
    if isinstance(value, str):
        value = json.loads(value)
    return [spec_of(spec) for spec in value or [] if isinstance(spec, dict)]


def types_by_pair(
    records: Iterable[dict[str, Any]],
    *,
    run_id: str | None = None,
    dag_id: str | None = None,
    task_id: str | None = None,
    map_index: int | None = None,
) -> dict[PairKey, list[Spec]]:
    """What a run removed: ``{(from type, to type, from id, to id): types}``, every record of a pair
    united (a pair recorded by two tries, or for two labels, restores once, with all of them).

    Records are JSONL lines or results-table rows (``table_records``); those of other runs, DAGs,
    tasks or map indexes than given are skipped, as are records that name no type.
    """
    wanted = {"run_id": run_id, "dag_id": dag_id, "task_id": task_id, "map_index": map_index}
    found: dict[PairKey, list[Spec]] = {}
    for item in records:
        if any(value is not None and item.get(name) != value for name, value in wanted.items()):
            continue
        types = _types(item.get("types"))
        if not types:
            continue
        key = (str(item["from_type"]), str(item["to_type"]), str(item["from_id"]), str(item["to_id"]))
        found[key] = union(found.get(key), types)
    return found


def table_records(rows: Iterable[dict[str, Any]], object_types: tuple[str, str]) -> Iterator[dict[str, Any]]:
    """Results-table rows (as dicts of their columns) as records: the table has no object-type columns,
    so the restore names them."""
    for row in rows:
        yield {**row, "from_type": object_types[0], "to_type": object_types[1]}


def jsonl_records(lines: Iterable[str | bytes]) -> Iterator[dict[str, Any]]:
    """The records of snapshot JSONL files' lines (blank lines skipped)."""
    for line in lines:
        if line.strip():
            yield json.loads(line)
