"""Where a restore reads the snapshot of the run it undoes: the run's results table, or its
``results_path`` (JSONL files). ``restoring.py`` turns what is read into create rows.

A table is read with one query, streamed, ordered so that a removal's rows come together and a
retried try reads the rows in the same order (its checkpoint skips rows by position). Files are read
folder by folder, file by file, in name order, without void records and the records they void; the
run's ``failed.jsonl`` beside them lists the removals it did not carry out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from airflow_provider_hubspot_assoc._compat import (
    AirflowFailException,
    BaseHook,
    ObjectStoragePath,
    dbapi_hook_class,
)
from airflow_provider_hubspot_assoc.operators.artifacts import task_relative_path
from airflow_provider_hubspot_assoc.operators.snapshot import live_lines, snapshot_folder
from airflow_provider_hubspot_assoc.restoring import (
    ORDER,
    SOURCE_COLUMNS,
    RecordKey,
    SourceFigures,
    SourceFilter,
    file_rows,
    record_key,
    table_rows,
)
from airflow_provider_hubspot_assoc.results_table import TYPES_COLUMN, check_table_name, quiet
from airflow_provider_hubspot_assoc.row_sources import sql_rows
from airflow_provider_hubspot_assoc.snapshots import complete_lines
from airflow_provider_hubspot_assoc.sql_stream import DEFAULT_FETCH_SIZE


class TableSource:
    """The snapshot records of one run in a results table.

    :param table: the archive run's ``results_table``.
    :param conn_id: the SQL connection the table is on.
    :param source: the run to read.
    :param fetch_size: rows fetched at a time.
    """

    def __init__(
        self, table: str, conn_id: str, source: SourceFilter, fetch_size: int = DEFAULT_FETCH_SIZE
    ) -> None:
        self.table = check_table_name(table)
        self.conn_id = conn_id
        self.source = source
        self.fetch_size = fetch_size

    def __str__(self) -> str:
        return f"table {self.table} on {self.conn_id}"

    def _where(self, mark: str) -> tuple[str, tuple[Any, ...]]:
        where = f"run_id = {mark} AND dag_id = {mark} AND task_id = {mark}"
        values: tuple[Any, ...] = (self.source.run_id, self.source.dag_id, self.source.task_id)
        if self.source.map_index is not None:
            where += f" AND map_index = {mark}"
            values += (self.source.map_index,)
        return where, values

    def _hook(self) -> Any:
        hook = BaseHook.get_connection(self.conn_id).get_hook()  # type: ignore[no-untyped-call]
        if not isinstance(hook, dbapi_hook_class()):
            raise AirflowFailException(f"source_conn_id {self.conn_id!r} is not a SQL connection")
        return quiet(hook)

    def has_records(self) -> bool:
        """Whether the run left any snapshot record here; fails naming the table when it cannot be read."""
        hook = self._hook()
        where, values = self._where(hook.placeholder)
        try:
            found = hook.get_first(
                f"SELECT COUNT(*) FROM {self.table} WHERE {where} AND {TYPES_COLUMN} IS NOT NULL",
                parameters=values,
            )
        except Exception as error:
            raise AirflowFailException(
                f"cannot read snapshot records from {self}: {type(error).__name__}: {error}. The table "
                f"of a run that took a snapshot has a {TYPES_COLUMN!r} column. Nothing was sent."
            ) from None
        return bool(found and found[0])

    def rows(self, connection: Any, figures: SourceFigures) -> Iterator[dict[str, Any]]:
        """The create rows, streamed; ``connection``: the writer's, when it is the same SQLite file."""
        where, values = self._where(self._hook().placeholder)
        query = (
            f"SELECT {', '.join(SOURCE_COLUMNS)} FROM {self.table} WHERE {where} ORDER BY {', '.join(ORDER)}"
        )
        found = sql_rows(query, self.conn_id, values, self.fetch_size, SOURCE_COLUMNS, connection)
        return table_rows(found, figures)


class FileSource:
    """The snapshot records of one run under its ``results_path``.

    :param root: the archive run's ``results_path``.
    :param source: the run to read.
    :param object_types: the restore's (from, to): a record of others is rejected.
    """

    def __init__(self, root: str, source: SourceFilter, object_types: tuple[str, str]) -> None:
        self.root = root
        self.source = source
        self.object_types = object_types

    def __str__(self) -> str:
        return f"snapshot files under {self.root}"

    def _identity(self, map_index: int) -> dict[str, Any]:
        source = self.source
        return {
            "run_id": source.run_id,
            "dag_id": source.dag_id,
            "task_id": source.task_id,
            "map_index": map_index,
        }

    def _map_indexes(self) -> list[int]:
        """The map index given, else every one the run's task has a snapshot folder for."""
        if self.source.map_index is not None:
            return [self.source.map_index]
        task_folder = snapshot_folder(self.root, self._identity(-1)).parent
        if not task_folder.exists():
            return []
        found = [p.name for p in task_folder.iterdir() if p.name.lstrip("-").isdigit()]
        return sorted(int(name) for name in found)

    def _lines(self, figures: SourceFigures) -> Iterator[tuple[str, bytes]]:
        """Every record line of the run, but those a void dropped: counted as read and not removed."""

        def voided() -> None:
            figures.records += 1
            figures.not_removed += 1

        for map_index in self._map_indexes():
            folder = snapshot_folder(self.root, self._identity(map_index))
            for name, number, line in live_lines(folder, voided):
                yield f"{name} line {number}, map index {map_index}", line

    def _failed(self) -> set[RecordKey]:
        """Keys of the removals the run failed (its ``failed.jsonl``, written when it ended)."""
        keys: set[RecordKey] = set()
        for map_index in self._map_indexes():
            source = self.source
            name = task_relative_path(source.dag_id, source.run_id, source.task_id, map_index, "failed.jsonl")
            path = ObjectStoragePath(self.root.rstrip("/") + "/" + name)
            if not path.exists():
                continue
            with path.open("rb") as handle:
                for line in complete_lines(handle.read()):
                    key = record_key(json.loads(line), map_index) if line.strip() else None
                    if key is not None:
                        keys.add(key)
        return keys

    def has_records(self) -> bool:
        """Whether the run left any snapshot record here."""
        figures = SourceFigures()
        return any(file_rows(self._lines(figures), self.source, set(), self.object_types, figures))

    def rows(self, connection: Any, figures: SourceFigures) -> Iterator[dict[str, Any]]:
        """The create rows (``connection`` is not used: files have none)."""
        return file_rows(self._lines(figures), self.source, self._failed(), self.object_types, figures)
