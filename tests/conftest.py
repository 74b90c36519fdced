"""Test set-up: an isolated AIRFLOW_HOME (before Airflow is imported) and the simulator fixture."""

from __future__ import annotations

import functools
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.airflow_helpers import LOCAL_BUNDLE, bundle_folder

REPO = Path(__file__).resolve().parent.parent
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="hubspot-assoc-airflow-"))
# One of these per test process (make test runs several, pytest-xdist workers): files the operators
# keep in the temporary folder (``/tmp/hubspot_assoc_results/<dag>/<run>/...``) stay the process's own.
_TMP = _AIRFLOW_HOME / "tmp"
_TMP.mkdir()
os.environ["TMPDIR"] = tempfile.tempdir = str(_TMP)
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
# dag.test() runs only DAGs of a configured DAG bundle, and parses and saves every DAG of that bundle
# on each call (Airflow 3.3). So each example and test DAG file gets a bundle of its own (a folder
# holding a link to it): a run parses one file, not all of them. The DAGS_FOLDER, the first bundle
# (a DAG's first run looks through the bundles in order), holds DAG files a test writes at run time.
_DAGS_FOLDER = _AIRFLOW_HOME / "dags"
_DAGS_FOLDER.mkdir()
_BUNDLES = [{"name": "dags-folder", "classpath": LOCAL_BUNDLE, "kwargs": {"path": str(_DAGS_FOLDER)}}]
for _dag_file in [
    *sorted((REPO / "example_dags").glob("example_*.py")),
    *sorted((REPO / "tests" / "dags").glob("*.py")),
]:
    _folder = bundle_folder(_AIRFLOW_HOME, _dag_file)
    _folder.mkdir(parents=True)
    (_folder / _dag_file.name).symlink_to(_dag_file)
    _BUNDLES.append({"name": _dag_file.stem, "classpath": LOCAL_BUNDLE, "kwargs": {"path": str(_folder)}})
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(_DAGS_FOLDER)
os.environ["AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"] = json.dumps(_BUNDLES)
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_AIRFLOW_HOME / 'airflow.db'}"

pytest_plugins = ["airflow_provider_hubspot_assoc.testing.pytest_plugin"]


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated metadata database, needed by ``dag.test()`` (once per test session)."""
    from airflow.utils.db import upgradedb

    upgradedb()  # what `airflow db migrate` does, without a second interpreter importing Airflow
    share_the_in_process_api()
    return _AIRFLOW_HOME


def share_the_in_process_api() -> None:
    """Build dag.test()'s in-process execution API once per session, as Airflow 3.3 does.

    Airflow 3.1 and 3.2 build a new one (seconds of FastAPI set-up) for every task instance a
    ``dag.test()`` runs; 3.3 caches it (``functools.lru_cache``). Same API, built once.
    """
    from airflow.sdk.execution_time import supervisor

    if not hasattr(supervisor.in_process_api_server, "cache_info"):
        supervisor.in_process_api_server = functools.lru_cache(maxsize=1)(supervisor.in_process_api_server)


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
