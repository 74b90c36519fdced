"""Shared by the CPU and memory benchmarks: the simulator as a separate process, and one operator run
in a fresh child process that reports its own CPU time and memory.

The child builds its input (a list of dict rows, as a task gets them from XCom, or an SQL query on
a SQLite file), then calls ``BatchArchiveAssociationsOperator.execute()`` with a task context that
has a task state store (so checkpoints are saved as in Airflow 3.3+). It measures its own process
CPU time (every thread, user + system) around ``execute()`` only: the simulator runs in another
process and is not counted, nor is Airflow's own start (settings, secrets backends, logging: done by
a task runner before ``execute()``), which is timed apart (``airflow_start_cpu``).
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

# Far above what one client sends: pacing never holds a request back in these runs.
SIM_LIMIT_PER_10S = 1_000_000


def row_ids(index: int) -> tuple[int, int]:
    """Row ``index``'s (from id, to id): five to-ids per from-id, 50,000 distinct companies."""
    return 100_000 + index // 5, 900_000 + index % 50_000


# The SQLite file, in a run's home, that the runs reading rows by SQL read.
SQL_ROWS = "rows.db"


def make_sqlite(path: Path, rows: int) -> None:
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE bench_pairs (from_id INTEGER, to_id INTEGER)")
        db.executemany("INSERT INTO bench_pairs VALUES (?, ?)", (row_ids(i) for i in range(rows)))


class Simulator:
    """``hubspot-assoc-sim`` in its own process (its CPU is not the provider's)."""

    def __init__(self, latency: float = 0.0, max_in_flight: int | None = None) -> None:
        self.max_in_flight = max_in_flight
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        command = str(Path(sys.executable).with_name("hubspot-assoc-sim"))
        self.process = subprocess.Popen(
            [
                command,
                "--port",
                str(self.port),
                "--seed",
                "empty",
                "--ten-second-limit",
                str(SIM_LIMIT_PER_10S),
                "--daily-limit",
                "none",
                "--latency-seconds",
                str(latency),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("Ready."):
                break
        else:
            raise RuntimeError("the simulator did not start")
        self.token = "sim-private-app-token"

    def post(self, path: str, body: Any = None) -> Any:
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body or {}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=600) as answer:
            return json.loads(answer.read() or b"null")

    def reset_and_load(self, rows: int) -> None:
        """Empty the simulator, then give it the association of every row (so each is really removed)."""
        self.post("/_sim/reset")
        chunk = 100_000
        for start in range(0, rows, chunk):
            associations = [
                {"from": "contacts", "from_id": str(f), "to": "companies", "to_id": str(t)}
                for f, t in (row_ids(i) for i in range(start, min(rows, start + chunk)))
            ]
            self.post("/_sim/load", {"associations": associations})

    def connection(self) -> dict[str, Any]:
        return {
            "conn_type": "hubspot",
            "host": self.url,
            "password": self.token,
            "extra": {"requests_per_10s": SIM_LIMIT_PER_10S}
            | ({"max_in_flight": self.max_in_flight} if self.max_in_flight else {}),
        }

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


CHILD = r"""
import json, resource, sys, time

def rss_mb(field="VmRSS"):
    text = open("/proc/self/status").read()
    return int(text.split(field + ":")[1].split()[0]) / 1024

def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

case = json.loads(sys.argv[1])
from airflow_provider_hubspot_assoc.operators import BatchArchiveAssociationsOperator

class StateStore(dict):  # the task state store's get/set/delete (Airflow 3.3+), in memory
    def set(self, key, value):
        self[key] = json.loads(json.dumps(value))
    def delete(self, key):
        self.pop(key, None)

class TaskInstance:
    task_id, dag_id, map_index, try_number = "bench", "bench", -1, 1
    def xcom_push(self, key, value):
        pass

class Events(dict):
    def __missing__(self, key):
        return self.setdefault(key, type("Alias", (), {"add": lambda *a, **k: None})())

settings = dict(
    task_id="bench", from_object_type="contacts", to_object_type="companies",
    dry_run=case["dry_run"], snapshot=case["snapshot"],
)
if case["results_table"]:
    settings.update(results_table="bench_results", results_conn_id="bench_results",
                    create_results_table=True)
baseline_mb = rss_mb()
if case["source"] == "xcom":
    rows = case["rows"]
    inputs = [{"from_id": 100_000 + i // 5, "to_id": 900_000 + i % 50_000} for i in range(rows)]
    op = BatchArchiveAssociationsOperator(inputs=inputs, **settings)
else:
    op = BatchArchiveAssociationsOperator(
        sql="SELECT from_id, to_id FROM bench_pairs", conn_id="bench_sql", **settings
    )
inputs_mb = rss_mb()
# Airflow's own start (settings, secrets backends, logging), which a task runner does before execute():
# done here, timed apart, so that the measured part is the run itself.
started = cpu_seconds()
from airflow_provider_hubspot_assoc._compat import BaseHook
BaseHook.get_connection("hubspot_default")
airflow_start = cpu_seconds() - started
import uuid
context = {"ti": TaskInstance(), "run_id": f"bench-{uuid.uuid4().hex}", "task_state_store": StateStore(),
           "outlet_events": Events()}
profiles = []
if case.get("profile"):  # every thread under cProfile, the stats merged (for finding hot spots)
    import cProfile, pstats, threading
    run_thread = threading.Thread.run
    def profiled(self):
        profile = cProfile.Profile()
        profiles.append(profile)
        profile.runcall(run_thread, self)
    threading.Thread.run = profiled
    profiles.append(cProfile.Profile())
    profiles[-1].enable()
wall, cpu = time.monotonic(), cpu_seconds()
system = resource.getrusage(resource.RUSAGE_SELF).ru_stime
result = op.execute(context)
cpu, wall = cpu_seconds() - cpu, time.monotonic() - wall
system = resource.getrusage(resource.RUSAGE_SELF).ru_stime - system
if profiles:
    for profile in profiles:
        profile.disable()
    stats = pstats.Stats(*profiles)
    stats.dump_stats(case["profile"])
print(json.dumps({
    "summary": result["summary"], "cpu": cpu, "system_cpu": system, "wall": wall,
    "airflow_start_cpu": airflow_start, "baseline_mb": baseline_mb,
    "inputs_mb": inputs_mb, "peak_mb": rss_mb("VmHWM"),
}))
"""


def run_operator(
    home: Path,
    *,
    source: str,
    rows: int,
    sim: Simulator | None,
    results_path: Path | None = None,
    dry_run: bool = False,
    snapshot: bool = False,
    profile: Path | None = None,
) -> dict[str, Any]:
    """One run of the operator in a fresh process: its summary, CPU and wall seconds, memory (MB).

    ``source`` "sql" reads the rows of ``home / SQL_ROWS`` (``make_sqlite``); "xcom" builds them.
    """
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    }
    if sim is not None:
        env["AIRFLOW_CONN_HUBSPOT_DEFAULT"] = json.dumps(sim.connection())
    if source == "sql":
        env["AIRFLOW_CONN_BENCH_SQL"] = json.dumps({"conn_type": "sqlite", "host": str(home / SQL_ROWS)})
    if results_path is not None:
        results_path.unlink(missing_ok=True)
        env["AIRFLOW_CONN_BENCH_RESULTS"] = json.dumps({"conn_type": "sqlite", "host": str(results_path)})
    case = {
        "source": source,
        "rows": rows,
        "dry_run": dry_run,
        "snapshot": snapshot,
        "results_table": results_path is not None,
        "profile": str(profile) if profile else None,
    }
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(case)], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"operator run failed:\n{done.stderr[-4000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    figures["process_wall"] = time.monotonic() - started
    summary = figures["summary"]
    assert summary["received"] == rows, summary
    if not dry_run:
        assert summary["archived"] == rows, summary
    if results_path is not None:
        with sqlite3.connect(results_path) as db:
            written = db.execute("SELECT COUNT(*), COUNT(DISTINCT row_number) FROM bench_results").fetchone()
        assert tuple(written) == (rows, rows), f"results table holds {written} rows for {rows} inputs"
    return figures
