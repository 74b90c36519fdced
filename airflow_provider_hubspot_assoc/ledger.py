"""A count of the requests a task instance sent, in every try, that survives a killed worker.

A checkpoint is saved about once a second, so a try killed with SIGKILL loses the count of the
requests it sent after its last checkpoint (some of which HubSpot may have carried out). Each
request therefore also appends one byte to a local file before it goes out: an ``O_APPEND`` write
of one byte is atomic and reaches the file as soon as the call returns, whatever happens to the
process next. The next try on the same machine reads the size. No Airflow import.
"""

from __future__ import annotations

import os
from pathlib import Path


class RequestLedger:
    """Counts requests in a file; ``count`` covers every try that used the same file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        # Requests of an earlier try that did not finish (a finished run removes the file).
        self.found = self.count

    def tick(self) -> None:
        """One request is about to be sent (called from the sending threads)."""
        os.write(self._fd, b".")

    @property
    def count(self) -> int:
        return os.fstat(self._fd).st_size

    def reset(self) -> None:
        """Start from zero (the run starts over: no earlier try's requests belong to it)."""
        os.ftruncate(self._fd, 0)

    def close(self, remove: bool = False) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if remove:
            self.path.unlink(missing_ok=True)
