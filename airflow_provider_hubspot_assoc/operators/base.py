"""The Airflow shell of the two archive operators: arguments, execute, deferral and resume.

Rows come from ``inputs`` or ``sql`` (``row_input.py``), are checked (``row_checks.py``), batched and
confirmed in order (``progress.py``), and sent through the hook (``sending.py``). Every row ends in
exactly one bucket of the result's ``summary``: archived, rejected, failed, duplicates, unknown (or
planned, in a dry run). Checkpoints live in ``checkpoint.py``; the result and the failure policy in
``outcome_policy.py``; the snapshot taken before each removal in ``snapshot.py``.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Generator, Iterator, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_hubspot_assoc import row_checks
from airflow_provider_hubspot_assoc.exceptions import HubSpotDailyLimitError, HubSpotUnreachableError
from airflow_provider_hubspot_assoc.gc_scope import fewer_collections
from airflow_provider_hubspot_assoc.hooks.hubspot import HubSpotHook
from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.label_resolver import LabelResolver
from airflow_provider_hubspot_assoc.object_types import InvalidObjectTypeError, validate_object_type
from airflow_provider_hubspot_assoc.operators import checkpoint, row_input, sending
from airflow_provider_hubspot_assoc.operators.assets import DEFAULT_OUTLETS
from airflow_provider_hubspot_assoc.operators.checkpoint import CHECKPOINT_EVERY_SECONDS, RunCheckpoint
from airflow_provider_hubspot_assoc.operators.outcome_policy import (
    OutcomePolicy,
    announce_archived,
    counts_text,
)
from airflow_provider_hubspot_assoc.operators.row_input import ROW_INPUT_FIELDS, RowInputOperator
from airflow_provider_hubspot_assoc.operators.snapshot import SnapshotRequests, SnapshotSteps, snapshot_wanted
from airflow_provider_hubspot_assoc.outcomes import DEFAULT_KEEP_ROWS
from airflow_provider_hubspot_assoc.progress import Pipeline, Progress, fingerprint
from airflow_provider_hubspot_assoc.reporting import PROGRESS_EVERY_SECONDS, bucket_table
from airflow_provider_hubspot_assoc.request_size import (
    RequestSize,
    check_batch_size,
    check_max_pairs,
)
from airflow_provider_hubspot_assoc.results_table import check_table_name
from airflow_provider_hubspot_assoc.writeback import ResultsWriter, task_writer

if TYPE_CHECKING:
    from airflow_provider_hubspot_assoc._compat import Context

# Literal ``inputs`` rows checked while the DAG file is parsed; the run checks every row before sending.
PARSE_TIME_ROWS = 1_000


def _templated(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


class BaseHubSpotArchiveOperator(RowInputOperator, SnapshotSteps):
    """Shared base of ``BatchArchiveAssociationsOperator`` and ``BatchArchiveLabelsOperator``.

    Rows come from ``inputs``, or ``sql`` on ``conn_id`` (with ``parameters``, ``column_map`` and
    ``fetch_size``): see ``RowInputOperator``. ``snapshot``: see ``SnapshotSteps``.

    :param from_object_type: e.g. ``contacts``, ``0-1`` or a custom ``2-123`` (templated).
    :param to_object_type: the other side (templated).
    :param hubspot_conn_id: the ``hubspot`` connection (templated).
    :param batch_size: HubSpot inputs per request (default: the connection's ``batch_size``, else
        100, HubSpot's batch norm). An archive input is a from id with its to ids; a labels input is
        one pair with the types removed from it.
    :param max_pairs_per_request: (from, to) pairs per request (default: the connection's
        ``max_pairs_per_request``, else 100, until HubSpot's cap is known). A from id with more to
        ids than this is cut across requests. A 400 naming a maximum ("The maximum number of inputs
        supported in a batch is N") lowers either for the rest of the run, and its pairs go again in
        smaller requests.
    :param dry_run: validate and batch, report what would be sent, send nothing.
    :param on_invalid: ``fail`` (default) or ``skip`` invalid rows. With ``fail``, in-memory inputs fail
        before anything is sent; streamed SQL rows fail at the end, naming every rejected row. A
        literal list is checked in part (its first ``PARSE_TIME_ROWS`` rows) when the DAG is parsed.
    :param max_failed_ratio: share of sent removals HubSpot may fail before the task fails (after
        sending everything else and pushing the result).
    :param max_rows_in_xcom: failed/rejected rows kept in the XCom result; all of them go to a
        JSONL file (``results_path`` or a local temp folder) when there are more.
    :param results_path: an object-storage folder (``s3://...``, ``file:///...``) for the full
        failed/rejected row lists (templated).
    :param max_in_flight: concurrent requests (default: from the rate limit and the latency).
    :param rate_limit_share: the part of the connection's rate limit this task may use, e.g. ``1/3``
        for each of 3 mapped tasks in a 3-slot pool, so together they stay inside one limit.
    :param results_table: write one row per input (run, row number, ids, type/label, outcome bucket,
        HubSpot's error code and message, time) to this table as the run goes (templated).
    :param results_conn_id: the SQL connection of ``results_table`` (any common-sql connection; it
        may be the SQLite file ``sql`` reads, which is then read through the writer's connection).
    :param create_results_table: create ``results_table`` if it does not exist.
    :param progress_every_seconds: how often a progress line is logged (rows done of the total, pairs
        and requests per second against the allowed pace, ETA; counts for the whole run, with this
        try's share).
    :param checkpoint_every_seconds: how often confirmed progress is saved to the task's state
        store (Airflow 3.3+), so a retried try skips what an earlier try confirmed.
    :param outlets: the asset alias the run's Asset event goes through (``HUBSPOT_ASSET_ALIAS``).
    """

    kind: ClassVar[Kind] = Kind.ARCHIVE
    template_fields: Sequence[str] = (
        "from_object_type",
        "to_object_type",
        *ROW_INPUT_FIELDS,
        "hubspot_conn_id",
        "results_path",
        "results_table",
        "results_conn_id",
    )
    ui_color = "#ff7a59"

    @classmethod
    def partial(cls, **kwargs: Any) -> Any:  # type: ignore[override]
        """Airflow before 3.3 does not take ``outlets``' default from the signature for ``.partial()``:
        give it, so mapped tasks declare the alias their asset events go through on every version."""
        kwargs.setdefault("outlets", DEFAULT_OUTLETS)
        return super().partial(**kwargs)

    def __init__(
        self,
        *,
        from_object_type: str,
        to_object_type: str,
        hubspot_conn_id: str = HubSpotHook.default_conn_name,
        batch_size: int | None = None,
        max_pairs_per_request: int | None = None,
        dry_run: bool = False,
        on_invalid: str = "fail",
        max_failed_ratio: float = 0.0,
        max_rows_in_xcom: int = DEFAULT_KEEP_ROWS,
        results_path: str | None = None,
        max_in_flight: int | None = None,
        checkpoint_every_seconds: float = CHECKPOINT_EVERY_SECONDS,
        progress_every_seconds: float = PROGRESS_EVERY_SECONDS,
        rate_limit_share: float = 1.0,
        results_table: str | None = None,
        results_conn_id: str | None = None,
        create_results_table: bool = False,
        # A signature default, so that .partial() (which skips __init__ at parse time) has it too.
        outlets: Any = DEFAULT_OUTLETS,
        snapshot: bool | None = None,
        **kwargs: Any,
    ) -> None:
        OutcomePolicy.check(on_invalid, max_failed_ratio)
        takes_snapshot = snapshot_wanted(snapshot, results_table, results_path)
        if results_table is not None and not results_conn_id:
            raise ValueError("results_table= needs results_conn_id=, the SQL connection to write to")
        if results_table is not None and not _templated(results_table):
            check_table_name(results_table)
        if not 0 < rate_limit_share <= 1:
            raise ValueError(f"rate_limit_share must be in (0, 1], got {rate_limit_share!r}")
        if batch_size is not None:
            check_batch_size(batch_size)
        if max_pairs_per_request is not None:
            check_max_pairs(max_pairs_per_request)
        for name, value in (("from_object_type", from_object_type), ("to_object_type", to_object_type)):
            if not _templated(value) and not hasattr(value, "operator"):
                try:
                    validate_object_type(value)
                except InvalidObjectTypeError as error:
                    raise ValueError(f"{name}: {error}") from None
        super().__init__(outlets=outlets, **kwargs)
        self.from_object_type = from_object_type
        self.to_object_type = to_object_type
        self.hubspot_conn_id = hubspot_conn_id
        self.batch_size = batch_size
        self.max_pairs_per_request = max_pairs_per_request
        self.is_dry_run = dry_run
        self.on_invalid = on_invalid
        self.max_failed_ratio = max_failed_ratio
        self.max_rows_in_xcom = max_rows_in_xcom
        self.results_path = results_path
        self.max_in_flight = max_in_flight
        self.checkpoint_every_seconds = checkpoint_every_seconds
        self.progress_every_seconds = progress_every_seconds
        self.rate_limit_share = rate_limit_share
        self.results_table = results_table
        self.results_conn_id = results_conn_id
        self.create_results_table = create_results_table
        self.snapshot = takes_snapshot
        self._snapshot_requests = SnapshotRequests()
        self._writer: ResultsWriter | None = None
        self._recorded: set[tuple[int, str, str, int | None]] = set()
        self._size: RequestSize | None = None
        if isinstance(self.inputs, list) and on_invalid == "fail":
            # Parsing a DAG file stays fast: a literal list is checked in part now, in full at run time.
            head = itertools.islice(self.inputs, PARSE_TIME_ROWS)
            row_input.fail_on_rejections(
                row_checks.rejections_in(row_checks.check_rows(head, self.parser)), "at DAG definition"
            )

    def _row_kind(self) -> Kind:
        return self.kind

    # ------------------------------------------------------------------ reading
    def _rows(self) -> Iterator[Any]:
        """The rows this run sends (the user's rows here; a mirror's planned deletions)."""
        shared = None  # one SQLite file for rows and results: read through the writer's connection
        if self._writer is not None and self.sql is not None and self.conn_id:
            shared = self._writer.connection_for_reading(self.conn_id)
        return self._input_rows(connection=shared)

    # ------------------------------------------------------------------ running
    def execute(self, context: Context) -> dict[str, Any]:
        return self._run(context, checkpoint.load_checkpoint(context))

    def execute_resume(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Continue after a deferral (HubSpot's daily limit reset) from the checkpoint its event carried."""
        return self._run(context, checkpoint.carried_checkpoint(context, event, self.log))

    def _input_parts(self) -> tuple[Any, ...]:
        """What this task's rows come from: kind, object types, inputs or SQL and its settings."""
        return (
            self.kind,
            self.from_object_type,
            self.to_object_type,
            self.inputs if self.sql is None else None,
            self.sql,
            self.parameters,
            self.column_map,
        )

    def _fingerprint(self, batch_size: int) -> str:
        return fingerprint(*self._input_parts(), batch_size)

    def _run(self, context: Context, loaded: dict[str, Any] | None) -> dict[str, Any]:
        """The run from ``loaded`` (a checkpoint, or None), with fewer garbage collections (``gc_scope``)."""
        with fewer_collections():
            return self._run_collecting_less(context, loaded)

    def _run_collecting_less(self, context: Context, loaded: dict[str, Any] | None) -> dict[str, Any]:
        started = time.monotonic()
        self._make_inputs_readable_again()
        types = from_type, to_type = (
            validate_object_type(self.from_object_type),
            validate_object_type(self.to_object_type),
        )
        hook = HubSpotHook(
            self.hubspot_conn_id,
            batch_size=self.batch_size,
            max_pairs_per_request=self.max_pairs_per_request,
            max_in_flight=self.max_in_flight,
            rate_limit_share=self.rate_limit_share,
        )
        resolver = self._resolver(hook, from_type, to_type)
        size = sending.request_size(hook, self.batch_size, self.max_pairs_per_request, self.is_dry_run)
        # Batching does not change what a checkpoint's row count means: the pair cap stays out of the
        # fingerprint, so a retry with another cap (or one HubSpot lowered) goes on from it.
        run_fingerprint = self._fingerprint(size.max_inputs)
        # A maximum HubSpot named to an earlier session holds: relearning it costs a refusal, and a
        # batch sent in parts across a deferral would start over from its first part every session.
        carried = size.carry_over(loaded.get(checkpoint.REQUEST_SIZE_KEY)) if loaded is not None else None
        if carried:
            # (Even for other inputs: the maximum is HubSpot's, whatever the rows.)
            self.log.info("Keeping the maximum HubSpot named to an earlier try or session: %s", carried)
        self._size = size
        resumed = loaded is not None and Progress.usable(loaded, run_fingerprint)
        progress, again, fresh = checkpoint.starting_progress(
            loaded, run_fingerprint, self.max_rows_in_xcom, self.log, self.kind
        )
        self._resending = again is not None or (fresh and loaded is not None)  # (all: rows lost)
        kept: row_checks.KeptRows | None = None  # rows checked before sending are not parsed again
        if fresh and self._in_memory() and self.on_invalid == "fail":
            kept = row_checks.KeptRows()
            rejections = kept.check(self._rows(), self._sent_rows_parser(), resolver)
            row_input.fail_on_rejections(rejections, "(nothing was sent)")
        if self.sql is not None:
            self.log.info(
                "Reading rows from %s with: %s (parameters %s)", self.conn_id, self.sql, self.parameters
            )
        ledger = checkpoint.open_ledger(context, self.is_dry_run, resumed)
        if self.results_table is not None and not self.is_dry_run:
            assert self.results_conn_id is not None
            table = (self.results_conn_id, self.results_table, self.create_results_table)
            self._writer = task_writer(context, *table, self.snapshot, self.kind.done)
            # A try that did not finish (killed, failed by the policy, deferred) left rows that prove
            # what it carried out. A finished run's rows prove nothing about a run of the cleared task:
            # HubSpot's answers now decide, and only the types it removed stay recorded.
            if resumed or (ledger is not None and ledger.found > 0):
                self._recorded = self._writer.forget_after(progress.rows_done)
            else:
                self._recorded = set()
                self._writer.forget_run()
        writer = self._writer
        pipeline = Pipeline(
            self.kind, size, progress, self.is_dry_run, on_outcomes=writer.add if writer else None
        )
        pipeline.recorded = self._recorded
        state_of = partial(self._checkpoint_state, progress, hook)
        saver = RunCheckpoint(context, loaded, state_of, writer, ledger, self.checkpoint_every_seconds)
        # First: it loads earlier tries' records before the rows of removals sent again are deleted.
        snap = self._run_snapshot(context, hook, types, writer, pipeline)
        rows = self._rows()
        entries = kept.entries() if kept is not None and kept.complete else self._entries(rows, resolver)
        batches = saver.resend_first(pipeline, again, pipeline.entry_batches(entries), self.log)
        stopped: HubSpotUnreachableError | None = None
        self.log.info(
            "%s %s -> %s from %s through %s",
            f"Dry run: planning {self.kind.writes}" if self.is_dry_run else f"Sending {self.kind.writes}",
            from_type,
            to_type,
            self._source_text(),
            self.hubspot_conn_id,
        )
        try:
            if self.is_dry_run:
                for batch in batches:
                    pipeline.finish(batch, None)
            else:
                assert ledger is not None
                snap.start(hook, ledger.tick)
                # Saved before the first request: a try killed at any moment after it leaves a retry
                # the state (and a mirror's plan) to go on from.
                saver.save()
                reporter = sending.reporter_for(progress, self._total_rows(), self.progress_every_seconds)
                sending.send_all(
                    hook, self.kind, types, pipeline, snap.batches(batches), saver, reporter, self.log
                )
                snap.check()  # nothing is removed without its snapshot
                sending.settle_unknown(progress, partial(hook.read_associations, *types), writer, self.log)
            if writer is not None:
                writer.flush()
        except HubSpotDailyLimitError as limit:
            self._defer_until_reset(saver, progress, limit)
        except HubSpotUnreachableError as unreachable:
            saver.save()  # a retry goes on from the last confirmed row
            stopped = unreachable
            sending.account_unsent(self.kind, pipeline, snap.unsent(batches), unreachable)
            if writer is not None:
                writer.flush()
        except Exception:
            saver.save_quietly(self.log)  # this try's counts survive it
            raise
        finally:
            snap.keep_voids(self.log)  # also before a deferral: the resumed run is another session
            hook.close()
            if isinstance(rows, Generator):  # the query's cursor closes here, not in a GC thread
                rows.close()
            if writer is not None:
                writer.close()
        snap.finish(writer)
        return self._conclude(context, hook, pipeline, saver, stopped, started, types)

    def _conclude(
        self,
        context: Context,
        hook: HubSpotHook,
        pipeline: Pipeline,
        saver: RunCheckpoint,
        stopped: HubSpotUnreachableError | None,
        started: float,
        types: tuple[str, str],
    ) -> dict[str, Any]:
        """Build the result, keep or clear the checkpoint, apply the failure policy, announce."""
        progress = pipeline.progress
        progress.tally.check()
        policy = OutcomePolicy(
            self.is_dry_run, self.on_invalid, self.max_failed_ratio, self.results_path, self.log
        )
        totals = progress.totals(self._request_stats(hook))
        # The ledger also counts what a killed try sent after its last checkpoint.
        totals["requests"] = saver.requests(totals.get("requests", 0)) + self._other_requests()
        table = self.results_table if self._writer is not None else None
        result = policy.result(context, progress, pipeline, totals, started, types, table)
        problems = policy.problems(result, progress.tally, stopped)
        if stopped is not None:
            result["status"] = "CANCELED"  # the run stopped: a sensor must not read it as COMPLETE
        saver.finish(failed=bool(problems), stopped=stopped is not None, plan=self._kept_plan())
        progress.close(keep_files=bool(problems))
        self.log.info("Done: %s", counts_text(progress.tally))
        requests = int(result["summary"]["requests"])
        this_try = int(self._request_stats(hook).get("requests", 0))
        self.log.info("Outcome of every input row:\n%s", bucket_table(progress.tally, requests, this_try))
        policy.enforce(context, result, progress.tally, problems)
        archived = 0 if self.is_dry_run else progress.tally.archived  # a dry run writes nothing
        announce_archived(
            context, self.outlets, self.hubspot_conn_id, types, archived, self.log, self.kind.done
        )
        return result

    def _other_requests(self) -> int:
        """Requests made outside this run's own hook (a mirror's planning reads)."""
        return 0

    def _defer_until_reset(
        self, saver: RunCheckpoint, progress: Progress, limit: HubSpotDailyLimitError
    ) -> None:
        """Free the worker until HubSpot's daily limit resets, then continue where this stopped."""
        trigger = saver.resume_trigger(limit)
        self.log.warning(
            "HubSpot's daily request limit is used up; deferring until %s. Confirmed so far: %s",
            limit.reset_at.to_iso8601_string(),
            counts_text(progress.tally),
        )
        self.defer(trigger=trigger, method_name="execute_resume")

    # ------------------------------------------------------------- checkpoints
    def _checkpoint_state(self, progress: Progress, hook: HubSpotHook) -> dict[str, Any]:
        """What a later try needs to continue: confirmed progress and the request size HubSpot set
        (subclasses add their own)."""
        state = progress.to_json(self._request_stats(hook))
        named = self._size.named_now() if self._size is not None else None
        if named:
            state[checkpoint.REQUEST_SIZE_KEY] = named
        return state

    def _kept_plan(self) -> dict[str, Any] | None:
        """Where a mirror keeps a plan too large for its checkpoint (nothing here)."""
        return None

    # ----------------------------------------------------------------- labels
    def _resolver(self, hook: HubSpotHook, from_type: str, to_type: str) -> LabelResolver | None:
        """Label definitions, fetched once when label removals need checking or resolving."""
        if self.kind is Kind.ARCHIVE:
            return None
        if self.is_dry_run and not self._needs_definitions():
            return None
        return LabelResolver(hook.get_labels(from_type, to_type), from_type, to_type)

    def _needs_definitions(self) -> bool:
        return not self._in_memory() or row_checks.needs_label_definitions(self._check(self._rows(), None))
