"""The input-row parameters, declared once for every task that reads rows.

The archive operators, the mirror operators and the archived-sensor all take their rows from
``inputs`` or from ``sql`` on ``conn_id``. They inherit these parameters, their templating and their
checks from ``RowInputOperator``, so the three cannot drift apart. It is a ``BaseOperator``, not a
plain mixin: Airflow learns a task's parameter names (for ``.partial()`` and ``.expand()``) from the
``__init__`` of each operator class in its hierarchy, and a plain mixin's would be unknown to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any, ClassVar

from airflow_provider_hubspot_assoc import row_checks
from airflow_provider_hubspot_assoc._compat import AirflowFailException, BaseOperator
from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.label_resolver import LabelResolver
from airflow_provider_hubspot_assoc.row_parser import Rejection, RowParser
from airflow_provider_hubspot_assoc.row_sources import SQL_NEEDS_CONN_ID, input_rows, readable_again
from airflow_provider_hubspot_assoc.sql_stream import DEFAULT_FETCH_SIZE

# The templated row parameters; each subclass puts them in its own ``template_fields``.
ROW_INPUT_FIELDS: tuple[str, ...] = ("inputs", "sql", "conn_id", "parameters")


def fail_on_rejections(rejections: Sequence[Rejection], when: str) -> None:
    """Fail the task, naming the rows, when any checked row cannot be sent."""
    if rejections:
        raise AirflowFailException(
            f"{len(rejections)} invalid input row(s) {when}: {row_checks.rejections_text(rejections)}. "
            "Fix them, or set on_invalid='skip' to send the valid rows only."
        )


class RowInputOperator(BaseOperator):
    """The base of every task that reads input rows: from a list, an upstream task, or a query.

    :param inputs: rows as a list, or an upstream task's output (templated).
    :param sql: a query whose rows are the inputs (templated; ``.sql`` files work); needs ``conn_id``.
    :param conn_id: any Airflow SQL connection (common-sql ``DbApiHook``) to run ``sql`` on (templated).
    :param parameters: query parameters for ``sql`` (templated).
    :param column_map: our field names to the row's keys, e.g. ``{"from_id": "contact_id"}``.
    :param fetch_size: rows fetched from the database at a time.
    """

    template_fields: Sequence[str] = ROW_INPUT_FIELDS
    template_ext: Sequence[str] = (".sql",)
    template_fields_renderers: ClassVar[dict[str, str]] = {
        "sql": "sql",
        "inputs": "json",
        "parameters": "json",
    }

    def __init__(
        self,
        *,
        inputs: Any = None,
        sql: str | None = None,
        conn_id: str | None = None,
        parameters: Any = None,
        column_map: dict[str, str] | None = None,
        fetch_size: int = DEFAULT_FETCH_SIZE,
        **kwargs: Any,
    ) -> None:
        if (inputs is None) == (sql is None):
            raise ValueError("give exactly one of inputs= (a list or an upstream task's output) or sql=")
        if sql is not None and not conn_id:
            raise ValueError(SQL_NEEDS_CONN_ID)
        self.parser = RowParser(self._row_kind(), column_map)  # refuses a bad column_map now
        super().__init__(**kwargs)
        self.inputs = inputs
        self.sql = sql
        self.conn_id = conn_id
        self.parameters = parameters
        self.column_map = column_map
        self.fetch_size = fetch_size

    def _row_kind(self) -> Kind:
        """What a row names: a pair (``Kind.ARCHIVE``) or a label of a pair (``Kind.LABELS``)."""
        raise NotImplementedError

    def _in_memory(self) -> bool:
        """Whether every row is checked before anything is sent (else rejections fail the run at its end)."""
        return self.sql is None

    def _source_text(self) -> str:
        """Where the rows come from, for the log."""
        return f"SQL on {self.conn_id}" if self.sql else "inputs"

    def _total_rows(self) -> int | None:
        """Input rows of the whole run, when known before reading them (a list; not a query)."""
        return len(self.inputs) if self.sql is None and isinstance(self.inputs, Sized) else None

    def _sent_rows_parser(self) -> RowParser:
        """Parses the rows the run sends (the user's rows, in the user's column names)."""
        return self.parser

    def _check(self, rows: Iterable[Any], resolver: LabelResolver | None) -> Iterator[row_checks.CheckedRow]:
        return row_checks.check_rows(rows, self._sent_rows_parser(), resolver)

    def _entries(self, rows: Iterable[Any], resolver: LabelResolver | None) -> Iterator[row_checks.Entry]:
        """``_check`` as the run's pipeline reads it (``row_checks.entries``)."""
        return row_checks.entries(rows, self._sent_rows_parser(), resolver)

    def _make_inputs_readable_again(self) -> None:
        """``inputs`` as something the run can read more than once (``readable_again``).

        Set only when it changes: setting a templated field makes Airflow walk the value for XCom
        references, every row of a list of a million.
        """
        readable = readable_again(self.inputs)
        if readable is not self.inputs:
            self.inputs = readable

    def _input_rows(self, connection: Any = None) -> Iterator[Any]:
        """The user's rows, as given or as the query returns them (streamed).

        ``connection``: an open connection to ``conn_id``'s database to run ``sql`` on (its owner
        closes it); otherwise one is opened and closed here.
        """
        return input_rows(
            self.inputs,
            self.sql,
            self.conn_id,
            self.parameters,
            self.fetch_size,
            looked_up=self.parser.looked_up_keys(),
            connection=connection,
        )
