"""The ``hubspot_simulator`` fixture and its marker: every ``SimulatorConfig`` setting, and ``tier``.

Each case goes through the real fixture: the marker is put on the test, the plugin builds the
simulator from it, and the test reads the running simulator back.
"""

from __future__ import annotations

import socket
from dataclasses import fields
from typing import Any

import pytest
import requests

from airflow_provider_hubspot_assoc.testing import FaultConfig, HubSpotSimulator, SimulatorConfig


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# (setting, marker value, the value the simulator's config then holds); none is the default.
SETTINGS: list[tuple[str, Any, Any]] = [
    ("host", "localhost", "localhost"),
    ("port", (port := _free_port()), port),
    ("seed", "demo", "demo"),
    ("random_seed", 7, 7),
    ("preload", 10, 10),
    ("tokens", {"t": ["crm.objects.contacts.read"]}, {"t": frozenset({"crm.objects.contacts.read"})}),
    ("oauth_clients", {"client": "secret"}, {"client": "secret"}),
    ("oauth_refresh_tokens", {"refresh": ["tickets"]}, {"refresh": frozenset({"tickets"})}),
    ("access_token_lifetime_seconds", 60.0, 60.0),
    ("ten_second_limit", 5, 5),
    ("window_seconds", 2.0, 2.0),
    ("daily_limit", None, None),
    ("day_ends_in", 30.0, 30.0),
    ("daily_reset_seconds", 30.0, 30.0),
    ("account_timezone", "Europe/Paris", "Europe/Paris"),
    ("enforce_ten_secondly", False, False),
    ("retry_after_on_429", True, True),
    ("max_inputs", 10, 10),
    ("max_pairs", 20, 20),
    ("max_read_inputs", 50, 50),
    ("read_page_size", 7, 7),
    ("latency_seconds", 0.01, 0.01),
    ("v4_success_status", 200, 200),
    ("dated_success_status", 204, 204),
    ("missing_association", "error", "error"),
    ("unknown_record", "reject", "reject"),
    ("unknown_object_type_status", 404, 404),
    ("custom_object_types", ["2-7", "p24681357_cars"], ("2-7", "p24681357_cars")),
    ("faults", {"drop_rate": 0.5, "scripted": [503]}, FaultConfig(drop_rate=0.5, scripted=[503])),
]


def test_the_cases_cover_every_setting() -> None:
    assert [name for name, _, _ in SETTINGS] == [item.name for item in fields(SimulatorConfig)]
    defaults = SimulatorConfig()
    assert all(getattr(defaults, name) != held for name, _, held in SETTINGS)


@pytest.mark.parametrize(
    ("name", "held"),
    [
        pytest.param(name, held, marks=pytest.mark.hubspot_simulator(**{name: value}), id=name)
        for name, value, held in SETTINGS
    ],
)
def test_the_marker_takes_every_setting(hubspot_simulator: HubSpotSimulator, name: str, held: Any) -> None:
    assert getattr(hubspot_simulator.config, name) == held
    assert requests.get(f"{hubspot_simulator.url}/_sim/health", timeout=5).json() == {"ok": True}


@pytest.mark.hubspot_simulator(tier="free")
def test_the_marker_takes_a_tier(hubspot_simulator: HubSpotSimulator) -> None:
    assert (hubspot_simulator.config.ten_second_limit, hubspot_simulator.config.daily_limit) == (100, 250_000)


@pytest.mark.hubspot_simulator(tier="oauth_marketplace", ten_second_limit=3, seed="demo")
def test_settings_given_with_a_tier_win(hubspot_simulator: HubSpotSimulator) -> None:
    config = hubspot_simulator.config
    assert (config.ten_second_limit, config.daily_limit, config.seed) == (3, None, "demo")


def test_an_unknown_tier_names_the_tiers() -> None:
    with pytest.raises(ValueError, match="free"):
        SimulatorConfig.for_tier("platinum")
