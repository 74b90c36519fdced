"""Fewer cyclic garbage collections while a run moves millions of rows; put back when it ends.

A run makes a few short-lived objects per row. CPython's cyclic collector then runs thousands of
times, and each full collection walks every object of the process (Airflow's modules, the input
rows): about a sixth of a million-row run's CPU went there. For the run, the objects that existed
before it are frozen (not walked again; reference counting still frees them) and the youngest
generation is collected every ``YOUNG_THRESHOLD`` allocations instead of every 700. Both are put
back when the run ends, however it ends. No Airflow import.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Net allocations between two collections of the youngest generation during a run: cyclic garbage
# (rare here) waits that much longer, a few MB at most.
YOUNG_THRESHOLD = 20_000


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Within this block, collect less often and never walk the objects made before it."""
    before = gc.get_threshold()
    gc.freeze()
    if before[0]:  # 0: the process turned collection off; it stays off
        gc.set_threshold(max(before[0], YOUNG_THRESHOLD), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
