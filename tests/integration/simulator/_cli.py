"""Run ``hubspot-assoc-sim`` as a subprocess and read its start-up banner through a pipe.

The banner names the (fake) secrets the simulator accepts. It is read here, never printed, so it stays
out of pytest's captured output, which ``tests/conftest.py`` checks for those secrets.
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

CLI = Path(sys.executable).with_name("hubspot-assoc-sim")
REPO = Path(__file__).resolve().parents[3]
# The installed command, importing the package of the checkout under test (a worktree's too).
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
STARTUP_SECONDS = 20.0
READY = "Ready."  # the banner's last line starts with this


class RunningCli:
    def __init__(self, process: subprocess.Popen[str], banner: str) -> None:
        self.process = process
        self.banner = banner
        self.first_line = banner.splitlines()[0]
        match = re.search(r"http://127\.0\.0\.1:(\d+)", self.first_line)
        assert match, "no URL in the banner's first line"
        self.url = match[0]
        self.port = int(match[1])
        self.stdout = ""  # after the banner
        self.stderr = ""
        self.stopped = False

    def banner_value(self, name: str) -> str:
        """The value of a ``  name: value`` banner line (not echoed on failure: it may be a secret)."""
        match = re.search(rf"^\s+{re.escape(name)}:\s+(\S+)\s*$", self.banner, re.MULTILINE)
        found = match is not None
        assert found, f"no {name!r} line in the banner"
        return match[1] if match else ""

    def stop(self) -> int:
        """SIGTERM (how a supervisor stops it), then collect its output; safe to call twice."""
        if self.stopped:
            return self.process.returncode
        self.stopped = True
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            out, err = self.process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate()
        self.stdout, self.stderr = out, err
        return self.process.returncode


def run_cli(*args: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    """Run the command to its end (``--help``, bad flags)."""
    assert CLI.exists(), f"{CLI} is not installed (pip install -e .)"
    return subprocess.run(
        [str(CLI), *args], capture_output=True, text=True, timeout=timeout, check=False, env=ENV
    )


def start_cli(*args: str) -> RunningCli:
    """Start the simulator on a free port and wait for its banner (up to the ``Ready.`` line)."""
    assert CLI.exists(), f"{CLI} is not installed (pip install -e .)"
    process = subprocess.Popen(
        [str(CLI), "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    assert process.stdout is not None
    text = ""
    deadline = time.monotonic() + STARTUP_SECONDS
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while f"\n{READY}" not in text or not text.endswith("\n"):
            if not selector.select(timeout=max(deadline - time.monotonic(), 0)):
                process.kill()
                _, err = process.communicate()
                pytest.fail(f"hubspot-assoc-sim gave no full banner in {STARTUP_SECONDS} s; stderr: {err}")
            chunk = os.read(process.stdout.fileno(), 65536)  # unbuffered: select() sees what is left
            if not chunk:
                _, err = process.communicate()
                pytest.fail(f"hubspot-assoc-sim exited with {process.returncode}: {err}")
            text += chunk.decode()
    return RunningCli(process, text)
