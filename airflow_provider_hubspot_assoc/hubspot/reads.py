"""Reads: label definitions, and the current associations of many ids gathered from batch-read answers.

Mirror mode deletes what ``read_associations`` reports beyond the desired set, so nothing may enter it
that was not asked about: an answer's result counts only for an id its own request named (an id whose
pages were finished is not named again), and a to-id a misbehaving pager repeats is merged, never
added twice. An id HubSpot could not read raises: it must never look as if it had no associations.
No Airflow import.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from airflow_provider_hubspot_assoc.exceptions import HubSpotError
from airflow_provider_hubspot_assoc.hubspot.answers import as_dict
from airflow_provider_hubspot_assoc.hubspot.transport import Transport
from airflow_provider_hubspot_assoc.object_types import is_record_id, validate_object_type, validate_record_id

log = logging.getLogger(__name__)

SHOWN_IDS = 5  # ids named in a message; the rest are counted
SHOWN_FAILURES = 10  # per-id read errors quoted in a message
READ_CHUNK = 1000  # ids per batch-read request: HubSpot's batch limit for reads
NO_ASSOCIATIONS = ("OBJECT_NOT_FOUND", "crm.associations.NO_ASSOCIATIONS_FOUND")  # "this id has none"
Path = Callable[[str, str, str], str]  # (from type, to type, suffix) -> endpoint path


class Reads:
    """The read endpoints of one client.

    :param transport: sends the requests.
    :param path: builds an endpoint's path from the object types and a suffix.
    """

    def __init__(self, transport: Transport, path: Path) -> None:
        self._transport = transport
        self._path = path
        self._labels_cache: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def labels(self, from_type: str, to_type: str) -> list[dict[str, Any]]:
        """Association type definitions of one direction (cached)."""
        key = (validate_object_type(from_type), validate_object_type(to_type))
        if key not in self._labels_cache:
            path = self._path(from_type, to_type, "labels")
            _, body = self._transport.request("GET", path, None, f"GET {path}")
            self._labels_cache[key] = list(body.get("results") or [])
        return self._labels_cache[key]

    def associations(
        self, from_type: str, to_type: str, ids: Iterable[str | int]
    ) -> dict[str, list[dict[str, Any]]]:
        """Current associations of each from id: ``{from id: [{toObjectId, associationTypes}]}``.

        Ids go in chunks of ``READ_CHUNK`` with every page followed; an id with no associations maps
        to []. Only HubSpot's NO_ASSOCIATIONS_FOUND error means "none"; any other per-id error raises
        HubSpotError. Results for ids a request did not name are ignored with a warning, and a to-id
        given twice is one entry (``CurrentAssociations``).
        """
        path = self._path(from_type, to_type, "batch/read")
        wanted = list(dict.fromkeys(validate_record_id(i, "from id") for i in ids))
        current = CurrentAssociations(wanted, f"POST {path}")
        for start in range(0, len(wanted), READ_CHUNK):
            queue: list[dict[str, str]] = [{"id": i} for i in wanted[start : start + READ_CHUNK]]
            while queue:
                status, body = self._transport.request_raw("POST", path, {"inputs": queue}, f"POST {path}")
                _raise_read_errors(status, as_dict(body), f"POST {path}")
                queue = current.take(queue, body)
        note = current.ignored_note()
        if note:
            log.warning(note)
        return current.as_lists()


def _raise_read_errors(status: int, body: dict[str, Any], what: str) -> None:
    """Raise for per-id errors of a batch/read answer other than "this id has no associations"."""
    failures: list[str] = []
    categories: list[str] = []
    for error in body.get("errors") or []:
        if not isinstance(error, dict):
            error = {"message": str(error)}
        category = str(error.get("category") or "UNKNOWN")
        if (category, error.get("subCategory")) == NO_ASSOCIATIONS:
            continue
        context = error.get("context") if isinstance(error.get("context"), dict) else {}
        ids = [str(i) for i in (context or {}).get("fromObjectId") or []]
        subject = f"ids {', '.join(ids)}" if ids else "unnamed ids"
        failures.append(f"{subject}: {category}: {error.get('message') or 'no message'}")
        categories.append(category)
    if failures:
        more = len(failures) - SHOWN_FAILURES
        shown = "; ".join(failures[:SHOWN_FAILURES]) + (f"; and {more} more" if more > 0 else "")
        raise HubSpotError(
            f"{what}: HubSpot could not read the associations of some ids: {shown}",
            status=status,
            category=categories[0],
            body=body,
        )


class CurrentAssociations:
    """``{from id: {to id: {toObjectId, associationTypes}}}`` of the wanted ids, filled answer by answer."""

    def __init__(self, wanted: list[str], what: str) -> None:
        self.what = what
        self._targets: dict[str, dict[str, dict[str, Any]]] = {i: {} for i in wanted}
        self._cursors: set[tuple[str, str]] = set()  # a cursor HubSpot gives twice would page forever
        self.ignored: dict[str, int] = {}  # results per from-id the request did not name

    def take(self, inputs: list[dict[str, str]], body: Any) -> list[dict[str, str]]:
        """Add the answer to the request of ``inputs``; return the inputs of the next page request.

        Only a batch-read answer counts (a JSON object, status COMPLETE, ``results`` a list), and it
        must speak of every id it was asked about: a result for it, or HubSpot's "no associations"
        error naming it. Otherwise it raises: an id never answered must not look as if it had none.
        """
        named = {item["id"] for item in inputs}
        if (
            not isinstance(body, dict)
            or body.get("status") != "COMPLETE"
            or not isinstance(body.get("results"), list)
        ):
            shape = (
                f"status {str(body.get('status'))[:20]!r}" if isinstance(body, dict) else type(body).__name__
            )
            raise HubSpotError(f"{self.what}: HubSpot's answer is not a complete batch-read answer ({shape})")
        answered = {str((r.get("from") or {}).get("id")) for r in body["results"] if isinstance(r, dict)}
        for error in body.get("errors") or []:
            if (
                isinstance(error, dict)
                and (error.get("category"), error.get("subCategory")) == NO_ASSOCIATIONS
            ):
                context = error.get("context") if isinstance(error.get("context"), dict) else {}
                answered |= {str(i) for i in (context or {}).get("fromObjectId") or []}
        silent = sorted(named - answered)
        if silent:
            shown = ", ".join(silent[:SHOWN_IDS]) + (", ..." if len(silent) > SHOWN_IDS else "")
            raise HubSpotError(
                f"{self.what}: HubSpot's answer said nothing about {len(silent)} asked id(s): {shown}"
            )
        following: list[dict[str, str]] = []
        for result in body["results"]:
            if not isinstance(result, dict):
                continue
            from_id = str((result.get("from") or {}).get("id"))
            if from_id not in named:
                self.ignored[from_id] = self.ignored.get(from_id, 0) + 1
                continue
            targets = self._targets[from_id]
            for target in result.get("to") or []:
                if not isinstance(target, dict) or not is_record_id(str(target.get("toObjectId"))):
                    raise HubSpotError(
                        f"{self.what}: HubSpot's answer for id {from_id} holds a to-id that is not a record "
                        f"id ({str(target)[:80]}); stopped reading"
                    )
                _merge(targets, target)
            after = ((result.get("paging") or {}).get("next") or {}).get("after")
            if after:
                if (from_id, str(after)) in self._cursors:
                    raise HubSpotError(
                        f"{self.what}: HubSpot gave the paging cursor {after!r} for id {from_id} "
                        "twice; stopped reading instead of paging forever"
                    )
                self._cursors.add((from_id, str(after)))
                following.append({"id": from_id, "after": str(after)})
        return following

    def ignored_note(self) -> str | None:
        """What was ignored, for a warning (None: nothing)."""
        if not self.ignored:
            return None
        shown = ", ".join(list(self.ignored)[:SHOWN_IDS]) + (", ..." if len(self.ignored) > SHOWN_IDS else "")
        return (
            f"{self.what}: ignored {sum(self.ignored.values())} result(s) for {len(self.ignored)} from-id(s) "
            f"not asked about in that request ({shown})"
        )

    def as_lists(self) -> dict[str, list[dict[str, Any]]]:
        return {from_id: list(targets.values()) for from_id, targets in self._targets.items()}


def _merge(targets: dict[str, dict[str, Any]], target: dict[str, Any]) -> None:
    """Add one ``to`` item; a repeated to-id gains only the association types it did not have."""
    to_id = str(target.get("toObjectId"))
    entry = targets.setdefault(to_id, {"toObjectId": to_id, "associationTypes": []})
    kinds = entry["associationTypes"]
    seen = {(spec.get("category"), spec.get("typeId")) for spec in kinds}
    for spec in target.get("associationTypes") or []:
        if isinstance(spec, dict) and (spec.get("category"), spec.get("typeId")) not in seen:
            seen.add((spec.get("category"), spec.get("typeId")))
            kinds.append(spec)
