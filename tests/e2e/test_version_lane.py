"""What must work on every supported Airflow version: ``make test`` runs this file (and tests/unit) in a
venv per supported minor version, besides the main suite on the pinned one.

Each operator and sensor runs through ``dag.test()`` against the simulator; the ``hubspot``
connection form is read from Airflow's API server, and a connection saved through it (private app
and OAuth) is used by a DAG run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hubspot_assoc._compat import AIRFLOW_RELEASE
from airflow_provider_hubspot_assoc.get_provider_info import CONNECTION_FIELDS
from airflow_provider_hubspot_assoc.testing import HubSpotSimulator
from tests.airflow_helpers import DagResult, run_dag, use_simulator
from tests.dags.versions_dags import ARCHIVE_ROWS
from tests.e2e.operators.test_operators_dag import assert_buckets_add_up

pytestmark = pytest.mark.usefixtures("airflow_db")

REPO = Path(__file__).resolve().parents[2]
DAG_FILE = REPO / "tests" / "dags" / "versions_dags.py"
UNLABELED, PRIMARY = ("HUBSPOT_DEFINED", 279), ("HUBSPOT_DEFINED", 1)


def seed(sim: HubSpotSimulator) -> tuple[str, int]:
    for from_id, to_id in ARCHIVE_ROWS:
        sim.state.associate("contacts", from_id, "companies", to_id)
    billing = sim.state.define_label("contacts", "companies", "Billing contact")
    user = (billing.category, billing.type_id)
    sim.state.associate("contacts", "301", "companies", "6000", ["Primary"])
    sim.state.associate("contacts", "302", "companies", "6000", [user])
    for k in range(3):
        sim.state.associate("contacts", "401", "companies", str(6000 + k))
    sim.state.associate("contacts", "501", "companies", "6000", ["Primary", user])
    return user


def assert_every_task_worked(result: DagResult, sim: HubSpotSimulator) -> None:
    assert result.state == "success", result.task_states
    assert set(result.task_states.values()) == {"success"}, result.task_states
    summaries = {task: result.xcom(task)["summary"] for task in ("archive", "labels", "sync", "sync_labels")}
    for summary in summaries.values():
        assert_buckets_add_up(summary)
    assert (summaries["archive"]["received"], summaries["archive"]["archived"]) == (60, 60)
    assert (summaries["labels"]["received"], summaries["labels"]["archived"]) == (2, 2)
    assert summaries["sync"]["archived"] == 2
    assert summaries["sync_labels"]["archived"] == 1
    state = sim.state
    assert all(not state.types_of("contacts", f, "companies", t) for f, t in ARCHIVE_ROWS)
    assert state.types_of("contacts", "301", "companies", "6000") == {UNLABELED}
    assert state.types_of("contacts", "302", "companies", "6000") == {UNLABELED}
    assert [bool(state.types_of("contacts", "401", "companies", str(6000 + k))) for k in range(3)] == [
        True,
        False,
        False,
    ]
    assert state.types_of("contacts", "501", "companies", "6000") == {UNLABELED, PRIMARY}


def test_each_operator_and_sensor_runs(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    seed(sim)
    use_simulator(monkeypatch, sim)

    result = run_dag("v_every_task", dag_file=DAG_FILE)

    assert_every_task_worked(result, sim)


def save_through_the_form(*users: dict[str, Any]) -> dict[str, Any]:
    """Read the form and save connections through Airflow's API, in a new process (tests/airflow_form.py)."""
    from airflow.configuration import conf

    done = subprocess.run(
        [sys.executable, "-m", "tests.airflow_form"],
        input=json.dumps(users),
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "AIRFLOW__CORE__FERNET_KEY": conf.get("core", "fernet_key")},  # as deployed
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    saved: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return saved


def test_connections_saved_through_the_form_work(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The form shows the HubSpot fields (from the hook on 3.1, from provider info on 3.2+), and what
    it saves works: a private-app token, and OAuth (client id, secret, refresh token over the defaults)."""
    sim = hubspot_simulator
    seed(sim)
    for conn_id in ("HUBSPOT_FORM", "HUBSPOT_FORM_OAUTH"):
        monkeypatch.delenv(f"AIRFLOW_CONN_{conn_id}", raising=False)
    oauth = {
        "auth_type": "oauth",
        "client_id": "sim-client-id",
        "client_secret": "sim-client-secret",
        "refresh_token": "sim-refresh-token",
    }

    saved = save_through_the_form(
        {"conn_id": "hubspot_form", "host": sim.url, "password": sim.token, "extra": {}},
        {"conn_id": "hubspot_form_oauth", "host": sim.url, "password": None, "extra": oauth},
    )

    assert saved["statuses"] == {"hubspot_form": 201, "hubspot_form_oauth": 201}, saved["statuses"]
    meta = saved["hook_meta"]
    fields = meta["extra_fields"] or {}
    assert sorted(fields) == sorted(CONNECTION_FIELDS), f"Airflow {AIRFLOW_RELEASE} shows {sorted(fields)}"
    assert {name for name, spec in fields.items() if spec["schema"].get("format") == "password"} == {
        "client_secret",
        "refresh_token",
    }
    assert fields["auth_type"]["value"] == "private_app"
    assert fields["auth_type"]["schema"]["enum"] == ["private_app", "oauth"]
    standard = meta["standard_fields"]
    assert standard["password"]["title"] == "Private app access token"
    assert standard["port"]["hidden"] and standard["login"]["hidden"]

    result = run_dag("v_form_connections", dag_file=DAG_FILE)

    assert result.state == "success", result.task_states
    for task_id in ("hubspot_form", "hubspot_form_oauth"):
        summary = result.xcom(task_id)["summary"]
        assert (summary["received"], summary["archived"]) == (30, 30), task_id
        assert_buckets_add_up(summary)
    assert all(not sim.state.types_of("contacts", f, "companies", t) for f, t in ARCHIVE_ROWS)
    assert sim.stats.token_refreshes >= 1  # the OAuth connection got its access token
