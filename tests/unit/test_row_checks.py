"""The one row check of operators, mirrors and the sensor: parse, resolve labels, collect rejections."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.label_resolver import LabelResolver
from airflow_provider_hubspot_assoc.row_checks import (
    MAX_ROWS_IN_MESSAGE,
    KeptRows,
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


def test_kept_rows_give_back_exactly_what_was_checked() -> None:
    parser = RowParser("archive")
    rows: list[Any] = [
        {"from_id": 1, "to_id": "2"},
        (" 3 ", 4.0),
        {"from": {"id": "5"}, "to": [{"id": "6"}, {"id": "7"}]},
        {"from_id": "x", "to_id": 2},
        [9223372036854775807, 1],
    ]
    kept = KeptRows()
    passed = list(kept.keep(check_rows(rows, parser)))
    assert passed == list(check_rows(rows, parser))
    assert kept.complete and list(kept) == passed == list(kept)  # as often as asked


def test_kept_rows_give_up_past_their_limit_of_other_rows() -> None:
    parser = RowParser("archive")
    rows = [{"from": {"id": str(n)}, "to": [{"id": "1"}, {"id": "2"}]} for n in range(1, 5)]
    kept = KeptRows(max_other=2)
    assert len(list(kept.keep(check_rows(rows, parser)))) == 4
    assert not kept.complete
    with pytest.raises(RuntimeError, match="check them again"):
        list(kept)
