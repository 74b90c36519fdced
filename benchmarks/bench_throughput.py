"""Throughput at HubSpot's rate limit: our operator next to the alternatives, in one run.

Each approach archives the same N contact-company pairs on a fresh simulator with the Professional
tier's limit (190 requests per 10 s) and 150 ms latency per request:

* ``ours``: ``BatchArchiveAssociationsOperator`` (paced, concurrent, retrying);
* ``sdk``: the official ``hubspot-api-client`` in a plain loop, 100 inputs per call, with the retry
  its README shows (``Retry(total=5, status_forcelist=(429,))``);
* ``sdk-threads``: the same SDK calls from 8 threads, as users do to go faster;
* ``requests``: ``requests.post`` in a plain loop, 100 inputs per call.

Printed per approach: requests, 429 answers and their share, the achieved request rate over the
allowed rate (measured at the simulator, per whole 10-s window and first to last request), the
busiest rolling window, wall time and its ratio to ours,
and the pairs left behind (0 means the job was done). ``--time-scale K`` shortens the window and
the latency K times (the ratios stay comparable; the output says so). Not a test:
``.venv/bin/python benchmarks/bench_throughput.py [--pairs 50000] [--approaches ours,sdk,requests]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="hubspot-bench-airflow-"))
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")

from _results import append_results

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator, SimulatorConfig

COMPANIES = 100


@dataclass
class Outcome:
    name: str
    requests: int
    rate_limited: int
    achieved_rate: float
    allowed_rate: float
    limit: int
    wall: float
    left: int
    busiest_window: int
    full_window_rate: float | None  # accepted requests per whole window from the first request / limit
    note: str = ""

    @property
    def share_429(self) -> float:
        return self.rate_limited / self.requests if self.requests else 0.0

    @property
    def rate_ratio(self) -> float:
        return self.achieved_rate / self.allowed_rate


def pairs_for(count: int) -> list[tuple[str, str]]:
    contacts = -(-count // COMPANIES)
    pairs = [(str(100_000 + c), str(900_000 + k)) for c in range(contacts) for k in range(COMPANIES)]
    return pairs[:count]


def simulator(pairs: list[tuple[str, str]], limit: int, window: float, latency: float) -> HubSpotSimulator:
    sim = HubSpotSimulator(
        SimulatorConfig(
            ten_second_limit=limit, window_seconds=window, latency_seconds=latency, daily_limit=None
        )
    )
    for from_id, to_id in pairs:
        sim.state.associate("contacts", from_id, "companies", to_id)
    return sim.start()


def chunks(pairs: list[tuple[str, str]], size: int = 100) -> list[list[dict[str, Any]]]:
    inputs = [{"from": {"id": f}, "to": [{"id": t}]} for f, t in pairs]
    return [inputs[i : i + size] for i in range(0, len(inputs), size)]


def run_ours(sim: HubSpotSimulator, pairs: list[tuple[str, str]]) -> str:
    from airflow_provider_hubspot_assoc.operators import BatchArchiveAssociationsOperator

    os.environ["AIRFLOW_CONN_HUBSPOT_BENCH"] = json.dumps(
        {
            "conn_type": "hubspot",
            "host": sim.url,
            "password": sim.token,
            "extra": {
                "requests_per_10s": sim.config.ten_second_limit,
                "window_seconds": sim.config.window_seconds,
            },
        }
    )
    operator = BatchArchiveAssociationsOperator(
        task_id="bench",
        from_object_type="contacts",
        to_object_type="companies",
        inputs=[list(p) for p in pairs],
        hubspot_conn_id="hubspot_bench",
        max_failed_ratio=1.0,
    )

    class TaskInstance:
        task_id, dag_id, map_index = "bench", "bench", -1

    summary = operator.execute({"ti": TaskInstance(), "run_id": "bench"})["summary"]  # type: ignore[arg-type]
    return f"archived {summary['archived']}, failed {summary['failed']}, retries {summary['retries']}"


def run_sdk(sim: HubSpotSimulator, pairs: list[tuple[str, str]]) -> str:
    from hubspot import HubSpot
    from hubspot.crm.associations.v4 import BatchInputPublicAssociationMultiArchive
    from urllib3.util.retry import Retry

    client = HubSpot(access_token=sim.token, retry=Retry(total=5, status_forcelist=(429,)))
    api = client.crm.associations.v4.batch_api
    api.api_client.configuration.host = sim.url
    errors = 0
    for batch in chunks(pairs):
        try:
            api.archive("contacts", "companies", BatchInputPublicAssociationMultiArchive(inputs=batch))
        except Exception:  # the SDK raises on a 429 it did not retry; a plain loop goes on
            errors += 1
    return f"{errors} calls raised"


def run_sdk_threads(sim: HubSpotSimulator, pairs: list[tuple[str, str]]) -> str:
    """The SDK from 8 threads, as users do to go faster: its retry never retries a POST 429."""
    from concurrent.futures import ThreadPoolExecutor

    from hubspot import HubSpot
    from hubspot.crm.associations.v4 import BatchInputPublicAssociationMultiArchive
    from urllib3.util.retry import Retry

    client = HubSpot(access_token=sim.token, retry=Retry(total=5, status_forcelist=(429,)))
    api = client.crm.associations.v4.batch_api
    api.api_client.configuration.host = sim.url

    def send(batch: list[dict[str, Any]]) -> int:
        try:
            api.archive("contacts", "companies", BatchInputPublicAssociationMultiArchive(inputs=batch))
        except Exception:
            return 1
        return 0

    with ThreadPoolExecutor(max_workers=8) as pool:
        errors = sum(pool.map(send, chunks(pairs)))
    return f"{errors} calls raised"


def run_requests(sim: HubSpotSimulator, pairs: list[tuple[str, str]]) -> str:
    import requests

    url = f"{sim.url}/crm/v4/associations/contacts/companies/batch/archive"
    headers = {"Authorization": f"Bearer {sim.token}"}
    failed = 0
    with requests.Session() as session:
        for batch in chunks(pairs):
            answer = session.post(url, json={"inputs": batch}, headers=headers, timeout=60)
            failed += answer.status_code >= 400
    return f"{failed} calls failed"


APPROACHES: dict[str, Callable[[HubSpotSimulator, list[tuple[str, str]]], str]] = {
    "ours": run_ours,
    "sdk": run_sdk,
    "sdk-threads": run_sdk_threads,
    "requests": run_requests,
}
LABELS = {
    "ours": "our operator",
    "sdk": "hubspot-api-client loop",
    "sdk-threads": "hubspot-api-client, 8 threads",
    "requests": "requests loop",
}


def measure(name: str, pairs: list[tuple[str, str]], limit: int, window: float, latency: float) -> Outcome:
    sim = simulator(pairs, limit, window, latency)
    try:
        started = time.monotonic()
        note = APPROACHES[name](sim, pairs)
        wall = time.monotonic() - started
        log = [r for r in sim.stats.log if r.endpoint == "archive"]
        span = (log[-1].at - log[0].at) if len(log) > 1 else wall
        # rate over the span between the first and the last request (n - 1 intervals)
        achieved = (len(log) - 1) / span if span > 0 else 0.0
        accepted = [r.at for r in log if r.status != 429]
        busiest, start = 0, 0
        for end, moment in enumerate(accepted):  # most accepted requests in any window
            while accepted[start] <= moment - window:
                start += 1
            busiest = max(busiest, end - start + 1)
        return Outcome(
            full_window_rate=full_window_rate(accepted, window, limit),
            name=name,
            requests=len(log),
            rate_limited=sum(1 for r in log if r.status == 429),
            achieved_rate=achieved,
            allowed_rate=limit / window,
            limit=limit,
            wall=wall,
            left=sim.state.count("contacts", "companies"),
            busiest_window=busiest,
            note=note,
        )
    finally:
        sim.stop()


def full_window_rate(accepted: list[float], window: float, limit: int) -> float | None:
    """Mean accepted requests per whole window (from the first request on) over the limit.

    HubSpot's limit holds for every rolling window, so this is the sustained rate as HubSpot
    counts it; the last, partial window is left out (a run ends where its work ends). ``None``
    when the run is shorter than one window.
    """
    whole = int((accepted[-1] - accepted[0]) // window) if accepted else 0
    if whole == 0:
        return None
    ends = accepted[0] + whole * window
    return sum(1 for moment in accepted if moment < ends) / whole / limit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=50_000)
    parser.add_argument("--approaches", default="ours,sdk,sdk-threads,requests")
    parser.add_argument("--limit", type=int, default=190, help="requests per window (Professional: 190)")
    parser.add_argument("--latency", type=float, default=0.15, help="seconds per request at the simulator")
    parser.add_argument("--time-scale", type=float, default=1.0, help="divide window and latency by this")
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args()
    logging.getLogger("airflow_provider_hubspot_assoc").setLevel(logging.WARNING)
    window, latency = 10.0 / args.time_scale, args.latency / args.time_scale
    pairs = pairs_for(args.pairs)
    scale = "real time"
    if args.time_scale != 1:
        scale = f"time scaled {args.time_scale:g}x (window {window:g} s)"
    print(
        f"{len(pairs):,} pairs, limit {args.limit} requests per {window:g} s, "
        f"latency {latency * 1000:.0f} ms, {scale}"
    )
    outcomes = [measure(name, pairs, args.limit, window, latency) for name in args.approaches.split(",")]
    ours = next((o for o in outcomes if o.name == "ours"), None)
    header = (
        "| approach | requests | 429s | 429 share | sustained rate / allowed (whole windows) "
        "| first-to-last rate / allowed | busiest window / limit | wall time | wall / ours | pairs left |"
    )
    lines = [header, "|---|---|---|---|---|---|---|---|---|---|"]
    for o in outcomes:
        versus = f"{o.wall / ours.wall:.2f}x" if ours else "-"
        sustained = "under one window" if o.full_window_rate is None else f"{o.full_window_rate:.1%}"
        line = (
            f"| {LABELS[o.name]} | {o.requests} | {o.rate_limited} | {o.share_429:.2%} | "
            f"{sustained} | {o.rate_ratio:.1%} | {o.busiest_window}/{o.limit} | "
            f"{o.wall:.1f} s | {versus} | {o.left} |"
        )
        lines.append(line)
        print(f"{LABELS[o.name]:>26}: {line.strip('|')}  ({o.note})")
    if not args.no_record:
        title = (
            f"Throughput, {len(pairs):,} pairs at {args.limit} requests per 10 s "
            f"with {args.latency * 1000:g} ms latency, "
            f"{scale} (`benchmarks/bench_throughput.py`)"
        )
        notes = [
            "",
            "Sustained rate = accepted requests per whole 10-s window, counted from the first request "
            "(the last, partial window left out), over the limit: the rate as HubSpot counts it.",
            "First-to-last rate = requests / (last - first request); HubSpot's window is rolling, so "
            "a short run may burst at its start and go above 100% on this measure without a 429.",
            "The busiest-window column is the most requests HubSpot accepted in any rolling 10-s window.",
        ]
        append_results(title, lines + notes)


if __name__ == "__main__":
    main()
