"""The shared machinery of the two archive operators: read, validate, dedupe, batch, send, account.

Rows come from ``inputs`` (a list, or an upstream task's XCom) or from ``sql`` on any common-sql
connection, streamed at constant memory. Every row ends in exactly one bucket of the result's
``summary``: archived, rejected, failed, duplicates (or planned, in a dry run).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Generator, Iterable, Iterator, Sequence, Sized
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_hubspot_assoc._compat import (
    AirflowException,
    AirflowFailException,
    AirflowNotFoundException,
    BaseOperator,
)
from airflow_provider_hubspot_assoc.batching import Batch, check_batch_size
from airflow_provider_hubspot_assoc.client import DEFAULT_BATCH_SIZE, failed_response
from airflow_provider_hubspot_assoc.exceptions import HubSpotDailyLimitError, HubSpotUnreachableError
from airflow_provider_hubspot_assoc.hooks.hubspot import HubSpotHook
from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.label_resolver import LabelResolver, needs_definitions
from airflow_provider_hubspot_assoc.ledger import RequestLedger
from airflow_provider_hubspot_assoc.object_types import InvalidObjectTypeError, validate_object_type
from airflow_provider_hubspot_assoc.operators.artifacts import artifact, local_artifact
from airflow_provider_hubspot_assoc.operators.assets import DEFAULT_OUTLETS, add_archive_event, hubspot_asset
from airflow_provider_hubspot_assoc.outcomes import DEFAULT_KEEP_ROWS, RowSpool, Tally
from airflow_provider_hubspot_assoc.progress import Pipeline, Progress, fingerprint
from airflow_provider_hubspot_assoc.reporting import PROGRESS_EVERY_SECONDS, ProgressReporter, bucket_table
from airflow_provider_hubspot_assoc.row_parser import Rejection, Removal, RowParser
from airflow_provider_hubspot_assoc.row_sources import input_rows, readable_again
from airflow_provider_hubspot_assoc.sql_stream import DEFAULT_FETCH_SIZE
from airflow_provider_hubspot_assoc.triggers.wait import HubSpotWaitTrigger
from airflow_provider_hubspot_assoc.writeback import ResultsWriter, check_table_name

if TYPE_CHECKING:
    from airflow_provider_hubspot_assoc._compat import Context

log = logging.getLogger(__name__)
# How often confirmed progress is saved while sending (a retried try re-sends at most this much).
CHECKPOINT_EVERY_SECONDS = 1.0
CHECKPOINT_KEY = "hubspot_assoc_progress"
MAX_ROWS_IN_MESSAGE = 20  # rows named in one error message; the result lists them all


def _templated(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


class BaseHubSpotArchiveOperator(BaseOperator):
    """Shared base of ``BatchArchiveAssociationsOperator`` and ``BatchArchiveLabelsOperator``.

    :param from_object_type: e.g. ``contacts``, ``0-1`` or a custom ``2-123`` (templated).
    :param to_object_type: the other side (templated).
    :param inputs: rows as a list, or an upstream task's output (templated).
    :param sql: a query whose rows are the inputs (templated; ``.sql`` files work); needs ``conn_id``.
    :param conn_id: any Airflow SQL connection (common-sql ``DbApiHook``).
    :param parameters: query parameters for ``sql`` (templated).
    :param column_map: our field names to the row's keys, e.g. ``{"from_id": "contact_id"}``.
    :param hubspot_conn_id: the ``hubspot`` connection.
    :param batch_size: removals per request (default: the connection's ``batch_size``, else 100,
        HubSpot's batch limit).
    :param dry_run: validate and batch, report what would be sent, send nothing.
    :param on_invalid: ``fail`` (default) or ``skip`` invalid rows. With ``fail``, in-memory inputs fail
        before anything is sent; streamed SQL rows fail at the end, naming every rejected row.
    :param max_failed_ratio: share of sent removals HubSpot may fail before the task fails (after
        sending everything else and pushing the result).
    :param max_rows_in_xcom: failed/rejected rows kept in the XCom result; all of them go to a
        JSONL file (``results_path`` or a local temp folder) when there are more.
    :param results_path: an object-storage folder (``s3://...``, ``file:///...``) for the full
        failed/rejected row lists (templated).
    :param fetch_size: rows fetched from the database at a time.
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
    """

    kind: ClassVar[Kind] = Kind.ARCHIVE
    template_fields: Sequence[str] = (
        "from_object_type",
        "to_object_type",
        "inputs",
        "sql",
        "conn_id",
        "parameters",
        "hubspot_conn_id",
        "results_path",
        "results_table",
        "results_conn_id",
    )
    template_ext: Sequence[str] = (".sql",)
    template_fields_renderers = {"sql": "sql", "inputs": "json", "parameters": "json"}
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
        inputs: Any = None,
        sql: str | None = None,
        conn_id: str | None = None,
        parameters: Any = None,
        column_map: dict[str, str] | None = None,
        hubspot_conn_id: str = HubSpotHook.default_conn_name,
        batch_size: int | None = None,
        dry_run: bool = False,
        on_invalid: str = "fail",
        max_failed_ratio: float = 0.0,
        max_rows_in_xcom: int = DEFAULT_KEEP_ROWS,
        results_path: str | None = None,
        fetch_size: int = DEFAULT_FETCH_SIZE,
        max_in_flight: int | None = None,
        checkpoint_every_seconds: float = CHECKPOINT_EVERY_SECONDS,
        progress_every_seconds: float = PROGRESS_EVERY_SECONDS,
        rate_limit_share: float = 1.0,
        results_table: str | None = None,
        results_conn_id: str | None = None,
        create_results_table: bool = False,
        # A signature default, so that .partial() (which skips __init__ at parse time) has it too.
        outlets: Any = DEFAULT_OUTLETS,
        **kwargs: Any,
    ) -> None:
        if (inputs is None) == (sql is None):
            raise ValueError("give exactly one of inputs= (a list or an upstream task's output) or sql=")
        if sql is not None and not conn_id:
            raise ValueError("sql= needs conn_id=, the Airflow SQL connection to run it on")
        if on_invalid not in ("fail", "skip"):
            raise ValueError(f"on_invalid must be 'fail' or 'skip', got {on_invalid!r}")
        if not 0.0 <= max_failed_ratio <= 1.0:
            raise ValueError(f"max_failed_ratio must be between 0 and 1, got {max_failed_ratio!r}")
        if results_table is not None and not results_conn_id:
            raise ValueError("results_table= needs results_conn_id=, the SQL connection to write to")
        if results_table is not None and not _templated(results_table):
            check_table_name(results_table)
        if not 0 < rate_limit_share <= 1:
            raise ValueError(f"rate_limit_share must be in (0, 1], got {rate_limit_share!r}")
        if batch_size is not None:
            check_batch_size(batch_size)
        for name, value in (("from_object_type", from_object_type), ("to_object_type", to_object_type)):
            if not _templated(value) and not hasattr(value, "operator"):
                try:
                    validate_object_type(value)
                except InvalidObjectTypeError as error:
                    raise ValueError(f"{name}: {error}") from None
        self.parser = RowParser(self.kind, column_map)  # validates column_map now
        super().__init__(outlets=outlets, **kwargs)
        self.from_object_type = from_object_type
        self.to_object_type = to_object_type
        self.inputs = inputs
        self.sql = sql
        self.conn_id = conn_id
        self.parameters = parameters
        self.column_map = column_map
        self.hubspot_conn_id = hubspot_conn_id
        self.batch_size = batch_size
        self.is_dry_run = dry_run
        self.on_invalid = on_invalid
        self.max_failed_ratio = max_failed_ratio
        self.max_rows_in_xcom = max_rows_in_xcom
        self.results_path = results_path
        self.fetch_size = fetch_size
        self.max_in_flight = max_in_flight
        self.checkpoint_every_seconds = checkpoint_every_seconds
        self.progress_every_seconds = progress_every_seconds
        self.rate_limit_share = rate_limit_share
        self.results_table = results_table
        self.results_conn_id = results_conn_id
        self.create_results_table = create_results_table
        self._writer: ResultsWriter | None = None
        self._recorded: set[tuple[int, str, str, int | None]] = set()
        if isinstance(inputs, list) and on_invalid == "fail":
            self._fail_on_rejections(self._prevalidate(inputs, resolver=None), "at DAG definition")

    # ------------------------------------------------------------------ reading
    def _rows(self) -> Iterator[Any]:
        parts = (self.inputs, self.sql, self.conn_id, self.parameters, self.fetch_size)
        shared = None  # one SQLite file for rows and results: read through the writer's connection
        if self._writer is not None and self.sql is not None and self.conn_id:
            shared = self._writer.connection_for_reading(self.conn_id)
        return input_rows(*parts, looked_up=self.parser.looked_up_keys(), connection=shared)

    def _in_memory(self) -> bool:
        return self.sql is None

    def _sent_rows_parser(self) -> RowParser:
        """Parses the rows ``_rows()`` yields (the user's rows, in the user's column names)."""
        return self.parser

    # --------------------------------------------------------------- validation
    def _parse_all(
        self, rows: Iterable[Any], resolver: LabelResolver | None
    ) -> Iterator[tuple[int, list[Removal] | Rejection]]:
        parser = self._sent_rows_parser()
        for number, raw in enumerate(rows, start=1):
            parsed = parser.parse(raw, number)
            if resolver is not None and not isinstance(parsed, Rejection):
                resolved = [resolver.resolve(r) for r in parsed]
                rejection = next((r for r in resolved if isinstance(r, Rejection)), None)
                parsed = rejection or [r for r in resolved if isinstance(r, Removal)]
            yield number, parsed

    def _prevalidate(self, rows: Iterable[Any], resolver: LabelResolver | None) -> list[Rejection]:
        return [parsed for _, parsed in self._parse_all(rows, resolver) if isinstance(parsed, Rejection)]

    def _fail_on_rejections(self, rejections: list[Rejection], when: str) -> None:
        if not rejections:
            return
        shown = "; ".join(str(r) for r in rejections[:MAX_ROWS_IN_MESSAGE])
        more = len(rejections) - MAX_ROWS_IN_MESSAGE
        text = f"{len(rejections)} invalid input row(s) {when}: {shown}"
        if more > 0:
            text += f"; and {more} more"
        text += ". Fix them, or set on_invalid='skip' to send the valid rows only."
        raise AirflowFailException(text)

    # ------------------------------------------------------------------ running
    def execute(self, context: Context) -> dict[str, Any]:
        return self._run(context, checkpoint=self._load_checkpoint(context))

    def execute_resume(
        self, context: Context, event: dict[str, Any] | None = None, checkpoint: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Continue after a deferral (HubSpot's daily limit reset) from the checkpoint it carried.

        The checkpoint rides in the trigger's event (``dag.test()`` keeps only the event of a
        deferral's kwargs); the task state store, when there is one, holds it as well.
        """
        return self._run(context, checkpoint=self._carried_checkpoint(context, event, checkpoint))

    def _carried_checkpoint(
        self, context: Context, event: dict[str, Any] | None, checkpoint: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """The checkpoint a deferral carried (in its kwargs or its event), else the stored one."""
        event = event or {}
        self.log.info("Resuming after %s", event.get("moment", "a deferral"))
        return checkpoint or event.get("checkpoint") or self._load_checkpoint(context)

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

    def _batch_size(self, hook: HubSpotHook) -> int:
        """This task's ``batch_size``, else the connection's; a dry run needs no connection."""
        if self.batch_size is not None:
            return self.batch_size
        try:
            return hook.client_config().batch_size
        except AirflowNotFoundException:
            if not self.is_dry_run:
                raise
            return DEFAULT_BATCH_SIZE

    def _run(self, context: Context, checkpoint: dict[str, Any] | None) -> dict[str, Any]:
        started = time.monotonic()
        self.inputs = readable_again(self.inputs)
        from_type = validate_object_type(self.from_object_type)
        to_type = validate_object_type(self.to_object_type)
        hook = HubSpotHook(
            self.hubspot_conn_id,
            batch_size=self.batch_size,
            max_in_flight=self.max_in_flight,
            rate_limit_share=self.rate_limit_share,
        )
        resolver = self._resolver(hook, from_type, to_type)
        batch_size = self._batch_size(hook)
        run_fingerprint = self._fingerprint(batch_size)
        resumed = checkpoint is not None and Progress.usable(checkpoint, run_fingerprint)
        progress, again = self._progress(checkpoint, run_fingerprint, resolver)
        if self.sql is not None:
            self.log.info(
                "Reading rows from %s with: %s (parameters %s)", self.conn_id, self.sql, self.parameters
            )
        ledger = None if self.is_dry_run else RequestLedger(local_artifact(context, "requests.count"))
        if ledger is not None and not resumed:
            ledger.reset()  # a run that starts over owes nothing to requests of a run it replaces
        self._writer = self._results_writer(context, progress.rows_done)
        pipeline = Pipeline(
            self.kind,
            batch_size,
            progress,
            dry_run=self.is_dry_run,
            on_outcomes=self._writer.add if self._writer else None,
        )
        pipeline.recorded = self._recorded
        rows = self._rows()
        batches: Iterator[Batch] = pipeline.batches(self._parse_all(rows, resolver))
        self._pipeline, self._loaded, self._resend_until = pipeline, checkpoint, 0
        if again is not None:
            self.log.info("Sending again the %d removals an earlier try left failed or unknown", len(again))
            if self._writer is not None:
                keys = {(r.row, r.from_id, r.to_id, r.type_id) for r in again}
                pipeline.recorded |= self._writer.forget_for_resend(keys)
            resend = list(pipeline.retry(again))
            # Until every re-sent removal is confirmed, the earlier checkpoint stays as it is: a try
            # that dies meanwhile leaves the next one the same removals to send again.
            self._resend_until = resend[-1].seq if resend else 0
            batches = itertools.chain(resend, batches)
        stopped: HubSpotUnreachableError | None = None
        self.log.info(
            "%s %s -> %s from %s through %s",
            "Dry run: planning removals" if self.is_dry_run else "Removing",
            from_type,
            to_type,
            f"SQL on {self.conn_id}" if self.sql else "inputs",
            self.hubspot_conn_id,
        )
        try:
            if self.is_dry_run:
                for batch in batches:
                    pipeline.finish(batch, None)
            else:
                assert ledger is not None
                hook.client.on_request = ledger.tick
                # Saved before the first request: a try killed at any moment after it leaves a retry
                # the state (and a mirror's plan) to go on from.
                self._save_checkpoint(context, progress, hook)
                self._send(context, hook, pipeline, batches, from_type, to_type)
                self._settle_unknown(hook, progress, from_type, to_type)
            if self._writer is not None:
                self._writer.flush()
        except HubSpotDailyLimitError as limit:
            self._defer_until_reset(context, hook, progress, limit)
        except HubSpotUnreachableError as unreachable:
            self._save_checkpoint(context, progress, hook)  # a retry goes on from the last confirmed row
            stopped = unreachable
            self._account_unsent(pipeline, batches, unreachable)
            if self._writer is not None:
                self._writer.flush()
        except Exception:
            self._save_checkpoint_quietly(context, progress, hook)  # this try's counts survive it
            raise
        finally:
            hook.close()
            if isinstance(rows, Generator):  # the query's cursor closes here, not in a GC thread
                rows.close()
            if self._writer is not None:
                self._writer.close()
        progress.tally.check()
        result = self._result(context, progress, pipeline, hook, started, ledger)
        problems = self._problems(result, progress.tally, stopped)
        if stopped is not None:
            result["status"] = "CANCELED"  # the run stopped: a sensor must not read it as COMPLETE
        elif problems:
            # Kept for Airflow's retry, which sends again only the failed and unknown removals.
            state = self._checkpoint_state(progress, hook)
            state["retry_failed"] = True
            self._save_checkpoint(context, progress, hook, state)
        else:
            self._clear_checkpoint(context)
        progress.close(keep_files=bool(problems))
        if ledger is not None:
            ledger.close(remove=not problems and stopped is None)
        self.log.info("Done: %s", self._counts(progress.tally))
        requests = int(result["summary"]["requests"])
        this_try = int(self._stats(hook).get("requests", 0))
        self.log.info("Outcome of every input row:\n%s", bucket_table(progress.tally, requests, this_try))
        self._apply_failure_policy(context, result, progress.tally, problems)
        self._add_asset_event(context, progress.tally)
        return result

    def _progress(
        self, checkpoint: dict[str, Any] | None, run_fingerprint: str, resolver: LabelResolver | None
    ) -> tuple[Progress, list[Removal] | None]:
        """Where this try starts: an earlier try's checkpoint, or the beginning.

        Also returns the removals to send again when the earlier try was failed by the failure
        policy (None otherwise).
        """
        if checkpoint is not None and Progress.usable(checkpoint, run_fingerprint):
            progress = Progress.from_json(checkpoint, self.max_rows_in_xcom)
            self.log.info(
                "Resuming after input row %d, confirmed by an earlier try: %s",
                progress.rows_done,
                self._counts(progress.tally),
            )
            if not checkpoint.get("retry_failed"):
                return progress, None
            again = progress.take_for_retry()
            if again is not None:
                return progress, again
            self.log.warning(
                "The failed rows of the earlier try are not on this worker; sending every row again "
                "(archiving is idempotent)"
            )
            progress.close()
        elif checkpoint is not None:
            self.log.warning(
                "Ignoring a checkpoint made for other inputs or by another version (%s != %s)",
                checkpoint.get("fingerprint"),
                run_fingerprint,
            )
        progress = Progress.start(run_fingerprint, self.max_rows_in_xcom)
        if self._in_memory() and self.on_invalid == "fail":
            self._fail_on_rejections(self._prevalidate(self._rows(), resolver), "(nothing was sent)")
        return progress, None

    def _send(
        self,
        context: Context,
        hook: HubSpotHook,
        pipeline: Pipeline,
        batches: Iterator[Batch],
        from_type: str,
        to_type: str,
    ) -> None:
        """Send every batch, in order; batches with no inputs are confirmed without a request."""
        progress = pipeline.progress
        earlier = progress.totals({})
        reporter = ProgressReporter(
            self._total_rows(),
            rows_before=progress.rows_done,
            requests_before=int(earlier.get("requests", 0)),
            removals_before=progress.tally.archived + progress.tally.failed + progress.tally.unknown,
            every_seconds=self.progress_every_seconds,
        )
        last_saved = time.monotonic()
        for sent, response in hook.client.run_batches(self.kind, from_type, to_type, batches):
            assert isinstance(sent, Batch)
            pipeline.finish(sent, response)
            if time.monotonic() - last_saved >= self.checkpoint_every_seconds:
                self._save_checkpoint(context, progress, hook)
                last_saved = time.monotonic()
            if reporter.due():
                requests = int(progress.totals(self._stats(hook)).get("requests", 0))
                line = reporter.line(
                    progress.rows_done, pipeline.rows_read, progress.tally, requests, hook.client.limiter.rate
                )
                self.log.info("%s", line)

    def _other_requests(self) -> int:
        """Requests made outside this run's own hook (a mirror's planning reads)."""
        return 0

    def _total_rows(self) -> int | None:
        """Input rows of the whole run, when known before reading them (a list; not a query)."""
        return len(self.inputs) if self.sql is None and isinstance(self.inputs, Sized) else None

    def _settle_unknown(self, hook: HubSpotHook, progress: Progress, from_type: str, to_type: str) -> None:
        """Read back removals whose answer was lost or proved nothing, and put each in its bucket."""
        if not progress.tally.unknown:
            return
        count = progress.tally.unknown
        self.log.warning("Reading back %d removals whose outcome no answer proved", count)
        records = progress.settle_unknown(lambda ids: hook.read_associations(from_type, to_type, ids))
        if self._writer is not None:
            self._writer.replace_outcomes(("unknown",), records)
        self.log.info(
            "Of %d removals of unknown outcome: %d gone (archived), %d still associated (failed), %d still "
            "unknown",
            count,
            sum(1 for r in records if r["outcome"] == "archived"),
            sum(1 for r in records if r["outcome"] == "failed"),
            progress.tally.unknown,
        )

    def _account_unsent(
        self, pipeline: Pipeline, batches: Iterator[Batch], unreachable: HubSpotUnreachableError
    ) -> None:
        """Put what was not sent, HubSpot being unreachable, in ``failed``, so every row has a bucket.

        Reads the rest of the rows (no request is sent); the checkpoint saved before still points at
        the last confirmed row, so a retry sends them.
        """
        for batch in [*unreachable.struck, *batches]:
            assert isinstance(batch, Batch)
            pipeline.finish(
                batch, failed_response(self.kind, batch, unreachable, "not sent") if batch else None
            )

    def _defer_until_reset(
        self, context: Context, hook: HubSpotHook, progress: Progress, limit: HubSpotDailyLimitError
    ) -> None:
        """Free the worker until HubSpot's daily limit resets, then continue where this stopped."""
        state = self._loaded if self._resending() and self._loaded else self._checkpoint_state(progress, hook)
        self._save_checkpoint(context, progress, hook, state)
        self.log.warning(
            "HubSpot's daily request limit is used up; deferring until %s. Confirmed so far: %s",
            limit.reset_at.to_iso8601_string(),
            self._counts(progress.tally),
        )
        self.defer(
            trigger=HubSpotWaitTrigger(
                limit.reset_at, reason="HubSpot's daily request limit resets", payload={"checkpoint": state}
            ),
            method_name="execute_resume",
        )

    # ------------------------------------------------------------- checkpoints
    @staticmethod
    def _state_store(context: Context) -> Any:
        return context.get("task_state_store")  # Airflow 3.3+; older versions resume only after deferral

    def _load_checkpoint(self, context: Context) -> dict[str, Any] | None:
        store = self._state_store(context)
        if store is None:
            return None
        state = store.get(CHECKPOINT_KEY)
        return state if isinstance(state, dict) else None

    def _save_checkpoint_quietly(self, context: Context, progress: Progress, hook: HubSpotHook) -> None:
        """Save on the way out of a failing try; a failure here must not hide the one being raised."""
        try:
            self._save_checkpoint(context, progress, hook)
        except Exception as error:
            self.log.warning("Could not save the checkpoint of this failing try: %s", type(error).__name__)

    def _resending(self) -> bool:
        """Removals of an earlier try are being sent again and are not all confirmed yet."""
        pipeline = getattr(self, "_pipeline", None)
        return (
            bool(getattr(self, "_resend_until", 0))
            and pipeline is not None
            and (pipeline.next_seq <= self._resend_until)
        )

    def _save_checkpoint(
        self, context: Context, progress: Progress, hook: HubSpotHook, state: dict[str, Any] | None = None
    ) -> None:
        if self._writer is not None:  # the table never runs behind the checkpoint
            self._writer.flush()
        if self._resending():
            return
        store = self._state_store(context)
        if store is not None:
            store.set(CHECKPOINT_KEY, state or self._checkpoint_state(progress, hook))

    def _checkpoint_state(self, progress: Progress, hook: HubSpotHook) -> dict[str, Any]:
        """What a later try needs to continue: confirmed progress (subclasses add their own)."""
        return progress.to_json(self._stats(hook))

    def _clear_checkpoint(self, context: Context) -> None:
        store = self._state_store(context)
        if store is not None:
            store.delete(CHECKPOINT_KEY)

    @staticmethod
    def _stats(hook: HubSpotHook) -> dict[str, float]:
        if hook.__dict__.get("client") is None:
            return {}
        stats = hook.client.stats.as_json()
        return {k: stats[k] for k in ("requests", "retries", "rate_limited", "isolation_requests", "seconds")}

    def _results_writer(self, context: Context, rows_done: int) -> ResultsWriter | None:
        """The write-back table's writer; first removes what an earlier try wrote past the checkpoint."""
        if self.results_table is None or self.is_dry_run:
            return None
        assert self.results_conn_id is not None
        ti = context["ti"]
        writer = ResultsWriter(
            self.results_conn_id,
            self.results_table,
            run_id=str(context["run_id"]),
            dag_id=ti.dag_id,
            task_id=ti.task_id,
            map_index=getattr(ti, "map_index", -1) if getattr(ti, "map_index", None) is not None else -1,
            create=self.create_results_table,
        )
        self._recorded = writer.forget_after(rows_done)
        return writer

    # ----------------------------------------------------------------- helpers
    def _resolver(self, hook: HubSpotHook, from_type: str, to_type: str) -> LabelResolver | None:
        """Label definitions, fetched once when label removals need checking or resolving."""
        if self.kind is Kind.ARCHIVE:
            return None
        if self.is_dry_run and not self._needs_definitions():
            return None
        return LabelResolver(hook.get_labels(from_type, to_type), from_type, to_type)

    def _needs_definitions(self) -> bool:
        if not self._in_memory():
            return True
        parser = self._sent_rows_parser()
        for number, raw in enumerate(self._rows(), start=1):
            parsed = parser.parse(raw, number)
            if not isinstance(parsed, Rejection) and any(needs_definitions(r) for r in parsed):
                return True
        return False

    @staticmethod
    def _counts(tally: Tally) -> str:
        return (
            f"received {tally.received}, archived {tally.archived}, failed {tally.failed}, "
            f"rejected {tally.rejected}, duplicates {tally.duplicates}"
            + (f", unknown {tally.unknown}" if tally.unknown else "")
            + (f", planned {tally.planned}" if tally.planned else "")
        )

    def _add_asset_event(self, context: Context, tally: Tally) -> None:
        """Tell downstream DAGs this run removed associations; a dry run removes none."""
        asset = hubspot_asset(
            self.hubspot_conn_id,
            validate_object_type(self.from_object_type),
            validate_object_type(self.to_object_type),
        )
        if add_archive_event(context, self.outlets, asset, 0 if self.is_dry_run else tally.archived):
            self.log.info("Asset event for %s (%d archived)", asset.uri, tally.archived)

    # ------------------------------------------------------------------- result
    def _result(
        self,
        context: Context,
        progress: Progress,
        pipeline: Pipeline,
        hook: HubSpotHook,
        started: float,
        ledger: RequestLedger | None = None,
    ) -> dict[str, Any]:
        totals = progress.totals(self._stats(hook))
        if ledger is not None:  # also counts what a killed try sent after its last checkpoint
            totals["requests"] = max(totals.get("requests", 0), ledger.count)
        totals["requests"] = totals.get("requests", 0) + self._other_requests()
        result = progress.responses.to_json()
        result["summary"] = {
            **progress.tally.as_json(),
            "requests": int(totals.get("requests", 0)),
            "retries": int(totals.get("retries", 0)),
            "rate_limited": int(totals.get("rate_limited", 0)),
            "isolation_requests": int(totals.get("isolation_requests", 0)),
            "seconds": round(time.monotonic() - started + progress.earlier.get("seconds", 0.0), 3),
        }
        result["dry_run"] = self.is_dry_run
        if self._writer is not None:
            result["results_table"] = self.results_table
        result["from_object_type"] = validate_object_type(self.from_object_type)
        result["to_object_type"] = validate_object_type(self.to_object_type)
        if self.is_dry_run:
            result["summary"]["planned_requests"] = pipeline.planned_requests
            result["sample_request"] = {"inputs": pipeline.sample}
        for spool in (progress.failed, progress.rejected, progress.unknown):
            result[f"{spool.name}_rows"] = spool.head
            result[f"{spool.name}_rows_path"] = self._save(context, spool) if spool.count else None
            if spool.not_kept:
                result[f"{spool.name}_rows_not_kept"] = spool.not_kept
        return result

    def _save(self, context: Context, spool: RowSpool) -> str | None:
        """Write all rows of a spool when they do not fit in XCom, or when ``results_path`` is set."""
        if not spool.overflowed and not self.results_path:
            return None
        target = artifact(context, f"{spool.name}.jsonl", self.results_path)
        with target.open("wb") as handle:
            spool.copy_to(handle)
        if not self.results_path:
            self.log.warning(
                "%d %s rows do not fit in XCom; all of them are in %s on this worker (set results_path= "
                "for object storage that downstream tasks can read)",
                spool.count,
                spool.name,
                target,
            )
        return str(target)

    def _problems(
        self, result: dict[str, Any], tally: Tally, stopped: HubSpotUnreachableError | None
    ) -> list[str]:
        """Why the task fails: HubSpot unreachable, too many failed or unknown removals, rejected rows."""
        problems = []
        sent = tally.archived + tally.failed + tally.unknown
        bad = tally.failed + tally.unknown
        if stopped is not None:
            problems.append(
                f"{stopped}; the run stopped there: {tally.failed} removal(s) are failed, most of them "
                "not sent (a retry goes on from the last confirmed row)"
            )
        elif sent and bad / sent > self.max_failed_ratio:
            text = f"HubSpot failed {tally.failed} of {sent} removals sent"
            if tally.unknown:
                text += (
                    f", and the outcome of {tally.unknown} is unknown (no answer proved it and reading them "
                    "back failed)"
                )
            problems.append(f"{text} ({bad / sent:.1%} > max_failed_ratio {self.max_failed_ratio:.1%})")
        if tally.rejected and self.on_invalid == "fail":
            shown = "; ".join(
                f"row {r['row']}, {r['field']}: {r['reason']}"
                for r in result["rejected_rows"][:MAX_ROWS_IN_MESSAGE]
            )
            problems.append(f"{tally.rejected} invalid row(s) were not sent: {shown}")
        return problems

    def _apply_failure_policy(
        self, context: Context, result: dict[str, Any], tally: Tally, problems: list[str]
    ) -> None:
        """Fail the task after the result is pushed, saying why and where the rows are listed."""
        if not problems:
            return
        context["ti"].xcom_push(key="return_value", value=result)
        paths = [
            p for p in (result.get(f"{name}_rows_path") for name in ("failed", "rejected", "unknown")) if p
        ]
        raise AirflowException(
            "; ".join(problems)
            + f". Counts: {self._counts(tally)}. Rows are listed in the task's XCom return_value"
            + (f" and in {', '.join(paths)}" if paths else "")
            + "."
        )
