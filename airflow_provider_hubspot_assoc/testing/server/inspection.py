"""The inspection API under ``/_sim/``: health, statistics, the account's associations, reset, faults, load.

No authentication (the simulator listens on loopback only). Bad input is answered with a 400 JSON
body naming what is wrong.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from airflow_provider_hubspot_assoc.object_types import InvalidObjectTypeError, validate_object_type
from airflow_provider_hubspot_assoc.testing import loading
from airflow_provider_hubspot_assoc.testing.config import FaultConfig
from airflow_provider_hubspot_assoc.testing.server.errors import Answer, error_body
from airflow_provider_hubspot_assoc.testing.state import SEEDS

if TYPE_CHECKING:
    from airflow_provider_hubspot_assoc.testing.server.simulator import HubSpotSimulator


def inspect(sim: HubSpotSimulator, method: str, path: str, query: str, body: bytes) -> Answer:
    """Answer one inspection request; bad input is a 400."""
    try:
        return _inspect(sim, method, path, query, body)
    except (ValueError, TypeError) as error:  # bad input answered, never a dropped connection
        return 400, error_body(str(error))


def _inspect(sim: HubSpotSimulator, method: str, path: str, query: str, body: bytes) -> Answer:
    params = {k: v[0] for k, v in parse_qs(query).items()}
    if method == "GET" and path == "/_sim/health":
        return 200, {"ok": True}
    if method == "GET" and path == "/_sim/stats":
        return 200, sim.stats.as_json()
    if method == "GET" and path == "/_sim/associations":
        from_type, to_type = params.get("from", "contacts"), params.get("to", "companies")
        for name, value in (("from", from_type), ("to", to_type)):
            try:
                validate_object_type(value)
            except InvalidObjectTypeError as error:
                raise loading.LoadError(f"{name}: {error}") from None
        pairs = sorted(sim.state.pairs(from_type, to_type))
        listed: dict[str, object] = {"from": from_type, "to": to_type, "count": len(pairs), "pairs": pairs}
        if params.get("types") in ("1", "true"):  # every (from, to, category, type id): labels included
            listed["types"] = sorted(sim.state.typed_pairs(from_type, to_type))
        return 200, listed
    if method == "GET" and path == "/_sim/count":
        return 200, {"count": sim.state.count()}
    if method == "POST" and path == "/_sim/reset":
        seed = params.get("seed")
        if seed is not None and seed not in SEEDS:
            raise loading.LoadError(f"unknown seed {seed!r}: use one of {', '.join(SEEDS)}")
        sim.reset(seed)
        return 200, {"ok": True}
    if method == "POST" and path == "/_sim/faults":
        settings = loading.json_object(body)
        unknown = sorted(set(settings) - {item.name for item in fields(FaultConfig)})
        if unknown:
            raise loading.LoadError(f"no fault setting {', '.join(unknown)}")
        try:
            sim.set_faults(**settings)
        except (TypeError, ValueError) as error:
            raise loading.LoadError(f"fault settings: {error}") from None
        return 200, asdict(sim.config.faults)
    if method == "POST" and path == "/_sim/load":
        return 200, loading.load(sim.state, loading.json_object(body))
    return 404, error_body(f"No inspection route {method} {path}", "OBJECT_NOT_FOUND")
