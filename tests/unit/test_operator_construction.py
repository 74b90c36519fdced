"""What the operators and sensors refuse or declare at DAG definition time (no request, no database)."""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest
from airflow.sdk import DAG, Asset

from airflow_provider_hubspot_assoc._compat import AirflowFailException
from airflow_provider_hubspot_assoc.operators import (
    BatchArchiveAssociationsOperator,
    BatchArchiveLabelsOperator,
    RestoreAssociationsOperator,
    SyncAssociationLabelsOperator,
    SyncAssociationsOperator,
)
from airflow_provider_hubspot_assoc.operators.assets import (
    DEFAULT_OUTLETS,
    HUBSPOT_ASSET_ALIAS,
    hubspot_asset,
)
from airflow_provider_hubspot_assoc.row_parser import RowParser
from airflow_provider_hubspot_assoc.sensors import (
    HubSpotAssociationsArchivedSensor,
    HubSpotBatchResponseSensor,
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


@pytest.mark.parametrize("operator", [BatchArchiveAssociationsOperator, SyncAssociationsOperator])
def test_a_deferral_resumes_from_its_event_alone(operator: type[Any]) -> None:
    """The checkpoint rides in the trigger's event; ``execute_resume`` takes no ``checkpoint=`` of its own."""
    assert list(inspect.signature(operator.execute_resume).parameters) == ["self", "context", "event"]


def test_a_large_literal_list_is_checked_only_in_part_while_the_dag_is_parsed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Parsing a DAG file stays fast: at most the first 1,000 literal rows are checked then (the run
    checks every row before sending any)."""
    parsed: list[int] = []
    parse = RowParser.parse

    def counting_parse(self: RowParser, raw: Any, row: int) -> Any:
        parsed.append(row)
        return parse(self, raw, row)

    monkeypatch.setattr(RowParser, "parse", counting_parse)
    rows = [(101 + n, 5000) for n in range(200_000)]
    rows[150_000] = ("one", 5000)  # found by the run, not by the DAG file's parse

    BatchArchiveAssociationsOperator(task_id="t", inputs=rows, **PAIR)

    assert 0 < len(parsed) <= 1_000
    assert max(parsed) <= 1_000


def test_a_bad_row_among_the_first_thousand_still_fails_at_definition() -> None:
    rows: list[Any] = [(101 + n, 5000) for n in range(5_000)]
    rows[999] = (101, "x")
    with pytest.raises(AirflowFailException, match="row 1000, to_id: not a HubSpot record id"):
        BatchArchiveAssociationsOperator(task_id="t", inputs=rows, **PAIR)


SENSOR = {"task_id": "confirm", **PAIR}


def test_sensors_take_deferrable_from_the_operators_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "True")
    assert HubSpotAssociationsArchivedSensor(inputs=[(1, 2)], **SENSOR).deferrable is True
    assert HubSpotBatchResponseSensor(task_id="check", response={}).deferrable is True
    assert HubSpotBatchResponseSensor(task_id="check", response={}, deferrable=False).deferrable is False

    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "False")
    assert HubSpotAssociationsArchivedSensor(inputs=[(1, 2)], **SENSOR).deferrable is False


ROW_FAMILIES = [
    BatchArchiveAssociationsOperator,
    BatchArchiveLabelsOperator,
    SyncAssociationsOperator,
    SyncAssociationLabelsOperator,
    HubSpotAssociationsArchivedSensor,
]
ROW_PARAMETERS = {"inputs", "sql", "conn_id", "parameters", "column_map", "fetch_size"}


@pytest.mark.parametrize("family", ROW_FAMILIES)
def test_every_family_templates_its_row_inputs_alike(family: type[Any]) -> None:
    """Operators, mirrors and the sensor read rows the same way, so they template them the same way."""
    assert set(family.template_fields) >= {"inputs", "sql", "conn_id", "parameters"}
    assert tuple(family.template_ext) == (".sql",)
    assert family.template_fields_renderers == {"sql": "sql", "inputs": "json", "parameters": "json"}


def test_the_row_parameters_are_declared_once_for_every_family() -> None:
    declaring = {
        klass
        for family in ROW_FAMILIES
        for klass in family.__mro__
        if "__init__" in vars(klass)
        and ROW_PARAMETERS & set(inspect.signature(vars(klass)["__init__"]).parameters)
    }
    assert len(declaring) == 1, declaring
    (base,) = declaring
    assert set(inspect.signature(vars(base)["__init__"]).parameters) >= ROW_PARAMETERS


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of inputs"),
        ({"inputs": [], "sql": "select 1", "conn_id": "x"}, "exactly one of inputs"),
        ({"sql": "select 1"}, "sql= needs conn_id="),
        ({"inputs": [], "column_map": {"contact": "x"}}, "column_map"),
        ({"inputs": [], "pairs": []}, "exactly one of inputs"),
    ],
)
def test_the_sensor_refuses_the_operators_bad_row_inputs(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        HubSpotAssociationsArchivedSensor(**SENSOR, **kwargs)


def test_the_sensor_takes_rows_as_inputs_and_pairs_alike() -> None:
    rows = [(1, 2)]
    assert HubSpotAssociationsArchivedSensor(inputs=rows, **SENSOR).inputs is rows
    older = HubSpotAssociationsArchivedSensor(pairs=rows, fetch_size=5, **SENSOR)
    assert older.inputs is rows and older.pairs is rows and older.fetch_size == 5
    with DAG("d", schedule=None):
        mapped = HubSpotAssociationsArchivedSensor.partial(**SENSOR).expand(inputs=[[(1, 2)]])
    assert mapped.task_id == "confirm"


@pytest.mark.parametrize("name", ["inputs", "pairs"])
def test_the_sensor_names_every_invalid_row_it_cannot_check(name: str) -> None:
    sensor = HubSpotAssociationsArchivedSensor(**{name: [(1, 2), ("one", 2), (3, "x")]}, **SENSOR)
    with pytest.raises(AirflowFailException) as caught:
        sensor.poke({})  # type: ignore[arg-type]  # rows are checked before HubSpot is asked
    assert "row 2, from_id: not a HubSpot record id" in str(caught.value)
    assert "row 3, to_id: not a HubSpot record id" in str(caught.value)


def test_a_mirror_checks_its_literal_desired_rows_in_their_own_column_names() -> None:
    columns = {"column_map": {"from_id": "contact_id", "to_id": "company_id"}}
    rows = [{"contact_id": 101, "company_id": 5000}]
    assert SyncAssociationsOperator(task_id="s", inputs=rows, **columns, **PAIR).inputs is rows
    with pytest.raises(AirflowFailException, match="row 1, contact_id: not a HubSpot record id"):
        SyncAssociationsOperator(
            task_id="s", inputs=[{"contact_id": "x", "company_id": 1}], **columns, **PAIR
        )


RUN = {
    "source_run_id": "scheduled__2026-11-28T02:00:00+00:00",
    "source_dag_id": "cleanup",
    "source_task_id": "archive",
}
TABLE = {"source_table": "hubspot_results", "source_conn_id": "warehouse"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({**RUN, **TABLE, "inputs": [[1, 2]]}, "not inputs="),
        ({**RUN, **TABLE, "sql": "select 1", "conn_id": "x"}, "not conn_id, sql="),
        ({**RUN, **TABLE, "snapshot": True}, "takes no snapshot"),
        ({**RUN}, "exactly one of source_table"),
        ({**RUN, **TABLE, "source_path": "s3://b/p"}, "exactly one of source_table"),
        ({**RUN, "source_table": "hubspot_results"}, "needs source_conn_id"),
        ({**RUN, **TABLE, "source_table": "results; drop table x"}, "plain table name"),
        ({**TABLE, **RUN, "source_run_id": ""}, "source_run_id"),
        ({**TABLE, **RUN, "source_task_id": None}, "source_task_id"),
        ({**TABLE, **RUN, "source_map_index": "first"}, "source_map_index"),
    ],
)
def test_a_restore_refuses_what_would_make_it_restore_the_wrong_thing(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        RestoreAssociationsOperator(task_id="t", **PAIR, **kwargs)


def test_a_restore_takes_its_run_from_templates_and_takes_no_snapshot() -> None:
    op = RestoreAssociationsOperator(
        task_id="t",
        source_run_id="{{ params.run_id }}",
        source_dag_id="cleanup",
        source_task_id="archive",
        source_table="hubspot_results",
        results_table="hubspot_results",
        results_conn_id="warehouse",
        **PAIR,
    )
    assert {"source_run_id", "source_map_index", "source_table", "source_path"} <= set(op.template_fields)
    assert "inputs" not in op.template_fields and "sql" not in op.template_fields
    assert op.snapshot is False and op.kind.done == "restored"
    assert op.outlets == [HUBSPOT_ASSET_ALIAS]


def test_inputs_read_once_become_a_list_and_a_list_is_left_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    """A generator is read into a list (the run reads its rows twice); a list is not set again, since
    setting a templated field makes Airflow walk every row for XCom references."""
    rows = [{"from_id": 1, "to_id": 2}, {"from_id": 3, "to_id": 4}]
    generated = BatchArchiveAssociationsOperator(task_id="g", inputs=(row for row in rows), **PAIR)
    generated._make_inputs_readable_again()
    assert generated.inputs == rows

    listed = BatchArchiveAssociationsOperator(task_id="l", inputs=rows, **PAIR)
    set_again: list[str] = []
    real = BatchArchiveAssociationsOperator.__setattr__

    def spy(self: Any, name: str, value: Any) -> None:
        set_again.append(name)
        real(self, name, value)

    monkeypatch.setattr(BatchArchiveAssociationsOperator, "__setattr__", spy)
    listed._make_inputs_readable_again()
    assert listed.inputs is rows and "inputs" not in set_again
