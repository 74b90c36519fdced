"""Row parsing and label resolution (pure logic)."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from typing import Any

import pytest

from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.label_resolver import LabelResolver, needs_definitions
from airflow_provider_hubspot_assoc.row_parser import Rejection, Removal, RowParser

DEFINITIONS = [
    {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None},
    {"category": "HUBSPOT_DEFINED", "typeId": 1, "label": "Primary"},
    {"category": "USER_DEFINED", "typeId": 28, "label": "Billing contact"},
]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"from_id": "1", "to_id": "2"}, [("1", "2")]),
        ({"from_id": 1, "to_id": 2.0}, [("1", "2")]),
        ((" 7 ", "8"), [("7", "8")]),
        ({"from": {"id": "1"}, "to": [{"id": "2"}, {"id": 3}]}, [("1", "2"), ("1", "3")]),
    ],
)
def test_archive_rows_in_every_shape(raw: Any, expected: list[tuple[str, str]]) -> None:
    parsed = RowParser("archive").parse(raw, 4)
    assert isinstance(parsed, list)
    assert [r.pair for r in parsed] == expected
    assert {r.row for r in parsed} == {4}


@pytest.mark.parametrize(
    ("raw", "field", "reason_part"),
    [
        ({"from_id": "x", "to_id": "2"}, "from_id", "not a HubSpot record id"),
        ({"from_id": "1", "to_id": -2}, "to_id", "not a HubSpot record id"),
        ({"from_id": "1"}, "to_id", "missing"),
        (("1", "2", "3"), "row", "(from_id, to_id)"),
        ("1,2", "row", "must be a dict"),
        ({"from": {"id": "1"}, "to": []}, "to", "non-empty"),
        ({"from": {"id": "1"}, "to": [{"id": "1e3"}]}, "to_id", "not a HubSpot record id"),
        ({"from": "1", "to": [{"id": "2"}]}, "from.id", "missing"),
    ],
)
def test_archive_rejections_name_row_field_and_reason(raw: Any, field: str, reason_part: str) -> None:
    parsed = RowParser("archive").parse(raw, 9)
    assert isinstance(parsed, Rejection)
    assert (parsed.row, parsed.field) == (9, field)
    assert reason_part in parsed.reason
    assert str(parsed).startswith(f"row 9, {field}: ")


def test_column_map_renames_fields_and_names_the_users_column_in_rejections() -> None:
    parser = RowParser("archive", {"from_id": "contact_id", "to_id": "company_id"})
    assert parser.parse({"contact_id": 5, "company_id": 6}, 1) == [Removal(1, "5", "6")]
    rejection = parser.parse({"contact_id": "five", "company_id": 6}, 2)
    assert isinstance(rejection, Rejection) and rejection.field == "contact_id"
    with pytest.raises(ValueError, match="column_map keys"):
        RowParser("archive", {"contact": "x"})


@pytest.mark.parametrize("kind", ["labels", "create"])
def test_label_rows_by_id_name_tuple_and_native(kind: str) -> None:
    """Label removals, and association types to create, are given in the same row shapes."""
    parser = RowParser(kind)
    assert parser.kind is Kind(kind)
    assert parser.parse({"from_id": 1, "to_id": 2, "association_type_id": "28"}, 1) == [
        Removal(1, "1", "2", None, 28)
    ]
    assert parser.parse((1, 2, "Primary"), 2) == [Removal(2, "1", "2", None, None, "Primary")]
    assert parser.parse((1, 2, 279, "hubspot_defined"), 3) == [Removal(3, "1", "2", "HUBSPOT_DEFINED", 279)]
    native = {
        "from": {"id": "1"},
        "to": {"id": "2"},
        "types": [
            {"associationCategory": "USER_DEFINED", "associationTypeId": 28},
            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1},
        ],
    }
    assert [r.type_id for r in parser.parse(native, 4)] == [28, 1]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"from_id": 1, "to_id": 2}, "association_type_id"),
        ({"from_id": 1, "to_id": 2, "association_type_id": 0}, "association_type_id"),
        ({"from_id": 1, "to_id": 2, "association_type_id": 2**31}, "association_type_id"),
        (
            {"from_id": 1, "to_id": 2, "association_type_id": 5, "association_category": "NOPE"},
            "association_category",
        ),
    ],
)
def test_label_rejections(raw: Any, field: str) -> None:
    parsed = RowParser("labels").parse(raw, 1)
    assert isinstance(parsed, Rejection) and parsed.field == field


@pytest.mark.parametrize(
    ("raw", "field", "reason_part"),
    [
        ({"from_id": 1, "to_id": 2}, "association_type_id", "an association to create needs"),
        ({"from_id": 1, "to_id": 2, "label": " "}, "association_type_id", "an association to create needs"),
        ((1, 2), "row", "type id or label"),
        ({"from": {"id": "1"}, "to": {"id": "2"}}, "types", "non-empty list"),
        ({"from": {"id": "1"}, "to": {"id": "2"}, "types": []}, "types", "non-empty list"),
        ({"from": {"id": "1"}, "to": [{"id": "2"}], "types": [{}]}, "to.id", "missing"),
    ],
)
def test_a_create_row_without_an_association_type_is_rejected_naming_the_field(
    raw: Any, field: str, reason_part: str
) -> None:
    parsed = RowParser(Kind.CREATE).parse(raw, 3)
    assert isinstance(parsed, Rejection)
    assert (parsed.row, parsed.field) == (3, field)
    assert reason_part in parsed.reason


def test_label_resolver() -> None:
    resolver = LabelResolver(DEFINITIONS, "contacts", "companies")
    by_name = resolver.resolve(Removal(1, "1", "2", None, None, "billing CONTACT"))
    assert by_name == Removal(1, "1", "2", "USER_DEFINED", 28, "billing CONTACT")
    assert resolver.resolve(Removal(2, "1", "2", None, 279)) == Removal(2, "1", "2", "HUBSPOT_DEFINED", 279)
    unknown = resolver.resolve(Removal(3, "1", "2", None, None, "Nope"))
    assert isinstance(unknown, Rejection) and "'Billing contact'" in unknown.reason
    wrong_category = resolver.resolve(Removal(4, "1", "2", "USER_DEFINED", 1))
    assert isinstance(wrong_category, Rejection) and wrong_category.field == "association_category"
    undefined = resolver.resolve(Removal(5, "1", "2", "USER_DEFINED", 99))
    assert isinstance(undefined, Rejection) and "no association type 99" in undefined.reason


def test_numeric_ids_from_sql_and_floats_beyond_exact_range() -> None:
    parser = RowParser(Kind.ARCHIVE)
    assert parser.parse((Decimal("101"), Decimal("5000.0")), 1) == [Removal(1, "101", "5000")]
    assert isinstance(parser.parse((Decimal("101.5"), 5000), 2), Rejection)
    assert parser.parse((101.0, 5000), 3) == [Removal(3, "101", "5000")]
    too_big = parser.parse((float(2**60), 5000), 4)  # a float this big is not an exact id any more
    assert isinstance(too_big, Rejection) and too_big.field == "from_id"


def test_an_empty_category_cell_is_resolved_from_the_definitions() -> None:
    parser = RowParser(Kind.LABELS)
    resolver = LabelResolver(
        [
            {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None},
            {"category": "USER_DEFINED", "typeId": 28, "label": "Billing contact"},
        ],
        "contacts",
        "companies",
    )
    for blank in ("", "  ", None):
        row = {"from_id": "101", "to_id": "5000", "association_type_id": 28, "association_category": blank}
        parsed = parser.parse(row, 1)
        assert isinstance(parsed, list)
        # named as HubSpot names it (a create's answer proves a label only by its name)
        assert resolver.resolve(parsed[0]) == Removal(1, "101", "5000", "USER_DEFINED", 28, "Billing contact")


def test_a_non_ascii_digit_type_id_is_rejected_naming_the_field() -> None:
    parsed = RowParser(Kind.LABELS).parse({"from_id": 1, "to_id": 2, "association_type_id": "²"}, 7)
    assert isinstance(parsed, Rejection)
    assert (parsed.row, parsed.field) == (7, "association_type_id")


LOOK_ALIKES = [
    *DEFINITIONS,
    {"category": "USER_DEFINED", "typeId": 36, "label": "VIP"},
    {"category": "USER_DEFINED", "typeId": 37, "label": "Vip"},
    {"category": "USER_DEFINED", "typeId": 40, "label": "Primary"},
]


def resolve(label: str, type_id: int | None = None, category: str | None = None) -> Removal | Rejection:
    row = {"from_id": 1, "to_id": 2, "label": label}
    if type_id is not None:
        row["association_type_id"] = type_id
    if category is not None:
        row["association_category"] = category
    parsed = RowParser(Kind.LABELS).parse(row, 3)
    assert isinstance(parsed, list) and len(parsed) == 1
    return LabelResolver(LOOK_ALIKES, "contacts", "companies").resolve(parsed[0])


def test_an_exact_label_name_wins_over_names_that_differ_in_case() -> None:
    assert resolve("VIP") == Removal(3, "1", "2", "USER_DEFINED", 36, "VIP")
    assert resolve("Vip") == Removal(3, "1", "2", "USER_DEFINED", 37, "Vip")


def test_a_loose_name_is_used_only_when_one_label_fits() -> None:
    assert resolve("  BILLING \t contact ") == Removal(3, "1", "2", "USER_DEFINED", 28, "BILLING \t contact")
    ambiguous = resolve("vip")
    assert isinstance(ambiguous, Rejection)
    assert (ambiguous.row, ambiguous.field) == (3, "label")
    assert ambiguous.reason == (
        "label 'vip' matches 2 labels: 'VIP' (USER_DEFINED 36), 'Vip' (USER_DEFINED 37); "
        "use the exact name or association_type_id"
    )


def test_an_exact_name_in_two_categories_needs_the_rows_category() -> None:
    ambiguous = resolve("Primary")
    assert isinstance(ambiguous, Rejection) and ambiguous.field == "label"
    assert "'Primary' (HUBSPOT_DEFINED 1), 'Primary' (USER_DEFINED 40)" in ambiguous.reason
    assert "association_category" in ambiguous.reason
    assert resolve("Primary", category="USER_DEFINED") == Removal(3, "1", "2", "USER_DEFINED", 40, "Primary")
    wrong = resolve("VIP", category="HUBSPOT_DEFINED")
    assert isinstance(wrong, Rejection) and wrong.field == "association_category"


def test_a_label_name_and_a_type_id_must_agree() -> None:
    assert resolve("VIP", type_id=36) == Removal(3, "1", "2", "USER_DEFINED", 36, "VIP")
    assert resolve("billing contact", type_id=28) == Removal(
        3, "1", "2", "USER_DEFINED", 28, "billing contact"
    )
    disagree = resolve("VIP", type_id=37)
    assert isinstance(disagree, Rejection) and (disagree.row, disagree.field) == (3, "label")
    assert "'VIP' (USER_DEFINED 36)" in disagree.reason
    assert "association_type_id is 37 ('Vip' (USER_DEFINED 37))" in disagree.reason
    ambiguous = resolve("vip", type_id=36)  # the name cannot confirm the type id
    assert isinstance(ambiguous, Rejection) and ambiguous.field == "label"
    unknown = resolve("Nope", type_id=36)
    assert isinstance(unknown, Rejection) and unknown.field == "label"


def test_a_row_naming_a_label_and_a_type_id_needs_the_definitions() -> None:
    row = {"from_id": 1, "to_id": 2, "label": "VIP", "association_type_id": 36}
    parsed = RowParser(Kind.LABELS).parse({**row, "association_category": "USER_DEFINED"}, 1)
    assert parsed == [Removal(1, "1", "2", "USER_DEFINED", 36, "VIP")]
    assert needs_definitions(parsed[0])


def test_a_label_that_is_not_text_is_rejected() -> None:
    parsed = RowParser(Kind.LABELS).parse(
        {"from_id": 1, "to_id": 2, "label": 5, "association_type_id": 36}, 4
    )
    assert isinstance(parsed, Rejection) and (parsed.row, parsed.field) == (4, "label")


@pytest.mark.parametrize("value", [2**63, "9223372036854775808", Decimal(2**63), "12345678901234567890"])
def test_ids_beyond_64_bit_signed_are_rejected(value: Any) -> None:
    parsed = RowParser(Kind.ARCHIVE).parse({"from_id": 1, "to_id": value}, 2)
    assert isinstance(parsed, Rejection) and (parsed.row, parsed.field) == (2, "to_id")
    assert RowParser(Kind.ARCHIVE).parse((2**63 - 1, "9223372036854775807"), 1) == [
        Removal(1, "9223372036854775807", "9223372036854775807")
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({1: "2", "from_id": 3, "to_id": 4}, [Removal(1, "3", "4")]),
        ({1: 2}, "row 1, from_id: missing; the row has 1"),
        ({None: 1, (1, 2): 3, "to_id": 4}, "row 1, from_id: missing; the row has None, (1, 2), to_id"),
    ],
)
def test_dict_rows_with_keys_that_are_not_strings(raw: Any, expected: Any) -> None:
    parsed = RowParser(Kind.ARCHIVE).parse(raw, 1)
    if isinstance(expected, str):
        assert isinstance(parsed, Rejection) and str(parsed).startswith(expected)
        json.dumps(parsed.describe())
    else:
        assert parsed == expected


def test_a_removal_is_a_frozen_value() -> None:
    """Made through its own ``__init__`` (for speed), a removal is still frozen, equal and hashed by
    its fields, with the same defaults, repr and ``replace``."""
    removal = Removal(3, "101", "202")
    assert (removal.category, removal.type_id, removal.label) == (None, None, None)
    assert removal == Removal(row=3, from_id="101", to_id="202", category=None, type_id=None, label=None)
    assert hash(removal) == hash(Removal(3, "101", "202")) and len({removal, Removal(3, "101", "202")}) == 1
    assert removal != Removal(3, "101", "203") and repr(removal).startswith("Removal(row=3, from_id='101'")
    labelled = dataclasses.replace(removal, category="USER_DEFINED", type_id=5, label="Boss")
    assert labelled == Removal(3, "101", "202", "USER_DEFINED", 5, "Boss") and removal.type_id is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        removal.row = 4  # type: ignore[misc]
