"""Rows passed in memory are parsed once: the check before sending keeps what the run then sends."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_hubspot_assoc.row_parser import RowParser
from airflow_provider_hubspot_assoc.testing import HubSpotSimulator
from tests.airflow_helpers import run_dag, set_rows, use_simulator
from tests.e2e.operators.test_operators_dag import archive_requests, assert_buckets_add_up, seed_pairs

pytestmark = pytest.mark.usefixtures("airflow_db")


def test_xcom_rows_are_parsed_once_and_each_lands_in_its_bucket(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    pairs = seed_pairs(sim, 40)  # 120 pairs
    rows: list[Any] = [{"from_id": f, "to_id": t} for f, t in pairs[:60]]
    rows += [[f, int(t)] for f, t in pairs[60:111]]
    rows += [{"from": {"id": pairs[111][0]}, "to": [{"id": t} for _, t in pairs[111:114]]}]  # native
    rows += [rows[0], {"from_id": f" {pairs[114][0]} ", "to_id": pairs[114][1]}]  # duplicate, spaces
    parsed: list[int] = []
    real_parse = RowParser.parse

    def counting(self: RowParser, raw: Any, row: int) -> Any:
        parsed.append(row)
        return real_parse(self, raw, row)

    monkeypatch.setattr(RowParser, "parse", counting)
    use_simulator(monkeypatch, sim)
    set_rows(monkeypatch, rows)

    result = run_dag("t_xcom_archive_strict")

    assert result.state == "success"
    summary = result.xcom("archive")["summary"]
    assert (summary["received"], summary["archived"], summary["duplicates"]) == (116, 115, 1)
    assert_buckets_add_up(summary)
    assert sim.state.pairs("contacts", "companies") == set(pairs[115:])
    assert archive_requests(sim) == 2
    assert sorted(parsed) == list(range(1, 115))  # each of the 114 rows once
