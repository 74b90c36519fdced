"""Fuzzing: no object-type string can reach a URL path unvalidated; no row can crash the parser."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_hubspot_assoc.hubspot import ClientConfig, HubSpotClient
from airflow_provider_hubspot_assoc.object_types import InvalidObjectTypeError, validate_object_type
from airflow_provider_hubspot_assoc.row_parser import Rejection, RowParser

SAFE_SEGMENT = re.compile(r"^[a-z0-9_-]+$")
CLIENT = HubSpotClient(ClientConfig(base_url="https://api.hubapi.com", access_token="x" * 20))

nasty = st.one_of(
    st.text(),
    st.text(alphabet="./?#%&=:@ \\\t\n-_0123456789abcdefpP", max_size=30),
    st.sampled_from(
        ["contacts/../owners", "..", "%2e%2e", "0-1?x=1", "contacts#", "0-1/", "\uff12-1", "contacts\n"]
    ),
)


@given(nasty)
@settings(max_examples=400)
def test_object_types_are_safe_path_segments_or_refused(value: str) -> None:
    try:
        checked = validate_object_type(value)
    except InvalidObjectTypeError:
        with pytest.raises(ValueError, match="object type"):
            CLIENT.path(value, "companies", "batch/archive")
        return
    assert SAFE_SEGMENT.match(checked), checked
    path = CLIENT.path(value, "companies", "batch/archive")
    assert path == f"/crm/v4/associations/{checked}/companies/batch/archive"


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=12)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
row_like = st.one_of(
    json_values,
    st.fixed_dictionaries({"from_id": json_values, "to_id": json_values}),
    st.fixed_dictionaries({"from": json_values, "to": json_values, "types": json_values}),
    st.tuples(json_values, json_values, json_values),
)


@pytest.mark.parametrize("kind", ["archive", "labels"])
@given(row=row_like)
@settings(max_examples=300)
def test_any_row_is_parsed_or_rejected_never_crashes(kind: str, row: Any) -> None:
    parsed = RowParser(kind).parse(row, 7)
    if isinstance(parsed, Rejection):
        assert parsed.row == 7 and parsed.field and parsed.reason
        return
    assert parsed, "a parsed row yields at least one removal"
    for removal in parsed:
        assert removal.from_id.isdigit() and removal.to_id.isdigit()
        assert removal.row == 7
