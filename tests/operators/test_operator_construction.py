"""What the operators refuse or declare at DAG definition time (no request, no database)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_hubspot_assoc.operators import (
    BatchArchiveAssociationsOperator,
    BatchArchiveLabelsOperator,
)

PAIR = {"from_object_type": "contacts", "to_object_type": "companies"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of inputs"),
        ({"inputs": [], "sql": "select 1", "conn_id": "x"}, "exactly one of inputs"),
        ({"sql": "select 1"}, "sql= needs conn_id="),
        ({"inputs": [], "on_invalid": "ignore"}, "on_invalid"),
        ({"inputs": [], "max_failed_ratio": 2}, "max_failed_ratio"),
        ({"inputs": [], "batch_size": 0}, "batch_size"),
        ({"inputs": [], "column_map": {"contact": "x"}}, "column_map"),
    ],
)
def test_bad_arguments_are_refused_at_definition(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        BatchArchiveAssociationsOperator(task_id="t", **PAIR, **kwargs)


@pytest.mark.parametrize("object_type", ["contacts/../owners", "contacts?limit=1", "0-1/batch", "", "%2e%2e"])
def test_object_types_that_could_reach_the_url_path_are_refused(object_type: str) -> None:
    with pytest.raises(ValueError, match=r"is not a HubSpot object type|non-empty"):
        BatchArchiveAssociationsOperator(
            task_id="t", from_object_type=object_type, to_object_type="companies", inputs=[]
        )


def test_invalid_literal_rows_fail_at_definition_naming_row_and_field() -> None:
    with pytest.raises(AirflowFailException) as caught:
        BatchArchiveAssociationsOperator(
            task_id="t", inputs=[{"from_id": 1, "to_id": 2}, {"from_id": "one", "to_id": 2}], **PAIR
        )
    assert "row 2, from_id: not a HubSpot record id" in str(caught.value)


def test_invalid_literal_rows_are_allowed_when_skipping() -> None:
    op = BatchArchiveAssociationsOperator(task_id="t", inputs=[("one", 2)], on_invalid="skip", **PAIR)
    assert op.inputs == [("one", 2)]


def test_asset_outlet_names_the_account_and_object_pair() -> None:
    op = BatchArchiveLabelsOperator(task_id="t", inputs=[], hubspot_conn_id="hubspot_eu", **PAIR)
    (asset,) = op.outlets
    assert asset.uri == "hubspot://hubspot_eu/associations/contacts/companies"


def test_templated_object_types_skip_definition_checks() -> None:
    op = BatchArchiveAssociationsOperator(
        task_id="t", from_object_type="{{ params.f }}", to_object_type="companies", inputs=[]
    )
    assert op.outlets == []
    assert set(op.template_fields) >= {"from_object_type", "to_object_type", "inputs", "sql", "parameters"}
