"""Pure checks behind the sensors: is a BatchResponse done and good enough; which removals remain.

No Airflow import.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.row_parser import Removal

FINISHED_OK = "COMPLETE"
WAITING = ("PENDING", "PROCESSING")


@dataclass(frozen=True)
class Verdict:
    """``done`` with no ``failure``: success; ``failure``: fail now; neither: keep waiting."""

    done: bool
    failure: str | None = None
    waiting_for: str | None = None


def error_ratio(response: Mapping[str, Any]) -> tuple[int, int]:
    """(failed, sent) of a response: from the operator's ``summary`` when present, else HubSpot's fields."""
    summary = response.get("summary")
    if isinstance(summary, Mapping):  # a write of unknown outcome counts as not done
        failed = int(summary.get("failed", 0)) + int(summary.get("unknown", 0))
        done = sum(int(summary.get(name, 0)) for name in {kind.done for kind in Kind})
        return failed, failed + done
    errors = int(response.get("numErrors") or len(response.get("errors") or []))
    results = len(response.get("results") or [])
    return errors, max(errors + results, 1 if errors else 0)


def judge(responses: Iterable[Mapping[str, Any]], max_error_ratio: float) -> Verdict:
    """One verdict for one or many BatchResponses (e.g. of mapped tasks)."""
    failed = sent = 0
    waiting = []
    seen = 0
    for response in responses:
        seen += 1
        if not isinstance(response, Mapping) or "status" not in response:
            return Verdict(False, f"not a BatchResponse: {str(response)[:200]}")
        status = response["status"]
        if status == "CANCELED":
            return Verdict(False, "HubSpot canceled the batch (status CANCELED)")
        if status in WAITING:
            waiting.append(status)
            continue
        if status != FINISHED_OK:
            return Verdict(False, f"unknown BatchResponse status {status!r}")
        part_failed, part_sent = error_ratio(response)
        failed, sent = failed + part_failed, sent + part_sent
    if seen == 0:
        return Verdict(False, None, "no BatchResponse yet")
    if waiting:
        states = "/".join(sorted(set(waiting)))
        return Verdict(False, None, f"{len(waiting)} of {seen} response(s) still {states}")
    ratio = failed / sent if sent else 0.0
    if ratio > max_error_ratio:
        return Verdict(
            False,
            f"HubSpot failed {failed} of {sent} removals ({ratio:.1%} > allowed {max_error_ratio:.1%})",
        )
    return Verdict(True)


def still_present(removals: Iterable[Removal], current: Mapping[str, list[dict[str, Any]]]) -> list[Removal]:
    """The removals HubSpot still shows: the pair (archive) or the pair's label type (labels)."""
    index: dict[tuple[str, str], set[tuple[str, int]]] = {}
    for from_id, targets in current.items():
        for target in targets:
            specs = target.get("associationTypes") or []
            types = {(str(t.get("category")), int(t.get("typeId", 0))) for t in specs}
            index[(str(from_id), str(target.get("toObjectId")))] = types
    remaining = []
    for removal in removals:
        present = index.get(removal.pair)
        if present is None:
            continue
        if removal.type_id is None or (removal.category, removal.type_id) in present:
            remaining.append(removal)
    return remaining
