"""Run every benchmark once, each appending its section to benchmarks/RESULTS.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNS = [
    # the grid of limits x latencies, with the SDK forms and processes sharing one app: about 30 min
    ["bench_throughput.py"],
    ["bench_cpu.py", "--rows", "1000000", "--snapshot-rows", "100000"],
    [
        "bench_memory.py",
        *("--rows", "1000000", "5000000", "--postgres"),
        *("--full-sql-rows", "5000000", "--xcom-rows", "1000000"),
    ],
    ["bench_request_size.py"],
]

if __name__ == "__main__":
    for script, *args in RUNS:
        print(f"\n== {script} {' '.join(args)}", flush=True)
        subprocess.run([sys.executable, str(HERE / script), *args], check=True)
