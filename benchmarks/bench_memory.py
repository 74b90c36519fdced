"""Peak memory of BatchArchiveAssociationsOperator: SQL rows streamed (dry and full runs), and rows
passed by XCom.

Dry runs: builds a table of N (from_id, to_id) rows in SQLite (and, with --postgres, in PostgreSQL
on 127.0.0.1:5432, database ``test``), then runs the operator's dry run over it in a fresh child
process and reports that process's peak resident memory (VmHWM), next to its resident memory just
before the run (Airflow and the provider imported).

Full runs, through real HTTP to ``hubspot-assoc-sim`` in another process: ``--full-sql-rows``
streamed from SQLite (limit: 200 MB for the whole process), and ``--xcom-rows`` dict rows passed
in memory as from XCom (limit: 100 MB of the provider's own above the process with the input list
built). Not a test: run it with
``.venv/bin/python benchmarks/bench_memory.py [--rows 1000000 5000000] [--postgres]
[--full-sql-rows 5000000] [--xcom-rows 1000000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _operator_run import SIM_LIMIT_PER_10S, SQL_ROWS, Simulator, run_operator
from _operator_run import make_sqlite as make_sqlite_rows
from _results import append_results

LIMIT_MB = 200.0
XCOM_LIMIT_MB = 100.0  # the provider's own use above the input list

CHILD = r"""
import json, os, resource, sys, time
from airflow_provider_hubspot_assoc.operators import BatchArchiveAssociationsOperator

def rss_mb(field="VmRSS"):
    text = open("/proc/self/status").read()
    return int(text.split(field + ":")[1].split()[0]) / 1024

op = BatchArchiveAssociationsOperator(
    task_id="bench", from_object_type="contacts", to_object_type="companies",
    sql="SELECT from_id, to_id FROM bench_pairs", conn_id="bench_sql", dry_run=True,
)

class TaskInstance:
    task_id, dag_id, map_index = "bench", "bench", -1

baseline = rss_mb()
started = time.monotonic()
result = op.execute({"ti": TaskInstance(), "run_id": "bench"})
print(json.dumps({
    "summary": result["summary"], "baseline_mb": baseline, "peak_mb": rss_mb("VmHWM"),
    "seconds": time.monotonic() - started,
}))
"""


def make_sqlite(path: Path, rows: int) -> None:
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE bench_pairs (from_id INTEGER, to_id INTEGER)")
        db.executemany(
            "INSERT INTO bench_pairs VALUES (?, ?)",
            ((100_000 + i // 5, 900_000 + i % 50_000) for i in range(rows)),
        )


def make_postgres(rows: int) -> dict[str, object] | None:
    try:
        import psycopg2
    except ImportError:
        return None
    try:
        conn = psycopg2.connect(
            host="127.0.0.1", port=5432, user="postgres", dbname="test", connect_timeout=3
        )
    except psycopg2.OperationalError as error:
        print(f"PostgreSQL skipped: no server on 127.0.0.1:5432 ({error})".strip())
        return None
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_pairs")
        cursor.execute("CREATE TABLE bench_pairs (from_id BIGINT, to_id BIGINT)")
        cursor.execute(
            "INSERT INTO bench_pairs SELECT 100000 + g / 5, 900000 + g %% 50000 "
            "FROM generate_series(0, %s) g",
            (rows - 1,),
        )
    conn.close()
    return {"conn_type": "postgres", "host": "127.0.0.1", "port": 5432, "login": "postgres", "schema": "test"}


def measure(connection: dict[str, object], home: Path) -> dict[str, object]:
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW_CONN_BENCH_SQL": json.dumps(connection),
    }
    done = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--postgres", action="store_true", help="also stream from PostgreSQL")
    parser.add_argument("--full-sql-rows", type=int, default=5_000_000, help="0: no full SQL run")
    parser.add_argument("--xcom-rows", type=int, default=1_000_000, help="0: no XCom run")
    args = parser.parse_args()
    lines = [
        "| database | rows | peak RSS | RSS before the run | rows/s | under 200 MB |",
        "|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory(prefix="hubspot-bench-") as folder:
        home = Path(folder)
        for rows in args.rows:
            targets: list[tuple[str, dict[str, object]]] = []
            started = time.monotonic()
            make_sqlite(home / "bench.db", rows)
            targets.append(("SQLite", {"conn_type": "sqlite", "host": str(home / "bench.db")}))
            if args.postgres:
                postgres = make_postgres(rows)
                if postgres:
                    targets.append(("PostgreSQL", postgres))
            print(f"built {rows:,} rows in {time.monotonic() - started:.1f} s")
            for name, connection in targets:
                figures = measure(connection, home)
                summary = figures["summary"]
                assert isinstance(summary, dict) and summary["received"] == rows, summary
                peak, baseline = float(figures["peak_mb"]), float(figures["baseline_mb"])  # type: ignore[arg-type]
                rate = rows / float(figures["seconds"])  # type: ignore[arg-type]
                ok = "yes" if peak < LIMIT_MB else "NO"
                print(
                    f"{name}: {rows:,} rows streamed through a dry run: peak RSS {peak:.0f} MB "
                    f"(before the run {baseline:.0f} MB), {rate:,.0f} rows/s; under {LIMIT_MB:.0f} MB: {ok}"
                )
                lines.append(
                    f"| {name} | {rows:,} | {peak:.0f} MB | {baseline:.0f} MB | {rate:,.0f} | {ok} |"
                )
    append_results("Peak memory, SQL rows streamed through a dry run (`benchmarks/bench_memory.py`)", lines)
    if args.full_sql_rows or args.xcom_rows:
        append_results(
            "Peak memory, full runs through real HTTP (`benchmarks/bench_memory.py`)",
            full_runs(args.full_sql_rows, args.xcom_rows),
        )


def full_runs(sql_rows: int, xcom_rows: int) -> list[str]:
    """Full runs sending to the simulator: SQL rows streamed, and dict rows passed in memory."""
    lines = [
        f"Simulator `hubspot-assoc-sim` in its own process (limit {SIM_LIMIT_PER_10S:,} requests per 10 s, "
        "associations not loaded: HubSpot answers an archive of a missing association as done).",
        "",
        "| rows from | rows | requests | RSS before the run | RSS with the input list | peak RSS "
        "| provider's own above the input list | limit | met |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory(prefix="hubspot-bench-") as folder:
        home = Path(folder)
        sim = Simulator(max_in_flight=32)  # as bench_cpu: HubSpot's highest limit needs fewer
        try:
            for source, rows in (("sql", sql_rows), ("xcom", xcom_rows)):
                if not rows:
                    continue
                if source == "sql":
                    make_sqlite_rows(home / SQL_ROWS, rows)
                sim.post("/_sim/reset")
                figures = run_operator(
                    home,
                    source=source,
                    rows=rows,
                    sim=sim,
                )
                before, listed, peak = (float(figures[k]) for k in ("baseline_mb", "inputs_mb", "peak_mb"))
                own = peak - listed
                if source == "sql":
                    label, limit, ok = (
                        "SQL (SQLite), streamed",
                        f"peak under {LIMIT_MB:.0f} MB",
                        peak < LIMIT_MB,
                    )
                else:
                    label, limit, ok = (
                        "dict rows, XCom",
                        f"own at most {XCOM_LIMIT_MB:.0f} MB",
                        own <= XCOM_LIMIT_MB,
                    )
                requests = figures["summary"]["requests"]
                line = (
                    f"| {label} | {rows:,} | {requests:,} | {before:.0f} MB | {listed:.0f} MB "
                    f"| {peak:.0f} MB | {own:.0f} MB | {limit} | {'yes' if ok else 'NO'} |"
                )
                print(line, flush=True)
                lines.append(line)
        finally:
            sim.close()
    lines += [
        "",
        "RSS with the input list: the process after Airflow and the provider are imported and the input "
        "list is built (for SQL, nothing is read before the run). Provider's own: peak minus that.",
    ]
    return lines


if __name__ == "__main__":
    main()
