"""SQL helpers of the deployment test: literal VALUES lists, and reading the PostgreSQL warehouse."""

from __future__ import annotations

import json
from typing import Any


def rows_reader(connection: str) -> Any:
    """A function returning the rows of a query on the database of an Airflow connection (JSON)."""
    import psycopg2

    params = json.loads(connection)

    def rows(sql: str) -> list[tuple[Any, ...]]:
        db = psycopg2.connect(
            host=params["host"], port=params["port"], user=params["login"], dbname=params["schema"]
        )
        try:
            with db.cursor() as cursor:
                cursor.execute(sql)
                return list(cursor.fetchall())
        finally:
            db.close()

    return rows


def values(rows: list[tuple[Any, ...]]) -> str:
    """``(1, 'a'), (2, NULL)``: rows of ints, strings and None for an INSERT (test data only)."""
    return ", ".join("(" + ", ".join(repr(v) if v is not None else "NULL" for v in row) + ")" for row in rows)
