"""Kill a DAG run's task with SIGKILL in a child process, then run its next try the way the scheduler
would: the crash-and-retry tests' harness (``dag.test()`` runs tasks in-process, so it cannot be killed)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pendulum

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator
from tests.airflow_helpers import load_dag

REPO = Path(__file__).resolve().parent.parent
CHILD = """
import sys
from pathlib import Path
import pendulum
sys.path.insert(0, {repo!r})
from tests.airflow_helpers import load_dag
load_dag({dag_id!r}, Path({dag_file!r})).test(logical_date=pendulum.parse({logical!r}))
"""


def kill_mid_run(
    dag_id: str,
    dag_file: Path,
    logical: pendulum.DateTime,
    sim: HubSpotSimulator,
    after: int,
    endpoint: str = "archive",
) -> None:
    """Run the DAG in a child process and SIGKILL it once HubSpot has seen ``after`` more requests to
    ``endpoint`` (``archive``, ``create``...) than before it started."""
    code = CHILD.format(repo=str(REPO), dag_id=dag_id, dag_file=str(dag_file), logical=logical.isoformat())
    before = sim.stats.by_endpoint[endpoint]
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while sim.stats.by_endpoint[endpoint] < before + after:
            assert child.poll() is None, "the first try ended before it could be killed"
            assert time.monotonic() < deadline, "the first try sent too few requests"
            time.sleep(0.005)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL


def retry_killed_task(
    dag_id: str, dag_file: Path, logical: pendulum.DateTime, task_id: str
) -> dict[str, Any]:
    """Do what the scheduler does for a task whose worker died: run the next try; return its XCom."""
    from airflow.models.dagrun import DagRun
    from airflow.models.xcom import XComModel
    from airflow.sdk.definitions.dag import _run_task
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy import select

    dag = load_dag(dag_id, dag_file)
    with create_session() as session:
        run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.logical_date == logical))
        assert run is not None
        ti = run.get_task_instance(task_id, session=session)
        assert ti is not None and ti.state == TaskInstanceState.RUNNING  # the killed try never ended
        ti.try_number += 1
        ti.state = TaskInstanceState.SCHEDULED
        session.commit()
        session.refresh(ti)
        run_id = run.run_id
        session.expunge(ti)
    _run_task(ti=ti, task=dag.task_dict[task_id])
    with create_session() as session:
        row = session.scalar(
            select(XComModel).where(
                XComModel.dag_id == dag_id,
                XComModel.run_id == run_id,
                XComModel.task_id == task_id,
                XComModel.key == "return_value",
            )
        )
        assert row is not None
        return row.value  # type: ignore[no-any-return]
