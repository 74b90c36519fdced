"""A first-in first-out queue that keeps its highest entry at hand (the rate limiter holds the highest
count others had in the last part of the window with it). No Airflow import."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PeakQueue(Generic[T]):
    """A first-in first-out queue that tells an entry with its highest ``key`` (of equals, the latest)
    in amortized O(1), as ``max(queue, key=key)`` would without looking at every entry: beside the
    entries it keeps the candidates, keys decreasing (one no higher than a later one's never peaks)."""

    def __init__(self, key: Callable[[T], tuple[float, ...]]) -> None:
        self._key = key
        self._entries: deque[T] = deque()
        self._peaks: deque[tuple[int, tuple[float, ...], T]] = deque()  # (position, key, entry)
        self._appended = 0  # positions of the entries: the first one is ``_removed``
        self._removed = 0

    def __len__(self) -> int:
        return len(self._entries)

    def append(self, entry: T) -> None:
        key, peaks = self._key(entry), self._peaks
        while peaks and peaks[-1][1] <= key:
            peaks.pop()
        peaks.append((self._appended, key, entry))
        self._appended += 1
        self._entries.append(entry)

    def popleft_while(self, stale: Callable[[T], bool]) -> None:
        """Drop entries from the front while ``stale`` holds for the first one."""
        entries, peaks = self._entries, self._peaks
        while entries and stale(entries[0]):
            entries.popleft()
            if peaks[0][0] == self._removed:
                peaks.popleft()
            self._removed += 1

    def peak(self) -> T:
        """The entry with the highest key (raises IndexError when empty)."""
        return self._peaks[0][2]
