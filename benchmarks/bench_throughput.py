"""Throughput at HubSpot's rate limit: our operator, the official SDK, and processes sharing one app.

Each run has its own simulator process and port, and its clients run as their own processes; runs
go side by side (``--jobs``), since their clients mostly wait. Measured at the simulator, by the time
each request ARRIVED there (``airflow_provider_hubspot_assoc.testing.rates``): the sustained rate is
the accepted requests in consecutive whole 10-s windows, from one window after the first accepted
request (the opening burst left out) to the end of the steady part (the first client's end, less
one answer's latency), over the allowed rate; at least 20 windows for a figure to count. Also: the
busiest rolling window of the whole run (burst included), the 429 answers and their share, and the
time until every pair was archived.

The grid (``--limits`` x ``--latencies``), in real time:

* ``ours``: ``BatchArchiveAssociationsOperator`` through ``execute()``, one process;
* ``sdk-readme``: hubspot-api-client 12 in a plain loop, 100 inputs a call, with the retry its README
  shows (``Retry(total=5, status_forcelist=(429,))``, whose default ``allowed_methods`` never retry
  a POST);
* ``sdk-careful``: the same with POST retried (``allowed_methods=None``) and ``backoff_factor=1``;
* ``shared``: 2 and 4 of our operators as separate processes on one app (one token, no
  ``rate_limit_share``), not coordinated, at ``--shared-limits`` x ``--latencies``: their combined
  rate and 429s. They archive more pairs than one process (``work_windows``: the steady part ends
  when the first of them is done, and they do not split the rate evenly), so their time is compared
  with one process's per pair.

``--quick`` runs a few cells over a few windows to check that the harness works: its figures are
labelled as not the sustained rate and are not written to RESULTS.md. Not a test:
``.venv/bin/python benchmarks/bench_throughput.py [--quick] [--jobs 12] [--no-record]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import append_results
from _throughput_runs import Cell, Result, run_cell

from airflow_provider_hubspot_assoc.testing.rates import MIN_WINDOWS

SDK_FORMS = ("sdk-readme", "sdk-careful")
TITLE = "Throughput at the rate limit: steady state, by limit and latency (`benchmarks/bench_throughput.py`)"
SHARED_TITLE = "Throughput, processes sharing one app (`benchmarks/bench_throughput.py`)"
# the former single runs' sections, whose rate counted the opening burst: replaced by this grid
FORMER = tuple(
    f"Throughput, {pairs} pairs at 190 requests per 10 s with 150 ms latency, real time "
    "(`benchmarks/bench_throughput.py`)"
    for pairs in ("50,000", "20,000")
)

METHOD = " ".join(
    [
        "Measured at the simulator by the time each request arrived there; the steady part leaves the",
        "opening burst out and ends one answer's latency before the first client's end. Sustained /",
        "allowed: accepted requests per second over whole cycles of the steady part (from request i to",
        "request i + k x cycle, a cycle being the most requests accepted in one rolling 10-s window of",
        "the steady part: the limit, for a client at the limit), over the allowed rate. Whole cycles,",
        "because 10-s windows laid on a pacer whose cycle is a little longer than a window each catch",
        "one cycle for dozens of windows in a row and say 100%, and a count from the first to the last",
        "request catches a burst too many. Windows: how many 10-s windows the figure covers. Per window:",
        "fewest and most accepted requests in the consecutive whole 10-s windows of the steady part.",
        "Busiest: most accepted requests in any rolling 10-s window of the whole run, the burst",
        "included. An SDK run is stopped when a client at the allowed rate would have finished; its time",
        "over ours is then a lower bound, with the estimate from the pairs it archived. 'never': a plain",
        "loop went on past calls that raised (the README's retry never retries a POST), and those pairs",
        "were not archived. Processes sharing an app archive more pairs than one process: each has work",
        "for the skipped and measured windows at up to twice its even share of the rate (they do not",
        "split it evenly, and the steady part ends when the first is done); their time to done is",
        "compared with one process's per pair.",
    ]
)


class LoadWatch:
    """The 1-minute load average, sampled every few seconds while the grid runs."""

    def __init__(self, every: float = 5.0) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, args=(every,), daemon=True)
        self._thread.start()

    def _watch(self, every: float) -> None:
        while not self._stop.wait(every):
            self.samples.append(os.getloadavg()[0])

    def stop(self) -> str:
        self._stop.set()
        self._thread.join()
        samples = self.samples or [os.getloadavg()[0]]
        return (
            f"load average (1 min, {len(samples)} samples): min {min(samples):.2f}, "
            f"mean {statistics.fmean(samples):.2f}, max {max(samples):.2f}"
        )


def share(result: Result) -> str:
    """The sustained share of the limit, flagged when it covers fewer windows than a figure needs."""
    value = result.rate.share
    if value is None or result.rate.windows < 1:
        return "under one window"
    return f"{value:.1%}" + ("" if result.rate.enough else " (short)")


def windows(result: Result) -> str:
    """Windows the share covers."""
    return f"{result.rate.windows:.1f}"


def spread(result: Result) -> str:
    counts = result.rate.counts
    return f"{min(counts)} to {max(counts)}" if counts else "-"


def never(result: Result) -> str | None:
    """Why a run will never have every pair archived, if so."""
    if result.raised:
        return f"never: {result.raised:,} calls raised"
    if not result.stopped and result.archived < result.pairs:
        return f"never: {result.pairs - result.archived:,} pairs not archived"
    return None


def seconds(result: Result) -> str:
    if result.done:
        return f"{result.elapsed:.0f} s"
    return never(result) or f"> {result.elapsed:.0f} s (stopped)"


def versus(result: Result, ours: Result | None) -> str:
    """Time to done over ours: measured, or a lower bound with the estimate from the pairs archived."""
    if ours is None or not ours.done:
        return "-"
    if result.done:
        return f"{result.elapsed / ours.elapsed:.2f}x"
    if result.estimate is None:
        return never(result) or "-"
    return f"> {result.elapsed / ours.elapsed:.2f}x (est. {result.estimate / ours.elapsed:.1f}x)"


def table(results: list[Result], limits: list[int], latencies: list[float]) -> list[str]:
    found = {(r.cell.approach, r.cell.limit, r.cell.latency): r for r in results if r.cell.processes == 1}
    lines = [
        "| limit / 10 s | latency | ours: sustained / allowed | windows | per window | busiest / limit "
        "| 429s (share) | time to done | SDK README: sustained / allowed | 429 share | time / ours "
        "| SDK, POST retried: sustained / allowed | 429 share | time / ours |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for limit in limits:
        for latency in latencies:
            ours = found.get(("ours", limit, latency))
            row = [f"{limit}", f"{latency * 1000:.0f} ms"]
            if ours is None:
                row += ["-"] * 6
            else:
                rate = ours.rate
                row += [
                    share(ours),
                    windows(ours),
                    spread(ours),
                    f"{rate.busiest}/{limit}",
                    f"{rate.rate_limited} ({rate.share_429:.2%})",
                    seconds(ours),
                ]
            for form in SDK_FORMS:
                sdk = found.get((form, limit, latency))
                if sdk is None:
                    row += ["-"] * 3
                else:
                    row += [
                        f"{share(sdk)} ({windows(sdk)} w)",
                        f"{sdk.rate.share_429:.2%}",
                        versus(sdk, ours),
                    ]
            lines.append("| " + " | ".join(row) + " |")
    return lines


def per_pair(result: Result, single: Result | None) -> str:
    """Time to done per pair over one process's (a shared run archives more pairs than one process)."""
    if single is None or not single.done or not result.done:
        return "-"
    return f"{(result.elapsed / result.pairs) / (single.elapsed / single.pairs):.2f}x"


def shared_table(results: list[Result]) -> list[str]:
    singles = {
        (r.cell.limit, r.cell.latency): r
        for r in results
        if r.cell == Cell("ours", r.cell.limit, r.cell.latency)
    }
    lines = [
        "| processes | limit / 10 s | latency | combined sustained / allowed | windows | per window "
        "| busiest / limit | requests | 429s | 429 share | time to done | time per pair / one process |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    shared = sorted(
        (r for r in results if r.cell.processes > 1),
        key=lambda r: (r.cell.processes, r.cell.limit, r.cell.latency),
    )
    for result in shared:
        rate, cell = result.rate, result.cell
        lines.append(
            f"| {cell.processes} | {cell.limit} | {cell.latency * 1000:.0f} ms | {share(result)} | "
            f"{windows(result)} | {spread(result)} | {rate.busiest}/{cell.limit} | {rate.requests} | "
            f"{rate.rate_limited} | {rate.share_429:.2%} | {seconds(result)} | "
            f"{per_pair(result, singles.get((cell.limit, cell.latency)))} |"
        )
    return lines


def plan(args: argparse.Namespace) -> list[Cell]:
    limits = [int(x) for x in args.limits.split(",")]
    latencies = [float(x) / 1000 for x in args.latencies.split(",")]
    cells = [
        Cell(a, limit, latency)
        for limit in limits
        for latency in latencies
        for a in args.approaches.split(",")
    ]
    shared_limits = [int(x) for x in args.shared_limits.split(",") if x]
    processes = [int(x) for x in args.processes.split(",") if x]
    cells += [
        Cell("ours", limit, latency, n) for n in processes for limit in shared_limits for latency in latencies
    ]
    # the longest first: processes sharing an app, then the SDK forms (stopped at a cap), then ours
    return sorted(cells, key=lambda c: (-c.processes, c.approach == "ours", -c.latency))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limits", default="100,110,190,250", help="requests per 10 s, comma-separated")
    parser.add_argument("--latencies", default="30,150,500,1500", help="ms added to each answer")
    parser.add_argument("--approaches", default="ours,sdk-readme,sdk-careful")
    parser.add_argument(
        "--shared-limits", default="100,190", help="limits of the shared-app runs ('' for none)"
    )
    parser.add_argument("--processes", default="2,4", help="processes per shared-app run")
    parser.add_argument("--windows", type=int, default=MIN_WINDOWS, help="whole windows measured per run")
    parser.add_argument("--skip", type=int, default=1, help="windows left out after the first request")
    parser.add_argument("--jobs", type=int, default=12, help="runs side by side")
    parser.add_argument("--quick", action="store_true", help="a smoke check: 2 cells, 3 windows, no record")
    parser.add_argument("--no-record", action="store_true", help="do not write RESULTS.md")
    args = parser.parse_args()
    if args.quick:
        args.limits, args.latencies, args.shared_limits, args.processes = "100", "30,500", "100", "2"
        args.windows = min(args.windows, 3)
    if "sdk" in args.approaches and importlib.util.find_spec("hubspot") is None:
        # Found out at the first SDK cell, the grid would stop some 15 minutes in, recording nothing.
        sys.exit("the SDK cells need the official SDK: pip install -c constraints.txt -e '.[dev,bench]'")
    limits = [int(x) for x in args.limits.split(",")]
    latencies = [float(x) / 1000 for x in args.latencies.split(",")]
    cells = plan(args)
    label = "QUICK SMOKE CHECK, not the sustained rate: " if args.windows < MIN_WINDOWS else ""
    print(
        f"{label}{len(cells)} runs, {args.jobs} at a time, {args.windows} windows measured after {args.skip}",
        flush=True,
    )
    watch, started = LoadWatch(), time.monotonic()

    def one(cell: Cell) -> Result:
        result = run_cell(cell, windows=args.windows, skip=args.skip)
        print(
            f"  {cell.approach} x{cell.processes} limit {cell.limit} latency {cell.latency * 1000:.0f} ms: "
            f"{share(result)} over {windows(result)} windows, {result.rate.rate_limited} 429s, "
            f"{seconds(result)}, load {result.load[0]:.1f}->{result.load[1]:.1f} ({'; '.join(result.notes)})",
            flush=True,
        )
        return result

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(one, cells))
    wall, load = time.monotonic() - started, watch.stop()
    lines, shared = table(results, limits, latencies), shared_table(results)
    fewest = min((r.rate.windows for r in results), default=0.0)
    notes = [
        "",
        f"{label}Real time; {len(cells)} runs, {args.jobs} side by side, each with its own simulator "
        f"process, its clients in their own processes; the grid took {wall / 60:.1f} min; {load}. "
        f"Steady part: from {args.skip} window(s) after the first accepted request to when the first "
        f"client stopped sending. Windows: {fewest:.1f} or more here; '(short)' marks fewer than "
        f"{MIN_WINDOWS}. " + METHOD,
    ]
    print("\n".join([*lines, "", *shared, *notes]))
    if args.no_record or label:
        return
    append_results(TITLE, [*lines, *notes], replaces=FORMER)
    if shared[2:]:
        append_results(SHARED_TITLE, [*shared, *notes])


if __name__ == "__main__":
    main()
