"""A stateful HubSpot CRM associations simulator for tests, demos and benchmarks.

``HubSpotSimulator`` serves HubSpot's association endpoints over real HTTP on 127.0.0.1, with
HubSpot's auth, scopes, rate limits, answers and error bodies, and configurable faults.
"""

from airflow_provider_hubspot_assoc.testing.config import (
    ALL_SCOPES,
    TIERS,
    FaultConfig,
    SimulatorConfig,
)
from airflow_provider_hubspot_assoc.testing.server import HubSpotSimulator, SimulatorStats
from airflow_provider_hubspot_assoc.testing.state import AccountState, LabelDefinition

__all__ = [
    "ALL_SCOPES",
    "TIERS",
    "AccountState",
    "FaultConfig",
    "HubSpotSimulator",
    "LabelDefinition",
    "SimulatorConfig",
    "SimulatorStats",
]
