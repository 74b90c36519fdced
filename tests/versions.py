"""Version gates for tests of features that exist only from a later Airflow version."""

from __future__ import annotations

import pytest

from airflow_provider_hubspot_assoc._compat import AIRFLOW_RELEASE, HAS_TASK_STATE_STORE

needs_task_state_store = pytest.mark.skipif(
    not HAS_TASK_STATE_STORE,
    reason=f"needs Airflow 3.3+ (the task state store, where checkpoint/resume keeps progress); "
    f"this is Airflow {AIRFLOW_RELEASE}",
)
