"""Every Airflow name the provider uses, imported in one place.

The supported range (see ``pyproject.toml``) spans Airflow versions that keep some names in different
modules; when Airflow moves one again, this file is the only one to change.
"""

from __future__ import annotations

from typing import Any, Protocol

from airflow import __version__ as AIRFLOW_VERSION
from airflow.sdk import (
    Asset,
    AssetAlias,
    BaseHook,
    BaseOperator,
    BaseSensorOperator,
    Context,
    ObjectStoragePath,
)
from airflow.triggers.base import BaseTrigger, TriggerEvent
from packaging.version import Version

try:  # the task SDK's configuration (Airflow 3.2 and later)
    from airflow.sdk.configuration import conf
except ImportError:  # Airflow 3.1
    from airflow.configuration import conf  # type: ignore[no-redef]

try:  # task-sdk 1.2 (Airflow 3.2) and later
    from airflow.sdk.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowNotFoundException,
        AirflowSensorTimeout,
    )
except ImportError:  # Airflow 3.1 keeps them in airflow.exceptions (deprecated there since 3.2)
    from airflow.exceptions import (  # type: ignore[no-redef,attr-defined]
        AirflowException,
        AirflowFailException,
        AirflowNotFoundException,
        AirflowSensorTimeout,
    )

AIRFLOW_RELEASE = Version(Version(AIRFLOW_VERSION).base_version)
# The task state store (context["task_state_store"]), where progress is checkpointed for a retry.
HAS_TASK_STATE_STORE = Version("3.3") <= AIRFLOW_RELEASE
# Provider-info "conn-fields": the connection form read from get_provider_info() instead of the hook.
HAS_CONN_FIELDS = Version("3.2") <= AIRFLOW_RELEASE


class TaskLog(Protocol):
    """What the provider calls on a task's logger (``self.log``: structlog on Airflow 3, or ``logging``)."""

    def info(self, event: Any, /, *args: Any, **kw: Any) -> Any: ...

    def warning(self, event: Any, /, *args: Any, **kw: Any) -> Any: ...


def default_deferrable() -> bool:
    """``[operators] default_deferrable``: whether tasks defer unless they say otherwise."""
    return bool(conf.getboolean("operators", "default_deferrable", fallback=False))


def mask_secret(secret: str) -> None:
    """Register a secret obtained at run time with Airflow's log masker (imported when first needed)."""
    from airflow.sdk.log import mask_secret as _mask_secret

    _mask_secret(secret)


def dbapi_hook_class() -> Any:
    """common-sql's ``DbApiHook`` (imported when first needed: only SQL inputs and write-back use it)."""
    from airflow.providers.common.sql.hooks.sql import DbApiHook

    return DbApiHook


__all__ = [
    "AIRFLOW_RELEASE",
    "HAS_CONN_FIELDS",
    "HAS_TASK_STATE_STORE",
    "AirflowException",
    "AirflowFailException",
    "AirflowNotFoundException",
    "AirflowSensorTimeout",
    "Asset",
    "AssetAlias",
    "BaseHook",
    "BaseOperator",
    "BaseSensorOperator",
    "BaseTrigger",
    "Context",
    "ObjectStoragePath",
    "TaskLog",
    "TriggerEvent",
    "conf",
    "dbapi_hook_class",
    "default_deferrable",
    "mask_secret",
]
