"""The package is an Airflow provider: metadata, the connection form, and `airflow providers list`."""

from __future__ import annotations

import importlib
import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import airflow
import jsonschema
import pytest

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


# The public classes of each family, which provider info must lead Airflow to.
PUBLIC_CLASSES = {
    "hooks": {"HubSpotHook"},
    "operators": {
        "BatchArchiveAssociationsOperator",
        "BatchArchiveLabelsOperator",
        "RestoreAssociationsOperator",
        "SyncAssociationsOperator",
        "SyncAssociationLabelsOperator",
    },
    "sensors": {"HubSpotAssociationsArchivedSensor", "HubSpotBatchResponseSensor"},
    "triggers": {"HubSpotWaitTrigger"},
}


def listed_classes(family: str) -> dict[str, type]:
    """The classes defined in the modules provider info lists for ``family``, by name."""
    (entry,) = get_provider_info()[family]
    return {
        cls.__name__: cls
        for module in entry["python-modules"]
        for _, cls in inspect.getmembers(importlib.import_module(module), inspect.isclass)
        if cls.__module__ == module
    }


def test_provider_info_lists_every_hooks_operators_sensors_and_triggers_module() -> None:
    """As Airflow's own providers do: one integration, and each family's modules under it."""
    info = get_provider_info()
    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    jsonschema.validate(info, schema)
    (integration,) = info["integrations"]
    assert integration["external-doc-url"].startswith("https://developers.hubspot.com/")
    for family, classes in PUBLIC_CLASSES.items():
        assert [entry["integration-name"] for entry in info[family]] == [integration["integration-name"]]
        missing = classes - set(listed_classes(family))
        assert not missing, f"{family}: {missing} is in no module listed"


# Airflow's own CLI, three of its commands in one interpreter (each start costs seconds of CPU).
CLI = """
import sys
from airflow.__main__ import main
for command in sys.argv[1:]:
    sys.argv = ["airflow", "providers", command]
    print(f"=== providers {command}", flush=True)
    main()
    sys.stdout.flush()
"""


@pytest.fixture(scope="module")
def providers_cli() -> dict[str, str]:
    """What ``airflow providers list``, ``hooks`` and ``triggers`` print, by command."""
    listed = subprocess.run(
        [sys.executable, "-c", CLI, "list", "hooks", "triggers"], capture_output=True, text=True, check=True
    )
    parts = re.split(r"^=== providers (\w+)$", listed.stdout, flags=re.MULTILINE)
    printed = dict(zip(parts[1::2], parts[2::2], strict=True))
    assert set(printed) == {"list", "hooks", "triggers"}, listed.stdout[-2000:]
    return printed


def test_airflow_reads_the_triggers_from_provider_info(providers_cli: dict[str, str]) -> None:
    assert "airflow_provider_hubspot_assoc.triggers.wait" in providers_cli["triggers"]


def test_airflow_lists_the_provider_and_its_connection_type(providers_cli: dict[str, str]) -> None:
    assert "airflow-provider-hubspot-assoc" in providers_cli["list"]
    assert "hubspot" in providers_cli["hooks"]
    assert "airflow_provider_hubspot_assoc.hooks.hubspot.HubSpotHook" in providers_cli["hooks"]
    assert "airflow_provider_hubspot_assoc.triggers.wait" not in providers_cli["hooks"]


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


def test_every_parameter_of_every_public_class_is_documented() -> None:
    """Like Airflow's own providers: a ``:param name:`` for each argument, in the class or in a base
    class of this package that takes it."""
    undocumented = {}
    for family, names in PUBLIC_CLASSES.items():
        for name in names:
            public = listed_classes(family)[name]
            ours = [k for k in public.__mro__ if k.__module__.startswith("airflow_provider_hubspot_assoc")]
            assert ":param " in (public.__doc__ or ""), f"{name} documents no parameter"
            documented = {param for k in ours for param in re.findall(r":param (\w+):", k.__doc__ or "")}
            taken = {
                param
                for k in ours
                if "__init__" in vars(k)
                for param, spec in inspect.signature(vars(k)["__init__"]).parameters.items()
                if param != "self" and spec.kind not in (spec.VAR_KEYWORD, spec.VAR_POSITIONAL)
            }
            if taken - documented:
                undocumented[name] = sorted(taken - documented)
    assert undocumented == {}
