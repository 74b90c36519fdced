"""Processes a deployment test starts: each one logged to a file and stopped by its PID."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[2]
MARKER = "HUBSPOT_ASSOC_E2E_PROCESSES"


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
    """Starts processes and stops exactly those (and what they started), by PID."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: list[Started] = []
        # Inherited by everything these processes start, so that a child whose parent died first
        # (a worker left by a killed scheduler) is still found, by this value, and stopped by PID.
        self.marker = uuid.uuid4().hex

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> Started:
        log = self.logs / f"{name}.log"
        env = {**env, MARKER: self.marker}
        with log.open("wb") as out:
            process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=REPO)
        started = Started(name, process, log)
        self.started.append(started)
        return started

    def stop_all(self, timeout: float = 15.0) -> None:
        """SIGTERM each process (newest first), SIGKILL what is left of them and theirs after
        ``timeout``: task supervisors and API workers are stopped too, by PID, even when their
        parent died before them."""
        family = self.family()
        for started in reversed(self.started):
            if started.process.poll() is None:
                started.process.send_signal(signal.SIGTERM)
        pids = {p.pid for p in family}
        for process in family:  # orphans: no parent of theirs will stop them
            with contextlib.suppress(psutil.Error):
                if process.ppid() not in pids and process.pid not in {s.process.pid for s in self.started}:
                    process.send_signal(signal.SIGTERM)
        _, alive = psutil.wait_procs(family, timeout=timeout)
        for process in alive:
            with contextlib.suppress(psutil.Error):
                process.send_signal(signal.SIGKILL)
        psutil.wait_procs(alive, timeout=5)
        for started in self.started:
            with contextlib.suppress(subprocess.TimeoutExpired):
                started.process.wait(timeout=1)

    def family(self) -> list[psutil.Process]:
        """Every live process started here or by one of these, orphans included."""
        found: list[psutil.Process] = []
        for process in psutil.process_iter():
            with contextlib.suppress(psutil.Error):
                if process.environ().get(MARKER) == self.marker:
                    found.append(process)
        return found

    def tails(self) -> str:
        return "\n".join(started.tail() for started in self.started)


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
