"""readers.stream_rows on sqlite3: rows as dicts, and no row at all when two columns would collide."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from airflow_provider_hubspot_assoc.sql_stream import DuplicateColumnsError, stream_rows


@pytest.fixture
def db() -> Any:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (contact_id, company_id)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", [(i, 5000 + i) for i in range(1, 8)])
    yield conn
    conn.close()


def test_rows_are_dicts_keyed_by_column(db: sqlite3.Connection) -> None:
    rows = list(stream_rows(db, "SELECT contact_id, company_id FROM t ORDER BY 1", fetch_size=3))
    assert rows[0] == {"contact_id": 1, "company_id": 5001} and len(rows) == 7


def test_a_repeated_column_name_stops_before_the_first_row(db: sqlite3.Connection) -> None:
    rows = stream_rows(db, "SELECT contact_id, company_id, contact_id FROM t", fetch_size=3)
    with pytest.raises(DuplicateColumnsError) as raised:
        next(rows)
    assert str(raised.value) == (
        "the query's result has 2 columns named 'contact_id' (columns 1 and 3); give each a distinct alias"
    )


def test_a_dict_cursor_is_checked_by_its_description(db: sqlite3.Connection) -> None:
    db.row_factory = lambda cursor, row: {d[0]: v for d, v in zip(cursor.description, row, strict=True)}
    query = "SELECT contact_id AS from_id, company_id AS to_id, contact_id AS to_id FROM t"
    with pytest.raises(DuplicateColumnsError, match=r"2 columns named 'to_id' \(columns 2 and 3\)"):
        next(stream_rows(db, query))


def test_a_looked_up_name_matching_two_columns_regardless_of_case(db: sqlite3.Connection) -> None:
    query = 'SELECT contact_id AS from_id, company_id AS to_id, company_id AS "FROM_ID" FROM t'
    with pytest.raises(DuplicateColumnsError) as raised:
        next(stream_rows(db, query, looked_up=("from_id", "to_id")))
    assert (
        "2 columns matching 'from_id' when case is ignored: 'from_id' (column 1) and 'FROM_ID' (column 3)"
        in str(raised.value)
    )
    # Names nobody looks up may differ in case only: each keeps its own key.
    query = 'SELECT contact_id AS from_id, company_id AS to_id, 1 AS note, 2 AS "NOTE" FROM t ORDER BY 1'
    first = next(stream_rows(db, query, looked_up=("from_id", "to_id")))
    assert first == {"from_id": 1, "to_id": 5001, "note": 1, "NOTE": 2}


def test_the_names_a_parser_looks_up() -> None:
    from airflow_provider_hubspot_assoc.kinds import Kind
    from airflow_provider_hubspot_assoc.row_parser import RowParser

    assert RowParser(Kind.ARCHIVE).looked_up_keys() == ("from_id", "to_id")
    mapped = RowParser(Kind.ARCHIVE, {"from_id": "contact_id", "to_id": "company_id"})
    assert mapped.looked_up_keys() == ("contact_id", "company_id")
    assert RowParser(Kind.LABELS, {"label": "name"}).looked_up_keys() == (
        "from_id",
        "to_id",
        "association_type_id",
        "association_category",
        "name",
    )
