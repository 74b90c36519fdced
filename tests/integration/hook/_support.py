"""Helpers of the hook tests: connections as env vars, seeded pairs, and native inputs.

Everything reaches the simulator over real HTTP through ``HubSpotHook``; the simulator object is only
read (its URL, token, state and request log) to check what happened on the server side.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator

Pair = tuple[str, str]
CONN_ID = "hubspot_default"
OAUTH_EXTRA: dict[str, Any] = {
    "auth_type": "oauth",
    "client_id": "sim-client-id",
    "client_secret": "sim-client-secret",
    "refresh_token": "sim-refresh-token",
}
UNLABELED = ("HUBSPOT_DEFINED", 279)  # contact -> company, no label
UNLABELED_INVERSE = ("HUBSPOT_DEFINED", 280)
PRIMARY = ("HUBSPOT_DEFINED", 1)  # contact -> company "Primary"
PRIMARY_INVERSE = ("HUBSPOT_DEFINED", 2)


def set_connection(
    monkeypatch: pytest.MonkeyPatch,
    sim: HubSpotSimulator | None,
    *,
    conn_id: str = CONN_ID,
    host: str | None = None,
    password: str | None = None,
    **extra: Any,
) -> None:
    """Publish a ``hubspot`` connection as ``AIRFLOW_CONN_<ID>`` (JSON), pointing at the simulator."""
    conn: dict[str, Any] = {"conn_type": "hubspot", "host": host or (sim.url if sim else None)}
    if extra.get("auth_type") != "oauth":
        conn["password"] = password if password is not None else (sim.token if sim else None)
    if extra:
        conn["extra"] = extra
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


def seed_pairs(
    sim: HubSpotSimulator, contacts: int, companies: int, *, first_contact: int = 100
) -> list[Pair]:
    """Associate ``contacts`` x ``companies`` contact -> company pairs; return them in input order."""
    made: list[Pair] = []
    for c in range(contacts):
        contact = str(first_contact + c)
        for k in range(companies):
            company = str(5000 + k)
            sim.state.associate("contacts", contact, "companies", company)
            made.append((contact, company))
    return made


def archive_inputs(pairs: list[Pair]) -> list[dict[str, Any]]:
    """HubSpot's native archive inputs, one input per from id with all its ``to`` ids."""
    grouped: dict[str, list[dict[str, str]]] = {}
    for from_id, to_id in pairs:
        grouped.setdefault(from_id, []).append({"id": to_id})
    return [{"from": {"id": from_id}, "to": targets} for from_id, targets in grouped.items()]


def batch_pairs(batch: list[dict[str, Any]]) -> list[Pair]:
    """The (from, to) pairs of a batch of native archive inputs."""
    return [(str(i["from"]["id"]), str(t["id"])) for i in batch for t in i["to"]]


def remaining(sim: HubSpotSimulator) -> set[Pair]:
    return sim.state.pairs("contacts", "companies")


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` passes; return whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()
