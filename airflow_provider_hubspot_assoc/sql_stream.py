"""Stream rows from a DB-API connection at constant memory. No Airflow import.

PostgreSQL (psycopg2 and psycopg 3) gets a named, server-side cursor, so the server sends rows in
``fetch_size`` pieces instead of the whole result at once; other drivers (sqlite3 included) stream
through ``fetchmany``. A result whose rows would lose a column when made into dicts is refused
before its first row (``check_columns``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

# Rows fetched from the database at a time: a few MB of ids, and a round trip per 10,000 rows.
DEFAULT_FETCH_SIZE = 10_000


class DuplicateColumnsError(ValueError):
    """A query's result has two columns that one key of a row's dict would mix up."""


def check_columns(names: Sequence[str], looked_up: Iterable[str] = ()) -> None:
    """Refuse repeated column names, and a looked-up name that two columns match ignoring case.

    A dict keeps one value per key, so ``SELECT a AS to_id, b AS to_id`` would silently read the
    wrong id; ``from_id`` next to ``FROM_ID`` leaves which one is meant to chance.
    """
    positions: dict[str, list[int]] = {}
    for number, name in enumerate(names, start=1):
        positions.setdefault(name, []).append(number)
    problems = [
        f"{len(numbers)} columns named {name!r} (columns {_listed(map(str, numbers))})"
        for name, numbers in positions.items()
        if len(numbers) > 1
    ]
    for key in dict.fromkeys(looked_up):
        matching = [
            (name, number)
            for name, numbers in positions.items()
            if name.casefold() == key.casefold()
            for number in numbers
        ]
        if len({name for name, _ in matching}) > 1:  # one name repeated is reported above
            problems.append(
                f"{len(matching)} columns matching {key!r} when case is ignored: "
                + _listed(f"{name!r} (column {number})" for name, number in matching)
            )
    if problems:
        raise DuplicateColumnsError(
            f"the query's result has {'; '.join(problems)}; give each a distinct alias"
        )


def _listed(items: Iterable[str]) -> str:
    """``a, b and c``"""
    *first, last = items
    return f"{', '.join(first)} and {last}" if first else last


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
    fetch_size: int = DEFAULT_FETCH_SIZE,
    looked_up: Iterable[str] = (),
) -> Iterator[dict[str, Any]]:
    """Yield each result row as a dict keyed by column name; closes the cursor when done.

    ``looked_up``: the keys the caller will read from each row (see ``check_columns``). The columns
    are checked at the first fetch (a server-side cursor describes its result only then), before
    any row is yielded, dict cursors included: their rows may have lost a duplicate already.
    """
    cursor = _cursor(connection, fetch_size)
    try:
        if parameters is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, parameters)
        columns: list[str] | None = None
        while True:
            rows = cursor.fetchmany(fetch_size)
            if columns is None and cursor.description is not None:
                columns = [str(d[0]) for d in cursor.description]
                check_columns(columns, looked_up)
            if not rows:
                break
            assert columns is not None  # rows come with a description
            for row in rows:
                # a tuple first: the abstract check costs more than the row's dict
                if type(row) is not tuple and isinstance(row, Mapping):  # a dict cursor (a cursor extra)
                    yield dict(row)
                else:
                    yield dict(zip(columns, row, strict=True))
    finally:
        cursor.close()
