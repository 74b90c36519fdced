"""Test set-up: an isolated AIRFLOW_HOME (before Airflow is imported) and the simulator fixture."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="hubspot-assoc-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
# dag.test() runs only DAGs found in the DAGS_FOLDER: link the example DAGs and the test DAGs into one.
_DAGS_FOLDER = _AIRFLOW_HOME / "dags"
_DAGS_FOLDER.mkdir()
for _dag_file in [
    *sorted((REPO / "example_dags").glob("example_*.py")),
    *sorted((REPO / "tests" / "dags").glob("*.py")),
]:
    (_DAGS_FOLDER / _dag_file.name).symlink_to(_dag_file)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(_DAGS_FOLDER)
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_AIRFLOW_HOME / 'airflow.db'}"

pytest_plugins = ["airflow_provider_hubspot_assoc.testing.pytest_plugin"]


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated metadata database, needed by ``dag.test()`` (once per test session)."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
        env=os.environ.copy(),
    )
    return _AIRFLOW_HOME


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_AIRFLOW_HOME, ignore_errors=True)


# Secrets the simulator accepts or issues. A test whose captured stdout, stderr or log output holds
# one of them fails, whatever it asserted: no token may reach a log line.
KNOWN_SECRETS = ("sim-private-app-token", "sim-client-secret", "sim-refresh-token", "sim-oauth-")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when != "call" or not report.passed:
        return
    captured = "\n".join(content for _, content in report.sections)
    leaked = [secret for secret in KNOWN_SECRETS if secret in captured]
    if leaked:
        report.outcome = "failed"
        report.longrepr = f"a secret reached the captured output of {item.nodeid}: {leaked}"
