"""CPU of one request, one thread, through each layer under the provider: where issue 14's 5 CPU-s per
1M rows meets the HTTP stack.

At the default of 100 pairs a request, 1,000,000 rows are 10,000 requests: each microsecond of CPU a
request costs is 0.01 CPU-s per 1M rows. This measures, one thread sending to ``hubspot-assoc-sim`` in
another process over HTTP on 127.0.0.1 (the simulator's CPU is not counted), the process CPU time
per request of the same 100-pair archive request sent:

* by ``http.client`` alone, on one kept-alive connection (the standard library's floor);
* by urllib3's connection pool (the library the client sends through), as the client calls it;
* by libcurl through ``pycurl``, one kept-alive handle (an HTTP layer in C, which the provider does
  not use: the figure a change of HTTP layer would start from; in the ``bench`` extra);
* by the provider's client (``HubSpotClient.send_batch``): the body encoded, pacing, the account's
  day, the retry policy, the answer read into a ``BatchResponse``.

The operator's own figure (``bench_cpu.py``) adds the rows, the batching, the threads and the
accounting. Not a test: ``.venv/bin/python benchmarks/bench_http_floor.py [--requests 3000]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import urllib3

try:
    import pycurl
except ImportError:  # the bench extra is not installed: that row is left out, and says so
    pycurl = None

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _operator_run import Simulator
from _results import append_results

PATH = "/crm/v4/associations/contacts/companies/batch/archive"
PAIRS = 100  # the default max_pairs_per_request
TARGET_CPU = 5.0  # CPU seconds per 1M rows for the whole run (issue 14)


def inputs(request: int) -> list[dict[str, Any]]:
    """The bench's shape: 20 from ids with 5 to ids each, new ones for each request."""
    first = 100_000 + request * 20
    return [
        {"from": {"id": str(first + i)}, "to": [{"id": str(900_000 + (first + i) * 5 + k)} for k in range(5)]}
        for i in range(PAIRS // 5)
    ]


def request_headers(sim: Simulator) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {sim.token}",
        "Content-Type": "application/json",
        "Accept": "application/json",
        "User-Agent": "bench",
    }


def plain_sender(sim: Simulator, headers: dict[str, str], bodies: list[bytes]) -> Callable[[int], None]:
    """Send through ``http.client`` alone, on one kept-alive connection."""
    connection = http.client.HTTPConnection("127.0.0.1", sim.port)

    def send(number: int) -> None:
        connection.request("POST", PATH, body=bodies[number], headers=headers)
        answer = connection.getresponse()
        answer.read()
        assert answer.status == 204, answer.status

    return send


def http_client_floor(sim: Simulator, requests: int = 2000) -> float:
    """CPU us of one 100-pair request sent by ``http.client`` alone: the machine's yardstick."""
    bodies = [json.dumps({"inputs": inputs(n)}).encode() for n in range(100 + requests)]
    return cpu_per_request(plain_sender(sim, request_headers(sim), bodies), requests)


def cpu_per_request(send: Callable[[int], Any], requests: int) -> float:
    """Microseconds of this process's CPU per request, after 100 requests that warm the connection."""
    for number in range(100):
        send(number)
    bodies_first = 100
    started = time.process_time()
    for number in range(bodies_first, bodies_first + requests):
        send(number)
    return (time.process_time() - started) / requests * 1e6


def curl_sender(url: str, headers: dict[str, str], bodies: list[bytes]) -> Callable[[int], None]:
    """Send through one libcurl handle, kept alive, reading the status and headers as a client must."""
    assert pycurl is not None
    curl = pycurl.Curl()
    curl.setopt(pycurl.URL, url)
    curl.setopt(pycurl.HTTPHEADER, [f"{name}: {value}" for name, value in headers.items()])
    curl.setopt(pycurl.POST, 1)
    received: list[bytes] = []

    def send(number: int) -> None:
        received.clear()
        curl.setopt(pycurl.POSTFIELDS, bodies[number])
        curl.setopt(pycurl.HEADERFUNCTION, received.append)
        curl.setopt(pycurl.WRITEFUNCTION, received.append)
        curl.perform()
        status = curl.getinfo(pycurl.RESPONSE_CODE)
        assert status == 204, status

    return send


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    sim = Simulator()
    try:
        headers = request_headers(sim)
        bodies = [json.dumps({"inputs": inputs(n)}).encode() for n in range(100 + args.requests)]
        plain = plain_sender(sim, headers, bodies)

        pool = urllib3.PoolManager(maxsize=4, retries=False).connection_from_url(sim.url)

        def pooled(number: int) -> None:
            answer = pool.urlopen(
                "POST", PATH, body=bodies[number], headers=headers, retries=False, redirect=False
            )
            assert answer.status == 204, answer.status

        curled = curl_sender(sim.url + PATH, headers, bodies) if pycurl is not None else None

        os.environ["AIRFLOW_CONN_HUBSPOT_BENCH"] = json.dumps(sim.connection())
        from airflow_provider_hubspot_assoc.hooks.hubspot import HubSpotHook
        from airflow_provider_hubspot_assoc.kinds import Kind

        client = HubSpotHook("hubspot_bench").client
        batches = [inputs(n) for n in range(100 + args.requests)]

        def ours(number: int) -> None:
            response = client.send_batch(Kind.ARCHIVE, "contacts", "companies", batches[number])
            assert not response.errors, response.errors

        figures = [
            ("`http.client`, one kept-alive connection, body ready", cpu_per_request(plain, args.requests)),
            ("urllib3 `HTTPConnectionPool.urlopen`, body ready", cpu_per_request(pooled, args.requests)),
            *(
                [
                    (
                        "libcurl through `pycurl`, one kept-alive handle, body ready",
                        cpu_per_request(curled, args.requests),
                    )
                ]
                if curled is not None
                else []
            ),
            ("the provider's client, `send_batch` (body encoded here)", cpu_per_request(ours, args.requests)),
        ]
        client.close()
    finally:
        sim.close()
    lines = [
        f"One thread, {args.requests:,} archive requests of {PAIRS} pairs each to `hubspot-assoc-sim` in "
        "another process (its CPU not counted), after 100 that warm the connection. At 100 pairs a "
        "request, 1M rows are 10,000 requests: 1 us of CPU per request is 0.01 CPU-s per 1M rows.",
        "",
        "| sent by | CPU us per request | CPU s per 1M rows, for the requests alone |",
        "|---|---|---|",
    ]
    for name, micros in figures:
        lines.append(f"| {name} | {micros:,.0f} | {micros * 10_000 / 1e6:.2f} |")
    if pycurl is None:
        lines += [
            "",
            "libcurl's row is left out: `pycurl` is not installed "
            "(`pip install -c constraints.txt -e '.[dev,bench]'`).",
        ]
    lines += [
        "",
        f"The whole run's target is {TARGET_CPU:g} CPU-s per 1M rows (`bench_cpu.py`); the requests alone, "
        "sent one at a time from one thread, take the last column of it. Many threads in flight add the "
        "interpreter's lock handovers on top.",
    ]
    print("\n".join(lines))
    append_results("CPU of one request, by layer (`benchmarks/bench_http_floor.py`)", lines)
    print(f"results written to {Path(__file__).resolve().parent / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
