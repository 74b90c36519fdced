"""The results table: its columns, the statement that creates it, and safe access to it.

One row per input row of a run (``writeback.py`` writes them; a restore reads them back through
``operators/restore_source.py``). No Airflow import.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Iterable
from itertools import chain, compress, groupby, repeat
from typing import Any

COLUMNS = (
    "run_id",
    "dag_id",
    "task_id",
    "map_index",
    "row_number",
    "from_id",
    "to_id",
    "association_category",
    "association_type_id",
    "label",
    "outcome",
    "error_code",
    "error_message",
    "recorded_at",
)
# An outcome record's cells (``outcomes.outcome_record``): the columns between the task instance's key
# and ``recorded_at``, which the writer adds.
RECORD_FIELDS = COLUMNS[4:13]
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$")
CREATE_TABLE = """CREATE TABLE IF NOT EXISTS {table} (
    run_id VARCHAR(250) NOT NULL,
    dag_id VARCHAR(250) NOT NULL,
    task_id VARCHAR(250) NOT NULL,
    map_index INTEGER NOT NULL,
    row_number BIGINT NOT NULL,
    from_id VARCHAR(32),
    to_id VARCHAR(32),
    association_category VARCHAR(32),
    association_type_id INTEGER,
    label VARCHAR(255),
    outcome VARCHAR(16) NOT NULL,
    error_code VARCHAR(64),
    error_message TEXT,
    recorded_at VARCHAR(40) NOT NULL,
    types TEXT
)"""
TYPES_COLUMN = "types"  # JSON: [{category, typeId, label}] a removal removed (a snapshot's)
# The error code of a snapshot row that records what an earlier run of a cleared task removed.
EARLIER_RUN = "earlier_run"


def check_table_name(name: str) -> str:
    """A table name (``table`` or ``schema.table``) that is safe to put in SQL text."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"results_table must be a plain table name such as 'hubspot_results', got {name!r}")
    return name


# Parameters a SQLite statement takes when the connection cannot say (before Python 3.11): SQLite's
# own limit before 3.32, the lowest in use.
SQLITE_PARAMETERS = 999
# Rows of one multi-row SQLite ``INSERT`` at most (a power of two).
SQLITE_ROWS_PER_STATEMENT = 256


class SqliteInserts:
    """Inserts rows of one task instance into a SQLite results table, a few statements a batch.

    A row is an outcome record (``RECORD_FIELDS``), with its ``types`` cell when the table has that
    column; the task instance's key and the time recorded are the same for a batch of rows. One
    multi-row ``INSERT`` binds them once, and each row's cells that are not None: a cell that is None
    is the statement's literal NULL, which is what binding it stores (sqlite3 binds None through its
    adapter look-up, the dearest cell of all). Rows with the same cells None share a statement; its
    size is a power of two, so a run needs few distinct statements (sqlite3 keeps 128 prepared).
    ``executemany`` would bind the shared cells again for each row and step each row apart, letting
    go of the GIL and taking it back every time. Our cells are text, integers and None, which
    sqlite3 takes as they are (insert_rows' conversion of each cell would cost more than the insert).
    """

    def __init__(self, table: str, columns: tuple[str, ...], key: tuple[Any, ...]) -> None:
        self.table = check_table_name(table)
        self.columns = columns
        self.key = key
        self.cells = len(columns) - 5  # a row's own: all but the key and ``recorded_at``
        self._nulls = _nulls if self.cells == len(RECORD_FIELDS) else _typed_nulls
        self._statements: dict[tuple[tuple[bool, ...], int], str] = {}

    def insert(self, connection: Any, parts: Iterable[tuple[str, list[tuple[Any, ...]]]]) -> None:
        """Insert ``(time recorded, rows)`` parts in order (the caller commits)."""
        getlimit = getattr(connection, "getlimit", None)  # Python 3.11+
        limit = getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if getlimit else SQLITE_PARAMETERS
        most = min(SQLITE_ROWS_PER_STATEMENT, (limit - 5) // self.cells)
        most = 1 << (most.bit_length() - 1)  # a power of two
        for at, rows in parts:
            for nulls, same in groupby(rows, self._nulls):
                group = list(same)
                bound = [not null for null in nulls]
                start = 0
                while start < len(group):
                    size = min(most, 1 << ((len(group) - start).bit_length() - 1))
                    cells = chain.from_iterable(map(compress, group[start : start + size], repeat(bound)))
                    connection.execute(self._statement(nulls, size), [*self.key, at, *cells])
                    start += size

    def _statement(self, nulls: tuple[bool, ...], rows: int) -> str:
        """INSERT of ``rows`` rows whose cells are None where ``nulls`` says: ?1-?4 the task instance's
        key, ?5 the time, then each row's other cells."""
        statement = self._statements.get((nulls, rows))
        if statement is None:
            values, number = [], 6
            for _ in range(rows):
                own = []
                for null in nulls:
                    own.append("NULL" if null else f"?{number}")
                    number += 0 if null else 1
                values.append(f"(?1, ?2, ?3, ?4, {', '.join([*own[:9], '?5', *own[9:]])})")
            statement = f"INSERT INTO {self.table} ({', '.join(self.columns)}) VALUES {', '.join(values)}"
            self._statements[(nulls, rows)] = statement
        return statement


def _nulls(row: tuple[Any, ...]) -> tuple[bool, ...]:
    """Which cells of an outcome record are None."""
    return (
        row[0] is None,
        row[1] is None,
        row[2] is None,
        row[3] is None,
        row[4] is None,
        row[5] is None,
        row[6] is None,
        row[7] is None,
        row[8] is None,
    )


def _typed_nulls(row: tuple[Any, ...]) -> tuple[bool, ...]:
    """Which cells of an outcome record with its ``types`` cell are None."""
    return (*_nulls(row), row[9] is None)


_SQL_LOG = logging.getLogger(f"{__name__}.sql")
_SQL_LOG.setLevel(logging.WARNING)


def quiet(hook: Any) -> Any:
    """``hook`` with its statement lines kept out of the task log.

    common-sql logs every statement and every insert ("Running statement", "Loaded N rows", "Done
    loading") at INFO: thousands of lines in a long run. Its warnings and errors still show.
    """
    hook._log = _SQL_LOG
    return hook
