"""pytest fixtures for the HubSpot simulator (the one module of the package that imports pytest).

Enable with ``pytest_plugins = ["airflow_provider_hubspot_assoc.testing.pytest_plugin"]`` in a
``conftest.py``. ``hubspot_simulator`` is a fresh, empty simulator per test; mark a test with
``@pytest.mark.hubspot_simulator(seed="demo", ten_second_limit=10)`` to configure it: every
``SimulatorConfig`` setting, plus ``tier="free"`` for a tier's limits (the other settings win).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_provider_hubspot_assoc.testing.config import SimulatorConfig
from airflow_provider_hubspot_assoc.testing.server import HubSpotSimulator


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "hubspot_simulator(tier=None, **settings): SimulatorConfig settings for the fixture"
    )


@pytest.fixture
def hubspot_simulator(request: pytest.FixtureRequest) -> Iterator[HubSpotSimulator]:
    """A running simulator on a free port of 127.0.0.1, stopped after the test."""
    marker = request.node.get_closest_marker("hubspot_simulator")
    settings = dict(marker.kwargs) if marker else {}
    tier = settings.pop("tier", None)
    config = SimulatorConfig.for_tier(tier, **settings) if tier else SimulatorConfig(**settings)
    with HubSpotSimulator(config) as simulator:
        yield simulator
