"""Write-back inserts in batches (multi-row statements on SQLite) on a writer thread, never on the thread
that sends."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hubspot_assoc.writeback import ResultsWriter


class CountingConnection:
    """A real sqlite3 connection that counts single and batched statements (its own and its cursors'), and
    by which thread."""

    def __init__(self, real: sqlite3.Connection, seen: dict[str, Any]) -> None:
        self._real, self._seen = real, seen

    def cursor(self) -> Any:
        seen, real = self._seen, self._real.cursor()

        class Cursor:
            def execute(self, sql: str, *args: Any) -> Any:
                seen["execute"] += sql.lstrip().upper().startswith("INSERT")
                seen["threads"].add(threading.get_ident())
                return real.execute(sql, *args)

            def executemany(self, sql: str, rows: Any) -> Any:
                seen["executemany"] += 1
                seen["threads"].add(threading.get_ident())
                return real.executemany(sql, rows)

            def __getattr__(self, name: str) -> Any:
                return getattr(real, name)

        return Cursor()

    def execute(self, sql: str, *args: Any) -> Any:
        self._seen["execute"] += sql.lstrip().upper().startswith("INSERT")
        self._seen["threads"].add(threading.get_ident())
        return self._real.execute(sql, *args)

    def executemany(self, sql: str, rows: Any) -> Any:
        self._seen["executemany"] += 1
        self._seen["threads"].add(threading.get_ident())
        return self._real.executemany(sql, rows)

    def commit(self) -> None:
        self._seen["commit"] += 1
        self._real.commit()

    def close(self) -> None:
        self._seen["closed"] += 1
        self._real.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def record(number: int) -> tuple[Any, ...]:
    """An outcome record (``outcomes.outcome_record``): row 100 + n archived."""
    return (number, str(100 + number), "5000", None, None, None, "archived", None, None)


def test_outcomes_are_inserted_in_batches_off_the_sending_thread(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db = tmp_path / "results.db"
    monkeypatch.setenv("AIRFLOW_CONN_RESULTS_BATCHES", json.dumps({"conn_type": "sqlite", "host": str(db)}))
    writer = ResultsWriter(
        "results_batches", "results", run_id="r", dag_id="d", task_id="t", map_index=-1, create=True
    )
    seen: dict[str, Any] = {"execute": 0, "executemany": 0, "commit": 0, "threads": set(), "opened": 0}
    seen["closed"] = 0
    real_get_conn = writer.hook.get_conn

    def get_conn() -> CountingConnection:
        seen["opened"] += 1
        return CountingConnection(real_get_conn(), seen)

    monkeypatch.setattr(writer.hook, "get_conn", get_conn)

    for start in range(0, 2_500, 250):  # confirmed requests of 250 outcomes each
        writer.add([record(n) for n in range(start + 1, start + 251)])
    writer.flush()  # returns once every record is committed
    with sqlite3.connect(db) as conn:
        counts = conn.execute("SELECT COUNT(*), COUNT(DISTINCT row_number) FROM results").fetchone()
    assert counts == (2500, 2500)
    writer.close()

    # not one statement per row: 250 outcomes handed over go in statements of 128, 64, 32, 16, 8 and 2 rows
    assert seen["execute"] == 10 * 6
    assert seen["executemany"] == 0
    assert seen["commit"] == 3  # 1,000 rows a commit (the last ones at flush)
    assert threading.get_ident() not in seen["threads"]  # inserted by the writer thread
    assert writer.written == 2_500
    assert (seen["opened"], seen["closed"]) == (1, 1)  # one connection for every insert, closed at the end
