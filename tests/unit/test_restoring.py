"""What a restore re-creates from a run's snapshot records: only what the run removed or may have
removed, each record as one create input, a bad record rejected naming its row, field and place."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.label_resolver import LabelResolver
from airflow_provider_hubspot_assoc.progress import Pipeline, Progress
from airflow_provider_hubspot_assoc.restoring import (
    SourceFigures,
    SourceFilter,
    check_rows,
    file_rows,
    table_rows,
)
from airflow_provider_hubspot_assoc.row_parser import Rejection, Removal, RowParser

UNLABELED = {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None}
PRIMARY = {"category": "HUBSPOT_DEFINED", "typeId": 1, "label": "Primary"}
BILLING = {"category": "USER_DEFINED", "typeId": 36, "label": "Billing"}
RUN = SourceFilter("manual__1", "cleanup", "archive")


def table_row(
    row: int, from_id: str | None, outcome: str, types: Any = None, map_index: int = -1
) -> dict[str, Any]:
    return {
        "map_index": map_index,
        "row_number": row,
        "from_id": from_id,
        "to_id": "5000",
        "association_type_id": None,
        "outcome": outcome,
        "types": json.dumps(types) if isinstance(types, list) else types,
    }


def created(rows: list[dict[str, Any]]) -> list[tuple[str, list[tuple[str, int]]]]:
    return [
        (r["from"]["id"], [(t["associationCategory"], t["associationTypeId"]) for t in r["types"]])
        for r in rows
    ]


def test_only_removals_the_run_made_or_may_have_made_are_restored() -> None:
    rows = [
        table_row(1, "101", "archived", [PRIMARY, UNLABELED]),  # the unlabeled type goes first
        table_row(2, "102", "unknown", [UNLABELED]),  # may have been removed
        table_row(3, "103", "snapshot", [UNLABELED, BILLING]),  # a killed try: no outcome row
        table_row(4, "104", "snapshot", [UNLABELED]),  # recorded, then HubSpot failed the removal
        table_row(4, "104", "failed"),
        table_row(5, "105", "archived"),  # already absent: nothing was recorded
        table_row(6, None, "rejected"),
        table_row(7, "101", "duplicate"),
        table_row(8, "106", "snapshot", [UNLABELED]),  # a retry's outcome row and an earlier snapshot
        table_row(8, "106", "archived", [UNLABELED, BILLING]),
    ]
    figures = SourceFigures()

    restored = created(list(table_rows(rows, figures)))

    assert restored == [
        ("101", [("HUBSPOT_DEFINED", 279), ("HUBSPOT_DEFINED", 1)]),
        ("102", [("HUBSPOT_DEFINED", 279)]),
        ("103", [("HUBSPOT_DEFINED", 279), ("USER_DEFINED", 36)]),
        ("106", [("HUBSPOT_DEFINED", 279), ("USER_DEFINED", 36)]),
    ]
    assert figures.as_json() == {"records": 5, "not_removed": 1}


def test_rows_of_two_map_indexes_with_one_row_number_are_two_removals() -> None:
    rows = [table_row(1, "101", "archived", [UNLABELED], 0), table_row(1, "101", "failed", None, 1)]
    assert [r["source"] for r in table_rows(rows, SourceFigures())] == ["row 1, map index 0"]


def jsonl(record: dict[str, Any]) -> str:
    identity = {"run_id": "manual__1", "dag_id": "cleanup", "task_id": "archive", "map_index": -1}
    return json.dumps({**identity, "from_type": "contacts", "to_type": "companies", **record})


def test_files_skip_other_runs_and_failed_removals_and_refuse_other_object_types() -> None:
    record = {"to_id": "5000", "association_type_id": None, "types": [UNLABELED]}
    lines = [
        jsonl({**record, "row_number": 1, "from_id": "101"}),
        jsonl({**record, "row_number": 2, "from_id": "102"}),  # failed: listed in failed.jsonl
        jsonl({**record, "row_number": 3, "from_id": "103", "run_id": "manual__2"}),  # another run
        jsonl({**record, "row_number": 4, "from_id": "104", "to_type": "deals"}),
        "",
        "{not json",
    ]
    figures = SourceFigures()
    failed = {(-1, 2, "102", "5000", None)}

    rows = list(
        file_rows(
            [(f"try-1.jsonl line {n}", line) for n, line in enumerate(lines, 1)],
            RUN,
            failed,
            ("contacts", "0-2"),
            figures,
        )
    )

    assert [r["from"]["id"] for r in rows if "refused" not in r] == ["101"]
    refused = [(r["source"], r["refused"]["field"]) for r in rows if "refused" in r]
    assert refused == [("try-1.jsonl line 4", "to_type"), ("try-1.jsonl line 6", "record")]
    assert figures.as_json() == {"records": 4, "not_removed": 1}


def test_a_bad_record_is_rejected_naming_its_row_its_field_and_where_it_was_recorded() -> None:
    rows = [
        table_row(1, "101", "archived", [UNLABELED]),
        table_row(2, "102", "archived", "not json"),
        table_row(3, "103", "archived", [{"category": "USER_DEFINED", "typeId": "x", "label": "Billing"}]),
        table_row(4, "10x", "archived", [UNLABELED]),
    ]
    checked = list(check_rows(table_rows(rows, SourceFigures()), RowParser(Kind.CREATE), None))

    assert checked[0] == (1, [Removal(1, "101", "5000", "HUBSPOT_DEFINED", 279)])
    rejections = [parsed for _, parsed in checked[1:]]
    assert all(isinstance(r, Rejection) for r in rejections)
    assert [(r.row, r.field) for r in rejections] == [
        (2, "types"),
        (3, "association_type_id"),
        (4, "from_id"),
    ]
    assert "(snapshot record: row 3, map index -1)" in str(rejections[1])


def test_a_type_whose_label_was_deleted_since_is_rejected_alone_and_the_others_are_sent() -> None:
    """Billing's definition is gone: only Billing's type is rejected (row, field, type, place); the
    record's unlabeled type and Primary are sent, and the buckets add up per type."""
    definitions = [{k: v for k, v in spec.items() if k != "label" or v} for spec in (UNLABELED, PRIMARY)]
    resolver = LabelResolver(definitions, "0-1", "0-2")
    rows = [
        table_row(1, "101", "archived", [UNLABELED, BILLING, PRIMARY]),
        table_row(2, "102", "archived", [BILLING]),
    ]
    checked = list(check_rows(table_rows(rows, SourceFigures()), RowParser(Kind.CREATE), resolver))

    first, second = (parsed for _, parsed in checked)
    assert isinstance(first, list) and isinstance(second, list)
    assert [r for r in first if isinstance(r, Removal)] == [
        Removal(1, "101", "5000", "HUBSPOT_DEFINED", 279),
        Removal(1, "101", "5000", "HUBSPOT_DEFINED", 1, "Primary"),
    ]
    rejected = [r for r in (*first, *second) if isinstance(r, Rejection)]
    assert [(r.row, r.field, r.value) for r in rejected] == [
        (1, "association_type_id", 36),
        (2, "association_type_id", 36),
    ]
    assert "'Billing'" in rejected[0].reason
    assert "(snapshot record: row 1, map index -1)" in rejected[0].reason
    pipeline = Pipeline(Kind.CREATE, 2, Progress.start("fp", 100, Kind.CREATE), dry_run=True)
    for batch in pipeline.batches(checked):
        pipeline.finish(batch, None)
    tally = pipeline.progress.tally
    assert (tally.received, tally.planned, tally.rejected) == (4, 2, 2)
    tally.check()
    assert pipeline.progress.rows_done == 2


@pytest.mark.parametrize(
    ("values", "named"),
    [
        (("", "cleanup", "archive"), "source_run_id"),
        (("manual__1", None, "archive"), "source_dag_id"),
        (("manual__1", "cleanup", "  "), "source_task_id"),
        (("manual__1", "cleanup", "archive", "one"), "source_map_index"),
    ],
)
def test_a_filter_missing_a_part_is_refused_naming_it(values: tuple[Any, ...], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        SourceFilter.of(*values)


def test_a_filter_matches_its_run_task_and_map_index_only() -> None:
    record = {"run_id": "manual__1", "dag_id": "cleanup", "task_id": "archive", "map_index": 2}
    assert SourceFilter.of("manual__1", "cleanup", "archive").matches(record)
    assert SourceFilter.of("manual__1", "cleanup", "archive", "2").matches(record)
    assert not SourceFilter.of("manual__1", "cleanup", "archive", 1).matches(record)
    assert not SourceFilter.of("manual__1", "other", "archive").matches(record)
    assert not SourceFilter.of("manual__2", "cleanup", "archive").matches(record)
