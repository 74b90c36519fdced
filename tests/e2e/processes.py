"""Processes a deployment test starts: each one logged to a file and stopped by its PID."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A free TCP port on the loopback address."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Started:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self, chars: int = 3000) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.name} (pid {self.process.pid}, log {self.log}) ---\n{text[-chars:]}"


class Processes:
    """Starts processes and stops exactly those and what they started, by PID.

    What they start is looked up twice a second while the test runs, so that a child whose parent
    died first (a task left by a killed worker) is still known and stopped.
    """

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: list[Started] = []
        self.known: dict[int, psutil.Process] = {}
        self._stop = threading.Event()
        self._watch = threading.Thread(target=self._watch_children, daemon=True)
        self._watch.start()

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> Started:
        log = self.logs / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=REPO)
        started = Started(name, process, log)
        self.started.append(started)
        self.remember()
        return started

    def remember(self) -> None:
        for started in list(self.started):
            with contextlib.suppress(psutil.Error):
                parent = psutil.Process(started.process.pid)
                for process in [parent, *parent.children(recursive=True)]:
                    self.known.setdefault(process.pid, process)

    def _watch_children(self) -> None:
        while not self._stop.wait(0.5):
            self.remember()

    def family(self) -> list[psutil.Process]:
        """Every live process started here or by one of these (psutil checks a PID was not reused)."""
        self.remember()
        return [p for p in list(self.known.values()) if p.is_running()]

    def stop_all(self, timeout: float = 5.0) -> None:
        """Stop the components that run tasks first, then the API server and the simulators: SIGTERM,
        then SIGKILL after ``timeout``. Whatever they started and is still there then goes too."""
        self._stop.set()
        self._watch.join()
        self.remember()
        first = [s for s in self.started if s.name in ("scheduler", "triggerer", "dag-processor")]
        for group in (first, [s for s in self.started if s not in first]):
            for started in group:
                if started.process.poll() is None:
                    started.process.send_signal(signal.SIGTERM)
            waiting = [self.known[s.process.pid] for s in group if s.process.pid in self.known]
            _, alive = psutil.wait_procs(waiting, timeout=timeout)
            _kill(alive)
        leftovers = self.family()
        _kill(leftovers)
        psutil.wait_procs(leftovers, timeout=5)
        for started in self.started:
            with contextlib.suppress(subprocess.TimeoutExpired):
                started.process.wait(timeout=1)

    def tails(self) -> str:
        return "\n".join(started.tail() for started in self.started)


def _kill(processes: list[psutil.Process]) -> None:
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.send_signal(signal.SIGKILL)  # psutil refuses if the PID now names another process


def wait_for(what: str, check: Any, timeout: float, interval: float = 0.5, diagnose: Any = None) -> Any:
    """Call ``check`` until it returns something truthy; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except Exception as error:  # a server still starting refuses connections
            last = error
        else:
            if last:
                return last
        time.sleep(interval)
    details = diagnose() if diagnose is not None else ""
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what} (last: {last!r})\n{details}")


@dataclass
class Simulator:
    """A ``hubspot-assoc-sim`` process."""

    started: Started
    url: str
    token: str = "sim-private-app-token"


def start_simulator(processes: Processes, name: str, *options: str) -> Simulator:
    """Run the simulator's command on a free loopback port; returns once it answers."""
    argv = [sys.executable, "-m", "airflow_provider_hubspot_assoc.testing.cli", "--port", "0", *options]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = processes.start(name, argv, env)

    def url() -> str | None:
        if started.process.poll() is not None:
            raise AssertionError(started.tail())
        match = re.search(r"http://127\.0\.0\.1:\d+", started.log.read_text(errors="replace"))
        return match[0] if match else None

    return Simulator(started, wait_for(f"simulator {name}", url, 30, 0.1, started.tail))
