"""Write every input row's outcome back to a table on any common-sql connection, as the run goes.

One row per input: run id, task, row number, from id, to id, type/label, outcome bucket, HubSpot's
error code and message, when it was recorded, and (with a snapshot) the association types it removed,
as JSON in ``types``. A snapshot is written before its request as rows of outcome ``snapshot``, which
the run deletes when it ends, its outcome rows then carrying the types. Rows are inserted in batches
by a writer thread, off the thread that sends: ``FLUSH_EVERY_ROWS`` an insert, one commit each
(``executemany``; on SQLite, multi-row ``INSERT`` statements that bind the task instance's key and the
time once). ``flush()`` returns once every record handed over is committed, and a checkpoint is
saved only after one, so the table never runs behind the checkpoint. A retried or resumed try first
deletes what an earlier try wrote past its checkpoint, so the table holds exactly one row per input
whatever happened to the worker.

SQLite locks the whole file: while another connection is in the middle of reading the input query,
a write to the same file cannot commit ("database is locked"). When the input query reads the same
SQLite file, it is therefore read through the writer's own connection (``connection_for_reading``):
the read still streams, every flush still commits as it happens (so the table never runs behind the
checkpoint), and the user's file is left as it is (no switch to WAL journaling, which would persist).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pendulum

from airflow_provider_hubspot_assoc._compat import AirflowFailException, BaseHook, dbapi_hook_class
from airflow_provider_hubspot_assoc.outcomes import OutcomeRecord, record_fields
from airflow_provider_hubspot_assoc.results_table import (
    COLUMNS,
    CREATE_TABLE,
    EARLIER_RUN,
    TYPES_COLUMN,
    SqliteInserts,
    check_table_name,
    quiet,
)
from airflow_provider_hubspot_assoc.snapshots import SNAPSHOT_OUTCOME

if TYPE_CHECKING:
    from airflow_provider_hubspot_assoc._compat import Context

# Outcome records buffered before one insert; a flush also comes with every checkpoint.
FLUSH_EVERY_ROWS = 1000
# Inserts handed to the writer thread and not yet committed before the sender waits for the oldest:
# bounds the records held in memory when the database is slower than HubSpot.
MAX_PENDING_INSERTS = 8
# Row numbers per ``IN (...)`` list: every database takes this many parameters in one statement.
ROW_NUMBERS_PER_STATEMENT = 500

log = logging.getLogger(__name__)


class ResultsWriter:
    """Buffers outcome records of one task instance and inserts them in batches."""

    def __init__(
        self,
        conn_id: str,
        table: str,
        *,
        run_id: str,
        dag_id: str,
        task_id: str,
        map_index: int,
        create: bool = False,
        flush_every: int = FLUSH_EVERY_ROWS,
        types: bool = False,
        done: str = "archived",
    ) -> None:
        self.table = check_table_name(table)
        hook = BaseHook.get_connection(conn_id).get_hook()
        if not isinstance(hook, dbapi_hook_class()):
            raise AirflowFailException(f"results_conn_id {conn_id!r} is not a SQL connection")
        self.hook = quiet(hook)
        self.key = (run_id, dag_id, task_id, map_index)
        self.flush_every = flush_every
        self.done = done  # the outcome of a write HubSpot carried out (``Kind.done``)
        self.written = 0
        # Handed records not yet given to the writer thread: (time recorded, rows) for each ``add``,
        # a row an outcome record (and its ``types`` cell when the table has one).
        self._buffer: list[tuple[str, list[tuple[Any, ...]]]] = []
        self._buffered = 0
        self._connection: Any = None  # set when a SQLite input query reads the same file
        self._inserter: ThreadPoolExecutor | None = None  # the writer thread, started at the first insert
        self._pending: list[Future[None]] = []  # inserts handed to it, oldest first
        self._own: Any = None  # the writer thread's SQLite connection, opened there and kept
        self._sqlite: SqliteInserts | None = None  # the SQLite statements, made when first used
        self.columns = (*COLUMNS, TYPES_COLUMN) if types else COLUMNS
        # The types an outcome record removed (set by a run that takes snapshots).
        self.types_of: Callable[[dict[str, Any]], Any] | None = None
        if create:
            self.hook.run(CREATE_TABLE.format(table=self.table))
        if types:
            self._ensure_types_column(create)

    def _ensure_types_column(self, create: bool) -> None:
        """A table made before snapshots lacks ``types``: added when the run may create the table,
        else the run fails naming the column (nothing was sent)."""
        try:
            self.hook.get_records(f"SELECT {TYPES_COLUMN} FROM {self.table} WHERE 1 = 0")
            return
        except Exception:
            if not create:
                raise AirflowFailException(
                    f"results table {self.table} has no {TYPES_COLUMN!r} column, where the snapshot "
                    f"(snapshot=True) records what each removal removes. Add it (ALTER TABLE {self.table} "
                    f"ADD COLUMN {TYPES_COLUMN} TEXT), set create_results_table=True to have it added, or "
                    "set snapshot=False. Nothing was sent."
                ) from None
        self.hook.run(f"ALTER TABLE {self.table} ADD COLUMN {TYPES_COLUMN} TEXT")

    def _where(self) -> str:
        mark = self.hook.placeholder
        return f"run_id = {mark} AND dag_id = {mark} AND task_id = {mark} AND map_index = {mark}"

    def forget_after(self, row_number: int) -> set[tuple[int, str, str, int | None]]:
        """Delete what an earlier try wrote past ``row_number``, except the writes it made.

        A row ``archived`` (``done``: ``restored`` for a restore) records a write HubSpot carried out:
        it stays, and the keys of those rows
        (row number, from id, to id, type id) are returned so that this try neither writes them again
        nor counts them as anything but archived. Everything else past the checkpoint comes again.
        """
        mark = self.hook.placeholder
        kept = self.hook.get_records(
            f"SELECT row_number, from_id, to_id, association_type_id FROM {self.table} WHERE {self._where()} "
            f"AND row_number > {mark} AND outcome = {mark}",
            parameters=(*self.key, row_number, self.done),
        )
        # Snapshot rows stay too: they may be the only record of what a killed try removed.
        self.hook.run(
            f"DELETE FROM {self.table} WHERE {self._where()} AND row_number > {mark} "
            f"AND outcome NOT IN ({mark}, {mark})",
            parameters=(*self.key, row_number, self.done, SNAPSHOT_OUTCOME),
        )
        return {_key(row) for row in kept or []}

    def forget_run(self) -> None:
        """A run of a task instance whose earlier run finished (the task was cleared): every row of the
        earlier run goes, and this run writes its own. What the earlier run removed, or may have, stays
        recorded: its ``done`` and ``unknown`` rows with types become snapshot rows (error code
        ``earlier_run``), which this run's records unite with (``earlier_snapshot``), which outlive this
        run's end (``drop_snapshot_rows``: this run may not send them again, its rows may be others)
        and which a restore reads. Nothing the earlier run did counts as this run's outcome."""
        mark = self.hook.placeholder
        if TYPES_COLUMN in self.columns:
            self.hook.run(
                f"UPDATE {self.table} SET outcome = {mark}, error_code = {mark}, error_message = NULL "
                f"WHERE {self._where()} AND outcome IN ({mark}, {mark}) AND {TYPES_COLUMN} IS NOT NULL",
                parameters=(SNAPSHOT_OUTCOME, EARLIER_RUN, *self.key, self.done, "unknown"),
            )
        self.hook.run(
            f"DELETE FROM {self.table} WHERE {self._where()} AND outcome <> {mark}",
            parameters=(*self.key, SNAPSHOT_OUTCOME),
        )

    def forget_for_resend(
        self, keys: set[tuple[int, str, str, int | None]]
    ) -> set[tuple[int, str, str, int | None]]:
        """Before failed and unknown removals are sent again: delete their rows, and return the keys of
        those an interrupted earlier re-send already archived (their rows stay, and count)."""
        mark = self.hook.placeholder
        numbers = sorted({key[0] for key in keys})
        archived: set[tuple[int, str, str, int | None]] = set()
        for start in range(0, len(numbers), ROW_NUMBERS_PER_STATEMENT):
            part = numbers[start : start + ROW_NUMBERS_PER_STATEMENT]
            found = self.hook.get_records(
                f"SELECT row_number, from_id, to_id, association_type_id FROM {self.table} WHERE "
                f"{self._where()} AND outcome = {mark} AND row_number IN ({', '.join([mark] * len(part))})",
                parameters=(*self.key, self.done, *part),
            )
            archived |= {_key(row) for row in found or []}
        self.replace_outcomes(("failed", "unknown"), [])
        return archived & keys

    def replace_outcomes(self, outcomes: tuple[str, ...], records: list[OutcomeRecord]) -> None:
        """Replace this task instance's rows of the given outcomes by ``records``.

        For removals settled by reading back (``unknown``), or sent again (``failed``, ``unknown``).
        """
        self.flush()
        self._delete_outcomes(outcomes)
        self.add(records)
        self.flush()

    def _delete_outcomes(self, outcomes: tuple[str, ...], condition: str = "") -> None:
        marks = ", ".join([self.hook.placeholder] * len(outcomes))
        delete = f"DELETE FROM {self.table} WHERE {self._where()} AND outcome IN ({marks}){condition}"
        if self._connection is not None:  # one SQLite file for rows and results: its one connection
            self._connection.execute(delete, (*self.key, *outcomes))
            self._connection.commit()
        else:
            self.hook.run(delete, parameters=(*self.key, *outcomes))

    def add_snapshot(self, records: list[dict[str, Any]]) -> None:
        """Write a snapshot's records, committed when this returns (before their request goes out)."""
        rows: list[tuple[Any, ...]] = [
            (
                r["row_number"],
                r["from_id"],
                r["to_id"],
                r["association_category"],
                r["association_type_id"],
                r["label"],
                SNAPSHOT_OUTCOME,
                None,
                None,
            )
            for r in records
        ]
        if TYPES_COLUMN in self.columns:
            rows = [
                (*row, self._types_cell(r.get("types"), row)) for row, r in zip(rows, records, strict=True)
            ]
        self._take(rows)
        self.flush()

    def earlier_snapshot(self) -> dict[tuple[int, str, str, int | None], list[dict[str, Any]]]:
        """Types this task instance's earlier tries recorded, by (row number, from id, to id, type id)."""
        rows = self.hook.get_records(
            f"SELECT row_number, from_id, to_id, association_type_id, {TYPES_COLUMN} FROM {self.table} "
            f"WHERE {self._where()} AND {TYPES_COLUMN} IS NOT NULL",
            parameters=self.key,
        )
        found: dict[tuple[int, str, str, int | None], list[dict[str, Any]]] = {}
        for row in rows or []:
            found.setdefault(_key(row), []).extend(json.loads(row[4]) or [])
        return found

    def drop_snapshot_rows(self) -> None:
        """The run ended and its outcome rows carry their types: the rows written ahead go (not the
        records of an earlier run of the cleared task, ``forget_run``)."""
        self.flush()
        self._delete_outcomes(
            (SNAPSHOT_OUTCOME,), f" AND (error_code IS NULL OR error_code <> '{EARLIER_RUN}')"
        )

    def connection_for_reading(self, conn_id: str) -> Any:
        """This writer's own connection when ``conn_id`` is the same SQLite file, else None.

        The caller reads through it and does not close it; ``close()`` does.
        """
        if self._connection is not None:
            return self._connection
        if self.hook.conn_type != "sqlite":
            return None
        reader = BaseHook.get_connection(conn_id).get_hook()
        if getattr(reader, "conn_type", None) != "sqlite":
            return None
        own, probe = self.hook.get_conn(), reader.get_conn()
        try:
            same = _same_sqlite_file(own, probe)
        finally:
            probe.close()
        if not same:
            own.close()
            return None
        self._connection = own
        return own

    def close(self) -> None:
        """Let handed inserts finish, stop the writer thread, and close the connection shared with the
        input query, if any (``flush()`` first to keep buffered records and see insert errors)."""
        if self._inserter is not None:
            self._inserter.submit(self._close_own)  # in the thread that opened it, after the inserts
            self._inserter.shutdown(wait=True)
            self._inserter = None
            self._pending = []
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def add(self, records: list[OutcomeRecord]) -> None:
        """Hand over outcome records (the list is kept until inserted: the caller must not change it)."""
        if TYPES_COLUMN in self.columns:
            records = [(*record, self._types_cell(None, record)) for record in records]
        self._take(records)

    def _types_cell(self, types: Any, record: OutcomeRecord) -> str | None:
        """The ``types`` cell of a record: ``types``, else the types ``types_of`` says it removed."""
        if types is None and self.types_of is not None:
            types = self.types_of(record_fields(record))
        return json.dumps(types) if types else None

    def _take(self, rows: list[tuple[Any, ...]]) -> None:
        """Buffer rows recorded now; hand them over once ``flush_every`` are buffered."""
        if not rows:
            return
        self._buffer.append((pendulum.now("UTC").to_iso8601_string(), rows))
        self._buffered += len(rows)
        if self._buffered >= self.flush_every:
            self._hand_over()

    def flush(self) -> None:
        """Insert every buffered record; returns once all are committed (or raises the insert's error)."""
        self._hand_over()
        while self._pending:
            self._pending.pop(0).result()

    def _hand_over(self) -> None:
        """Give the buffered records to the writer thread (inserted here with a shared connection)."""
        if not self._buffer:
            return
        rows, self._buffer, self._buffered = self._buffer, [], 0
        if self._connection is not None:  # one sqlite3 connection, used by the thread that opened it
            self._insert(rows)
            return
        if self._inserter is None:
            self._inserter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hubspot-results")
        while self._pending and (self._pending[0].done() or len(self._pending) >= MAX_PENDING_INSERTS):
            self._pending.pop(0).result()  # an insert's error comes out here, not later
        self._pending.append(self._inserter.submit(self._insert, rows))

    def _insert(self, parts: list[tuple[str, list[tuple[Any, ...]]]]) -> None:
        """Insert buffered rows, ``(time recorded, rows)`` each, and commit."""
        if self._connection is not None:  # insert_rows would open a second connection to the file
            self._sqlite_inserts().insert(self._connection, parts)
            self._connection.commit()
        elif self.hook.conn_type == "sqlite":
            # The writer thread keeps one connection (a connection per insert cost a connection
            # look-up and a schema read each); committed, it holds no lock between inserts.
            if self._own is None:
                self._own = self.hook.get_conn()
            try:
                self._sqlite_inserts().insert(self._own, parts)
                self._own.commit()
            except Exception:
                self._close_own()  # rolls back what the failed statement began
                raise
        else:
            self.hook.insert_rows(
                self.table,
                [(*self.key, *row[:9], at, *row[9:]) for at, rows in parts for row in rows],
                target_fields=list(self.columns),
                commit_every=self.flush_every,
                executemany=True,  # one statement per ``flush_every`` rows, not one per row
            )
        count = sum(len(rows) for _, rows in parts)
        self.written += count
        log.debug("Wrote %d outcome rows to %s", count, self.table)

    def _sqlite_inserts(self) -> SqliteInserts:
        if self._sqlite is None:
            self._sqlite = SqliteInserts(self.table, self.columns, self.key)
        return self._sqlite

    def _close_own(self) -> None:
        if self._own is not None:
            self._own.close()
            self._own = None


def task_writer(
    context: Context,
    conn_id: str,
    table: str,
    create: bool = False,
    types: bool = False,
    done: str = "archived",
) -> ResultsWriter:
    """The writer of the task instance ``context`` runs (its run, DAG, task and map index)."""
    ti = context["ti"]
    map_index = getattr(ti, "map_index", None)
    return ResultsWriter(
        conn_id,
        table,
        run_id=str(context["run_id"]),
        dag_id=ti.dag_id,
        task_id=ti.task_id,
        map_index=map_index if map_index is not None else -1,
        create=create,
        types=types,
        done=done,
    )


def _key(row: Any) -> tuple[int, str, str, int | None]:
    """(row number, from id, to id, type id) of a results-table row."""
    return (int(row[0]), str(row[1]), str(row[2]), int(row[3]) if row[3] is not None else None)


def _same_sqlite_file(first: Any, second: Any) -> bool:
    """Two sqlite3 connections open the same database file (an in-memory database is never shared)."""
    files = [
        next((row[2] for row in connection.execute("PRAGMA database_list") if row[1] == "main"), "")
        for connection in (first, second)
    ]
    return all(files) and os.path.samefile(*files)
