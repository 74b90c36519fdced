"""Airflow's connection form, driven the way its UI does: read ``GET /ui/connections/hook_meta``, fill
in the shown fields over the defaults it gives, save with ``POST /api/v2/connections``.

Run as ``python -m tests.airflow_form`` in a fresh process (the API server caches the form, and on
Airflow 3.1 builds it only on a first, clean load of the providers). Reads what the user types as JSON
on stdin, a list of ``{"conn_id", "host", "password", "extra"}`` (``extra``: the form's extra fields
the user fills); prints the hubspot hook_meta entry and each save's HTTP status as JSON.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

os.environ.setdefault("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "True")


def main() -> None:
    from airflow.api_fastapi.app import create_app
    from fastapi.testclient import TestClient

    users = json.load(sys.stdin)
    client = TestClient(create_app(apps="core"))  # the UI and REST API; a form needs no task execution API
    login = client.get("/auth/token")  # the simple auth manager's no-credentials login (all admins)
    login.raise_for_status()
    client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    answer = client.get("/ui/connections/hook_meta")
    answer.raise_for_status()
    (meta,) = [m for m in answer.json() if m["connection_type"] == "hubspot"]
    statuses = {}
    for user in users:
        extra: dict[str, Any] = {
            name: spec.get("value") for name, spec in (meta["extra_fields"] or {}).items()
        }
        extra.update(user["extra"])
        body = {
            "connection_id": user["conn_id"],
            "conn_type": "hubspot",
            "host": user["host"],
            "password": user.get("password"),
            "extra": json.dumps(extra),
        }
        client.delete(f"/api/v2/connections/{user['conn_id']}")  # an earlier test's, if any
        statuses[user["conn_id"]] = client.post("/api/v2/connections", json=body).status_code
    print(json.dumps({"hook_meta": meta, "statuses": statuses}))


if __name__ == "__main__":
    main()
