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
    entries,
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
        (11, 12),
        {"from_id": 13, "to_id": 14, "extra": "kept out"},
    ]
    kept = KeptRows()
    rejections = kept.check(rows, parser)
    assert [str(r) for r in rejections] == [str(r) for r in rejections_in(check_rows(rows, parser))]
    given = list(entries(rows, parser))
    assert kept.complete and list(kept.entries()) == list(kept.entries())  # as often as asked
    plain = [(number, f, t) for number, f, t, other in given if other is None]
    assert plain == [(5, 9223372036854775807, 1), (6, 11, 12), (7, 13, 14)]
    # ... and the first pass keeps the rows of one pair of ids as text as their ids too.
    assert [(n, f, t) for n, f, t, other in kept.entries() if other is None] == [(1, 1, 2), (2, 3, 4), *plain]
    # Every entry, of either, stands for what check_rows makes of its row.
    for made in (given, list(kept.entries())):
        assert [
            (n, [Removal(n, str(f), str(t))] if other is None else other) for n, f, t, other in made
        ] == list(check_rows(rows, parser))


def test_kept_rows_give_up_past_their_limit_of_other_rows() -> None:
    parser = RowParser("archive")
    rows = [{"from": {"id": str(n)}, "to": [{"id": "1"}, {"id": "2"}]} for n in range(1, 5)]
    rows += [(7, 8), {"from_id": "x", "to_id": 1}, (9, 10)]
    kept = KeptRows(max_other=2)
    rejections = kept.check(rows, parser)
    assert [str(r) for r in rejections] == [
        "row 6, from_id: not a HubSpot record id (a positive whole number)"
    ]
    assert not kept.complete and not kept._from and not kept._other  # nothing more is kept
    with pytest.raises(RuntimeError, match="check them again"):
        list(kept.entries())


# Values a hostile or odd input may hold for an id: the fast path must read none of them differently.
ODD_IDS: list[Any] = [
    1,
    2**63 - 1,
    2**63,
    0,
    -1,
    True,
    False,
    1.0,
    2.5,
    "1",
    " 7 ",
    "007",
    "",
    None,
    [1],
    {"id": 1},
    2**64,
    -(2**63),
    float("nan"),
    b"1",
]


@pytest.mark.parametrize("from_id", ODD_IDS)
@pytest.mark.parametrize("to_id", [5, *ODD_IDS[1:6]])
def test_the_fast_path_reads_a_row_exactly_as_parse_does(from_id: Any, to_id: Any) -> None:
    """``plain_ids`` takes a row only when ``parse`` makes it one plain removal of those very ids."""
    parser = RowParser("archive", {"to_id": "company"})
    for row in (
        {"from_id": from_id, "company": to_id},
        (from_id, to_id),
        [from_id, to_id],
        {"from_id": from_id, "company": to_id, "from": {"id": 9}, "to": [{"id": 9}]},
    ):
        ids = parser.plain_ids(row)
        parsed = parser.parse(row, 3)
        if ids is not None:
            assert parsed == [Removal(3, str(ids[0]), str(ids[1]))]
            assert type(from_id) is int and (from_id, to_id) == ids
        else:
            assert not (
                type(from_id) is int
                and type(to_id) is int
                and parsed == [Removal(3, str(from_id), str(to_id))]
            )


def test_rows_of_other_shapes_never_take_the_fast_path() -> None:
    parser = RowParser("archive")
    for row in (
        (1, 2, 3),
        [1],
        {"from_id": 1},
        {"to_id": 2},
        {"from": {"id": 1}, "to": [{"id": 2}]},
        "1,2",
        12,
    ):
        assert parser.plain_ids(row) is None
    for kind in ("labels", "create"):
        assert RowParser(kind).plain_ids({"from_id": 1, "to_id": 2}) is None


def test_rows_of_one_pair_of_text_ids_are_kept_as_their_ids() -> None:
    """Ids as text (JSON from an upstream task, a CSV) make one plain pair as ints do: such rows are
    kept as their two ids, not as other rows (past ``max_other`` of those, every row is parsed again),
    and each stands for the very removal ``check_rows`` makes of it."""
    parser = RowParser("archive")
    rows: list[Any] = [{"from_id": str(100 + n), "to_id": " 5000 "} for n in range(5)] + [
        (" 3 ", 4.0),
        {"from": {"id": "5"}, "to": [{"id": "6"}]},
        ("9223372036854775807", "1"),
    ]
    kept = KeptRows(max_other=2)
    assert kept.check(rows, parser) == []
    assert kept.complete
    given = list(kept.entries())
    assert all(other is None for _, _, _, other in given)
    assert [(n, [Removal(n, str(f), str(t))]) for n, f, t, _ in given] == list(check_rows(rows, parser))
