"""test_connection() (directly and the way Airflow's UI calls it), provider metadata, connection form."""

from __future__ import annotations

import importlib.metadata
import json
import socket
from typing import Any

import pytest

from airflow_provider_hubspot_assoc.get_provider_info import get_provider_info
from airflow_provider_hubspot_assoc.hooks.hubspot import HubSpotHook
from airflow_provider_hubspot_assoc.testing import HubSpotSimulator
from airflow_provider_hubspot_assoc.testing.server import PORTAL_ID
from airflow_provider_hubspot_assoc.version import __version__

from ._support import OAUTH_EXTRA, set_connection
from .conftest import HookFactory

WRONG_TOKEN = "pat-na1-99999999-8888-7777-6666-555555555555"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_working_token_names_the_portal(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    ok, message = make_hook().test_connection()
    assert ok is True
    assert str(PORTAL_ID) in message
    assert [r.endpoint for r in hubspot_simulator.stats.log] == ["account_info", "labels"]


def test_the_test_reports_the_limits_hubspot_announced_next_to_the_assumed_tier(
    make_hook: HookFactory,
) -> None:
    ok, message = make_hook().test_connection()  # the simulator: 190 per 10 s, 1,000,000 a day

    assert ok is True
    assert "The connection assumes professional (190/10 s, 625,000 a day)." in message
    assert "HubSpot announces 190/10 s, 1,000,000 a day (999,998 left today)." in message
    assert "Mismatch" not in message


@pytest.mark.hubspot_simulator(ten_second_limit=100, daily_limit=250_000)
def test_the_test_names_a_tier_that_does_not_match_hubspots_limits(make_hook: HookFactory) -> None:
    ok, message = make_hook().test_connection()

    assert ok is True  # the credentials work; the pacing would be wrong
    assert "Mismatch: connection says professional (190/10 s), HubSpot says 100/10 s" in message
    assert make_hook(extra={"tier": "starter"}).test_connection()[1].count("Mismatch") == 0


def test_oauth_credentials_pass_the_test(hubspot_simulator: HubSpotSimulator, make_hook: HookFactory) -> None:
    ok, message = make_hook(extra=OAUTH_EXTRA).test_connection()
    assert ok is True and str(PORTAL_ID) in message
    assert hubspot_simulator.stats.token_refreshes == 1


def test_a_wrong_token_fails_in_plain_words(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    ok, message = make_hook(password=WRONG_TOKEN).test_connection()
    assert ok is False
    assert "token" in message.lower() and "refused" in message.lower()
    assert WRONG_TOKEN not in message
    assert hubspot_simulator.stats.requests == 1


def test_a_bad_refresh_token_fails_in_plain_words(make_hook: HookFactory) -> None:
    ok, message = make_hook(
        extra={**OAUTH_EXTRA, "refresh_token": "sim-refresh-token-gone"}
    ).test_connection()
    assert ok is False
    assert "refresh token" in message.lower()
    assert "sim-refresh-token" not in message and "sim-client-secret" not in message


@pytest.mark.hubspot_simulator(tokens={"sim-private-app-token": frozenset({"crm.objects.contacts.write"})})
def test_missing_scopes_are_named(make_hook: HookFactory) -> None:
    ok, message = make_hook().test_connection()
    assert ok is False
    assert "lacks scopes" in message and "crm.objects.companies.write" in message


def test_an_unreachable_host_fails_without_raising(make_hook: HookFactory) -> None:
    ok, message = make_hook(host=f"http://127.0.0.1:{closed_port()}").test_connection()
    assert ok is False
    assert "could not reach hubspot" in message.lower()


@pytest.mark.parametrize(
    ("host", "extra", "words"),
    [
        ("http://api.hubapi.com", {}, "must use https"),
        # A port that is no port: refused as a setting (not a urllib3 error out of the client's start).
        (
            "https://api.hubapi.com:99999",
            {},
            "settings are not usable: HubSpot host https://api.hubapi.com has a port",
        ),
        (
            "https://api.hubapi.com:abc",
            {},
            "settings are not usable: HubSpot host https://api.hubapi.com has a port",
        ),
        (None, {"auth_type": "oauth", "client_id": "sim-client-id"}, "lacks client_secret, refresh_token"),
        (None, {"auth_type": "basic"}, "auth_type"),
        (None, {"tier": "platinum"}, "tier"),
    ],
)
def test_unusable_settings_fail_without_raising(
    host: str | None,
    extra: dict[str, Any],
    words: str,
    make_hook: HookFactory,
    hubspot_simulator: HubSpotSimulator,
) -> None:
    ok, message = make_hook(host=host, extra=extra).test_connection()
    assert ok is False and words in message
    assert hubspot_simulator.stats.requests == 0


def test_test_connection_leaves_the_hook_usable(
    hubspot_simulator: HubSpotSimulator, make_hook: HookFactory
) -> None:
    hook = make_hook()
    assert hook.test_connection()[0] is True
    assert hook.client.config.max_attempts == 8  # the test's quick retry budget did not stick


# ------------------------------------------------------------------ the UI's code path
def ui_test(monkeypatch: pytest.MonkeyPatch, **fields: Any) -> tuple[bool, str]:
    """What Airflow 3's ``POST /connections/test`` does: a transient connection exported as an env var
    (its URI), then ``Connection.test_connection()`` (ProvidersManager -> hook -> test_connection)."""
    from airflow.models.connection import Connection

    conn = Connection(conn_id="hubspot_ui_probe", conn_type="hubspot", **fields)
    monkeypatch.setenv("AIRFLOW_CONN_HUBSPOT_UI_PROBE", conn.get_uri())
    status, message = conn.test_connection()
    return bool(status), str(message)


def test_the_ui_test_button_passes(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok, message = ui_test(monkeypatch, host=hubspot_simulator.url, password=hubspot_simulator.token)
    assert ok is True and str(PORTAL_ID) in message
    assert hubspot_simulator.stats.by_endpoint["account_info"] == 1


def test_the_ui_test_button_with_oauth_extras(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok, message = ui_test(monkeypatch, host=hubspot_simulator.url, extra=json.dumps(OAUTH_EXTRA))
    assert ok is True and str(PORTAL_ID) in message
    assert hubspot_simulator.stats.token_refreshes == 1


def test_the_ui_test_button_fails_for_a_wrong_token(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok, message = ui_test(monkeypatch, host=hubspot_simulator.url, password=WRONG_TOKEN)
    assert ok is False and "token" in message.lower() and WRONG_TOKEN not in message


def test_the_ui_test_button_tolerates_a_port_of_zero(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok, _ = ui_test(monkeypatch, host=hubspot_simulator.url, password=hubspot_simulator.token, port=0)
    assert ok is True


# ------------------------------------------------------------- provider metadata and form
def test_provider_info_describes_the_hubspot_connection() -> None:
    info = get_provider_info()
    assert info["package-name"] == "airflow-provider-hubspot-assoc"
    assert info["versions"][0] == __version__ and info["name"] and info["description"]
    (conn_type,) = [c for c in info["connection-types"] if c["connection-type"] == "hubspot"]
    module, _, name = conn_type["hook-class-name"].rpartition(".")
    assert getattr(importlib.import_module(module), name) is HubSpotHook
    assert HubSpotHook.conn_type == "hubspot" and conn_type["hook-name"] == HubSpotHook.hook_name
    fields = conn_type["conn-fields"]
    secrets = {name for name, spec in fields.items() if spec["schema"].get("format") == "password"}
    assert secrets == {"client_secret", "refresh_token"}
    assert all(spec["label"] and "type" in spec["schema"] for spec in fields.values())
    assert {"password", "host"} <= conn_type["ui-field-behaviour"]["relabeling"].keys()


def test_every_form_field_reaches_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """A field the form shows but the hook ignores would silently do nothing."""
    values: dict[str, Any] = {
        "auth_type": "oauth",
        "client_id": "form-client-id",
        "client_secret": "form-client-secret",
        "refresh_token": "form-refresh-token",
        "oauth_endpoint": "/oauth/2026-03/token",
        "api_version": "2026-03",
        "tier": "starter",
        "requests_per_10s": 77,
        "requests_per_day": 5000,
        "account_timezone": "Europe/Berlin",
        "max_in_flight": 3,
        "read_timeout": 12.5,
        "max_attempts": 4,
        "batch_size": 40,
        "max_pairs_per_request": 400,
    }
    fields = get_provider_info()["connection-types"][0]["conn-fields"]
    assert set(values) == set(fields)
    for prefix in ("", "extra__hubspot__"):  # plain names, and the older prefixed form
        set_connection(
            monkeypatch, None, host="https://api.hubapi.com", **{prefix + k: v for k, v in values.items()}
        )
        config = HubSpotHook().client_config()
        assert config.oauth is not None and config.access_token is None
        assert (config.oauth.client_id, config.oauth.client_secret, config.oauth.refresh_token) == (
            "form-client-id",
            "form-client-secret",
            "form-refresh-token",
        )
        assert config.oauth.token_url == "/oauth/2026-03/token"
        assert (config.api_version, config.requests_per_window, config.daily_limit) == ("2026-03", 77, 5000)
        assert (config.account_timezone, config.max_in_flight) == ("Europe/Berlin", 3)
        assert (config.read_timeout, config.max_attempts, config.batch_size) == (12.5, 4, 40)
        assert config.max_pairs_per_request == 400


def test_the_tier_sets_the_limits_unless_overridden(monkeypatch: pytest.MonkeyPatch) -> None:
    set_connection(monkeypatch, None, host="https://api.hubapi.com", password="pat-x", tier="starter")
    config = HubSpotHook().client_config()
    assert (config.requests_per_window, config.daily_limit, config.base_url) == (
        100,
        250_000,
        "https://api.hubapi.com",
    )
    set_connection(monkeypatch, None, host="", password="pat-x", requests_per_10s="", max_in_flight="")
    config = HubSpotHook().client_config()  # the form sends empty strings for empty fields
    assert (config.requests_per_window, config.max_in_flight, config.base_url) == (
        190,
        None,
        "https://api.hubapi.com",
    )
    assert HubSpotHook(batch_size=5).client_config().batch_size == 5  # hook overrides win


def test_an_override_left_unset_keeps_the_connections_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Operators pass ``max_in_flight=None`` etc. when the user set nothing: the connection decides."""
    set_connection(monkeypatch, None, password="pat-x", max_in_flight=1, batch_size=40)
    config = HubSpotHook(max_in_flight=None, batch_size=None).client_config()
    assert (config.max_in_flight, config.batch_size) == (1, 40)
    assert HubSpotHook(max_in_flight=3).client_config().max_in_flight == 3


def test_providers_manager_knows_the_hubspot_connection_type() -> None:
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    hook = manager.hooks.get("hubspot")
    assert hook is not None
    assert hook.hook_class_name == "airflow_provider_hubspot_assoc.hooks.hubspot.HubSpotHook"
    assert hook.connection_id_attribute_name == "hubspot_conn_id" and hook.connection_testable
    widgets = manager.connection_form_widgets
    assert widgets["extra__hubspot__client_secret"].is_sensitive
    assert widgets["extra__hubspot__refresh_token"].is_sensitive
    assert not widgets["extra__hubspot__client_id"].is_sensitive
    assert "port" in manager.field_behaviours["hubspot"]["hidden_fields"]
    entry_points = importlib.metadata.entry_points(group="apache_airflow_provider")
    assert any(ep.value.endswith(":get_provider_info") and "hubspot" in ep.value for ep in entry_points)
