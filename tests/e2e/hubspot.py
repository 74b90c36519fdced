"""Reading and changing a running simulator over HTTP: its ``/_sim/`` inspection and HubSpot's API."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import requests

from tests.e2e.processes import Simulator

Pair = tuple[str, str]


def sim_get(sim: Simulator, path: str, **params: str) -> Any:
    answer = requests.get(f"{sim.url}/_sim/{path}", params=params, timeout=10)
    answer.raise_for_status()
    return answer.json()


def pairs(sim: Simulator, from_type: str = "contacts", to_type: str = "companies") -> set[Pair]:
    listed = sim_get(sim, "associations", **{"from": from_type, "to": to_type})
    return {(str(f), str(t)) for f, t in listed["pairs"]}


def stats(sim: Simulator) -> dict[str, Any]:
    return dict(sim_get(sim, "stats"))


def of_contacts(all_pairs: Iterable[Pair], first: int, last: int) -> set[Pair]:
    """The pairs whose from id lies in ``first..last`` (inclusive)."""
    return {p for p in all_pairs if first <= int(p[0]) <= last}


def _api(sim: Simulator, path: str, body: dict[str, Any]) -> Any:
    answer = requests.post(
        f"{sim.url}/crm/v4/associations/contacts/companies/{path}",
        json=body,
        headers={"Authorization": f"Bearer {sim.token}"},
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json() if answer.content else None


def labelled(sim: Simulator, contacts: Iterable[str], type_id: int) -> set[Pair]:
    """Contact-company pairs that carry the USER_DEFINED label ``type_id`` (HubSpot's batch read)."""
    read = _api(sim, "batch/read", {"inputs": [{"id": c} for c in contacts]})
    found = set()
    for result in read["results"]:
        assert "paging" not in result, "more than one page: read fewer contacts"
        for to in result["to"]:
            types = {(t["category"], t["typeId"]) for t in to["associationTypes"]}
            if ("USER_DEFINED", type_id) in types:
                found.add((str(result["from"]["id"]), str(to["toObjectId"])))
    return found


def archive(sim: Simulator, removals: Iterable[Pair]) -> None:
    inputs = [{"from": {"id": f}, "to": [{"id": t}]} for f, t in removals]
    _api(sim, "batch/archive", {"inputs": inputs})
