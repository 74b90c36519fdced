"""Mirror mode: make HubSpot's associations of some records match a desired set.

The desired rows (SQL or XCom, the archive operators' row shapes) say which associations *should*
exist for a set of from-ids. The operator reads what HubSpot has for those ids through batch read
and archives only what is beyond the desired set. ``max_deletes`` is a safety cap checked before
anything is sent; ``dry_run=True`` reads, plans and reports the deletions without sending any.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_hubspot_assoc._compat import AirflowFailException
from airflow_provider_hubspot_assoc.hooks.hubspot import HubSpotHook
from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.label_resolver import LabelResolver
from airflow_provider_hubspot_assoc.object_types import (
    InvalidRecordIdError,
    validate_object_type,
    validate_record_id,
)
from airflow_provider_hubspot_assoc.operators import checkpoint
from airflow_provider_hubspot_assoc.operators.base import BaseHubSpotArchiveOperator, _templated
from airflow_provider_hubspot_assoc.progress import Progress, fingerprint
from airflow_provider_hubspot_assoc.row_checks import (
    MAX_ROWS_IN_MESSAGE,
    check_rows,
    rejections_text,
    split_checked,
)
from airflow_provider_hubspot_assoc.row_parser import Removal, RowParser
from airflow_provider_hubspot_assoc.snapshots import Reader, SnapshotTaker

if TYPE_CHECKING:
    from airflow_provider_hubspot_assoc._compat import Context

SAMPLE = 20  # planned deletions shown in the result's ``sync`` figures
DEFAULT_MAX_DELETES = 1_000


def extra_from_ids(value: Any) -> list[Any]:
    """``from_ids`` as a list: a list or tuple (or an upstream task's list), or a JSON array string.

    Anything else, a plain string above all, is refused: guessing ids out of ``"10 1"`` could
    mirror records nobody named, and mirroring a record deletes its associations.
    """
    if value is None:
        return []
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            decoded = None
        if not isinstance(decoded, list):
            raise ValueError(
                f"from_ids must be a list or tuple of record ids, got the string {value[:100]!r}; a string "
                "is never split into ids (a template may render a list as a JSON array: "
                "{{ ids | tojson }})"
            )
        return decoded
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return list(value)
    raise ValueError(f"from_ids must be a list or tuple of record ids, got {type(value).__name__}")


class _SyncMixin(BaseHubSpotArchiveOperator):
    """Plans the deletions from desired vs current, then runs them through the archive machinery.

    :param max_deletes: fail before sending anything if more deletions than this are planned (a dry
        run reports the plan instead, with ``over_max_deletes`` set).
    :param from_ids: from-ids to mirror besides those in the desired rows (for example records
        that should have no association left): a list or tuple of ids, or an upstream task's list.
        A string is refused (``"10 1"`` is never split into ids), except a JSON array, which is what
        a template renders a list to. Templated.
    :param allow_empty_desired: let the sync go on when the desired rows are empty (the query
        returned no row, or the list is empty) while ``from_ids`` names records, which deletes every
        association of those records. Off by default: an empty desired set is far more often a broken
        upstream table than an intent, so the sync refuses and says how many deletions it planned.

    Every other parameter is the archive operators'. The plan is made once and carried in the
    checkpoint, so a run resumed after a deferral (HubSpot's daily limit) or a retried try goes on
    with the same plan: HubSpot is not read again to plan (a retry sending again deletions the failure
    policy left failed reads their from-ids for its snapshot), its ``summary`` and the results table
    count every planned deletion once. A plan of more than ``checkpoint.PLAN_CARRY_LIMIT`` deletions
    is kept where a retry on any worker finds it, before anything is sent: under ``results_path``
    when set, else in the task's state store in pieces (else, before Airflow 3.3, on the worker).
    Only if it is gone does a resumed run plan again.
    """

    template_fields = (*BaseHubSpotArchiveOperator.template_fields, "from_ids")

    def __init__(
        self,
        *,
        max_deletes: int = DEFAULT_MAX_DELETES,
        from_ids: Any = None,
        allow_empty_desired: bool = False,
        **kwargs: Any,
    ) -> None:
        if max_deletes < 0:
            raise ValueError(f"max_deletes must be >= 0, got {max_deletes!r}")
        if not (isinstance(from_ids, str) and _templated(from_ids)) and not hasattr(from_ids, "operator"):
            extra_from_ids(from_ids)  # a plain string or a number fails when the DAG is parsed
        super().__init__(**kwargs)
        self.max_deletes = max_deletes
        self.from_ids = from_ids
        self.allow_empty_desired = allow_empty_desired
        self._plan: list[dict[str, Any]] | None = None
        self._plan_figures: dict[str, Any] = {}
        self._plan_file: dict[str, Any] | None = None  # where a plan too large to carry inline is kept
        self._plan_current: dict[str, list[dict[str, Any]]] | None = None  # the read a plan was made from

    # The rows the archive machinery sends are the planned deletions, not the desired rows.
    def _rows(self) -> Iterator[Any]:
        if self._plan is None:
            raise RuntimeError("the sync plan is made in execute()")
        return iter(self._plan)

    def _in_memory(self) -> bool:
        return True

    def _other_requests(self) -> int:
        return int(self._plan_figures.get("read_requests", 0))  # planning's, counted once per plan

    def _total_rows(self) -> int | None:
        return len(self._plan) if self._plan is not None else None

    def _sent_rows_parser(self) -> RowParser:
        return RowParser(self.kind)  # planned deletions use our field names, whatever column_map says

    def _fingerprint(self, batch_size: int) -> str:
        return fingerprint("sync", super()._fingerprint(batch_size), self._plan)

    def execute(self, context: Context) -> dict[str, Any]:
        loaded = checkpoint.load_checkpoint(context)
        self._adopt_or_make_plan(context, loaded)
        return self._with_figures(self._run(context, loaded))

    def execute_resume(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        carried = checkpoint.carried_checkpoint(context, event, self.log)
        self._adopt_or_make_plan(context, carried)
        return self._with_figures(self._run(context, carried))

    def _desired_fingerprint(self) -> str:
        """What the plan was made from (not HubSpot's state, which the deletions change)."""
        return fingerprint("sync-desired", *self._input_parts(), self.from_ids)

    def _adopt_or_make_plan(self, context: Context, loaded: dict[str, Any] | None) -> None:
        """Go on with the plan an earlier try carried in its checkpoint, or make one now.

        A plan of up to ``checkpoint.PLAN_CARRY_LIMIT`` deletions rides in the checkpoint; a larger
        one is kept apart (``checkpoint.keep_plan``) before anything is sent, and the checkpoint
        names where, with its SHA-256.
        """
        self._make_inputs_readable_again()  # read below, and again by the fingerprint
        carried = (loaded or {}).get("sync")
        if isinstance(carried, dict) and carried.get("desired") == self._desired_fingerprint():
            compacted = carried.get("plan")
            if isinstance(carried.get("plan_file"), dict):
                compacted = checkpoint.read_kept_plan(context, carried["plan_file"], self.log)
            if isinstance(compacted, list):
                self._plan = [checkpoint.deletion_of(item) for item in compacted]
                self._plan_figures = dict(carried.get("figures") or {})
                self._plan_file = carried.get("plan_file")
                self.log.info("Continuing the sync plan an earlier try made: %d deletions", len(self._plan))
                return
        self._make_plan()
        if self._plan is not None and not checkpoint.carried_inline(len(self._plan)) and not self.is_dry_run:
            compacted = [checkpoint.compact(item) for item in self._plan]
            self._plan_file = checkpoint.keep_plan(context, compacted, self.results_path)

    # The snapshot of a mirror is its plan's read: recorded whole before the first request (before the
    # checkpoint carries the plan), so a retry going on with the plan reads nothing again.
    def _snapshot_reader(self, hook: HubSpotHook, types: tuple[str, str]) -> Reader:
        if self._plan_current is None and self._resending:
            # Deletions an earlier try failed are sent again: the records of what they would remove
            # went with that try's end, so what they remove now is read, as the archive operators do.
            return super()._snapshot_reader(hook, types)
        current = self._plan_current or {}
        return lambda from_ids: {i: current.get(i, []) for i in from_ids}

    def _snapshot_ahead(self, taker: SnapshotTaker) -> None:
        if self._plan_current is None or self._plan is None:
            # An earlier try's plan: it recorded the snapshot before sending anything. Unless failed
            # deletions go again (read), this session's "read" is no read of HubSpot.
            taker.reads_current = self._plan_current is not None or self._resending
            return
        removals = [
            Removal(
                number,
                str(item["from_id"]),
                str(item["to_id"]),
                item.get("association_category"),
                item.get("association_type_id"),
            )
            for number, item in enumerate(self._plan, start=1)
        ]
        taker.sink_records(taker.take(removals, self._plan_current))
        taker.sink = None  # recorded: the chunks sent next only note their types

    def _kept_plan(self) -> dict[str, Any] | None:
        return self._plan_file

    def _checkpoint_state(self, progress: Progress, hook: HubSpotHook) -> dict[str, Any]:
        state = super()._checkpoint_state(progress, hook)
        if self._plan is None:
            return state
        carried: dict[str, Any] = {"desired": self._desired_fingerprint(), "figures": self._plan_figures}
        if self._plan_file is not None:
            carried["plan_file"] = self._plan_file
        else:
            carried["plan"] = [checkpoint.compact(item) for item in self._plan]
        state["sync"] = carried
        return state

    def _with_figures(self, result: dict[str, Any]) -> dict[str, Any]:
        result["sync"] = self._plan_figures
        return result

    def _make_plan(self) -> None:
        from_type = validate_object_type(self.from_object_type)
        to_type = validate_object_type(self.to_object_type)
        hook = HubSpotHook(
            self.hubspot_conn_id, max_in_flight=self.max_in_flight, rate_limit_share=self.rate_limit_share
        )
        try:
            resolver = (
                LabelResolver(hook.get_labels(from_type, to_type), from_type, to_type)
                if self.kind is Kind.LABELS
                else None
            )
            desired, from_ids = self._desired(resolver)
            current = hook.read_associations(from_type, to_type, sorted(from_ids, key=int))
            read_requests = int(hook.request_stats().get("requests", 0))
        finally:
            hook.close()
        plan = self._extras(desired, current, resolver)
        self._plan = plan
        self._plan_current = current if self.snapshot else None
        empty_desired = not desired and bool(from_ids)
        over_cap = len(plan) > self.max_deletes
        self._plan_figures = {
            "from_ids": len(from_ids),
            "desired": len(desired),
            "current": sum(len(targets) for targets in current.values()),
            "planned_deletions": len(plan),
            "max_deletes": self.max_deletes,
            "over_max_deletes": over_cap,
            "empty_desired": empty_desired,
            "sample_deletions": plan[:SAMPLE],
            "read_requests": read_requests,
        }
        self.log.info(
            "Sync plan for %d %s: %d desired, %d in HubSpot, %d to delete",
            len(from_ids),
            from_type,
            len(desired),
            self._plan_figures["current"],
            len(plan),
        )
        if self.is_dry_run:  # a dry run reports the plan, flags included, and sends nothing
            for flag in ("over_max_deletes", "empty_desired"):
                if self._plan_figures[flag]:
                    self.log.warning("Dry run: a real run would refuse this plan (%s)", flag)
            return
        if empty_desired and not self.allow_empty_desired:
            raise AirflowFailException(
                f"the desired rows are empty (the query returned no row, or the list is empty) while "
                f"from_ids names {len(from_ids)} record(s): the sync would delete {len(plan)} associations, "
                "every one those records have. Nothing was sent. If that is intended, set "
                "allow_empty_desired=True."
            )
        if over_cap:
            raise AirflowFailException(
                f"the sync would delete {len(plan)} associations, more than max_deletes={self.max_deletes}; "
                f"nothing was sent. First planned deletions: {plan[:MAX_ROWS_IN_MESSAGE]}"
            )

    def _desired(self, resolver: LabelResolver | None) -> tuple[set[tuple[Any, ...]], set[str]]:
        removals, rejections = split_checked(check_rows(self._input_rows(), self.parser, resolver))
        if rejections:
            raise AirflowFailException(
                f"{len(rejections)} desired row(s) are invalid, so the desired set is unknown; nothing was "
                f"sent: {rejections_text(rejections)}"
            )
        desired = {removal.key() for removal in removals}
        from_ids = {removal.from_id for removal in removals}
        try:
            named = extra_from_ids(self.from_ids)
        except ValueError as error:
            raise AirflowFailException(f"{error}; nothing was sent") from None
        for value in named:
            try:
                from_ids.add(validate_record_id(value, "from_ids"))
            except InvalidRecordIdError as error:
                raise AirflowFailException(f"{error}; nothing was sent") from None
        return desired, from_ids

    def _extras(
        self,
        desired: set[tuple[Any, ...]],
        current: dict[str, list[dict[str, Any]]],
        resolver: LabelResolver | None,
    ) -> list[dict[str, Any]]:
        extras: list[dict[str, Any]] = []
        for from_id in sorted(current, key=int):
            for target in sorted(current[from_id], key=lambda t: int(t["toObjectId"])):
                to_id = str(target["toObjectId"])
                if self.kind is Kind.ARCHIVE:
                    if (from_id, to_id) not in desired:
                        extras.append({"from_id": from_id, "to_id": to_id})
                    continue
                assert resolver is not None
                for spec in target.get("associationTypes") or []:
                    category, type_id = str(spec.get("category")), int(spec.get("typeId", 0))
                    if not spec.get("label"):
                        continue  # the unlabeled type is the association itself: never removed here
                    if (from_id, to_id, category, str(type_id)) not in desired:
                        extras.append(
                            {
                                "from_id": from_id,
                                "to_id": to_id,
                                "association_category": category,
                                "association_type_id": type_id,
                            }
                        )
        return extras


class SyncAssociationsOperator(_SyncMixin):
    """Archive every association HubSpot has, for the desired rows' from-ids, that is not desired.

    Example: desired ``(contact_id, company_id)`` pairs from the warehouse; HubSpot keeps those and
    loses every other company association of those contacts.

    :param inputs: the desired pairs, in the archive operators' row shapes (or ``sql=`` rows). Every
        other parameter is the mirror's (``max_deletes``, ``from_ids``, ``allow_empty_desired``) or
        ``BaseHubSpotArchiveOperator``'s.
    """

    kind: ClassVar[Kind] = Kind.ARCHIVE


class SyncAssociationLabelsOperator(_SyncMixin):
    """Remove every association label HubSpot has, for the desired rows' from-ids, that is not desired.

    Associations themselves (the unlabeled type) are never removed by this operator.

    :param inputs: the desired labels, named by ``label`` or ``association_type_id`` as for
        ``BatchArchiveLabelsOperator`` (or ``sql=`` rows). Every other parameter is the mirror's
        (``max_deletes``, ``from_ids``, ``allow_empty_desired``) or ``BaseHubSpotArchiveOperator``'s.
    """

    kind: ClassVar[Kind] = Kind.LABELS
