"""Run the test DAGs with real Airflow (``dag.test()``) and read what their tasks pushed."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator

DAG_FILES = {  # DAG files that tests run by id
    "tests": Path(__file__).resolve().parent / "dags" / "hubspot_test_dags.py",
}


@dataclass
class DagResult:
    state: str
    xcoms: dict[tuple[str, int], Any]
    task_states: dict[tuple[str, int], str]
    run_id: str = ""

    def xcom(self, task_id: str, map_index: int = -1) -> Any:
        return self.xcoms[(task_id, map_index)]


LOCAL_BUNDLE = "airflow.dag_processing.bundles.local.LocalDagBundle"


def bundle_folder(airflow_home: Path, dag_file: Path) -> Path:
    """The folder of the DAG bundle that holds ``dag_file`` alone (tests/conftest.py makes one per file)."""
    return airflow_home / "dag_bundles" / dag_file.stem


def load_dag(dag_id: str, dag_file: Path) -> Any:
    """Import a DAG file from where the session's Airflow finds it (so dag.test() can run it): its own
    bundle, or the DAGS_FOLDER for a file a test wrote there."""
    linked = bundle_folder(Path(os.environ["AIRFLOW_HOME"]), dag_file) / dag_file.name
    if not linked.exists():
        linked = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"]) / dag_file.name
    name = f"_dags_{dag_file.stem}"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, linked)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    for value in vars(module).values():
        if getattr(value, "dag_id", None) == dag_id and hasattr(value, "test"):
            return value
    raise LookupError(f"no DAG {dag_id!r} in {dag_file}")


def run_dag(dag_id: str, dag_file: Path = DAG_FILES["tests"], **test_kwargs: Any) -> DagResult:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    run = load_dag(dag_id, dag_file).test(**test_kwargs)
    with create_session() as session:
        rows = (
            session.query(XComModel).filter(XComModel.run_id == run.run_id, XComModel.dag_id == dag_id).all()
        )
        xcoms = {(r.task_id, r.map_index): r.value for r in rows if r.key == "return_value"}
        states = {(ti.task_id, ti.map_index): str(ti.state) for ti in run.get_task_instances(session=session)}
    return DagResult(str(run.state), xcoms, states, str(run.run_id))


def use_simulator(
    monkeypatch: Any, sim: HubSpotSimulator, conn_id: str = "hubspot_default", **extra: Any
) -> None:
    """Point an Airflow ``hubspot`` connection at the simulator."""
    conn = {"conn_type": "hubspot", "host": sim.url, "password": sim.token, "extra": extra}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


def set_rows(monkeypatch: Any, rows: Any) -> None:
    """The rows the test DAGs' upstream task returns (read at run time)."""
    monkeypatch.setenv("HUBSPOT_TEST_ROWS", json.dumps(rows))


POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "test"}


def require_postgres() -> None:
    """Skip when no PostgreSQL test server answers; under CI (``CI`` set) fail instead."""
    import psycopg2
    import pytest

    try:
        psycopg2.connect(connect_timeout=3, **POSTGRES).close()  # type: ignore[arg-type]
    except psycopg2.OperationalError as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but PostgreSQL on 127.0.0.1:5432 (database test) is unreachable: {error}")
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432 (database test, trust auth)")


def postgres_connection(dbname: str = "test", **extra: Any) -> str:
    """An Airflow connection (JSON) to a database of the PostgreSQL test server."""
    return json.dumps(
        {
            "conn_type": "postgres",
            "host": "127.0.0.1",
            "port": 5432,
            "login": "postgres",
            "schema": dbname,
            "extra": extra,
        }
    )


@contextmanager
def postgres_database(prefix: str = "hubspot_test") -> Iterator[tuple[Callable[[str], None], str]]:
    """A fresh database on the PostgreSQL test server, dropped afterwards (skips without a server).

    Yields a function running SQL in it (autocommit) and an Airflow connection (JSON) to it.
    """
    import psycopg2

    require_postgres()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(connect_timeout=3, **POSTGRES)  # type: ignore[arg-type]
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
    db = psycopg2.connect(connect_timeout=3, **{**POSTGRES, "dbname": name})  # type: ignore[arg-type]
    db.autocommit = True

    def run_sql(sql: str) -> None:
        with db.cursor() as cursor:
            cursor.execute(sql)

    try:
        yield run_sql, postgres_connection(name)
    finally:
        db.close()
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()
