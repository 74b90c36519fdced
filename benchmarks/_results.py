"""Append a dated, machine-labelled section to ``benchmarks/RESULTS.md``."""

from __future__ import annotations

import os
import platform
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADER = (
    "# Benchmark results\n\n"
    "Each section is written by the script it names, from one run; figures measured side by side in "
    "that run. Re-run with `make bench` (or the script named).\n"
)


def machine() -> str:
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )


def append_results(title: str, lines: list[str]) -> None:
    if not RESULTS.exists():
        RESULTS.write_text(HEADER)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    with RESULTS.open("a") as handle:
        handle.write(f"\n## {title}\n\n{stamp} on {machine()}\n\n" + "\n".join(lines) + "\n")
    print(f"results appended to {RESULTS}")
