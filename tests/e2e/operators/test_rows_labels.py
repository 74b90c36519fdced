"""Rows into removals end to end: label names, odd dict keys, what ``inputs`` may be (``dag.test()``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator
from tests.airflow_helpers import run_dag, set_rows, use_simulator

pytestmark = pytest.mark.usefixtures("airflow_db")

DAGS = Path(__file__).resolve().parents[2] / "dags" / "rows_labels_dags.py"
LARGE_INPUTS_DAGS = Path(__file__).resolve().parents[2] / "dags" / "large_inputs_dags.py"
BUCKETS = ("archived", "rejected", "failed", "duplicates", "planned")
UNLABELED, PRIMARY = ("HUBSPOT_DEFINED", 279), ("HUBSPOT_DEFINED", 1)
VIP, VIP_LOWER, VIP_TITLE, BILLING = (
    ("USER_DEFINED", 36),
    ("USER_DEFINED", 37),
    ("USER_DEFINED", 38),
    ("USER_DEFINED", 28),
)


def assert_buckets_add_up(summary: dict[str, Any]) -> None:
    assert summary["received"] == sum(summary[b] for b in BUCKETS), summary


def archive_requests(sim: HubSpotSimulator) -> int:
    return sum(1 for r in sim.stats.log if r.endpoint in ("archive", "archive_labels"))


def types_of(sim: HubSpotSimulator, contact: str) -> set[tuple[str, int]]:
    return sim.state.types_of("contacts", contact, "companies", "5000")


def define_look_alike_labels(sim: HubSpotSimulator, *contacts: str) -> None:
    """ "VIP", "vip", "Vip" and "Billing contact", all on contact-company 5000 of each contact."""
    for name, (_, type_id) in (
        ("VIP", VIP),
        ("vip", VIP_LOWER),
        ("Vip", VIP_TITLE),
        ("Billing contact", BILLING),
    ):
        sim.state.define_label("contacts", "companies", name, type_id=type_id)
    for contact in contacts:
        sim.state.associate("contacts", contact, "companies", "5000", [VIP, VIP_LOWER, VIP_TITLE, BILLING])


def task_output(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    return captured.out + captured.err


def test_a_label_name_removes_that_label_never_one_that_differs_in_case(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    define_look_alike_labels(sim, "101", "102", "103", "104", "105")
    use_simulator(monkeypatch, sim)
    set_rows(
        monkeypatch,
        [
            {"from_id": "101", "to_id": "5000", "label": "vip"},  # exact: "vip" only
            {"from_id": "102", "to_id": "5000", "label": "vIp"},  # fits three labels: ambiguous
            {"from_id": "103", "to_id": "5000", "label": " billing  CONTACT "},  # fits one label
            {"from_id": "104", "to_id": "5000", "label": "VIP", "association_type_id": 37},  # disagree
            {"from_id": "105", "to_id": "5000", "label": "Billing contact", "association_type_id": 28},
            {"from_id": "9223372036854775808", "to_id": "5000", "label": "VIP"},  # id beyond 2^63-1
        ],
    )

    response = run_dag("rl_labels_skip", dag_file=DAGS).xcom("archive_labels")

    summary = response["summary"]
    assert (summary["received"], summary["archived"], summary["rejected"]) == (6, 3, 3)
    assert_buckets_add_up(summary)
    everything = {UNLABELED, VIP, VIP_LOWER, VIP_TITLE, BILLING}
    assert types_of(sim, "101") == everything - {VIP_LOWER}
    assert types_of(sim, "102") == everything
    assert types_of(sim, "103") == everything - {BILLING}
    assert types_of(sim, "104") == everything
    assert types_of(sim, "105") == everything - {BILLING}
    rejected = {r["row"]: r for r in response["rejected_rows"]}
    assert set(rejected) == {2, 4, 6}
    assert rejected[2]["field"] == "label"
    assert rejected[2]["reason"] == (
        "label 'vIp' matches 3 labels: 'VIP' (USER_DEFINED 36), 'Vip' (USER_DEFINED 38), "
        "'vip' (USER_DEFINED 37); use the exact name or association_type_id"
    )
    assert rejected[4]["field"] == "label"
    assert "'VIP'" in rejected[4]["reason"] and "37" in rejected[4]["reason"]
    assert "36" in rejected[4]["reason"]
    assert rejected[6]["field"] == "from_id"


def test_a_label_name_in_two_categories_needs_the_rows_category(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sim = hubspot_simulator
    sim.state.define_label("contacts", "companies", "Primary", type_id=40)  # HubSpot's own is type 1
    user_primary = ("USER_DEFINED", 40)
    for contact in ("101", "102"):
        sim.state.associate("contacts", contact, "companies", "5000", [PRIMARY, user_primary])
    use_simulator(monkeypatch, sim)
    rows = [
        {"from_id": "101", "to_id": "5000", "label": "Primary"},
        {"from_id": "102", "to_id": "5000", "label": "Primary", "association_category": "USER_DEFINED"},
    ]
    set_rows(monkeypatch, rows)

    strict = run_dag("rl_labels_fail", dag_file=DAGS)

    assert strict.task_states[("archive_labels", -1)] == "failed"
    assert archive_requests(sim) == 0
    assert (
        "row 1, label: label 'Primary' matches 2 labels: 'Primary' (HUBSPOT_DEFINED 1), "
        "'Primary' (USER_DEFINED 40)" in task_output(capsys)
    )

    response = run_dag("rl_labels_skip", dag_file=DAGS).xcom("archive_labels")

    summary = response["summary"]
    assert (summary["received"], summary["archived"], summary["rejected"]) == (2, 1, 1)
    assert_buckets_add_up(summary)
    assert [(r["row"], r["field"]) for r in response["rejected_rows"]] == [(1, "label")]
    assert types_of(sim, "101") == {UNLABELED, PRIMARY, user_primary}
    assert types_of(sim, "102") == {UNLABELED, PRIMARY}


def test_the_label_mirror_keeps_the_label_named_exactly(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    sim.state.define_label("contacts", "companies", "VIP", type_id=36)
    sim.state.define_label("contacts", "companies", "vip", type_id=37)
    sim.state.associate("contacts", "101", "companies", "5000", [VIP, VIP_LOWER])
    use_simulator(monkeypatch, sim)
    set_rows(monkeypatch, [[101, 5000, "vip"]])

    result = run_dag("rl_sync_labels", dag_file=DAGS).xcom("sync")

    assert types_of(sim, "101") == {UNLABELED, VIP_LOWER}
    assert result["summary"]["archived"] == 1
    assert_buckets_add_up(result["summary"])


def test_the_label_mirror_refuses_ambiguous_and_disagreeing_desired_rows(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sim = hubspot_simulator
    define_look_alike_labels(sim, "101", "102")
    use_simulator(monkeypatch, sim)
    set_rows(
        monkeypatch,
        [
            [101, 5000, "vIp"],
            {"from_id": "102", "to_id": "5000", "label": "Vip", "association_type_id": 36},
        ],
    )

    result = run_dag("rl_sync_labels", dag_file=DAGS)

    assert result.task_states[("sync", -1)] == "failed"
    assert archive_requests(sim) == 0
    output = task_output(capsys)
    assert "row 1, label: label 'vIp' matches 3 labels: 'VIP' (USER_DEFINED 36)" in output
    assert "row 2, label: " in output
    assert types_of(sim, "101") == {UNLABELED, VIP, VIP_LOWER, VIP_TITLE, BILLING}


@pytest.mark.parametrize("policy", ["skip", "fail"])
def test_dict_rows_with_keys_that_are_not_strings(
    hubspot_simulator: HubSpotSimulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    policy: str,
) -> None:
    sim = hubspot_simulator
    for contact in ("101", "102"):
        sim.state.associate("contacts", contact, "companies", "5000")
    use_simulator(monkeypatch, sim)

    result = run_dag(f"rl_odd_keys_{policy}", dag_file=DAGS)

    output = task_output(capsys)
    assert "TypeError" not in output
    if policy == "fail":
        assert result.task_states[("archive", -1)] == "failed"
        assert "1 invalid input row(s) (nothing was sent): row 2, from_id: missing; the row has 1" in output
        assert archive_requests(sim) == 0
        return
    assert result.state == "success"
    response = result.xcom("archive")
    summary = response["summary"]
    assert (summary["received"], summary["archived"], summary["rejected"]) == (3, 2, 1)
    assert_buckets_add_up(summary)
    assert [(r["row"], r["field"]) for r in response["rejected_rows"]] == [(2, "from_id")]
    assert sim.state.count("contacts", "companies") == 0


@pytest.mark.parametrize(
    ("dag_id", "inputs", "given"),
    [
        ("rl_inputs_text", "10 1", "a string ('10 1')"),
        ("rl_inputs_text", "12", "a string ('12')"),
        ("rl_inputs_text", '"101"', "a string ('\"101\"')"),
        ("rl_inputs_text", '{"from_id": 101, "to_id": 5000}', 'a string (\'{"from_id"'),
        ("rl_inputs_native", {"from_id": 101, "to_id": 5000}, "a dict"),
        ("rl_inputs_bytes", "101,5000", "bytes"),
    ],
)
def test_inputs_that_are_not_a_list_of_rows_fail_saying_what_was_given(
    hubspot_simulator: HubSpotSimulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    dag_id: str,
    inputs: Any,
    given: str,
) -> None:
    sim = hubspot_simulator
    sim.state.associate("contacts", "101", "companies", "5000")
    use_simulator(monkeypatch, sim)

    result = run_dag(dag_id, dag_file=DAGS, run_conf={"inputs": inputs})

    assert result.task_states[("archive", -1)] == "failed"
    output = task_output(capsys)
    assert f"inputs must be a list of rows (or an upstream task's output), got {given}" in output
    assert archive_requests(sim) == 0
    assert sim.state.count("contacts", "companies") == 1


def test_inputs_rendered_to_a_json_array_are_decoded(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    for contact in ("101", "102"):
        sim.state.associate("contacts", contact, "companies", "5000")
    use_simulator(monkeypatch, sim)

    result = run_dag(
        "rl_inputs_json", dag_file=DAGS, run_conf={"inputs": [[101, 5000], {"from_id": "102", "to_id": 5000}]}
    )

    summary = result.xcom("archive")["summary"]
    assert (summary["received"], summary["archived"]) == (2, 2)
    assert_buckets_add_up(summary)
    assert sim.state.count("contacts", "companies") == 0


def test_a_bad_literal_row_past_the_rows_checked_at_parse_time_fails_the_run_naming_it(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The DAG file parses (only its first 1,000 literal rows are checked then); the run checks them all
    and sends nothing."""
    sim = hubspot_simulator
    sim.state.associate("contacts", "101", "companies", "5000")
    use_simulator(monkeypatch, sim)

    result = run_dag("li_bad_row_past_parse_time", dag_file=LARGE_INPUTS_DAGS)

    assert result.task_states[("archive", -1)] == "failed"
    output = task_output(capsys)
    assert "1 invalid input row(s) (nothing was sent): row 1200, from_id: not a HubSpot record id" in output
    assert archive_requests(sim) == 0
    assert sim.state.count("contacts", "companies") == 1
