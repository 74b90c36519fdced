"""Fixtures of the hook tests: hooks built from env-var connections, closed after each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from airflow_provider_hubspot_assoc.hooks.hubspot import HubSpotHook
from airflow_provider_hubspot_assoc.testing import HubSpotSimulator

from ._support import CONN_ID, set_connection

HookFactory = Callable[..., HubSpotHook]


@pytest.fixture
def make_hook(monkeypatch: pytest.MonkeyPatch, hubspot_simulator: HubSpotSimulator) -> Iterator[HookFactory]:
    """``make_hook(extra=..., password=..., host=..., **client_overrides)``: a hook on the simulator.

    ``extra`` goes into the connection's extras; keyword arguments are the hook's client overrides.
    """
    made: list[HubSpotHook] = []

    def factory(
        *,
        extra: dict[str, Any] | None = None,
        password: str | None = None,
        host: str | None = None,
        conn_id: str = CONN_ID,
        **overrides: Any,
    ) -> HubSpotHook:
        set_connection(
            monkeypatch, hubspot_simulator, conn_id=conn_id, host=host, password=password, **(extra or {})
        )
        hook = HubSpotHook(conn_id, **overrides)
        made.append(hook)
        return hook

    yield factory
    for hook in made:
        hook.close()
