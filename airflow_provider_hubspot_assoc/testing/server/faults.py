"""Faults the simulator injects (``FaultConfig``): which request gets one, and what its answer looks like.

Errors, 429s, slow answers and dropped connections drawn from the configured rates or scripted one
by one; and hostile answers, what a buggy HubSpot, pager or proxy could send: 2xx answers that prove
nothing, answers lost after the request was carried out, and batch-read answers holding results
nobody asked for. The dispatcher (``simulator.py``) asks ``FaultPicker`` for this request's fault and
applies it; the answers' shapes live here.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Literal

from airflow_provider_hubspot_assoc.models import iso_timestamp
from airflow_provider_hubspot_assoc.testing.config import FaultConfig
from airflow_provider_hubspot_assoc.testing.server.errors import ApiError, Drop, error_body
from airflow_provider_hubspot_assoc.testing.server.limits import Policy

JSON = "application/json;charset=utf-8"
MADE_UP_TO_IDS = (990000001, 990000002)  # numbers, like every toObjectId the simulator gives


@dataclass(frozen=True)
class Hostile:
    """One scripted hostile answer (names and meanings: ``FaultConfig.scripted``)."""

    applied: bool
    body: Callable[[str], bytes] | None = None  # from the request's start time; None: the real answer
    content_type: str = JSON
    keep_pairs: int = 0  # pairs at the start of the request left untouched
    then: Literal["drop", "slow"] | None = None  # after the request was carried out


def _json(payload: Any) -> Callable[[str], bytes]:
    return lambda started: json.dumps(payload).encode()


def _batch(status: str = "COMPLETE", **extra: Any) -> Callable[[str], bytes]:
    def body(started: str) -> bytes:
        answer = {"status": status, "results": [], "startedAt": started, "completedAt": iso_timestamp()}
        return json.dumps({**answer, **extra}).encode()

    return body


HOSTILE: dict[str, Hostile] = {
    "ok_html": Hostile(False, lambda started: b"<html>ok</html>", "text/html"),
    "ok_not_batch": Hostile(False, _json({"ok": True})),
    "ok_list": Hostile(False, _json([])),
    "ok_no_results": Hostile(False, _batch()),
    "ok_errors_not_list": Hostile(True, _batch(errors={"message": "x"})),
    "ok_num_errors_hidden": Hostile(True, _batch(numErrors=2, errors=[]), keep_pairs=2),
    "ok_pending": Hostile(False, _batch("PENDING")),
    "ok_processing": Hostile(False, _batch("PROCESSING")),
    "ok_empty_200": Hostile(True, lambda started: b""),
    "drop_after_apply": Hostile(True, then="drop"),
    "slow_after_apply": Hostile(True, then="slow"),
}


def scripted_answer(choice: int | str | None) -> Hostile | None:
    """The hostile answer a scripted value names, or None for every other fault."""
    return HOSTILE.get(choice) if isinstance(choice, str) else None


class FaultPicker:
    """Chooses each API request's fault: the next scripted answer, else one drawn from the rates.

    :param lock: the simulator's lock (fault settings change while requests run).
    :param random_seed: seed of the random draws, so a run repeats.
    """

    def __init__(self, lock: threading.RLock, random_seed: int) -> None:
        self._lock = lock
        self._random = random.Random(random_seed)
        self._counted = 0  # authenticated API requests, for burst faults

    def restart(self) -> None:
        """Count bursts from the next request on (the random draws go on)."""
        with self._lock:
            self._counted = 0

    def choose(self, faults: FaultConfig) -> int | str | None:
        """This request's fault, or None."""
        with self._lock:
            self._counted += 1
            if faults.scripted:
                return faults.scripted.pop(0) or None
            rng = self._random
            if faults.burst_429_every and faults.burst_429_length:
                cycle = faults.burst_429_every + faults.burst_429_length
                if (self._counted - 1) % cycle >= faults.burst_429_every:
                    return 429
            if faults.rate_limit_rate and rng.random() < faults.rate_limit_rate:
                return 429
            if faults.drop_rate and rng.random() < faults.drop_rate:
                return "drop"
            if faults.server_error_rate and rng.random() < faults.server_error_rate:
                return rng.choice(faults.server_error_statuses)
            if faults.slow_rate and rng.random() < faults.slow_rate:
                return "slow"
            return None


def loses_answer(choice: int | str) -> bool:
    """Faults that can strike after HubSpot carried a request out: a drop or a 5xx."""
    return choice == "drop" or (isinstance(choice, int) and choice >= 500)


def inject(choice: int | str, faults: FaultConfig, refuse: Callable[[Policy], ApiError]) -> None:
    """Answer with the fault ``choice`` (raise), or wait for a slow one and return.

    ``refuse(policy)`` makes the injected 429, with the headers of a full window (or day).
    """
    if choice == "drop":
        raise Drop()
    if choice == "slow":
        time.sleep(faults.slow_seconds)
        return
    if choice in ("daily", 429):
        raise refuse("DAILY" if choice == "daily" else "TEN_SECONDLY_ROLLING")
    status = int(choice)
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    # HubSpot documents no body for 502/503/504; every simulated server error is an INTERNAL_ERROR.
    raise ApiError(status, error_body(f"Simulated {status} {phrase}", "INTERNAL_ERROR"))


def without_first_pairs(endpoint: str, body: bytes, count: int) -> bytes:
    """The archive (labels-archive, create) body minus its first ``count`` pairs.

    A body that is not a well-formed request is returned unchanged: the endpoint's own checks
    answer it. Other endpoints have no pairs to keep.
    """
    try:
        payload = json.loads(body)
        inputs = payload["inputs"]
    except (ValueError, TypeError, KeyError):
        return body
    if endpoint not in ("archive", "archive_labels", "create") or not isinstance(inputs, list):
        return body
    kept: list[Any] = []
    left = count
    for item in inputs:
        targets = item.get("to") if endpoint == "archive" and isinstance(item, dict) else None
        if left and isinstance(targets, list):
            skipped = min(left, len(targets))
            left -= skipped
            if targets[skipped:]:
                kept.append({**item, "to": targets[skipped:]})
            continue
        if left:
            left -= 1
            continue
        kept.append(item)
    return json.dumps({**payload, "inputs": kept}).encode()


def extra_read_results(
    settings: FaultConfig,
    page_size: int,
    served: list[tuple[str, int, dict[str, Any]]],
    named: set[str],
    entry_at: Callable[[str, int, int | None], dict[str, Any] | None],
    unlabeled: Callable[[], dict[str, Any]],
) -> list[dict[str, Any]]:
    """What ``read_repeat_results`` and ``read_foreign_ids`` add to one batch-read answer.

    ``served`` holds (from id, offset, result) of the answer's real results; ``entry_at(id, offset,
    size)`` builds a result from the simulator's state (None: the id has no associations).
    """
    extra: list[dict[str, Any]] = []
    if settings.read_repeat_results:
        extra += repeated_results(served, page_size, entry_at)
    if settings.read_foreign_ids:
        extra += foreign_results(settings.read_foreign_ids, named, entry_at, unlabeled)
    return extra


def without_paging(entry: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in entry.items() if key != "paging"}


def repeated_results(
    served: list[tuple[str, int, dict[str, Any]]],
    page_size: int,
    entry_at: Callable[[str, int, int | None], dict[str, Any] | None],
) -> list[dict[str, Any]]:
    """A buggy pager's repeats: each later page brings its id's previous page again; an answer whose
    first result is a first page repeats that result. Repeats carry no cursor."""
    extra: list[dict[str, Any]] = []
    for from_id, offset, _ in served:
        if offset > 0:
            previous = entry_at(from_id, max(offset - page_size, 0), None)
            if previous is not None:
                extra.append(without_paging(previous))
    if served and served[0][1] == 0:
        extra.append(without_paging(served[0][2]))
    return extra


def foreign_results(
    foreign: tuple[str, ...],
    named: set[str],
    entry_at: Callable[[str, int, int | None], dict[str, Any] | None],
    unlabeled: Callable[[], dict[str, Any]],
) -> list[dict[str, Any]]:
    """Results for from-ids the request did not name: all their associations, or made-up ones."""
    extra: list[dict[str, Any]] = []
    for from_id in foreign:
        if from_id in named:
            continue
        entry = entry_at(from_id, 0, 10**9)
        if entry is None:
            kind = unlabeled()
            targets = [{"toObjectId": to_id, "associationTypes": [kind]} for to_id in MADE_UP_TO_IDS]
            entry = {"from": {"id": from_id}, "to": targets}
        extra.append(without_paging(entry))
    return extra
