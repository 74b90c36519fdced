"""read_associations answers only for the ids it asked about, whatever the batch-read answers hold.

Results for ids a request did not name are ignored (and logged); repeated results never become
duplicate entries. The simulator's ``read_foreign_ids`` / ``read_repeat_results`` make HubSpot hostile;
where it cannot (a repeat with other types, a late result for a finished id), a scripted loopback
server stands in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_hubspot_assoc.testing import FaultConfig, HubSpotSimulator

from .conftest import HookFactory
from .test_hook_hardening import Scripted, client_for, send
from .test_hook_hardening import scripted as scripted  # the fixture, reused

COMPANIES = [str(5000 + k) for k in range(5)]


def _to_ids(found: dict[str, list[dict[str, Any]]], from_id: str) -> list[str]:
    return [target["toObjectId"] for target in found[from_id]]


def _types(target: dict[str, Any]) -> list[tuple[str, int]]:
    return [(t["category"], t["typeId"]) for t in target["associationTypes"]]


@pytest.fixture
def account(hubspot_simulator: HubSpotSimulator) -> HubSpotSimulator:
    """Contacts 101 and 102 with companies 5000-5004 (5000 also Primary); 900 and 901 likewise."""
    for contact in ("101", "102", "900", "901"):
        for company in COMPANIES:
            labels = ["Primary"] if company == "5000" else []
            hubspot_simulator.state.associate("contacts", contact, "companies", company, labels)
    return hubspot_simulator


@pytest.mark.hubspot_simulator(read_page_size=2, faults=FaultConfig(read_foreign_ids=("900", "901", "902")))
def test_results_for_ids_not_asked_about_are_ignored_and_logged(
    account: HubSpotSimulator, make_hook: HookFactory, caplog: pytest.LogCaptureFixture
) -> None:
    found = make_hook().read_associations("contacts", "companies", ["101", "102"])

    assert set(found) == {"101", "102"}
    assert _to_ids(found, "101") == _to_ids(found, "102") == COMPANIES
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("not asked" in w and "900" in w and "902" in w for w in warnings), warnings


@pytest.mark.hubspot_simulator(read_page_size=2, faults=FaultConfig(read_repeat_results=True))
def test_repeated_results_make_no_duplicate_entries(
    account: HubSpotSimulator, make_hook: HookFactory
) -> None:
    found = make_hook().read_associations("contacts", "companies", ["101", "102"])

    assert set(found) == {"101", "102"}
    for contact in ("101", "102"):
        assert _to_ids(found, contact) == COMPANIES
        assert _types(found[contact][0]) == [("HUBSPOT_DEFINED", 1), ("HUBSPOT_DEFINED", 279)]
        assert all(_types(t) == [("HUBSPOT_DEFINED", 279)] for t in found[contact][1:])


def _page(*results: dict[str, Any]) -> dict[str, Any]:
    return {"status": "COMPLETE", "results": list(results)}


def _result(from_id: str, targets: dict[str, list[int]], after: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "from": {"id": from_id},
        "to": [
            {
                "toObjectId": int(to_id),
                "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": t} for t in types],
            }
            for to_id, types in targets.items()
        ],
    }
    if after:
        result["paging"] = {"next": {"after": after}}
    return result


def test_a_repeated_target_merges_its_types_and_a_finished_id_takes_nothing_more(
    scripted: Callable[..., Scripted],
) -> None:
    first = _page(
        _result("100", {"5000": [279]}, after="p2"),
        _result("101", {"6000": [279]}),  # 101 is finished here
        _result("100", {"5000": [279, 1]}),  # the same target again, with one more type
    )
    second = _page(
        _result("100", {"5000": [1], "5001": [279]}),  # the last page of 100 repeats 5000
        _result("101", {"6001": [279]}),  # 101 was not asked about again: its pages were finished
        _result("777", {"7000": [279]}),  # never asked about
    )
    server = scripted(send(200, first), send(200, second))

    with client_for(server.url) as client:
        found = client.read_associations("contacts", "companies", ["100", "101"])

    assert set(found) == {"100", "101"}
    assert _to_ids(found, "100") == ["5000", "5001"]
    assert _types(found["100"][0]) == [("HUBSPOT_DEFINED", 279), ("HUBSPOT_DEFINED", 1)]
    assert _to_ids(found, "101") == ["6000"]
    assert len(server.seen) == 2


def test_a_to_id_that_is_not_a_record_id_stops_the_read() -> None:
    from airflow_provider_hubspot_assoc.exceptions import HubSpotError
    from airflow_provider_hubspot_assoc.hubspot.reads import CurrentAssociations

    current = CurrentAssociations(["101"], "POST read")
    answer = {
        "status": "COMPLETE",
        "results": [{"from": {"id": "101"}, "to": [{"toObjectId": "x1", "associationTypes": []}]}],
    }
    with pytest.raises(HubSpotError, match="holds a to-id that is not a record id"):
        current.take([{"id": "101"}], answer)
