"""Mirror mode acts only on the from-ids it asked about, however hostile HubSpot's batch read is.

The simulator adds results for ids nobody asked about (``read_foreign_ids``) or repeats results like
a buggy pager (``read_repeat_results``); the plan, the deletions sent and the summary stay exact, and
the sensor downstream confirms the deletions through the same hostile reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hubspot_assoc.outcomes import BUCKETS
from airflow_provider_hubspot_assoc.testing import FaultConfig, HubSpotSimulator
from tests.airflow_helpers import DagResult, run_dag, set_rows, use_simulator

pytestmark = pytest.mark.usefixtures("airflow_db")

DAGS = Path(__file__).resolve().parents[2] / "dags" / "sim_hostile_dags.py"
CONTACTS = [str(101 + i) for i in range(10)]
COMPANIES = [str(5000 + k) for k in range(5)]
ASKED = {*CONTACTS, "120"}  # the desired rows' from-ids plus from_ids=["120"]
FOREIGN = FaultConfig(read_foreign_ids=("130", "140"))  # 130 has associations, 140 none
KEPT = {(c, k) for c in CONTACTS for k in COMPANIES[:3]} | {("130", k) for k in COMPANIES}


@pytest.fixture
def account(hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch) -> HubSpotSimulator:
    """Contacts 101-110, 120 and 130 with companies 5000-5004; the sync keeps 5000-5002 of 101-110."""
    for contact in [*CONTACTS, "120", "130"]:
        for company in COMPANIES:
            hubspot_simulator.state.associate("contacts", contact, "companies", company)
    use_simulator(monkeypatch, hubspot_simulator)
    set_rows(monkeypatch, [[c, k] for c in CONTACTS for k in COMPANIES[:3]])
    return hubspot_simulator


def assert_exact(result: DagResult, sim: HubSpotSimulator, planned: int, asked: set[str]) -> dict[str, Any]:
    """The run succeeded, sent each planned deletion once and only for asked ids; buckets add up."""
    assert result.state == "success", result.task_states
    assert result.task_states[("confirm", -1)] == "success"
    sync = result.xcom("sync")
    summary = sync["summary"]
    assert summary["received"] == sum(summary[b] for b in BUCKETS) + summary.get("unknown", 0), summary
    assert (summary["received"], summary["archived"], summary["duplicates"]) == (planned, planned, 0)
    assert sync["sync"]["planned_deletions"] == planned
    assert {f for f, _ in sim.stats.pair_sends} <= asked
    assert sum(sim.stats.pair_sends.values()) == planned
    assert max(sim.stats.pair_sends.values()) == 1
    deletions = [tuple(sorted(d.items())) for d in sync["sync"]["sample_deletions"]]
    assert len(deletions) == len(set(deletions))
    assert {d["from_id"] for d in sync["sync"]["sample_deletions"]} <= asked
    return dict(sync["sync"])


@pytest.mark.hubspot_simulator(faults=FOREIGN)
def test_foreign_ids_in_read_answers_keep_all_their_associations(account: HubSpotSimulator) -> None:
    result = run_dag("sim_hostile_sync", dag_file=DAGS)

    figures = assert_exact(result, account, planned=10 * 2 + 5, asked=ASKED)
    assert figures["current"] == 11 * 5
    assert account.state.pairs("contacts", "companies") == KEPT  # 130 keeps all five


@pytest.mark.hubspot_simulator(read_page_size=2, faults=FaultConfig(read_repeat_results=True))
def test_repeated_read_results_plan_each_extra_association_once(account: HubSpotSimulator) -> None:
    result = run_dag("sim_hostile_sync", dag_file=DAGS)

    figures = assert_exact(result, account, planned=10 * 2 + 5, asked=ASKED)
    assert figures["current"] == 11 * 5
    assert account.state.pairs("contacts", "companies") == KEPT


@pytest.mark.hubspot_simulator(
    read_page_size=2, faults=FaultConfig(read_foreign_ids=("130",), read_repeat_results=True)
)
def test_label_mirror_with_foreign_ids_and_repeated_results(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    billing = sim.state.define_label("contacts", "companies", "Billing contact")
    user = (billing.category, billing.type_id)
    contacts = CONTACTS[:4]
    for contact in [*contacts, "130"]:
        for company in COMPANIES[:3]:
            sim.state.associate("contacts", contact, "companies", company, ["Primary", user])
    use_simulator(monkeypatch, sim)
    set_rows(monkeypatch, [[c, k, "Primary"] for c in contacts for k in COMPANIES[:3]])

    result = run_dag("sim_hostile_sync_labels", dag_file=DAGS)

    assert_exact(result, sim, planned=4 * 3, asked=set(contacts))
    unlabeled, primary = ("HUBSPOT_DEFINED", 279), ("HUBSPOT_DEFINED", 1)
    for company in COMPANIES[:3]:
        for contact in contacts:
            assert sim.state.types_of("contacts", contact, "companies", company) == {unlabeled, primary}
        assert sim.state.types_of("contacts", "130", "companies", company) == {unlabeled, primary, user}
