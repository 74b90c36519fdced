"""CPU cost of our own code per 1,000,000 rows, with the network removed.

Parses and validates rows, removes duplicates, groups pairs into HubSpot's multi-``to`` inputs,
confirms every batch and serialises each request body to JSON (what would go on the wire), with
no HTTP at all. Reports CPU seconds per million rows for dict rows and for tuple rows. Not a test:
``.venv/bin/python benchmarks/bench_cpu.py [--rows 1000000]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import append_results

from airflow_provider_hubspot_assoc.models import BatchResponse
from airflow_provider_hubspot_assoc.progress import Pipeline, Progress
from airflow_provider_hubspot_assoc.row_parser import RowParser


def rows(count: int, shape: str) -> Iterator[Any]:
    for i in range(count):
        from_id, to_id = 100_000 + i // 5, 900_000 + i % 50_000
        yield {"from_id": from_id, "to_id": to_id} if shape == "dict" else (from_id, to_id)


def run(count: int, shape: str) -> tuple[float, int]:
    parser = RowParser("archive")
    pipeline = Pipeline("archive", 100, Progress.start("bench", 100))
    body_bytes = 0
    started = time.process_time()
    parsed = ((n, parser.parse(raw, n)) for n, raw in enumerate(rows(count, shape), start=1))
    for batch in pipeline.batches(parsed):
        body_bytes += len(json.dumps({"inputs": batch}))
        pairs = [(r.from_id, r.to_id) for r in batch.removals]
        pipeline.finish(batch, BatchResponse.from_answer(204, None, pairs))
    cpu = time.process_time() - started
    pipeline.progress.tally.check()
    assert pipeline.progress.tally.archived == count
    return cpu, body_bytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    lines = [
        "| row shape | rows | CPU seconds | CPU seconds per 1M rows | JSON sent |",
        "|---|---|---|---|---|",
    ]
    for shape in ("dict", "tuple"):
        cpu, body = run(args.rows, shape)
        per_million = cpu * 1_000_000 / args.rows
        print(f"{shape} rows: {args.rows:,} in {cpu:.2f} CPU s = {per_million:.2f} CPU s per 1M rows")
        lines.append(f"| {shape} | {args.rows:,} | {cpu:.2f} | {per_million:.2f} | {body / 1e6:.0f} MB |")
    append_results("CPU cost of our code, network removed (`benchmarks/bench_cpu.py`)", lines)


if __name__ == "__main__":
    main()
