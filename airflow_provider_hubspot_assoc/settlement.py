"""Settle removals whose outcome is unknown by reading HubSpot's associations back. No Airflow import.

A removal is unknown when its request may have been carried out but no answer proves it: the
answer was lost (a timeout, a connection dropped after the request was sent, a 5xx from a gateway),
or a 2xx was not HubSpot's answer (not JSON, not a BatchResponse, PENDING, errors counted but not
listed). At the end of a run they are read back through batch read (1,000 ids a request, every
page): a removal HubSpot no longer shows was archived; one it still shows failed ("still associated
after archive"); one that cannot be read stays unknown. A create reads back the other way round
(``verdict``): one HubSpot shows was restored; one it does not failed ("still absent after create").
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_hubspot_assoc.exceptions import HubSpotDailyLimitError, HubSpotError
from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.row_parser import Removal
from airflow_provider_hubspot_assoc.verification import still_present

log = logging.getLogger(__name__)

STILL_ASSOCIATED = "STILL_ASSOCIATED"
STILL_ABSENT = "STILL_ABSENT"
UNKNOWN_OUTCOME = "UNKNOWN_OUTCOME"
CONFIRMED_GONE = "confirmed by reading back: HubSpot no longer shows it"
CONFIRMED_PRESENT = "confirmed by reading back: HubSpot shows it"

Reader = Callable[[list[str]], Mapping[str, list[dict[str, Any]]]]


@dataclass
class Settlement:
    """What reading back found: removals gone (archived), still there (failed), or unreadable."""

    gone: list[Removal] = field(default_factory=list)
    present: list[Removal] = field(default_factory=list)
    unread: list[Removal] = field(default_factory=list)
    read_error: str | None = None


@dataclass(frozen=True)
class Verdict:
    """What a read back means for one kind of write: ``done`` carried out, ``undone`` not (failed,
    with ``code`` and ``message``); ``confirmed`` is the done ones' write-back message."""

    done: list[Removal]
    undone: list[Removal]
    code: str
    message: str
    confirmed: str


def verdict(kind: Kind, found: Settlement) -> Verdict:
    """The one place a read back is interpreted: gone is done for a removal, present for a create."""
    if kind.creates:
        absent = "still absent after create"
        return Verdict(found.present, found.gone, STILL_ABSENT, absent, CONFIRMED_PRESENT)
    return Verdict(
        found.gone, found.present, STILL_ASSOCIATED, "still associated after archive", CONFIRMED_GONE
    )


def removal_of(item: Mapping[str, Any]) -> Removal:
    """The removal a spooled row describes (``Removal.describe()``'s shape)."""
    type_id = item.get("association_type_id")
    return Removal(
        int(item["row"]),
        str(item["from_id"]),
        str(item["to_id"]),
        item.get("association_category"),
        int(type_id) if type_id is not None else None,
        item.get("label"),
    )


def settle(removals: Iterable[Removal], read: Reader) -> Settlement:
    """Read the removals' from-ids back and sort each removal by what HubSpot shows now."""
    pending = list(removals)
    result = Settlement()
    if not pending:
        return result
    try:
        current = read(sorted({r.from_id for r in pending}, key=int))
    except HubSpotDailyLimitError:
        raise  # the run defers until the reset and reads them back then
    except HubSpotError as error:  # the outcome stays unknown; the message names no token
        log.warning("Could not read back %d removals of unknown outcome: %s", len(pending), error)
        result.unread = pending
        result.read_error = str(error)
        return result
    still = {id(r) for r in still_present(pending, current)}
    for removal in pending:
        (result.present if id(removal) in still else result.gone).append(removal)
    return result
