"""Fixtures of the simulator tests (``hubspot_simulator`` itself comes from the project's plugin)."""

from __future__ import annotations

import pytest

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator

from ._support import Api


@pytest.fixture
def api(hubspot_simulator: HubSpotSimulator) -> Api:
    """An HTTP client for the test's simulator, authenticated with its first private-app token."""
    return Api(hubspot_simulator)
