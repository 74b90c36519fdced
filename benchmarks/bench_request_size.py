"""Pairs per second by request size: 1, 5 and 20 to ids per from id, at the default pair cap and raised.

``batch_size`` counts HubSpot inputs (a from id with its to ids is one) and ``max_pairs_per_request``
caps pairs (default 100). At HubSpot's rate limit the requests per second are fixed, so the pairs
per second follow the pairs each request holds: this measures them, end to end, through the same
batcher and sender the operators use (``checked_batches`` and ``HubSpotClient.send_batches``), over
real HTTP to a simulator in another process, at a stated limit and latency.

Per configuration: pairs per request; the steady rate in requests/s and pairs/s, measured at the
simulator by arrival time as ``bench_throughput.py`` measures it (``testing.rates``: the opening
burst left out, whole cycles over 20 or more windows, their number printed); time until every pair
was archived; 429s; and the client process's CPU seconds per 1M pairs (the simulator's own CPU is
in its process, not counted). Every pair must be archived, none failed: the script checks it. The
configurations run side by side (``--jobs``), each in its own process with its own simulator.

Not a test: ``.venv/bin/python benchmarks/bench_request_size.py [--limit 100] [--latency 0.15]
[--windows 20] [--raised-cap 2000] [--jobs 5] [--no-write]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import append_results
from _sim_server import SimServer

from airflow_provider_hubspot_assoc.checked_batches import check_rows, checked_batches
from airflow_provider_hubspot_assoc.hubspot.client import HubSpotClient
from airflow_provider_hubspot_assoc.hubspot.config import ClientConfig
from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.request_size import DEFAULT_BATCH_SIZE, DEFAULT_MAX_PAIRS, RequestSize
from airflow_provider_hubspot_assoc.testing.rates import MIN_WINDOWS, per_window, steady_rate

WINDOW = 10.0  # HubSpot's rolling window, seconds
SKIP = 1  # windows left out after the first request: the opening burst
TITLE = "Request size: pairs/s by to ids per from id (bench_request_size.py)"


@dataclass
class Outcome:
    targets: int  # to ids per from id
    max_pairs: int
    pairs: int
    requests: int
    pairs_per_request: float
    steady_pairs: float  # pairs/s over the steady part
    steady_requests: float
    windows: float  # windows the steady figures cover
    total_seconds: float
    rate_limited: int
    failed: int
    cpu_per_million: float


def measure(targets: int, max_pairs: int, limit: int, latency: float, windows: int) -> Outcome:
    per_request = min(DEFAULT_BATCH_SIZE * targets, max_pairs)
    # Enough pairs to keep sending at the limit through the burst, the measured windows and two more.
    pairs_wanted = per_request * limit * (SKIP + windows + 2)
    from_ids = -(-pairs_wanted // targets)
    sim = SimServer(
        ten_second_limit=limit,
        window_seconds=WINDOW,
        latency_seconds=latency,
        daily_limit=None,
        max_inputs=DEFAULT_BATCH_SIZE,
        max_pairs=max_pairs,
    )
    try:
        rows = (
            {"from": {"id": str(100_000 + f)}, "to": [{"id": str(900_000 + t)} for t in range(targets)]}
            for f in range(from_ids)
        )
        client = HubSpotClient(
            ClientConfig(
                base_url=sim.url,
                access_token=sim.token,
                requests_per_window=limit,
                window_seconds=WINDOW,
                batch_size=DEFAULT_BATCH_SIZE,
                max_pairs_per_request=max_pairs,
            )
        )
        size = RequestSize(DEFAULT_BATCH_SIZE, max_pairs)
        cpu = time.process_time()
        started = time.time()
        checked = check_rows(Kind.ARCHIVE, rows)
        failed = 0
        batches = checked_batches(Kind.ARCHIVE, checked, size)
        for _batch, response in client.send_batches(Kind.ARCHIVE, "contacts", "companies", batches, size):
            if response is not None:
                failed += len(response.failed_pairs())
        ended = time.time()
        cpu = time.process_time() - cpu
        client.close()
        finished = sim.stop()
    finally:
        sim.kill()
    if finished.distinct_pairs != from_ids * targets or failed:
        raise SystemExit(
            f"not every pair was archived: {finished.distinct_pairs} of {from_ids * targets}, {failed} failed"
        )
    rate = steady_rate(
        finished.arrivals, limit=limit, window_seconds=WINDOW, last=ended - latency, skip_windows=SKIP
    )
    if rate.share is None:
        raise SystemExit(f"the run was too short to measure after the first window ({targets} to ids)")
    # pairs a request held in the steady windows (every request is full but the last, after them)
    held = sum(per_window(finished.arrivals, rate.span, pairs=True)) / max(sum(rate.counts), 1)
    steady_requests = rate.share * limit / WINDOW
    accepted = [a for a in finished.arrivals if a.accepted]
    return Outcome(
        targets=targets,
        max_pairs=max_pairs,
        pairs=finished.distinct_pairs,
        requests=len(accepted),
        pairs_per_request=finished.distinct_pairs / len(accepted),
        steady_pairs=steady_requests * held,
        steady_requests=steady_requests,
        windows=rate.windows,
        total_seconds=ended - started,
        rate_limited=rate.rate_limited,
        failed=failed,
        cpu_per_million=cpu / finished.distinct_pairs * 1_000_000,
    )


def run(job: tuple[int, int, int, float, int]) -> Outcome:
    print(f"{job[0]} to ids per from id, max_pairs_per_request {job[1]} ...", flush=True)
    return measure(*job)


def table(outcomes: list[Outcome], limit: int) -> list[str]:
    allowed = limit / WINDOW
    lines = [
        "| to ids per from id | max_pairs_per_request | pairs a request | steady pairs/s | steady requests/s "
        "(of allowed) | windows | pairs | time to archive all | 429s | client CPU-s per 1M pairs |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        lines.append(
            f"| {o.targets} | {o.max_pairs:,} | {o.pairs_per_request:,.0f} | {o.steady_pairs:,.0f} | "
            f"{o.steady_requests:.2f} ({o.steady_requests / allowed:.1%}) | {o.windows:.1f} | {o.pairs:,} | "
            f"{o.total_seconds:.1f} s | {o.rate_limited} | {o.cpu_per_million:.1f} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--limit", type=int, default=100, help="requests per 10 s (HubSpot Free/Starter: 100)"
    )
    parser.add_argument(
        "--latency", type=float, default=0.15, help="seconds the simulator adds to each answer"
    )
    parser.add_argument(
        "--windows", type=int, default=MIN_WINDOWS, help="10-s windows to measure after the first"
    )
    parser.add_argument("--jobs", type=int, default=5, help="configurations side by side")
    parser.add_argument("--targets", default="1,5,20", help="to ids per from id, comma-separated")
    parser.add_argument("--raised-cap", type=int, default=2000, help="the raised max_pairs_per_request")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md as it is")
    args = parser.parse_args()
    runs = []
    for targets in (int(t) for t in args.targets.split(",")):
        if targets > 1:  # at 1 to id per from id the default cap already fills a request of 100 inputs
            runs.append((targets, DEFAULT_MAX_PAIRS))
        runs.append((targets, args.raised_cap))
    load_before = os.getloadavg()[0]
    jobs = [(targets, cap, args.limit, args.latency, args.windows) for targets, cap in runs]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        outcomes = list(pool.map(run, jobs))
    lines = table(outcomes, args.limit)
    print("\n".join(lines))
    if args.no_write:
        return
    load = os.getloadavg()
    notes = [
        f"- {o.rate_limited} 429(s) at {o.targets} to ids per from id, cap {o.max_pairs:,}: after a 429 the "
        "client slows down for a while, so that row's steady rate is below the allowed rate. Pacing "
        "itself is measured by `bench_throughput.py`."
        for o in outcomes
        if o.rate_limited
    ]
    append_results(
        TITLE,
        [
            f"Limit {args.limit} requests per 10 s (HubSpot's Free/Starter tier when 100), "
            f"{args.latency * 1000:.0f} ms added to every answer, `batch_size` 100 (inputs), real time (no "
            "time scaling). Rows are HubSpot's native inputs (one from id with its to ids), sent through "
            "`checked_batches` and `HubSpotClient.send_batches` as the operators send them (no Airflow, no "
            "write-back). The simulator runs in its own process with the client's caps, so it accepts the "
            "raised pair cap: HubSpot's real cap is not documented. Steady figures are measured at the "
            "simulator by the time each request arrived, as `bench_throughput.py` measures them: the "
            "first 10-s window from the first request (the opening burst) left out, then whole cycles "
            f"(requests per rolling window) over {min(o.windows for o in outcomes):.1f} or more windows "
            f"(the windows column; {MIN_WINDOWS} asked for), up to the client's end. The configurations "
            "ran side by side, each with its own simulator process. The time to archive all includes the "
            "burst. Requests per second are set by the pacing, so pairs/s follow the pairs a "
            "request holds: raising `max_pairs_per_request` helps only where from ids have several to ids. "
            "Client CPU-s are the client process's CPU time (the simulator's is in its own process). Load "
            f"average at the start {load_before:.2f}, at the end {load[0]:.2f}: the machine is shared with "
            "other jobs, which wall-clock rates feel and process CPU time does not.",
            "",
            *lines,
            *(["", *notes] if notes else []),
        ],
    )


if __name__ == "__main__":
    main()
