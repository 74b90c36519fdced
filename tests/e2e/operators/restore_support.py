"""What the restore tests share: their DAG file, the bucket invariant, the account's set of types."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator

DAGS = Path(__file__).resolve().parents[2] / "dags" / "restore_dags.py"
BUCKETS = ("restored", "rejected", "failed", "duplicates", "unknown", "planned")
FROM_TO = ("contacts", "companies")
Typed = set[tuple[str, str, str, int]]


def assert_buckets_add_up(summary: dict[str, Any]) -> None:
    """Every row of a restore in exactly one bucket, named for a restore."""
    assert summary["received"] == sum(summary[b] for b in BUCKETS), summary
    assert "archived" not in summary


def typed(sim: HubSpotSimulator) -> Typed:
    """Every (from, to, category, type id) of contacts -> companies, through the inspection API."""
    answer = requests.get(f"{sim.url}/_sim/associations?from=contacts&to=companies&types=1", timeout=10)
    return {(f, t, c, int(i)) for f, t, c, i in answer.json()["types"]}
