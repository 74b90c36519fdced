"""Where input rows come from: a list (or an upstream task's XCom), or a query on any SQL connection.

Shared by the operators and the archived-sensor. SQL rows are streamed (``sql_stream.stream_rows``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from airflow_provider_hubspot_assoc._compat import AirflowFailException, BaseHook, dbapi_hook_class
from airflow_provider_hubspot_assoc.sql_stream import DEFAULT_FETCH_SIZE, DuplicateColumnsError, stream_rows

SQL_NEEDS_CONN_ID = "sql= needs conn_id=, the Airflow SQL connection to run it on"


def input_rows(
    inputs: Any = None,
    sql: str | None = None,
    conn_id: str | None = None,
    parameters: Mapping[str, Any] | Sequence[Any] | None = None,
    fetch_size: int = DEFAULT_FETCH_SIZE,
    looked_up: Iterable[str] = (),
    connection: Any = None,
) -> Iterator[Any]:
    """The rows of ``inputs`` or of ``sql`` run on ``conn_id`` (exactly one is given).

    ``inputs`` that are not a list of rows fail here, before anything is read or sent.
    ``looked_up``: the keys the caller reads from each row (``RowParser.looked_up_keys()``); a SQL
    result two of whose columns they would mix up fails before its first row. ``connection``: an
    open connection to ``conn_id``'s database to run ``sql`` on; its owner closes it.
    """
    if sql is not None:
        return sql_rows(sql, conn_id, parameters, fetch_size, looked_up, connection)
    return iter(_row_list(inputs))


EXPECTED = (
    "inputs must be a list of rows (or an upstream task's output), got {given}. Give a list such as "
    '[{{"from_id": 101, "to_id": 5000}}] or [[101, 5000]]; a template must render a JSON array '
    "(e.g. {{{{ rows | tojson }}}}) or a list (render_template_as_native_obj=True on the DAG)"
)


def _row_list(inputs: Any) -> Iterable[Any]:
    """``inputs`` as an iterable of rows; a string is accepted only as a JSON array (a template's)."""
    if isinstance(inputs, str):
        try:
            decoded = json.loads(inputs)
        except ValueError:
            decoded = None
        if not isinstance(decoded, list):  # never split a string into ids
            raise AirflowFailException(
                EXPECTED.format(given=f"a string ({_preview(inputs)}) that is not a JSON array")
            )
        return decoded
    if isinstance(inputs, bytes | bytearray):
        given = f"{type(inputs).__name__} ({_preview(bytes(inputs))})"
    elif isinstance(inputs, Mapping):
        given = f"a {type(inputs).__name__} (one row? put it in a list)"
    elif not isinstance(inputs, Iterable):
        given = f"{type(inputs).__name__} ({_preview(inputs)})"
    else:
        return inputs
    raise AirflowFailException(EXPECTED.format(given=given))


PREVIEW_CHARS = 60  # of a refused ``inputs`` value, in the error message


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 3] + "..."


def readable_again(inputs: Any) -> Any:
    """``inputs`` as something that can be read more than once.

    The operators read in-memory rows twice (checked first, then sent). A generator, iterator or
    ``map`` can be read only once: the second read would find nothing and send nothing, so it is
    read into a list here, once. Lists, strings and mappings are returned as they are.
    """
    if isinstance(inputs, list | str | bytes | bytearray | Mapping) or not isinstance(inputs, Iterable):
        return inputs
    if isinstance(inputs, Sequence) and not isinstance(inputs, Iterator):
        return inputs  # tuples, ranges and Airflow's lazy XCom sequences can be read again
    return list(inputs)


def sql_rows(
    sql: str,
    conn_id: str | None,
    parameters: Mapping[str, Any] | Sequence[Any] | None = None,
    fetch_size: int = DEFAULT_FETCH_SIZE,
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
    if not conn_id:
        raise AirflowFailException(SQL_NEEDS_CONN_ID)  # rendered empty: the DAG's check saw a template
    db_hook = BaseHook.get_connection(conn_id).get_hook()  # type: ignore[no-untyped-call]
    if not isinstance(db_hook, dbapi_hook_class()):
        raise AirflowFailException(
            f"conn_id {conn_id!r} is not a SQL connection (its hook is {type(db_hook).__name__})"
        )
    return db_hook.get_conn()
