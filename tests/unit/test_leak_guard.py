"""The suite-wide leak guard (tests/conftest.py) really fails a test whose output holds a secret."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path


def test_the_guard_fails_tests_that_print_or_log_a_secret(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[2]
    # Under tests/ so tests/conftest.py applies; named so that no other pytest session running in this
    # checkout at the same time (make test runs the suite and the version lanes at once) collects it or
    # removes it: only an explicit path collects a file that does not match test_*.py.
    probe = repo / "tests" / f"probe_leak_{os.getpid()}_{uuid.uuid4().hex[:8]}.py"
    probe.write_text(
        "import logging\n"
        "def test_prints():\n    print('token sim-private-app-token')\n"
        "def test_logs():\n    logging.getLogger('x').warning('sim-oauth-abc')\n"
        "def test_clean():\n    print('nothing secret')\n"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", str(probe), "-q", "-p", "no:cacheprovider"],
            capture_output=True,
            text=True,
            cwd=repo,
        )
    finally:
        probe.unlink()
    assert "2 failed, 1 passed" in done.stdout, done.stdout[-2000:]
