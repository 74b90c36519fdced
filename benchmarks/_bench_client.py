"""One client of the throughput benchmark, in its own process: our operator, or the official SDK.

``python _bench_client.py '<case as JSON>'``. It imports and builds everything first, prints
``ready``, waits for a line on stdin (so that clients of one run start together, and no import is
timed), archives its pairs, and prints one JSON line: when it started and ended (``time.time()``,
the simulator's clock) and a note. Both lines start with ``MARK``, on the runner's channel. The
case: ``approach`` (``ours``, ``sdk-readme``, ``sdk-careful``), ``url``, ``first`` and ``count``
(its pairs: see ``pair``). Ours reads its connection (``hubspot_bench``) from the environment; the
SDK gets the token from ``HUBSPOT_BENCH_TOKEN``, never from the command line.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import IO, Any

TO_IDS = 100  # to ids per from id: 100 pairs fill one request of either client
MARK = "bench-client:"  # starts the lines meant for the runner (Airflow may print on stdout too)


def pair(index: int) -> tuple[str, str]:
    """Pair ``index`` of the benchmark: from ids ``100000...``, each with ``TO_IDS`` companies."""
    return str(100_000 + index // TO_IDS), str(900_000 + index % TO_IDS)


class Report:
    """The runner's channel: ``ready``, then the report once done or stopped at the cap (SIGTERM).

    :param channel: the runner's end of the pipe.
    """

    def __init__(self, channel: IO[str]) -> None:
        self.channel = channel
        self.started = 0.0
        self.raised = 0  # calls that raised: their pairs are not archived

    def say(self, text: str) -> None:
        print(MARK, text, file=self.channel, flush=True)

    def send(self, note: str) -> None:
        ended = time.time()
        self.say(json.dumps({"started": self.started, "ended": ended, "note": note, "raised": self.raised}))


def ours(case: dict[str, Any], report: Report) -> Callable[[], str]:
    from airflow_provider_hubspot_assoc.operators import BatchArchiveAssociationsOperator

    operator = BatchArchiveAssociationsOperator(
        task_id="bench",
        from_object_type="contacts",
        to_object_type="companies",
        inputs=[list(pair(i)) for i in range(case["first"], case["first"] + case["count"])],
        hubspot_conn_id="hubspot_bench",
        max_failed_ratio=1.0,
    )

    class TaskInstance:
        task_id, dag_id, map_index, try_number = "bench", "bench", -1, 1

        def xcom_push(self, key: str, value: Any) -> None:
            pass

    class Events(dict):  # type: ignore[type-arg]  # outlet_events: asset aliases that accept .add()
        def __missing__(self, key: Any) -> Any:
            return self.setdefault(key, type("Alias", (), {"add": lambda *a, **k: None})())

    context = {"ti": TaskInstance(), "run_id": f"bench-{os.getpid()}", "outlet_events": Events()}

    def run() -> str:
        summary = operator.execute(context)["summary"]
        return f"archived {summary['archived']}, failed {summary['failed']}, retries {summary['retries']}"

    return run


def sdk(case: dict[str, Any], report: Report) -> Callable[[], str]:
    """The SDK in a plain loop, 100 inputs a call, with the README's retry or one that retries POST."""
    from hubspot import HubSpot
    from hubspot.crm.associations.v4 import BatchInputPublicAssociationMultiArchive
    from urllib3.util.retry import Retry

    if case["approach"] == "sdk-readme":  # hubspot-api-client's README, "rate limit retry middleware"
        retry = Retry(total=5, status_forcelist=(429,))  # its allowed_methods leave POST out
    else:  # fixed as a careful user would: POST retried, backed off over more than one window
        retry = Retry(total=5, status_forcelist=(429,), allowed_methods=None, backoff_factor=1)
    client = HubSpot(access_token=os.environ["HUBSPOT_BENCH_TOKEN"], retry=retry)
    api = client.crm.associations.v4.batch_api
    api.api_client.configuration.host = case["url"]
    inputs = [
        {"from": {"id": f}, "to": [{"id": t}]}
        for f, t in (pair(i) for i in range(case["first"], case["first"] + case["count"]))
    ]

    def run() -> str:
        for start in range(0, len(inputs), 100):
            batch = BatchInputPublicAssociationMultiArchive(inputs=inputs[start : start + 100])
            try:
                api.archive("contacts", "companies", batch)
            except Exception:  # a 429 it did not retry, or retries spent: a plain loop goes on
                report.raised += 1
        return f"{report.raised} calls raised"

    return run


def main() -> None:
    # stdout is the runner's channel, read only at the start and the end: everything else a library
    # prints goes to stderr, so a full pipe never blocks the run
    report = Report(os.fdopen(os.dup(sys.stdout.fileno()), "w"))
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    case = json.loads(sys.argv[1])
    run = ours(case, report) if case["approach"] == "ours" else sdk(case, report)

    def stopped(signum: int, frame: object) -> None:
        report.send(f"stopped at the cap, {report.raised} calls raised")
        os._exit(0)

    signal.signal(signal.SIGTERM, stopped)
    report.say("ready")
    sys.stdin.readline()
    report.started = time.time()
    report.send(run())


if __name__ == "__main__":
    main()
