"""One poisoned row must not sink a batch: HubSpot's whole-batch 400 is bisected down to the bad rows."""

from __future__ import annotations

import pytest

from airflow_provider_hubspot_assoc.hubspot.isolation import split_inputs
from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.testing import HubSpotSimulator
from tests.airflow_helpers import run_dag, set_rows, use_simulator

pytestmark = pytest.mark.usefixtures("airflow_db")


def seed(sim: HubSpotSimulator, contacts: int, companies: int) -> list[tuple[str, str]]:
    pairs = [(str(100 + c), str(5000 + k)) for c in range(contacts) for k in range(companies)]
    for from_id, to_id in pairs:
        sim.state.associate("contacts", from_id, "companies", to_id)
    return pairs


def test_split_inputs_halves_pairs_and_keeps_every_one() -> None:
    inputs = [
        {"from": {"id": "1"}, "to": [{"id": str(t)} for t in range(5)]},
        {"from": {"id": "2"}, "to": [{"id": "9"}]},
    ]
    left, right = split_inputs(Kind.ARCHIVE, inputs)
    flatten = [(i["from"]["id"], t["id"]) for part in (left, right) for i in part for t in i["to"]]
    assert sorted(flatten) == sorted([("1", str(t)) for t in range(5)] + [("2", "9")])
    assert sum(len(i["to"]) for i in left) == 3


def test_one_poisoned_row_fails_alone_and_everything_else_is_sent(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    pairs = seed(sim, 30, 10)  # 300 pairs: 3 requests of 100
    poisoned = ("117", "5004")
    sim.set_faults(poison_ids=("117",))
    sim.state.archive_pair("contacts", "117", "companies", "5004")  # keep only the poisoned pair of 117
    for k in range(10):
        if str(5000 + k) != poisoned[1]:
            sim.state.archive_pair("contacts", "117", "companies", str(5000 + k))
    rows = [list(p) for p in pairs if p[0] != "117" or p == poisoned]
    sim.state.associate("contacts", "117", "companies", "5004")
    use_simulator(monkeypatch, sim)
    set_rows(monkeypatch, rows)

    response = run_dag("t_xcom_archive").xcom("archive")

    summary = response["summary"]
    assert (summary["received"], summary["archived"], summary["failed"]) == (291, 290, 1)
    (failed,) = response["failed_rows"]
    assert (failed["from_id"], failed["to_id"]) == poisoned
    assert "One or more associations are invalid" in failed["error"]["message"]
    assert sim.state.pairs("contacts", "companies") == {poisoned}
    assert 0 < summary["isolation_requests"] <= 2 * 7 + 2  # about 2 log2(100) requests, bounded
    assert summary["isolation_requests"] == summary["requests"] - 3


def test_isolation_is_bounded_and_loses_nothing(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    pairs = seed(sim, 10, 10)
    poison = tuple(str(100 + c) for c in range(0, 10, 2))  # half of the contacts are poisoned
    sim.set_faults(poison_ids=poison)
    use_simulator(monkeypatch, sim, batch_size=100)
    set_rows(monkeypatch, [list(p) for p in pairs])

    response = run_dag("t_xcom_archive").xcom("archive")

    summary = response["summary"]
    assert summary["received"] == summary["archived"] + summary["failed"] == 100
    assert summary["isolation_requests"] <= 40  # the budget per refused batch
    left = sim.state.pairs("contacts", "companies")
    assert summary["archived"] == 100 - len(left) > 0  # what was isolated as clean was sent
    assert {(f, t) for f, t in pairs if f in poison} <= left  # poisoned pairs never applied
    assert summary["failed"] == len(left)
    notes = {
        row["error"]["message"].endswith("(not isolated: bisection budget spent)")
        for row in response["failed_rows"]
    }
    assert notes == {True, False}  # some isolated, some reported unisolated when the budget ran out
