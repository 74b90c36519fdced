"""The daily-limit rehearsal of ``docs/simulator.md``, time-scaled: its DAG, as printed there, runs with
real Airflow (``dag.test()``) against ``hubspot-assoc-sim`` started with the same flags but shorter."""

from __future__ import annotations

import json
import os
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.airflow_helpers import run_dag
from tests.integration.simulator._cli import REPO, start_cli

pytestmark = pytest.mark.usefixtures("airflow_db")

DOC = REPO / "docs" / "simulator.md"
BUCKETS = ("archived", "rejected", "failed", "duplicates", "unknown", "planned")


def _rehearsal() -> tuple[str, str]:
    """(the simulator command, the DAG) of the doc's "Daily-limit rehearsal" section."""
    section = DOC.read_text().split("## Daily-limit rehearsal", 1)[1].split("\n## ", 1)[0]
    blocks = [textwrap.dedent(b) for b in re.findall(r"```\w*\n(.*?)```", section, re.DOTALL)]
    command = next(b for b in blocks if b.startswith("hubspot-assoc-sim"))
    dag = next(b for b in blocks if "@dag" in b)
    return command.replace("\\\n", " "), dag


def test_the_documented_rehearsal_defers_and_finishes(monkeypatch: pytest.MonkeyPatch) -> None:
    command, dag_code = _rehearsal()
    for flag in ("--preload 2000", "--daily-limit 20", "--daily-reset-seconds 60"):
        assert flag in " ".join(command.split()), flag
    cli = start_cli(
        "--seed", "empty", "--preload", "200", "--daily-limit", "2", "--daily-reset-seconds", "2",
    )  # fmt: skip
    dag_file = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"]) / "simcli_rehearsal_dag.py"
    try:
        token = cli.banner_value("private-app token")
        connection = {"conn_type": "hubspot", "host": cli.url, "password": token}
        monkeypatch.setenv("AIRFLOW_CONN_HUBSPOT_DEFAULT", json.dumps(connection))
        monkeypatch.setenv("HUBSPOT_SIM_URL", cli.url)
        dag_file.write_text(dag_code)
        result = run_dag("hubspot_daily_limit_rehearsal", dag_file=dag_file)
        stats = requests.get(f"{cli.url}/_sim/stats", timeout=5).json()
        count = requests.get(f"{cli.url}/_sim/count", timeout=5).json()
    finally:
        dag_file.unlink(missing_ok=True)
        cli.stop()
    assert result.state == "success", result.task_states
    summary: dict[str, Any] = result.xcom("archive")["summary"]
    assert summary["received"] == sum(summary[b] for b in BUCKETS) == 200, summary
    assert summary["archived"] == 200
    # 4+ requests at 2 a day: it deferred on Daily-Remaining 0 (unsent), and went on.
    assert stats["daily_limited"] == 0
    assert stats["archived_pairs"] == 200
    assert count == {"count": 0}
