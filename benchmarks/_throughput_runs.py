"""One run of the throughput benchmark: a simulator process, its client process(es), the measures.

A run archives ``limit x work_windows`` requests' worth of pairs (100 a request) at one limit and
latency: enough to keep a client sending at the allowed rate through the opening burst, the measured
windows and some to spare (processes sharing an app get more, since the first to be done ends the
steady part: ``work_windows``). Every client imports and builds first; then all start together. Our
operator runs until done (stopped at ``OURS_CAP`` times that work's length at the limit); an SDK
form is stopped when a client at the allowed rate would have finished, so a slower one is measured
over its steady windows and its time to done is estimated from the pairs it archived.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from _bench_client import MARK, TO_IDS
from _sim_server import SimServer

from airflow_provider_hubspot_assoc.testing.rates import SteadyRate, steady_rate

WINDOW = 10.0  # HubSpot's rolling window, seconds
SPARE = 6  # windows of work beyond the skipped and measured ones
UNEVEN = 2.0  # a process sharing an app may get up to this many times its even share of the rate ...
MARGIN = 2  # ... and its work lasts this many windows beyond the skipped and measured ones at that
OURS_CAP = 3.0  # our operator is stopped after this many times the work's length at the limit
CLIENT = Path(__file__).resolve().with_name("_bench_client.py")
STARTING = threading.Lock()  # one run imports and builds at a time: start-ups do not pile up


@dataclass(frozen=True)
class Cell:
    """What one run measures.

    :param approach: ``ours``, ``sdk-readme`` or ``sdk-careful``.
    :param limit: requests allowed per 10 s.
    :param latency: seconds the simulator adds to each answer.
    :param processes: client processes sharing the one app (same token, no ``rate_limit_share``).
    """

    approach: str
    limit: int
    latency: float
    processes: int = 1


@dataclass
class Result:
    """A run's figures.

    :param cell: what ran.
    :param rate: the sustained rate, 429s and busiest window, measured at the simulator.
    :param pairs: pairs given to the clients.
    :param archived: distinct pairs the simulator carried out.
    :param elapsed: seconds from the start to the last client's end (or its stop).
    :param stopped: a client was stopped at its cap, not done.
    :param raised: SDK calls that raised (a plain loop went on: their pairs are not archived).
    :param load: the 1-minute load average at the run's start and end.
    :param cpu_seconds: CPU of the simulator process (the clients' is not measured here).
    :param notes: each client's own note.
    """

    cell: Cell
    rate: SteadyRate
    pairs: int
    archived: int
    elapsed: float
    stopped: bool
    raised: int
    load: tuple[float, float]
    cpu_seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return not self.stopped and self.archived == self.pairs

    @property
    def estimate(self) -> float | None:
        """Seconds to archive every pair at the rate it archived them (None: never, or none archived)."""
        if self.raised or not self.archived:
            return None
        return self.elapsed * self.pairs / self.archived


def work_windows(windows: int, skip: int, processes: int = 1) -> int:
    """Windows of work at the limit for the whole run (all its processes together).

    One process: the skipped windows, the measured ones and ``SPARE``. Processes sharing an app do
    not split its rate evenly (the limiter keeps whatever split their start made), and the steady part
    ends when the first of them is done: each gets enough work to last the skipped and measured
    windows and ``MARGIN`` at ``UNEVEN`` times its even share of the rate (at most the whole rate).
    """
    alone = skip + windows + SPARE
    if processes == 1:
        return alone
    fastest = min(1.0, UNEVEN / processes)  # the largest part of the rate one process is given room for
    return max(alone, math.ceil(processes * fastest * (skip + windows + MARGIN)))


def _shares(total: int, parts: int) -> list[int]:
    return [total // parts + (k < total % parts) for k in range(parts)]


def _environment(cell: Cell, sim: SimServer, home: Path) -> dict[str, str]:
    connection = {
        "conn_type": "hubspot",
        "host": sim.url,
        "password": sim.token,
        "extra": {"requests_per_10s": cell.limit, "window_seconds": WINDOW},
    }
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW_CONN_HUBSPOT_BENCH": json.dumps(connection),
        "HUBSPOT_BENCH_TOKEN": sim.token,
    }


def _said(client: subprocess.Popen[str]) -> str:
    """The client's next line for the runner (after ``MARK``); empty if it ended first."""
    assert client.stdout is not None
    for line in client.stdout:
        if line.startswith(MARK):
            return line[len(MARK) :].strip()
    return ""


def _stop(client: subprocess.Popen[str]) -> None:
    if client.poll() is None:
        client.kill()
        client.wait()


@dataclass
class Client:
    """One client process and the file its stderr goes to."""

    process: subprocess.Popen[str]
    error: IO[str]

    def tail(self) -> str:
        _stop(self.process)
        self.error.seek(0)
        return self.error.read()[-3000:]


def _start(cell: Cell, sim: SimServer, requests: int, stack: contextlib.ExitStack) -> list[Client]:
    """The run's client processes, each given its share of the requests, once all are ready."""
    clients: list[Client] = []
    first = 0
    for share in _shares(requests, cell.processes):
        home = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        error = stack.enter_context(tempfile.TemporaryFile("w+"))  # noqa: SIM115
        case = {"approach": cell.approach, "url": sim.url, "first": first, "count": share * TO_IDS}
        first += share * TO_IDS
        process = subprocess.Popen(
            [sys.executable, str(CLIENT), json.dumps(case)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=error,
            text=True,
            env=_environment(cell, sim, home),
        )
        stack.callback(_stop, process)
        clients.append(Client(process, error))
    for client in clients:
        if _said(client.process) != "ready":
            raise RuntimeError(f"a client of {cell} did not start:\n{client.tail()}")
    return clients


def _wait(cell: Cell, clients: list[Client], cap: float) -> tuple[float, list[dict[str, Any]], bool]:
    """Start every client at once; wait for each until ``cap`` seconds: (start, reports, stopped)."""
    go = time.time()
    for client in clients:
        assert client.process.stdin is not None
        client.process.stdin.write("go\n")
        client.process.stdin.flush()
    reports, stopped = [], False
    for client in clients:
        try:
            client.process.wait(timeout=max(go + cap - time.time(), 0.0))
        except subprocess.TimeoutExpired:  # told to report and stop (SIGTERM), else killed
            stopped = True
            client.process.terminate()
            try:
                client.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _stop(client.process)
        if client.process.returncode:
            raise RuntimeError(f"a client of {cell} failed:\n{client.tail()}")
        said = _said(client.process)
        reports.append(json.loads(said) if said else {"ended": time.time(), "note": "killed", "raised": 0})
    return go, reports, stopped


def run_cell(cell: Cell, *, windows: int, skip: int) -> Result:
    """Run ``cell`` on its own simulator; measure ``windows`` windows after ``skip`` (at least)."""
    work = work_windows(windows, skip, cell.processes)
    requests = cell.limit * work
    at_limit = work * WINDOW + cell.latency  # a client at the allowed rate is done by then
    cap = OURS_CAP * at_limit if cell.approach == "ours" else at_limit + 5.0
    with contextlib.ExitStack() as stack:
        with STARTING:
            load_start = os.getloadavg()[0]
            sim = SimServer(
                ten_second_limit=cell.limit,
                window_seconds=WINDOW,
                latency_seconds=cell.latency,
                daily_limit=None,
            )
            stack.callback(sim.kill)
            clients = _start(cell, sim, requests, stack)
        go, reports, stopped = _wait(cell, clients, cap)
        finished = sim.stop()
    ends = [report["ended"] for report in reports]
    # The steady part ends when the first client stops sending: its end less one answer's latency.
    rate = steady_rate(
        finished.arrivals,
        limit=cell.limit,
        window_seconds=WINDOW,
        last=min(ends) - cell.latency,
        skip_windows=skip,
    )
    return Result(
        cell=cell,
        rate=rate,
        pairs=requests * TO_IDS,
        archived=finished.distinct_pairs,
        elapsed=max(ends) - go,
        stopped=stopped,
        raised=sum(report["raised"] for report in reports),
        load=(load_start, os.getloadavg()[0]),
        cpu_seconds=finished.cpu_seconds,
        notes=[report["note"] for report in reports],
    )
