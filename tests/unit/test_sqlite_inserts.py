"""SQLite results-table inserts (multi-row, None cells as literal NULL) store exactly what binding every
cell of every row stores, in the same order."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from airflow_provider_hubspot_assoc.results_table import COLUMNS, CREATE_TABLE, TYPES_COLUMN, SqliteInserts

KEY = ("manual__2026-01-01T00:00:00+00:00", "dag", "task", -1)


def records(count: int) -> list[tuple[Any, ...]]:
    """Outcome records of every shape: rejected, plain and labeled pairs, errors, odd text."""
    shapes = [
        lambda n: (n, None, None, None, None, None, "rejected", "INVALID_INPUT", f"row {n}, from_id: bad"),
        lambda n: (n, str(100 + n), "5000", None, None, None, "archived", None, None),
        lambda n: (n, str(100 + n), "5000", "USER_DEFINED", 1001, "Bílling ✓", "archived", None, None),
        lambda n: (
            n,
            str(100 + n),
            "5000",
            None,
            None,
            None,
            "failed",
            "VALIDATION_ERROR",
            "a\x00b 'q' \"d\"",
        ),
        lambda n: (n, str(100 + n), "5000", None, None, None, "archived", None, "confirmed by reading back"),
        lambda n: (n, "1" * 18, str(2**62), "HUBSPOT_DEFINED", 2**40, "", "duplicate", "", ""),
    ]
    # runs of one shape of various lengths, then every shape one after another
    made = [shapes[(n // 7) % len(shapes)](n) for n in range(1, count // 2)]
    made += [shapes[n % len(shapes)](n) for n in range(count // 2, count + 1)]
    return made


def stored(rows: list[tuple[Any, ...]], columns: tuple[str, ...], limit: int | None, many: bool) -> list[Any]:
    db = sqlite3.connect(":memory:")
    db.execute(CREATE_TABLE.format(table="results"))
    if limit is not None:
        db.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, limit)
    parts = [
        ("2026-01-01T00:00:01Z", rows[: len(rows) // 3]),
        ("2026-01-01T00:00:02.123456Z", rows[len(rows) // 3 :]),
    ]
    if many:  # every cell of every row bound, one row a statement
        marks = ", ".join("?" * len(columns))
        insert = f"INSERT INTO results ({', '.join(columns)}) VALUES ({marks})"
        db.executemany(insert, [(*KEY, *row[:9], at, *row[9:]) for at, part in parts for row in part])
    else:
        SqliteInserts("results", columns, KEY).insert(db, parts)
    db.commit()
    return db.execute(
        "SELECT *, typeof(association_type_id), typeof(from_id) FROM results ORDER BY rowid"
    ).fetchall()


@pytest.mark.parametrize("limit", [None, 999, 40])
@pytest.mark.parametrize("typed", [False, True])
def test_the_rows_stored_are_those_of_one_insert_per_row(limit: int | None, typed: bool) -> None:
    rows = records(700)
    columns = (*COLUMNS, TYPES_COLUMN) if typed else COLUMNS
    if typed:
        rows = [
            (*row, None if n % 3 else '[{"category": "HUBSPOT_DEFINED", "typeId": 279}]')
            for n, row in enumerate(rows)
        ]

    expected = stored(rows, columns, limit, many=True)

    assert stored(rows, columns, limit, many=False) == expected
    assert len(expected) == len(rows)
    assert {row[12] for row in expected} >= {"a\x00b 'q' \"d\"", None, ""}  # NUL, quotes, empty kept
