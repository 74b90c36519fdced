"""CPU of the provider's process per 1,000,000 rows, end to end, through real HTTP.

Each run is ``BatchArchiveAssociationsOperator.execute()`` in a fresh process (a task context with a
state store, so checkpoints are saved), sending to ``hubspot-assoc-sim`` in another process over
HTTP on 127.0.0.1; the simulator holds every row's association, so each removal is real. Reported:
the provider process's CPU seconds (all threads, user + system) during ``execute()``, per 1M rows,
for dict rows as they come from XCom and tuple rows from an SQL query on SQLite, without and with
write-back (``results_table`` on SQLite); then the snapshot's cost (``snapshot=True`` against
``snapshot=False``, both writing back, same rows); then what those figures stand on: the same rows
in a dry run (no request) and ``http.client``'s CPU for one request on this machine. The simulator's
limit is set far above what one client sends (``SIM_LIMIT_PER_10S``), so pacing holds nothing back.
Not a test:
``.venv/bin/python benchmarks/bench_cpu.py [--rows 1000000] [--snapshot-rows 100000]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _operator_run import SIM_LIMIT_PER_10S, SQL_ROWS, Simulator, make_sqlite, run_operator
from _results import append_results
from bench_http_floor import http_client_floor

# Requests in flight, fixed: with the simulator's limit far above HubSpot's, the client would choose
# its largest pool. 32 is more than HubSpot's highest limit needs at 1 s of latency (25/s x 1 s x 1.5).
IN_FLIGHT = 32
TARGET_CPU = 5.0  # CPU seconds per 1M rows (issue 14)
# The rows' sources, as the tables name them.
SOURCES = {"xcom": "dict rows, XCom", "sql": "tuple rows, SQL (SQLite)"}
TARGET_WRITEBACK = 3.0  # CPU seconds per 1M rows that write-back may add


def per_million(figures: dict[str, Any], rows: int) -> float:
    return float(figures["cpu"]) * 1_000_000 / rows


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min) / {five:.1f} (5 min) at the end of the run"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--snapshot-rows", type=int, default=100_000, help="0: no snapshot runs")
    args = parser.parse_args()
    rows = args.rows
    lines = [
        f"Simulator `hubspot-assoc-sim` in its own process, limit {SIM_LIMIT_PER_10S:,} requests per 10 s "
        f"(pacing holds nothing back), {IN_FLIGHT} requests in flight (max_in_flight), no added latency, "
        "every row's association loaded before each run.",
        "",
        "| rows from | write-back | rows | requests | CPU seconds | CPU seconds per 1M rows | wall "
        "| target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    cpu: dict[tuple[str, bool], float] = {}
    starts: list[float] = []
    with tempfile.TemporaryDirectory(prefix="hubspot-bench-") as folder:
        home = Path(folder)
        make_sqlite(home / SQL_ROWS, rows)
        sim = Simulator(max_in_flight=IN_FLIGHT)
        try:
            for source in SOURCES:
                for writes in (False, True):
                    sim.reset_and_load(rows)
                    figures = run_operator(
                        home,
                        source=source,
                        rows=rows,
                        sim=sim,
                        results_path=home / "results.db" if writes else None,
                    )
                    cpu[(source, writes)] = value = per_million(figures, rows)
                    starts.append(float(figures["airflow_start_cpu"]))
                    if writes:
                        added = value - cpu[(source, False)]
                        target = f"adds {added:.1f}: {'met' if added <= TARGET_WRITEBACK else 'NOT met'}"
                    else:
                        target = f"{'met' if value <= TARGET_CPU else 'NOT met'} (at most {TARGET_CPU:g})"
                    label = SOURCES[source]
                    requests = figures["summary"]["requests"]
                    line = (
                        f"| {label} | {'yes' if writes else 'no'} | {rows:,} | {requests:,} "
                        f"| {figures['cpu']:.2f} | {value:.2f} | {figures['wall']:.1f} s | {target} |"
                    )
                    print(line, flush=True)
                    lines.append(line)
            lines += floor_lines(home, sim, rows, cpu)
            if args.snapshot_rows:
                lines += snapshot_lines(home, sim, args.snapshot_rows)
        finally:
            sim.close()
    lines += [
        "",
        "CPU seconds: the provider process's own (every thread, user + system) during `execute()`; "
        "the building of the input list and Airflow's own start (settings, secrets backends, logging, "
        f"which a task runner does before `execute()`: {max(starts):.2f} CPU s at most here) are not "
        "counted. "
        "Write-back's target is what it adds to the run without it (at most "
        f"{TARGET_WRITEBACK:g} CPU seconds per 1M rows). {load()}.",
    ]
    append_results("CPU per 1M rows, end to end through real HTTP (`benchmarks/bench_cpu.py`)", lines)


def floor_lines(home: Path, sim: Simulator, rows: int, cpu: dict[tuple[str, bool], float]) -> list[str]:
    """What the figures above stand on, on this machine: the rows alone (a dry run: read, checked,
    de-duplicated, batched and planned, nothing sent) and ``http.client``'s CPU for one request."""
    lines = [
        "",
        "The rows alone, the same runs dry (read, checked, de-duplicated, batched and planned; no request):",
        "",
        "| rows from | rows | CPU seconds per 1M rows, dry | the run's figure above, sent |",
        "|---|---|---|---|",
    ]
    for source in SOURCES:
        figures = run_operator(
            home,
            source=source,
            rows=rows,
            sim=sim,
            dry_run=True,
        )
        label = SOURCES[source]
        line = f"| {label} | {rows:,} | {per_million(figures, rows):.2f} | {cpu[(source, False)]:.2f} |"
        print(line, flush=True)
        lines.append(line)
    floor = http_client_floor(sim)
    lines += [
        "",
        f"This machine's yardstick: `http.client` alone spends {floor:.0f} us of CPU on one 100-pair request "
        f"(`bench_http_floor.py`'s first row), so at 100 pairs a request the requests alone would take "
        f"{floor * 10_000 / 1e6:.2f} CPU s per 1M rows, before any other layer. CPU seconds depend on the "
        "machine: compare runs of two machines through this figure.",
    ]
    print(lines[-1], flush=True)
    return lines


def snapshot_lines(home: Path, sim: Simulator, rows: int) -> list[str]:
    """The snapshot's cost: the same rows written back with and without it."""
    runs = {}
    for snapshot in (False, True):
        sim.reset_and_load(rows)
        runs[snapshot] = run_operator(
            home, source="xcom", rows=rows, sim=sim, results_path=home / "results.db", snapshot=snapshot
        )
    off, on = runs[False], runs[True]
    from_ids = len({i // 5 for i in range(rows)})
    reads = int(on["summary"].get("snapshot_requests", 0))
    # The summary's ``requests`` are the removals' own; the snapshot's reads are counted apart.
    extra = reads + int(on["summary"]["requests"]) - int(off["summary"]["requests"])
    lines = [
        "",
        f"Snapshot (`snapshot=True`) against none, {rows:,} dict rows ({from_ids:,} from-ids) written back:",
        "",
        "| snapshot | archive requests | snapshot reads | CPU seconds | CPU seconds per 1M rows | wall |",
        "|---|---|---|---|---|---|",
    ]
    for name, figures in (("off", off), ("on", on)):
        summary = figures["summary"]
        lines.append(
            f"| {name} | {summary['requests']:,} | {summary.get('snapshot_requests', 0):,} "
            f"| {figures['cpu']:.2f} | {per_million(figures, rows):.2f} | {figures['wall']:.1f} s |"
        )
    lines += [
        "",
        f"Overhead: {extra:+,} requests ({reads:,} snapshot reads for {from_ids:,} from-ids: at most one per "
        f"1,000 from-ids is {-(-from_ids // 1000):,} plus paging), {on['cpu'] - off['cpu']:+.2f} CPU seconds "
        f"({per_million(on, rows) - per_million(off, rows):+.2f} per 1M rows), "
        f"{on['wall'] - off['wall']:+.1f} s wall.",
    ]
    for line in lines:
        print(line, flush=True)
    return lines


if __name__ == "__main__":
    main()
