"""Helpers shared by the simulator tests: a small HTTP client bound to one simulator, paths and bodies.

Everything goes over real HTTP with ``requests``; nothing here reaches into the simulator except the
``HubSpotSimulator`` object itself (its URL, its default token, its OAuth defaults).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import requests

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator, SimulatorConfig

V4 = "/crm/v4/associations"
DATED = "/crm/associations/2026-03"
CONTACTS_TO_COMPANIES = "contacts/companies"
OAUTH_TOKEN_PATH = "/oauth/v1/token"

RATE_LIMIT_HEADERS = (
    "X-HubSpot-RateLimit-Max",
    "X-HubSpot-RateLimit-Remaining",
    "X-HubSpot-RateLimit-Interval-Milliseconds",
    "X-HubSpot-RateLimit-Secondly",
    "X-HubSpot-RateLimit-Secondly-Remaining",
)
DAILY_HEADERS = ("X-HubSpot-RateLimit-Daily", "X-HubSpot-RateLimit-Daily-Remaining")
BATCH_RESPONSE_KEYS = {"status", "results", "startedAt", "completedAt"}

UNLABELED = ("HUBSPOT_DEFINED", 279)  # contact -> company, no label
UNLABELED_INVERSE = ("HUBSPOT_DEFINED", 280)  # company -> contact, no label
PRIMARY = ("HUBSPOT_DEFINED", 1)  # contact -> company "Primary"
PRIMARY_INVERSE = ("HUBSPOT_DEFINED", 2)  # company -> contact "Primary"


def archive_path(base: str = V4, pair: str = CONTACTS_TO_COMPANIES) -> str:
    return f"{base}/{pair}/batch/archive"


def labels_archive_path(base: str = V4, pair: str = CONTACTS_TO_COMPANIES) -> str:
    return f"{base}/{pair}/batch/labels/archive"


def read_path(base: str = V4, pair: str = CONTACTS_TO_COMPANIES) -> str:
    return f"{base}/{pair}/batch/read"


def create_path(base: str = V4, pair: str = CONTACTS_TO_COMPANIES) -> str:
    return f"{base}/{pair}/batch/create"


def archive_body(pairs: dict[str, list[str]]) -> dict[str, Any]:
    """``{"inputs":[{"from":{"id":f},"to":[{"id":t}, ...]}, ...]}``"""
    return {
        "inputs": [
            {"from": {"id": from_id}, "to": [{"id": to_id} for to_id in to_ids]}
            for from_id, to_ids in pairs.items()
        ]
    }


def labels_body(items: Iterable[tuple[str, str, Iterable[tuple[str, int]]]]) -> dict[str, Any]:
    """``{"inputs":[{"from":{"id":f},"to":{"id":t},"types":[{associationCategory, associationTypeId}]}]}``

    The body of ``batch/labels/archive`` and of ``batch/create`` alike.
    """
    return {
        "inputs": [
            {
                "from": {"id": from_id},
                "to": {"id": to_id},
                "types": [{"associationCategory": c, "associationTypeId": t} for c, t in types],
            }
            for from_id, to_id, types in items
        ]
    }


def read_body(ids: Iterable[str], after: str | None = None) -> dict[str, Any]:
    inputs: list[dict[str, str]] = []
    for record_id in ids:
        item = {"id": record_id}
        if after is not None:
            item["after"] = after
        inputs.append(item)
    return {"inputs": inputs}


def is_uuid(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


EXPIRED_MESSAGE = re.compile(r"^The OAuth token used to make this call expired (\d+) second\(s\) ago\.$")


class Api:
    """A ``requests`` client for one simulator (a fresh connection per request: no pooled state)."""

    def __init__(self, sim: HubSpotSimulator, token: str | None = None, timeout: float = 10.0) -> None:
        self.sim = sim
        self.token = token if token is not None else sim.token
        self.timeout = timeout

    @property
    def url(self) -> str:
        return self.sim.url

    def headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token if token is not None else self.token}"}

    def post(
        self,
        path: str,
        body: Any = None,
        *,
        data: bytes | str | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> requests.Response:
        sent = self.headers(token) if headers is None else headers
        if data is not None:
            sent = {**sent, "Content-Type": "application/json"}
            return requests.post(self.url + path, data=data, headers=sent, timeout=timeout or self.timeout)
        return requests.post(self.url + path, json=body, headers=sent, timeout=timeout or self.timeout)

    def get(
        self,
        path: str,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> requests.Response:
        sent = self.headers(token) if headers is None else headers
        return requests.get(self.url + path, headers=sent, timeout=timeout or self.timeout)

    def delete(self, path: str, *, token: str | None = None) -> requests.Response:
        return requests.delete(self.url + path, headers=self.headers(token), timeout=self.timeout)

    def refresh(
        self,
        *,
        client_id: str = "sim-client-id",
        client_secret: str = "sim-client-secret",
        refresh_token: str = "sim-refresh-token",
        grant_type: str = "refresh_token",
        path: str = OAUTH_TOKEN_PATH,
    ) -> requests.Response:
        """``POST /oauth/v1/token``, form-encoded, as HubSpot documents the refresh grant."""
        form = {
            "grant_type": grant_type,
            "client_id": client_id,
            "client_secret": client_secret,
            "refresh_token": refresh_token,
        }
        return requests.post(self.url + path, data=form, timeout=self.timeout)

    def access_token(self, **kwargs: str) -> str:
        answer = self.refresh(**kwargs)
        assert answer.status_code == 200, answer.text
        token = answer.json()["access_token"]
        assert isinstance(token, str) and token
        return token


@contextmanager
def running(config: SimulatorConfig) -> Iterator[HubSpotSimulator]:
    """A simulator of its own (for tests that compare two), stopped promptly."""
    sim = HubSpotSimulator(config).start()
    try:
        yield sim
    finally:
        sim.stop()
