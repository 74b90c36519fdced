"""Provider metadata read by Airflow's ProvidersManager (entry point ``apache_airflow_provider``)."""

from __future__ import annotations

from typing import Any

from airflow_provider_hubspot_assoc.version import __version__


def _text(label: str, description: str, default: Any = None, **schema: Any) -> dict[str, Any]:
    field_schema: dict[str, Any] = {"type": ["string", "null"], **schema}
    if default is not None:
        field_schema["default"] = default
    return {"label": label, "schema": field_schema, "description": description}


def _integer(label: str, description: str) -> dict[str, Any]:
    return {"label": label, "schema": {"type": ["integer", "null"]}, "description": description}


CONNECTION_FIELDS: dict[str, dict[str, Any]] = {
    "auth_type": _text(
        "Auth type",
        "private_app: the access token in the Password field. oauth: client id, secret and "
        "refresh token below; access tokens are refreshed before they expire.",
        default="private_app",
        enum=["private_app", "oauth"],
    ),
    "client_id": _text("OAuth client id", "OAuth apps only."),
    "client_secret": _text("OAuth client secret", "OAuth apps only.", format="password"),
    "refresh_token": _text("OAuth refresh token", "OAuth apps only.", format="password"),
    # Airflow masks a field by name ("token", "key", "secret"...): a plain field named like a secret
    # would be shown and saved as "***". The hook still reads the former name, token_url.
    "oauth_endpoint": _text(
        "OAuth token path",
        "Path or URL of the token endpoint (HubSpot's v1 endpoint sunsets 2027-02-16).",
        default="/oauth/v1/token",
    ),
    "api_version": _text(
        "API version",
        "v4 (default) or a date version such as 2026-03.",
        default="v4",
    ),
    "tier": _text(
        "Account tier",
        "Sets the request limits unless given below.",
        default="professional",
        enum=["free", "starter", "professional", "enterprise", "api_limit_increase", "oauth_marketplace"],
    ),
    "requests_per_10s": _integer("Requests per 10 s", "Overrides the tier's burst limit."),
    "requests_per_day": _integer(
        "Requests per day", "A daily budget: past it, requests wait for midnight unsent (the tier's is none)."
    ),
    "account_timezone": _text(
        "Account time zone", "When the daily limit resets (midnight there).", default="UTC"
    ),
    "max_in_flight": _integer("Requests in flight", "Concurrency; chosen from the limit if empty."),
    "read_timeout": {
        "label": "Read timeout (s)",
        "schema": {"type": ["number", "null"], "default": 60},
        "description": "Seconds to wait for HubSpot's answer before retrying the (idempotent) request.",
    },
    "max_attempts": _integer("Attempts per request", "Retries of 429, 5xx, timeouts (default 8)."),
    "batch_size": _integer(
        "Inputs per request", "HubSpot inputs per request: a from id with its to ids is one (default 100)."
    ),
    "max_pairs_per_request": _integer("Pairs per request", "(from, to) pairs per request (default 100)."),
}

UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema", "port", "login", "extra"],
    "relabeling": {"password": "Private app access token", "host": "API host"},
    "placeholders": {
        "host": "https://api.hubapi.com (override for a proxy or the simulator)",
        "password": "pat-na1-...",
    },
}


INTEGRATION = "HubSpot CRM Associations"
# Each family's modules, as Airflow's own providers list them (``airflow providers hooks``, ``triggers``...).
MODULES: dict[str, list[str]] = {
    "hooks": ["airflow_provider_hubspot_assoc.hooks.hubspot"],
    "operators": [
        "airflow_provider_hubspot_assoc.operators.associations",
        "airflow_provider_hubspot_assoc.operators.restore",
        "airflow_provider_hubspot_assoc.operators.sync",
    ],
    "sensors": ["airflow_provider_hubspot_assoc.sensors.hubspot"],
    "triggers": ["airflow_provider_hubspot_assoc.triggers.wait"],
}


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-hubspot-assoc",
        "name": "HubSpot Associations",
        "description": "Remove HubSpot CRM associations and association labels in bulk, safely, and undo it.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": INTEGRATION,
                "external-doc-url": "https://developers.hubspot.com/docs/guides/api/crm/associations/associations-v4",
                "tags": ["service"],
            }
        ],
        **{
            family: [{"integration-name": INTEGRATION, "python-modules": list(modules)}]
            for family, modules in MODULES.items()
        },
        "connection-types": [
            {
                "connection-type": "hubspot",
                "hook-class-name": "airflow_provider_hubspot_assoc.hooks.hubspot.HubSpotHook",
                "hook-name": "HubSpot",
                "conn-fields": CONNECTION_FIELDS,
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
            }
        ],
    }
