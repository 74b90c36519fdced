"""Sensors downstream of the archive operators.

* ``HubSpotBatchResponseSensor`` reads a BatchResponse from XCom: succeeds on COMPLETE within the
  allowed error ratio, fails clearly on CANCELED or too many errors, waits on PENDING/PROCESSING.
* ``HubSpotAssociationsArchivedSensor`` checks through HubSpot's batch read that the given pairs (or
  labels) are really gone: HubSpot is eventually consistent.

Both work in ``poke`` and ``reschedule`` mode, and with ``deferrable=True`` they free the worker
between checks (the check itself always runs on the worker; the trigger only waits). ``deferrable``
defaults to Airflow's ``[operators] default_deferrable``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_hubspot_assoc._compat import (
    AirflowFailException,
    AirflowSensorTimeout,
    BaseSensorOperator,
    default_deferrable,
)
from airflow_provider_hubspot_assoc.hooks.hubspot import HubSpotHook
from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.label_resolver import LabelResolver
from airflow_provider_hubspot_assoc.object_types import validate_object_type
from airflow_provider_hubspot_assoc.operators.row_input import ROW_INPUT_FIELDS, RowInputOperator
from airflow_provider_hubspot_assoc.row_checks import check_rows, rejections_text, split_checked
from airflow_provider_hubspot_assoc.triggers.wait import HubSpotWaitTrigger
from airflow_provider_hubspot_assoc.verification import judge, still_present

if TYPE_CHECKING:
    from airflow_provider_hubspot_assoc._compat import Context

SHOW_REMAINING = 20  # pairs still present named in a waiting line


class _DeferrableSensor(BaseSensorOperator):
    """Adds ``deferrable``: wait in a trigger between checks, check on the worker.

    :param deferrable: free the worker between checks (default: ``[operators] default_deferrable``).
    """

    def __init__(self, *, deferrable: bool | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Read when the task is built (not when this module is imported), as the deployment sets it.
        self.deferrable = default_deferrable() if deferrable is None else deferrable

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        return self.execute_complete(context, {"started": datetime.now(timezone.utc).isoformat()})

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> None:
        started = datetime.fromisoformat(
            (event or {}).get("started") or datetime.now(timezone.utc).isoformat()
        )
        if self.poke(context):
            return
        if (datetime.now(timezone.utc) - started).total_seconds() > self.timeout:
            raise AirflowSensorTimeout(f"{self.task_id}: not done after {self.timeout:g} s")
        self.defer(
            trigger=HubSpotWaitTrigger(
                datetime.now(timezone.utc) + timedelta(seconds=self.poke_interval),
                reason=f"{self.task_id} checks again",
                payload={"started": started.isoformat()},
            ),
            method_name="execute_complete",
        )


class HubSpotBatchResponseSensor(_DeferrableSensor):
    """Wait for BatchResponse(s) pushed by an archive operator to be COMPLETE and good enough.

    :param response: the BatchResponse (e.g. ``archive.output``), or a list of them (a mapped
        task's output). Templated.
    :param upstream_task_id: instead of ``response``: pull the XCom of this task at every check.
    :param xcom_key: the XCom key to pull (``return_value``).
    :param max_error_ratio: share of failed removals allowed (0 = none).
    :param deferrable: free the worker between checks (default: ``[operators] default_deferrable``).

    HubSpot's archive endpoints answer synchronously (COMPLETE); PENDING or PROCESSING comes from a
    producer that updates its XCom later, so give ``upstream_task_id`` to re-read it at every check.
    """

    template_fields: Sequence[str] = ("response",)
    ui_color = "#ffbda8"

    def __init__(
        self,
        *,
        response: Any = None,
        upstream_task_id: str | None = None,
        xcom_key: str = "return_value",
        max_error_ratio: float = 0.0,
        **kwargs: Any,
    ) -> None:
        if (response is None) == (upstream_task_id is None):
            raise ValueError("give exactly one of response= (e.g. archive.output) or upstream_task_id=")
        if not 0.0 <= max_error_ratio <= 1.0:
            raise ValueError(f"max_error_ratio must be between 0 and 1, got {max_error_ratio!r}")
        super().__init__(**kwargs)
        self.response = response
        self.upstream_task_id = upstream_task_id
        self.xcom_key = xcom_key
        self.max_error_ratio = max_error_ratio

    def _responses(self, context: Context) -> list[Any]:
        value = self.response
        if self.upstream_task_id is not None:
            value = context["ti"].xcom_pull(task_ids=self.upstream_task_id, key=self.xcom_key)
        if value is None:
            return []
        if isinstance(value, Mapping):
            return [value]
        return list(value)

    def poke(self, context: Context) -> bool:
        responses = self._responses(context)
        verdict = judge(responses, self.max_error_ratio)
        if verdict.failure:
            raise AirflowFailException(
                f"{verdict.failure}. The BatchResponse is in the upstream task's XCom."
            )
        if not verdict.done:
            self.log.info("Waiting: %s", verdict.waiting_for)
        return verdict.done


class HubSpotAssociationsArchivedSensor(_DeferrableSensor, RowInputOperator):
    """Wait until HubSpot's batch read no longer shows the given pairs (or labels).

    Rows come as for the operators (``RowInputOperator``): ``inputs`` (a list or an upstream task's
    output) or ``sql`` on ``conn_id``, in any of the operators' row shapes, with ``parameters``,
    ``column_map`` and ``fetch_size``.

    :param from_object_type: e.g. ``contacts`` (templated).
    :param to_object_type: the other side (templated).
    :param pairs: another name for ``inputs``, kept for DAGs written before the two were one.
    :param labels: a row names a label (``association_type_id`` or ``label``), which must be gone
        while the pair may stay.
    :param hubspot_conn_id: the ``hubspot`` connection.
    :param deferrable: free the worker between checks (default: ``[operators] default_deferrable``).
    """

    template_fields: Sequence[str] = ("from_object_type", "to_object_type", *ROW_INPUT_FIELDS)
    ui_color = "#ffbda8"

    def __init__(
        self,
        *,
        from_object_type: str,
        to_object_type: str,
        pairs: Any = None,
        labels: bool = False,
        hubspot_conn_id: str = HubSpotHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        if pairs is not None:
            if kwargs.get("inputs") is not None:
                raise ValueError("give exactly one of inputs= or sql= (pairs= is another name for inputs=)")
            kwargs["inputs"] = pairs
        self.labels = labels  # before the rows' parser is made: it says what a row names
        super().__init__(**kwargs)
        self.from_object_type = from_object_type
        self.to_object_type = to_object_type
        self.hubspot_conn_id = hubspot_conn_id

    @property
    def pairs(self) -> Any:
        """The rows (``inputs``), by the name this sensor once gave them."""
        return self.inputs

    def _row_kind(self) -> Kind:
        return Kind.LABELS if self.labels else Kind.ARCHIVE

    @cached_property
    def hook(self) -> HubSpotHook:
        """One hook for every check of this task instance: one session, label definitions read once."""
        return HubSpotHook(self.hubspot_conn_id)

    def poke(self, context: Context) -> bool:
        from_type = validate_object_type(self.from_object_type)
        to_type = validate_object_type(self.to_object_type)
        hook = self.hook
        self._make_inputs_readable_again()  # read at every check, not only at the first
        resolver = (
            LabelResolver(hook.get_labels(from_type, to_type), from_type, to_type) if self.labels else None
        )
        removals, rejections = split_checked(check_rows(self._input_rows(), self.parser, resolver))
        if rejections:
            raise AirflowFailException(
                f"cannot check {len(rejections)} invalid row(s): {rejections_text(rejections)}"
            )
        current = hook.read_associations(from_type, to_type, sorted({r.from_id for r in removals}))
        remaining = still_present(removals, current)
        if not remaining:
            self.log.info("All %d removals confirmed gone from HubSpot", len(removals))
            return True
        shown = ", ".join(f"row {r.row} ({r.from_id}->{r.to_id})" for r in remaining[:SHOW_REMAINING])
        self.log.info(
            "%d of %d removals still visible in HubSpot (it is eventually consistent): %s",
            len(remaining),
            len(removals),
            shown,
        )
        return False
