"""The package is an Airflow provider: metadata, the connection form, and `airflow providers list`."""

from __future__ import annotations

import subprocess
import sys

from airflow_provider_hubspot_assoc import __version__, get_provider_info
from airflow_provider_hubspot_assoc.get_provider_info import CONNECTION_FIELDS


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


def test_airflows_masker_hides_the_secret_form_fields_and_only_those() -> None:
    """Airflow masks a connection field by its NAME: a plain field whose name holds a word such as
    "token" is shown as ``***`` in the form, saved as ``***`` and then used as ``***``."""
    from airflow._shared.secrets_masker import should_hide_value_for_key  # what the API server calls

    secrets = {name for name, spec in CONNECTION_FIELDS.items() if spec["schema"].get("format") == "password"}
    assert secrets == {"client_secret", "refresh_token"}
    wrong = [
        key
        for name in CONNECTION_FIELDS
        for key in (name, f"extra__hubspot__{name}")  # plain names, and the older prefixed form
        if should_hide_value_for_key(key) != (name in secrets)
    ]
    assert wrong == [], f"masked although not secret, or shown although secret: {wrong}"


def test_the_connection_form_shows_every_default_unmasked() -> None:
    """The form's metadata as Airflow's UI receives it: each default as written, none as ``***``."""
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

    (meta,) = [m for m in HookMetaService.hook_meta_data() if m.connection_type == "hubspot"]
    assert meta.extra_fields is not None
    shown = {name: spec.get("value") for name, spec in meta.extra_fields.items()}
    assert shown == {name: spec["schema"].get("default") for name, spec in CONNECTION_FIELDS.items()}
