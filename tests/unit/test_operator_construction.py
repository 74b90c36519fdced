"""What the operators refuse or declare at DAG definition time (no request, no database)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from airflow.sdk import DAG, Asset

from airflow_provider_hubspot_assoc._compat import AirflowFailException
from airflow_provider_hubspot_assoc.operators import (
    BatchArchiveAssociationsOperator,
    BatchArchiveLabelsOperator,
    SyncAssociationsOperator,
)
from airflow_provider_hubspot_assoc.operators.assets import (
    DEFAULT_OUTLETS,
    HUBSPOT_ASSET_ALIAS,
    hubspot_asset,
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


def test_the_asset_names_the_account_and_object_pair() -> None:
    asset = hubspot_asset("hubspot_eu", "contacts", "companies")
    assert asset.uri == "hubspot://hubspot_eu/associations/contacts/companies"


def test_every_operator_declares_the_alias_its_events_go_through() -> None:
    op = BatchArchiveLabelsOperator(task_id="t", inputs=[], hubspot_conn_id="hubspot_eu", **PAIR)
    assert op.outlets == [HUBSPOT_ASSET_ALIAS]
    assert op.outlets is not DEFAULT_OUTLETS  # the shared default is copied, never extended


def test_mapped_operators_declare_the_alias_too() -> None:
    """.partial() does not run __init__ at parse time: the alias comes from the signature's default."""
    with DAG("d", schedule=None):
        mapped = BatchArchiveAssociationsOperator.partial(task_id="t", **PAIR).expand(inputs=[[(1, 2)]])
        mirror = SyncAssociationsOperator.partial(task_id="s", **PAIR).expand(inputs=[[(1, 2)]])
    assert mapped.outlets == [HUBSPOT_ASSET_ALIAS]
    assert mirror.outlets == [HUBSPOT_ASSET_ALIAS]


def test_outlets_given_by_the_user_replace_the_alias() -> None:
    mine = Asset("s3://bucket/cleaned")
    op = BatchArchiveAssociationsOperator(task_id="t", inputs=[], outlets=[mine], **PAIR)
    assert op.outlets == [mine]
    assert BatchArchiveAssociationsOperator(task_id="u", inputs=[], outlets=[], **PAIR).outlets == []


def test_templated_object_types_skip_definition_checks() -> None:
    op = BatchArchiveAssociationsOperator(
        task_id="t", from_object_type="{{ params.f }}", to_object_type="companies", inputs=[]
    )
    assert op.outlets == [HUBSPOT_ASSET_ALIAS]  # the event names the rendered types, at run time
    assert set(op.template_fields) >= {"from_object_type", "to_object_type", "inputs", "sql", "parameters"}
