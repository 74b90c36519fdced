"""How big one HubSpot write request may be: inputs (``batch_size``) and pairs (``max_pairs_per_request``).

HubSpot documents no limit for its association write endpoints. Its batch endpoints answer an
oversized request with a 400 naming the maximum ("The maximum number of inputs supported in a batch
is 100. Please reduce the number of items and try again"); ``RequestSize.learn`` reads that number,
and the rest of the run sends requests within it, in this session and in every later one (a run
deferred on the daily limit, or retried, carries the maximums HubSpot named in its checkpoint:
``named`` and ``carry_over``). No Airflow import.

What counts: an archive input is one from id with its to ids (each to id is a pair); a labels-archive
or create input is one pair with its types. So for those two kinds, inputs and pairs are the same.
"""

from __future__ import annotations

import re
import threading
from typing import Any, TypeGuard

from airflow_provider_hubspot_assoc.kinds import Kind

Inputs = list[dict[str, Any]]

DEFAULT_BATCH_SIZE = 100  # inputs a request: HubSpot's batch norm (its over-limit message names 100)
MAX_BATCH_SIZE = 1_000  # HubSpot's largest batch of any endpoint (batch read)
# Pairs a request: HubSpot's cap on the archive endpoints is not known; until it is, 100 pairs, what
# a request held before ``batch_size`` counted inputs.
DEFAULT_MAX_PAIRS = 100
MAX_PAIRS = 10_000  # a request body of about 300 kB: past that, a lost answer costs too much to resend

# HubSpot's over-limit message; the word between "of" and "supported" is not trusted to name the unit.
_MAXIMUM = re.compile(r"\bmaximum number of [\w ]+? supported in a batch is (\d{1,9})\b", re.IGNORECASE)


def _whole(value: Any, low: int, high: int) -> TypeGuard[int]:
    return not isinstance(value, bool) and isinstance(value, int) and low <= value <= high


def check_batch_size(batch_size: int) -> int:
    """A batch size this package sends (1 to ``MAX_BATCH_SIZE`` inputs a request), or ``ValueError``."""
    if not _whole(batch_size, 1, MAX_BATCH_SIZE):
        raise ValueError(f"batch_size must be between 1 and {MAX_BATCH_SIZE}, got {batch_size!r}")
    return batch_size


def check_max_pairs(max_pairs: int) -> int:
    """A pair cap this package sends (1 to ``MAX_PAIRS`` pairs a request), or ``ValueError``."""
    if not _whole(max_pairs, 1, MAX_PAIRS):
        raise ValueError(f"max_pairs_per_request must be between 1 and {MAX_PAIRS}, got {max_pairs!r}")
    return max_pairs


def maximum_named(message: Any) -> int | None:
    """The N of HubSpot's "The maximum number of inputs supported in a batch is N"; None if absent."""
    found = _MAXIMUM.search(message) if isinstance(message, str) else None
    return int(found.group(1)) if found else None


def count(kind: Kind, inputs: Inputs) -> tuple[int, int]:
    """(inputs, pairs) of a request's native inputs."""
    if kind is Kind.ARCHIVE:
        return len(inputs), sum(len(item["to"]) for item in inputs)
    return len(inputs), len(inputs)


class RequestSize:
    """The most inputs and pairs one request carries; lowered (never raised) by what HubSpot refuses.

    One object is shared by the batcher (main thread) and the sender (worker threads) of a run, so
    a maximum HubSpot names applies to every request made after it, for the rest of the run.

    :param max_inputs: inputs a request (``batch_size``).
    :param max_pairs: pairs a request (``max_pairs_per_request``).
    """

    def __init__(self, max_inputs: int = DEFAULT_BATCH_SIZE, max_pairs: int = DEFAULT_MAX_PAIRS) -> None:
        self.max_inputs = check_batch_size(max_inputs)
        self.max_pairs = check_max_pairs(max_pairs)
        # The maximums HubSpot named in this run ("inputs", "pairs"), for a later session to keep.
        self.named: dict[str, int] = {}
        self._lock = threading.Lock()

    @classmethod
    def of(cls, size: RequestSize | int) -> RequestSize:
        """``size`` itself, or a ``batch_size`` with the default pair cap."""
        return size if isinstance(size, RequestSize) else cls(size)

    def __repr__(self) -> str:
        return f"RequestSize(max_inputs={self.max_inputs}, max_pairs={self.max_pairs})"

    def input_cap(self, kind: Kind) -> int:
        """Inputs a request of ``kind`` may hold (a labels or create input is one pair)."""
        return self.max_inputs if kind is Kind.ARCHIVE else min(self.max_inputs, self.max_pairs)

    def fits(self, kind: Kind, inputs: Inputs) -> bool:
        """Whether a request of these native inputs is within both caps."""
        held, pairs = count(kind, inputs)
        return held <= self.max_inputs and pairs <= self.max_pairs

    def learn(self, kind: Kind, inputs: Inputs, message: Any) -> str | None:
        """Lower a cap to the maximum HubSpot's refusal of ``inputs`` names, if the request was over it.

        HubSpot's message says "inputs" whatever it counts, so the cap lowered is the one the refused
        request was over: inputs first, else pairs. Returns what this call lowered (a sentence for the
        log, given once per lowering), ``""`` when the request was over the maximum but another
        refusal lowered the cap already, and None when the message names no maximum the request was
        over: then the refusal is about something else.
        """
        maximum = maximum_named(message)
        if maximum is None or maximum < 1:
            return None
        held, pairs = count(kind, inputs)
        with self._lock:
            if held > maximum:
                if maximum >= self.max_inputs:
                    return ""
                self.max_inputs = self.named["inputs"] = maximum
                return f"at most {maximum} inputs a request (batch_size)"
            if pairs > maximum:
                if maximum >= self.max_pairs:
                    return ""
                self.max_pairs = self.named["pairs"] = maximum
                return f"at most {maximum} pairs a request (max_pairs_per_request)"
        return None

    def named_now(self) -> dict[str, int]:
        """A copy of the maximums HubSpot named so far (taken under the lock the senders learn under)."""
        with self._lock:
            return dict(self.named)

    def carry_over(self, named: Any) -> str | None:
        """Keep the maximums an earlier session of the run learned (``named`` as its checkpoint has
        it); returns what they lowered, for the log, or None. A value that is no valid cap is ignored;
        a valid one only ever lowers a cap (a wrong small one would make requests small, not big)."""
        if not isinstance(named, dict):
            return None
        lowered = []
        with self._lock:
            inputs, pairs = named.get("inputs"), named.get("pairs")
            if _whole(inputs, 1, MAX_BATCH_SIZE):
                self.named["inputs"] = inputs
                if inputs < self.max_inputs:
                    self.max_inputs = inputs
                    lowered.append(f"at most {inputs} inputs a request (batch_size)")
            if _whole(pairs, 1, MAX_PAIRS):
                self.named["pairs"] = pairs
                if pairs < self.max_pairs:
                    self.max_pairs = pairs
                    lowered.append(f"at most {pairs} pairs a request (max_pairs_per_request)")
        return " and ".join(lowered) or None

    def split(self, kind: Kind, inputs: Inputs) -> list[Inputs]:
        """``inputs`` as requests within both caps, every pair once and in order.

        An archive input with more to ids than fit is cut across requests (each part its own input).
        """
        max_inputs, max_pairs = self.input_cap(kind), self.max_pairs
        requests: list[Inputs] = []
        current: Inputs = []
        pairs = 0
        for item in inputs:
            if kind is not Kind.ARCHIVE:
                if len(current) >= max_inputs:
                    requests.append(current)
                    current = []
                current.append(item)
                continue
            targets = list(item["to"])
            while targets:
                if len(current) >= max_inputs or pairs >= max_pairs:
                    requests.append(current)
                    current, pairs = [], 0
                taken, targets = targets[: max_pairs - pairs], targets[max_pairs - pairs :]
                current.append({**item, "to": taken})
                pairs += len(taken)
        if current:
            requests.append(current)
        return requests
