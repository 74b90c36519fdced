"""The hook's rows as HubSpot requests: every row checked first (the first bad one raises, naming the
row and the field), then batched by the operators' own pipeline, duplicates and all.

The operators collect bad rows and go on; a hook call is one program's list, so it refuses the list
before any request is sent. No Airflow import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from airflow_provider_hubspot_assoc import row_checks
from airflow_provider_hubspot_assoc.batching import Batch
from airflow_provider_hubspot_assoc.exceptions import InvalidInputError
from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.label_resolver import LabelResolver
from airflow_provider_hubspot_assoc.progress import Pipeline, Progress
from airflow_provider_hubspot_assoc.request_size import RequestSize
from airflow_provider_hubspot_assoc.row_parser import Rejection, Removal, RowParser

Parsed = TypeVar("Parsed")
Definitions = Callable[[], LabelResolver]  # fetched only when a label row needs them


def check_rows(
    kind: Kind, rows: Iterable[Any], definitions: Definitions | None = None
) -> list[tuple[int, list[Removal]]]:
    """Every row parsed into removals (numbered from 1); raises ``InvalidInputError`` for a bad row.

    Rows are checked by ``row_checks.check_rows``, as the operators check theirs. Label removals
    given by name, or by type id without category, are resolved through ``definitions``; when no row
    needs them, they are not fetched.

    :param kind: what the rows ask for (remove pairs or labels, or create association types).
    :param rows: the rows, in any shape ``RowParser`` takes (HubSpot's native inputs included).
    :param definitions: the label definitions of the direction; asked for only when a label row
        names a label, or gives a type id without its category.
    """
    listed = list(rows)  # read twice when labels need resolving: a generator is read once, here
    parser = RowParser(kind)
    checked = [(row, _sendable(parsed)) for row, parsed in row_checks.check_rows(listed, parser)]
    if kind.names_types and row_checks.needs_label_definitions(checked):
        if definitions is None:
            raise ValueError("label rows given by name (or without category) need the label definitions")
        resolved = row_checks.check_rows(listed, parser, definitions())
        checked = [(row, _sendable(parsed)) for row, parsed in resolved]
    return checked


def checked_batches(
    kind: Kind, checked: list[tuple[int, list[Removal]]], size: RequestSize | int
) -> Iterator[Batch]:
    """Batches of HubSpot's native inputs for rows ``check_rows`` passed, made by the operators' pipeline.

    ``size``: inputs and pairs a request holds (a number: ``batch_size`` inputs, default pair cap).
    A removal given twice is sent once (the later one is counted in its batch's
    ``duplicate_removals``), and a row that fits in one request is not split across two.
    """
    return Pipeline(kind, size, Progress(fingerprint="hook")).batches(checked)


def _sendable(parsed: Parsed | Rejection) -> Parsed:
    """``parsed`` itself (removals, or one removal), unless it is a rejection: that raises."""
    if not isinstance(parsed, Rejection):
        return parsed
    field = parsed.native_field or parsed.field
    value = parsed.describe()["value"]
    got = "" if value is None else f", got {value!r}"
    raise InvalidInputError(f"row {parsed.row}: {field} {parsed.reason}{got}", row=parsed.row, field=field)
