"""Real Airflow 3 components on this machine: api-server, scheduler, dag-processor, triggerer.

LocalExecutor, metadata on a fresh PostgreSQL database, loopback addresses only, every process
stopped by its PID. The REST API is reached with SimpleAuthManager's all-admins mode (each request
is an admin, no token needed): the deployment is private to the test.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import psutil
import requests
from cryptography.fernet import Fernet

from tests.e2e.processes import REPO, Processes, wait_for

AIRFLOW = [sys.executable, "-m", "airflow"]
COMPONENTS = {
    "dag-processor": ["dag-processor"],
    "scheduler": ["scheduler", "--skip-serve-logs"],
    "triggerer": ["triggerer", "--skip-serve-logs"],
}
FINISHED = {"success", "failed"}


def airflow_env(
    home: Path, dags: Path, metadata_url: str, port: int, connections: dict[str, str]
) -> dict[str, str]:
    """The environment of every component: nothing inherited from the test session's Airflow."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        {
            "PYTHONPATH": str(REPO),  # this checkout's provider, whatever the virtualenv points at
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "6",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            # Runs come from the test only (no cron runs, no catch-up of the backfill example).
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_SEC": "2",
            # A killed worker is noticed within seconds, not the default five minutes.
            # Short, so a SIGKILLed task is noticed soon; long enough that a task starting slowly on a
            # busy 2-core machine is not taken for a dead one.
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        }
    )
    env.update({f"AIRFLOW_CONN_{conn_id.upper()}": value for conn_id, value in connections.items()})
    return env


class Deployment:
    """The four components and a REST client for them."""

    def __init__(self, processes: Processes, env: dict[str, str]) -> None:
        self.processes = processes
        self.env = env
        self.url = env["AIRFLOW__API__BASE_URL"]
        self.http = requests.Session()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        migrate = subprocess.run(
            [*AIRFLOW, "db", "migrate"], env=self.env, capture_output=True, text=True, cwd=REPO, timeout=180
        )
        assert migrate.returncode == 0, migrate.stdout[-2000:] + migrate.stderr[-3000:]
        port = self.env["AIRFLOW__API__PORT"]
        self.processes.start("api-server", [*AIRFLOW, "api-server", "-H", "127.0.0.1", "-p", port], self.env)
        for name, argv in COMPONENTS.items():
            self.processes.start(name, [*AIRFLOW, *argv], self.env)
        wait_for("the Airflow components to report healthy", self._healthy, 120, 1, self.processes.tails)

    def _healthy(self) -> bool:
        for started in self.processes.started:
            if started.process.poll() is not None:
                raise AssertionError(f"{started.name} exited with {started.process.returncode}")
        health = self.http.get(f"{self.url}/api/v2/monitor/health", timeout=5).json()
        return all(
            health.get(part, {}).get("status") == "healthy"
            for part in ("metadatabase", "scheduler", "triggerer", "dag_processor")
        )

    # ------------------------------------------------------------------ REST API
    def api(self, method: str, path: str, expect: Iterable[int] = (200,), **kwargs: Any) -> Any:
        answer = self.http.request(method, f"{self.url}{path}", timeout=30, **kwargs)
        assert answer.status_code in tuple(expect), (
            f"{method} {path}: {answer.status_code} {answer.text[:2000]}"
        )
        return answer.json() if answer.content else None

    def wait_for_dags(self, dag_ids: Iterable[str], timeout: float = 90) -> None:
        wanted = set(dag_ids)

        def parsed() -> bool:
            errors = self.api("GET", "/api/v2/importErrors")["import_errors"]
            assert not errors, json.dumps(errors, indent=1)[:3000]
            dags = self.api("GET", "/api/v2/dags", params={"limit": 100})["dags"]
            return wanted <= {d["dag_id"] for d in dags}

        wait_for(f"DAGs {sorted(wanted)} to be parsed", parsed, timeout, 1, self.processes.tails)

    def trigger(
        self, dag_id: str, conf: dict[str, Any] | None = None, logical_date: str | None = None
    ) -> str:
        body = {"logical_date": logical_date, "conf": conf or {}}
        return str(self.api("POST", f"/api/v2/dags/{dag_id}/dagRuns", json=body)["dag_run_id"])

    def run_state(self, dag_id: str, run_id: str) -> str:
        return str(self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")["state"])

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances"
        return list(self.api("GET", path)["task_instances"])

    def task_state(self, dag_id: str, run_id: str, task_id: str) -> str | None:
        states = [ti["state"] for ti in self.task_instances(dag_id, run_id) if ti["task_id"] == task_id]
        return states[0] if states else None

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float) -> str:
        state = wait_for(
            f"{dag_id} {run_id} to finish",
            lambda: (s := self.run_state(dag_id, run_id)) in FINISHED and s,
            timeout,
            1,
            lambda: json.dumps(self.task_instances(dag_id, run_id), indent=1)[:4000] + self.processes.tails(),
        )
        return str(state)

    def xcom(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> Any:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value"
        return self.api("GET", path, params={"map_index": map_index, "deserialize": True})["value"]

    def explain(self, dag_id: str, run_id: str) -> str:
        """The run's task instances and the end of each one's log: what a failed assertion shows."""
        parts = []
        for ti in self.task_instances(dag_id, run_id):
            tries = max(int(ti.get("try_number") or 1), 1)
            log = self.task_log(dag_id, run_id, ti["task_id"], tries, ti.get("map_index", -1))
            parts.append(f"--- {ti['task_id']} [{ti.get('state')}] try {tries}:\n{log[-3000:]}")
        return "\n".join(parts) + self.processes.tails()

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int, map_index: int = -1) -> str:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}"
        answer = self.http.get(
            f"{self.url}{path}",
            params={"map_index": map_index},
            headers={"Accept": "application/x-ndjson"},
            timeout=30,
        )
        lines = []
        for line in answer.text.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                lines.append(line)
                continue
            lines.append(
                " ".join(str(entry.get(k, "")) for k in ("timestamp", "level", "event", "error_detail"))
            )
        return "\n".join(lines)

    # ------------------------------------------------------------------ processes
    def task_processes(self, ti_id: str) -> list[psutil.Process]:
        """The processes of a running task instance: its supervisor (a LocalExecutor worker) and
        the task itself; both name the task instance id in their title."""
        scheduler = next(s for s in self.processes.started if s.name == "scheduler")
        found: list[psutil.Process] = []
        for child in psutil.Process(scheduler.process.pid).children(recursive=True):
            try:
                if ti_id in " ".join(child.cmdline()):
                    found.append(child)
            except psutil.Error:
                continue
        return found
