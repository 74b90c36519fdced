"""Where input rows come from: a list (or an upstream task's XCom), or a query on any SQL connection.

Shared by the operators and the archived-sensor. SQL rows are streamed (``readers.stream_rows``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_hubspot_assoc.readers import DuplicateColumnsError, stream_rows


def input_rows(
    inputs: Any = None,
    sql: str | None = None,
    conn_id: str | None = None,
    parameters: Mapping[str, Any] | Sequence[Any] | None = None,
    fetch_size: int = 10_000,
    looked_up: Iterable[str] = (),
    connection: Any = None,
) -> Iterator[Any]:
    """Yield the rows of ``inputs`` or of ``sql`` run on ``conn_id`` (exactly one is given).

    ``looked_up``: the keys the caller reads from each row (``RowParser.looked_up_keys()``); a SQL
    result two of whose columns they would mix up fails before its first row. ``connection``: an
    open connection to ``conn_id``'s database to run ``sql`` on; its owner closes it.
    """
    if sql is not None:
        yield from sql_rows(sql, conn_id, parameters, fetch_size, looked_up, connection)
        return
    if isinstance(inputs, str):
        try:
            inputs = json.loads(inputs)
        except ValueError:
            raise AirflowFailException(
                "inputs rendered to a string that is not JSON; pass a list or an upstream task's output "
                "(or set render_template_as_native_obj=True on the DAG)"
            ) from None
    if isinstance(inputs, Mapping) or not isinstance(inputs, Iterable):
        raise AirflowFailException(f"inputs must be a list of rows, got {type(inputs).__name__}")
    yield from inputs


def sql_rows(
    sql: str,
    conn_id: str | None,
    parameters: Mapping[str, Any] | Sequence[Any] | None = None,
    fetch_size: int = 10_000,
    looked_up: Iterable[str] = (),
    connection: Any = None,
) -> Iterator[dict[str, Any]]:
    owned = connection is None
    if owned:
        connection = _connect(conn_id)
    try:
        yield from stream_rows(connection, sql, parameters, fetch_size, looked_up)
    except DuplicateColumnsError as error:
        raise AirflowFailException(str(error)) from None  # the query needs fixing: no retry
    finally:
        if owned:
            connection.close()


def _connect(conn_id: str | None) -> Any:
    from airflow.providers.common.sql.hooks.sql import DbApiHook

    if not conn_id:
        raise AirflowFailException("sql= needs conn_id=, the Airflow SQL connection to run it on")
    db_hook = BaseHook.get_connection(conn_id).get_hook()  # type: ignore[no-untyped-call]
    if not isinstance(db_hook, DbApiHook):
        raise AirflowFailException(
            f"conn_id {conn_id!r} is not a SQL connection (its hook is {type(db_hook).__name__})"
        )
    return db_hook.get_conn()
