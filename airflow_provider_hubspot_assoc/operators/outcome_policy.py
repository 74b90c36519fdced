"""A run's result and its failure policy: the XCom ``return_value``, and whether the task fails.

The result is one merged BatchResponse with a ``summary`` of the buckets, the first failed,
rejected and unknown rows (all of them in files when they do not fit), and the request counters.
The task fails, after the result is pushed, when HubSpot was unreachable, when more removals failed
than ``max_failed_ratio`` allows, or when rows were rejected under ``on_invalid="fail"``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_hubspot_assoc._compat import AirflowException, ObjectStoragePath, TaskLog
from airflow_provider_hubspot_assoc.exceptions import HubSpotUnreachableError
from airflow_provider_hubspot_assoc.operators.artifacts import artifact, relative_path
from airflow_provider_hubspot_assoc.operators.assets import add_archive_event, hubspot_asset
from airflow_provider_hubspot_assoc.outcomes import RowSpool, Tally
from airflow_provider_hubspot_assoc.progress import Pipeline, Progress
from airflow_provider_hubspot_assoc.row_checks import MAX_ROWS_IN_MESSAGE
from airflow_provider_hubspot_assoc.row_parser import Rejection

if TYPE_CHECKING:
    from airflow_provider_hubspot_assoc._compat import Context

# The request counters a result's summary carries (this try's plus those of earlier tries).
COUNTERS = ("requests", "retries", "rate_limited", "isolation_requests", "snapshot_requests")


def counts_text(tally: Tally) -> str:
    """``received 10, archived 8, failed 1, ...``: the buckets, for log lines and error messages."""
    return (
        f"received {tally.received}, {tally.kind.done} {tally.archived}, failed {tally.failed}, "
        f"rejected {tally.rejected}, duplicates {tally.duplicates}"
        + (f", unknown {tally.unknown}" if tally.unknown else "")
        + (f", planned {tally.planned}" if tally.planned else "")
    )


@dataclass
class OutcomePolicy:
    """Builds a run's result and applies the failure policy.

    :param dry_run: the run sent nothing; its result plans the requests.
    :param on_invalid: ``fail`` or ``skip`` invalid rows.
    :param max_failed_ratio: share of sent writes HubSpot may fail before the task fails.
    :param results_path: object storage for the full row lists, or None for the worker's disk.
    :param log: the task's logger.
    """

    dry_run: bool
    on_invalid: str
    max_failed_ratio: float
    results_path: str | None
    log: TaskLog

    def __post_init__(self) -> None:
        self.check(self.on_invalid, self.max_failed_ratio)

    @staticmethod
    def check(on_invalid: str, max_failed_ratio: float) -> None:
        """Refuse a policy that means nothing (raises ``ValueError``, for DAG definition time)."""
        if on_invalid not in ("fail", "skip"):
            raise ValueError(f"on_invalid must be 'fail' or 'skip', got {on_invalid!r}")
        if not 0.0 <= max_failed_ratio <= 1.0:
            raise ValueError(f"max_failed_ratio must be between 0 and 1, got {max_failed_ratio!r}")

    def result(
        self,
        context: Context,
        progress: Progress,
        pipeline: Pipeline,
        totals: dict[str, float],
        started: float,
        object_types: tuple[str, str],
        results_table: str | None,
    ) -> dict[str, Any]:
        """The XCom result.

        ``totals``: request counters of every try; ``started``: when this try started;
        ``results_table``: the write-back table, when rows were written to one.
        """
        result = progress.responses.to_json()
        result["summary"] = {
            **progress.tally.summary(),
            **{name: int(totals.get(name, 0)) for name in COUNTERS},
            "seconds": round(time.monotonic() - started + progress.earlier.get("seconds", 0.0), 3),
        }
        result["dry_run"] = self.dry_run
        if results_table is not None:
            result["results_table"] = results_table
        result["from_object_type"], result["to_object_type"] = object_types
        if self.dry_run:
            result["summary"]["planned_requests"] = pipeline.planned_requests
            result["sample_request"] = {"inputs": pipeline.sample}
        for spool in (progress.failed, progress.rejected, progress.unknown):
            result[f"{spool.name}_rows"] = spool.head
            result[f"{spool.name}_rows_path"] = self._save(context, spool) if spool.count else None
            if not spool.count:
                self._drop_stale(context, spool)
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

    def _drop_stale(self, context: Context, spool: RowSpool) -> None:
        """Remove the file of rows an earlier try of this task left under ``results_path`` when this
        run has none: a restore reads ``failed.jsonl`` as the removals the run did not carry out."""
        if not self.results_path:
            return
        stale = ObjectStoragePath(
            self.results_path.rstrip("/") + "/" + relative_path(context, f"{spool.name}.jsonl")
        )
        if stale.exists():
            stale.unlink()

    def problems(
        self, result: dict[str, Any], tally: Tally, stopped: HubSpotUnreachableError | None
    ) -> list[str]:
        """Why the task fails: HubSpot unreachable, too many failed or unknown writes, rejected rows."""
        problems = []
        writes = tally.kind.writes
        sent = tally.archived + tally.failed + tally.unknown
        bad = tally.failed + tally.unknown
        if stopped is not None:
            problems.append(
                f"{stopped}; the run stopped there: {tally.failed} of its {writes} are failed, most of "
                "them not sent (a retry goes on from the last confirmed row)"
            )
        elif sent and bad / sent > self.max_failed_ratio:
            text = f"HubSpot failed {tally.failed} of {sent} {writes} sent"
            if tally.unknown:
                text += (
                    f", and the outcome of {tally.unknown} is unknown (no answer proved it and reading them "
                    "back failed)"
                )
            problems.append(f"{text} ({bad / sent:.1%} > max_failed_ratio {self.max_failed_ratio:.1%})")
        if tally.rejected and self.on_invalid == "fail":
            shown = "; ".join(
                str(Rejection(r["row"], r["field"], r["reason"]))
                for r in result["rejected_rows"][:MAX_ROWS_IN_MESSAGE]
            )
            problems.append(f"{tally.rejected} invalid row(s) were not sent: {shown}")
        return problems

    def enforce(self, context: Context, result: dict[str, Any], tally: Tally, problems: list[str]) -> None:
        """Fail the task after the result is pushed, saying why and where the rows are listed."""
        if not problems:
            return
        context["ti"].xcom_push(key="return_value", value=result)
        paths = [
            p for p in (result.get(f"{name}_rows_path") for name in ("failed", "rejected", "unknown")) if p
        ]
        raise AirflowException(
            "; ".join(problems)
            + f". Counts: {counts_text(tally)}. Rows are listed in the task's XCom return_value"
            + (f" and in {', '.join(paths)}" if paths else "")
            + "."
        )


def announce_archived(
    context: Context,
    outlets: list[Any],
    hubspot_conn_id: str,
    object_types: tuple[str, str],
    archived: int,
    log: TaskLog,
    done: str = "archived",
) -> None:
    """Tell downstream DAGs this run changed associations (``archived``: what it wrote, 0 for a dry run;
    ``done``: what the count is called, ``restored`` for a restore)."""
    asset = hubspot_asset(hubspot_conn_id, *object_types)
    if add_archive_event(context, outlets, asset, archived, done):
        log.info("Asset event for %s (%d %s)", asset.uri, archived, done)
