"""The package is an Airflow provider: metadata, the connection form, and `airflow providers list`."""

from __future__ import annotations

import subprocess
import sys

from airflow_provider_hubspot_assoc import __version__, get_provider_info


def test_provider_info_declares_the_hubspot_connection_form() -> None:
    info = get_provider_info()
    assert info["package-name"] == "airflow-provider-hubspot-assoc"
    assert info["versions"] == [__version__]
    (connection,) = info["connection-types"]
    assert connection["connection-type"] == "hubspot"
    assert connection["hook-class-name"] == "airflow_provider_hubspot_assoc.hooks.hubspot.HubSpotHook"
    fields = connection["conn-fields"]
    assert fields["client_secret"]["schema"]["format"] == "password"
    assert fields["refresh_token"]["schema"]["format"] == "password"
    assert fields["auth_type"]["schema"]["enum"] == ["private_app", "oauth"]
    assert connection["ui-field-behaviour"]["relabeling"]["password"] == "Private app access token"


def test_airflow_lists_the_provider_and_its_connection_type() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "airflow", "providers", "list"], capture_output=True, text=True, check=True
    )
    assert "airflow-provider-hubspot-assoc" in listed.stdout
    hooks = subprocess.run(
        [sys.executable, "-m", "airflow", "providers", "hooks"], capture_output=True, text=True, check=True
    )
    assert "hubspot" in hooks.stdout
    assert "airflow_provider_hubspot_assoc.hooks.hubspot.HubSpotHook" in hooks.stdout
