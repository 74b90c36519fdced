"""Stream rows from a DB-API connection at constant memory. No Airflow import.

PostgreSQL (psycopg2 and psycopg 3) gets a named, server-side cursor, so the server sends rows in
``fetch_size`` pieces instead of the whole result at once; other drivers (sqlite3 included) stream
through ``fetchmany``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any


def _cursor(connection: Any, fetch_size: int) -> Any:
    module = type(connection).__module__
    if module.startswith(("psycopg2", "psycopg")):
        cursor = connection.cursor(name=f"hubspot_assoc_{uuid.uuid4().hex[:12]}")
        cursor.itersize = fetch_size
        return cursor
    cursor = connection.cursor()
    cursor.arraysize = fetch_size
    return cursor


def stream_rows(
    connection: Any,
    sql: str,
    parameters: Mapping[str, Any] | Sequence[Any] | None = None,
    fetch_size: int = 10_000,
) -> Iterator[dict[str, Any]]:
    """Yield each result row as a dict keyed by column name; closes the cursor when done."""
    cursor = _cursor(connection, fetch_size)
    try:
        if parameters is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, parameters)
        columns: list[str] | None = None
        while True:
            rows = cursor.fetchmany(fetch_size)
            if not rows:
                break
            if columns is None:
                columns = [str(d[0]) for d in cursor.description]
            for row in rows:
                if isinstance(row, Mapping):  # a dict cursor (e.g. a connection's cursor extra)
                    yield dict(row)
                else:
                    yield dict(zip(columns, row, strict=True))
    finally:
        cursor.close()
