"""The one row check of operators, mirrors and the sensor: parse, resolve labels, collect rejections."""

from __future__ import annotations

from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.label_resolver import LabelResolver
from airflow_provider_hubspot_assoc.row_checks import (
    MAX_ROWS_IN_MESSAGE,
    check_rows,
    needs_label_definitions,
    rejections_in,
    rejections_text,
    split_checked,
)
from airflow_provider_hubspot_assoc.row_parser import Rejection, Removal, RowParser

DEFINITIONS = [
    {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None},
    {"category": "HUBSPOT_DEFINED", "typeId": 1, "label": "Primary"},
]
RESOLVER = LabelResolver(DEFINITIONS, "contacts", "companies")


def test_rows_are_numbered_from_one_and_labels_resolved() -> None:
    rows = [(101, 5000, "Primary"), (102, 5000, 1), ("x", 5000, 1)]

    checked = list(check_rows(rows, RowParser(Kind.LABELS), RESOLVER))

    assert [number for number, _ in checked] == [1, 2, 3]
    removals, rejections = split_checked(checked)
    assert [(r.row, r.category, r.type_id) for r in removals] == [
        (1, "HUBSPOT_DEFINED", 1),
        (2, "HUBSPOT_DEFINED", 1),
    ]
    assert [(r.row, r.field) for r in rejections] == [(3, "from_id")]


def test_a_row_with_one_unresolvable_label_is_rejected_whole() -> None:
    native = {
        "from": {"id": "101"},
        "to": {"id": "5000"},
        "types": [
            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1},
            {"associationCategory": "USER_DEFINED", "associationTypeId": 77},
        ],
    }

    ((number, parsed),) = check_rows([native], RowParser(Kind.LABELS), RESOLVER)

    assert number == 1
    assert isinstance(parsed, Rejection) and parsed.field == "association_type_id"


def test_without_a_resolver_labels_are_only_parsed() -> None:
    checked = list(
        check_rows([(101, 5000, "Primary"), (102, 5000, 1, "HUBSPOT_DEFINED")], RowParser("labels"))
    )

    assert needs_label_definitions(checked)  # a label by name
    assert not needs_label_definitions(checked[1:])  # a type id with its category
    assert rejections_in(checked) == []
    first = checked[0][1]
    assert isinstance(first, list) and first == [Removal(1, "101", "5000", None, None, "Primary")]


def test_a_rejection_list_names_the_first_rows_and_counts_the_rest() -> None:
    rejections = [Rejection(n, "from_id", "missing") for n in range(1, MAX_ROWS_IN_MESSAGE + 6)]

    text = rejections_text(rejections)

    assert text.startswith("row 1, from_id: missing; row 2, from_id: missing")
    assert f"row {MAX_ROWS_IN_MESSAGE}, from_id" in text
    assert f"row {MAX_ROWS_IN_MESSAGE + 1}," not in text
    assert text.endswith("; and 5 more")
    assert rejections_text(rejections[:1]) == "row 1, from_id: missing"
