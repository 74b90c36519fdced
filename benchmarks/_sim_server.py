"""The simulator in its own process for the rate benchmarks, handing back when each request arrived.

``SimServer`` starts this file as a script with the simulator's settings; the script serves until a
line on its stdin tells it to stop, then prints its request records (arrival time, status, endpoint,
pairs: never a token or a body) and totals as one JSON line. Each benchmark run gets its own
process and port, so runs side by side share no rate limit and no interpreter.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator, SimulatorConfig
from airflow_provider_hubspot_assoc.testing.rates import Arrival, arrivals
from airflow_provider_hubspot_assoc.testing.server.stats import LOG_LENGTH


@dataclass
class Finished:
    """What the simulator saw, read when it stopped.

    :param arrivals: every API request, oldest first.
    :param distinct_pairs: distinct (from, to) pairs that archive requests carried out.
    :param pairs_received: pairs in carried-out archive requests (repeats counted).
    :param peak_in_flight: most requests answered at one time.
    :param cpu_seconds: the simulator process's own CPU time.
    """

    arrivals: list[Arrival]
    distinct_pairs: int
    pairs_received: int
    peak_in_flight: int
    cpu_seconds: float


class SimServer:
    """``HubSpotSimulator`` in a child process, with ``settings`` (``SimulatorConfig`` fields)."""

    def __init__(self, **settings: Any) -> None:
        # its log (a client stopped at a cap resets its connection: a traceback) kept apart
        self.log = tempfile.TemporaryFile("w+")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), json.dumps(settings)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        line = self._out.readline().split()
        if not line or line[0] != "ready":
            self.kill()
            raise RuntimeError(f"the simulator did not start:\n{self.log_tail()}")
        self.url, self.token = line[1], line[2]

    def log_tail(self) -> str:
        self.log.seek(0)
        return self.log.read()[-3000:]

    @property
    def _out(self) -> IO[str]:
        assert self.process.stdout is not None
        return self.process.stdout

    def stop(self) -> Finished:
        assert self.process.stdin is not None
        self.process.stdin.write("stop\n")
        self.process.stdin.flush()
        line = self._out.readline()
        if not line:
            raise RuntimeError(f"the simulator failed:\n{self.log_tail()}")
        data = json.loads(line)
        self.process.wait(timeout=60)
        return Finished(
            arrivals=[Arrival(at, status, pairs) for at, status, pairs in data["arrivals"]],
            distinct_pairs=data["distinct_pairs"],
            pairs_received=data["pairs_received"],
            peak_in_flight=data["peak_in_flight"],
            cpu_seconds=data["cpu_seconds"],
        )

    def kill(self) -> None:
        """Stop the process if it still runs (after ``stop``, or on a failure) and drop its log."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.log.close()


def serve(settings: dict[str, Any]) -> None:
    sim = HubSpotSimulator(SimulatorConfig(**settings)).start()
    token = next(iter(sim.config.tokens))
    print("ready", sim.url, token, flush=True)
    sys.stdin.readline()
    sim.stop()
    log = sim.stats.log
    if len(log) >= LOG_LENGTH:
        raise SystemExit(f"the simulator kept only its last {LOG_LENGTH} records: the run is too long")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "arrivals": [(a.at, a.status, a.pairs) for a in arrivals(log)],
                "distinct_pairs": len(sim.stats.pair_sends),
                "pairs_received": sim.stats.pairs_received,
                "peak_in_flight": sim.stats.peak_in_flight,
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    serve(json.loads(sys.argv[1]))
