"""Undo: re-create what an archive run removed, every label included, from the run's snapshot."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_hubspot_assoc._compat import AirflowFailException
from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.label_resolver import LabelResolver
from airflow_provider_hubspot_assoc.object_types import validate_object_type
from airflow_provider_hubspot_assoc.operators.base import BaseHubSpotArchiveOperator, _templated
from airflow_provider_hubspot_assoc.operators.restore_source import FileSource, TableSource
from airflow_provider_hubspot_assoc.operators.row_input import ROW_INPUT_FIELDS
from airflow_provider_hubspot_assoc.restoring import SourceFigures, SourceFilter, check_rows
from airflow_provider_hubspot_assoc.results_table import check_table_name
from airflow_provider_hubspot_assoc.row_checks import CheckedRow, Entry, entries_of

if TYPE_CHECKING:
    from airflow_provider_hubspot_assoc._compat import Context

# What the archive operators read their rows from; a restore reads the snapshot instead.
NOT_TAKEN = (*ROW_INPUT_FIELDS, "column_map")


class RestoreAssociationsOperator(BaseHubSpotArchiveOperator):
    """Re-create exactly what an archive run removed, every label included (``.../batch/create``).

    The run to undo must have taken a snapshot (on by default when it had ``results_table`` or
    ``results_path``): its records say which association types each removal removed. Each record
    becomes one create input holding all of them, the unlabeled type first. Only what the run
    removed, or may have removed, comes back: records of removals it archived or whose outcome is
    unknown, and records a try killed before its end left behind; never those of removals it failed
    (they were not removed, and creating them could undo a later change). A label-only run gets its
    labels back, nothing else. Creating what exists adds nothing, so a restore can run again.

    The result is the archive operators', with ``restored`` for ``archived`` in its ``summary``
    (``received = restored + rejected + failed + duplicates + unknown + planned``), and ``restore``:
    the source, its snapshot records, and how many were skipped as not removed. Pacing, retries,
    dry run, write-back (no snapshot: a restore removes nothing), checkpoints, deferral and
    ``max_failed_ratio`` work as for the archive operators. A bad record is rejected naming its row,
    its field and where it was recorded, and a type whose label was deleted since is rejected alone
    (the record's other types are sent); the others are restored, then ``on_invalid="fail"`` fails the
    task naming it.

    :param source_run_id: run id of the run to undo (templated, e.g. ``{{ params.run_id }}``).
    :param source_dag_id: its DAG id (templated).
    :param source_task_id: its task id (templated).
    :param source_map_index: one map index of a mapped task (templated); default: all of them.
    :param source_table: the run's ``results_table`` (templated).
    :param source_conn_id: the SQL connection of ``source_table`` (templated; default
        ``results_conn_id``).
    :param source_path: the run's ``results_path`` (templated), instead of ``source_table``.
    :param allow_empty: succeed when the run left no snapshot record; by default the task fails, as
        an empty source is almost always a wrong run id (or a run that took no snapshot).
    :param from_object_type: the run's from object type.
    :param to_object_type: the run's to object type. Every other parameter is
        ``BaseHubSpotArchiveOperator``'s; ``inputs``, ``sql`` and ``snapshot`` are not taken.
    """

    kind: ClassVar[Kind] = Kind.CREATE
    template_fields: Sequence[str] = (
        *(name for name in BaseHubSpotArchiveOperator.template_fields if name not in NOT_TAKEN),
        "source_run_id",
        "source_dag_id",
        "source_task_id",
        "source_map_index",
        "source_table",
        "source_conn_id",
        "source_path",
    )
    ui_color = "#00a4bd"

    def __init__(
        self,
        *,
        source_run_id: str,
        source_dag_id: str,
        source_task_id: str,
        source_map_index: int | str | None = None,
        source_table: str | None = None,
        source_conn_id: str | None = None,
        source_path: str | None = None,
        allow_empty: bool = False,
        **kwargs: Any,
    ) -> None:
        given = sorted(name for name in NOT_TAKEN if kwargs.get(name) is not None)
        if given:
            raise ValueError(
                f"a restore reads the snapshot of the run it undoes (source_table= or source_path=), "
                f"not {', '.join(given)}="
            )
        if kwargs.pop("snapshot", None):
            raise ValueError("a restore removes nothing, so it takes no snapshot: leave snapshot= unset")
        if (source_table is None) == (source_path is None):
            raise ValueError("give exactly one of source_table= (with source_conn_id=) or source_path=")
        if source_table is not None:
            if not (source_conn_id or kwargs.get("results_conn_id")):
                raise ValueError(
                    "source_table= needs source_conn_id= (or results_conn_id=), its SQL connection"
                )
            if not _templated(source_table):
                check_table_name(source_table)
        values = (source_run_id, source_dag_id, source_task_id, source_map_index)
        if not any(_templated(value) for value in values):
            SourceFilter.of(*values)  # a missing part fails when the DAG is parsed
        super().__init__(inputs=[], snapshot=False, **kwargs)
        self.source_run_id = source_run_id
        self.source_dag_id = source_dag_id
        self.source_task_id = source_task_id
        self.source_map_index = source_map_index
        self.source_table = source_table
        self.source_conn_id = source_conn_id
        self.source_path = source_path
        self.allow_empty = allow_empty
        self._source: TableSource | FileSource | None = None
        self._figures = SourceFigures()

    # ------------------------------------------------------------------ running
    def execute(self, context: Context) -> dict[str, Any]:
        self._open_source()
        return self._with_figures(super().execute(context))

    def execute_resume(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        self._open_source()
        return self._with_figures(super().execute_resume(context, event))

    def _filter(self) -> SourceFilter:
        values = (self.source_run_id, self.source_dag_id, self.source_task_id, self.source_map_index)
        try:
            return SourceFilter.of(*values)
        except ValueError as error:
            raise AirflowFailException(f"{error}. Nothing was sent.") from None

    def _open_source(self) -> None:
        """The source of the run to undo; fails before anything is sent when it holds no record."""
        source = self._filter()
        if self.source_table is not None:
            conn_id = self.source_conn_id or self.results_conn_id
            assert conn_id is not None
            self._source = TableSource(self.source_table, conn_id, source, self.fetch_size)
        else:
            assert self.source_path is not None
            types = (validate_object_type(self.from_object_type), validate_object_type(self.to_object_type))
            self._source = FileSource(self.source_path, source, types)
        if self._source.has_records():
            return
        message = (
            f"no snapshot record of {source} in {self._source}: check the run id, DAG id and task id. A "
            "run that took no snapshot (it had neither results_table nor results_path, or snapshot=False) "
            "cannot be restored, and a run that removed nothing (every removal failed, or found nothing "
            "to remove) leaves nothing to restore."
        )
        if not self.allow_empty:
            raise AirflowFailException(f"{message} Nothing was sent; allow_empty=True lets this succeed.")
        self.log.warning("%s Nothing to restore (allow_empty=True).", message)

    def _with_figures(self, result: dict[str, Any]) -> dict[str, Any]:
        result["restore"] = {"source": f"{self._filter()} in {self._source}", **self._figures.as_json()}
        if self._figures.not_removed:
            self.log.info(
                "%d snapshot record(s) were not restored: their removal was not carried out (failed)",
                self._figures.not_removed,
            )
        return result

    # ------------------------------------------------------------------ the rows
    def _rows(self) -> Iterator[Any]:
        """The create rows, one per snapshot record to restore (``restoring.py``)."""
        assert self._source is not None, "the source is opened in execute()"
        self._figures = SourceFigures()  # each reading counts afresh
        shared = None  # one SQLite file for the source and the results: read through the writer's connection
        if self._writer is not None and isinstance(self._source, TableSource):
            shared = self._writer.connection_for_reading(self._source.conn_id)
        self.log.info("Reading the snapshot of %s from %s", self._filter(), self._source)
        return self._source.rows(shared, self._figures)

    def _check(self, rows: Iterable[Any], resolver: LabelResolver | None) -> Iterator[CheckedRow]:
        return check_rows(rows, self.parser, resolver)

    def _entries(self, rows: Iterable[Any], resolver: LabelResolver | None) -> Iterator[Entry]:
        return entries_of(self._check(rows, resolver))  # a create row is never a plain pair

    def _in_memory(self) -> bool:
        return False  # records stream: a bad one is rejected, the rest restored, then the run fails

    def _source_text(self) -> str:
        return f"the snapshot of {self._filter()} in {self._source}"

    def _input_parts(self) -> tuple[Any, ...]:
        source = self._filter()
        return (
            self.kind,
            self.from_object_type,
            self.to_object_type,
            "restore",
            self.source_table,
            self.source_conn_id or self.results_conn_id if self.source_table else None,
            self.source_path,
            (source.run_id, source.dag_id, source.task_id, source.map_index),
        )

    def _total_rows(self) -> int | None:
        return None
