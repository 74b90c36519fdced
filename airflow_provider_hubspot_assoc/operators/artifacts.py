"""Where a task instance keeps its files: row lists, a mirror's plan, the request ledger.

One folder per task instance, ``<dag>/<run>/<task>[-<map index>]/``, under ``results_path`` (object
storage that every worker and downstream task can read) or under the worker's temporary folder.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_hubspot_assoc._compat import ObjectStoragePath

if TYPE_CHECKING:
    from airflow_provider_hubspot_assoc._compat import Context

LOCAL_ROOT = "hubspot_assoc_results"


def safe_run_id(run_id: str) -> str:
    """A run id as a folder name on any storage (a run id such as ``manual__2026-01-01T00:00:00+00:00``
    holds ``:`` and ``+``)."""
    return run_id.replace(":", "_").replace("+", "_")


def relative_path(context: Context, name: str) -> str:
    """``<dag>/<run>/<task>[-<map index>]/<name>``, safe as a path on any storage."""
    ti = context["ti"]
    return task_relative_path(
        ti.dag_id, str(context.get("run_id", "run")), ti.task_id, getattr(ti, "map_index", -1), name
    )


def task_relative_path(dag_id: str, run_id: str, task_id: str, map_index: int | None, name: str) -> str:
    """Where ``relative_path`` puts a file of that task instance (a restore reads its failed rows there)."""
    leaf = f"{task_id}" + (f"-{map_index}" if map_index is not None and map_index >= 0 else "")
    return f"{dag_id}/{safe_run_id(run_id)}/{leaf}/{name}"


def local_artifact(context: Context, name: str) -> Path:
    """A file of this task instance on this worker."""
    path = Path(tempfile.gettempdir()) / LOCAL_ROOT / relative_path(context, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def artifact(context: Context, name: str, results_path: str | None) -> Any:
    """A file of this task instance: in ``results_path`` when set (an ``ObjectStoragePath``), else local."""
    if not results_path:
        return local_artifact(context, name)
    target = ObjectStoragePath(results_path.rstrip("/") + "/" + relative_path(context, name))
    target.parent.mkdir(parents=True, exist_ok=True)
    return target
