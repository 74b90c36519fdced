"""Write a dated, machine-labelled section to ``benchmarks/RESULTS.md`` (replacing an older one)."""

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


def append_results(title: str, lines: list[str], replaces: tuple[str, ...] = ()) -> None:
    """Put this run's section in place of the section with the same title, or at the end.

    :param replaces: titles of sections this one supersedes: they are removed.
    """
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    section = f"## {title}\n\n{stamp} on {machine()}\n\n" + "\n".join(lines) + "\n"
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    head, *sections = text.split("\n## ")
    sections = ["## " + body for body in sections]
    sections = [body for body in sections if body.splitlines()[0] not in {f"## {old}" for old in replaces}]
    for index, existing in enumerate(sections):
        if existing.splitlines()[0] == f"## {title}":
            sections[index] = section
            break
    else:
        sections.append(section)
    RESULTS.write_text("\n".join([head.rstrip("\n") + "\n", *sections]))
    print(f"results written to {RESULTS}")
