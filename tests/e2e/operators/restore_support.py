"""What the restore tests share: their DAG file, the bucket invariant, the account's set of types."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator
from tests.airflow_helpers import use_simulator

DAGS = Path(__file__).resolve().parents[2] / "dags" / "restore_dags.py"
BUCKETS = ("restored", "rejected", "failed", "duplicates", "unknown", "planned")
FROM_TO = ("contacts", "companies")
Typed = set[tuple[str, str, str, int]]
CONTACTS = [str(c) for c in range(100, 130)]


def seed_labeled_account(
    sim: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> HubSpotSimulator:
    """Contacts 100..129 with companies 5000 and 5001: unlabeled, Primary, and two user labels; the
    connection and the snapshot path (``AIRFLOW_VAR_SNAPSHOT_PATH``) the test DAGs read."""
    sim.state.define_label(*FROM_TO, "Billing")
    sim.state.define_label(*FROM_TO, "Former")
    for n, contact in enumerate(CONTACTS):
        labels = [(), ("Primary",), ("Billing",), ("Billing", "Former")][n % 4]
        sim.state.associate(FROM_TO[0], contact, FROM_TO[1], "5000", labels)
        sim.state.associate(FROM_TO[0], contact, FROM_TO[1], "5001", () if n % 2 else ("Former",))
    use_simulator(monkeypatch, sim)
    monkeypatch.setenv("AIRFLOW_VAR_SNAPSHOT_PATH", f"file://{tmp_path / 'kept'}")
    return sim


def assert_buckets_add_up(summary: dict[str, Any]) -> None:
    """Every row of a restore in exactly one bucket, named for a restore."""
    assert summary["received"] == sum(summary[b] for b in BUCKETS), summary
    assert "archived" not in summary


def typed(sim: HubSpotSimulator) -> Typed:
    """Every (from, to, category, type id) of contacts -> companies, through the inspection API."""
    answer = requests.get(f"{sim.url}/_sim/associations?from=contacts&to=companies&types=1", timeout=10)
    return {(f, t, c, int(i)) for f, t, c, i in answer.json()["types"]}


def labeled_pairs(sim: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch) -> HubSpotSimulator:
    """Contacts 100 and 101 with company 5000: one labeled Billing, one Primary; the DAGs use ``sim``."""
    sim.state.define_label(*FROM_TO, "Billing")
    sim.state.associate(FROM_TO[0], "100", FROM_TO[1], "5000", ("Billing",))
    sim.state.associate(FROM_TO[0], "101", FROM_TO[1], "5000", ("Primary",))
    use_simulator(monkeypatch, sim)
    return sim


def point_restore_at(monkeypatch: pytest.MonkeyPatch, run_id: str, dag_id: str) -> None:
    """Point the restore DAGs at the run to undo (the Variables they read)."""
    monkeypatch.setenv("AIRFLOW_VAR_RESTORE_RUN_ID", run_id)
    monkeypatch.setenv("AIRFLOW_VAR_RESTORE_DAG_ID", dag_id)
