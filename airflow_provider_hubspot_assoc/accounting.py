"""The buckets of an answered request's removals: done, unknown (nothing proved it) or failed.

The one place that reads what HubSpot's answer proves for each removal (or association type) sent:
an error naming its pair fails it (an archive's "already gone" is done, ``already_absent``); an
answer that proved nothing leaves it unknown, read back before the run ends; a create's label is
proven only when the answer names it with its pair. No Airflow import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.models import BatchResponse, created_labels
from airflow_provider_hubspot_assoc.outcomes import OutcomeRecord, outcome_record, outcome_records
from airflow_provider_hubspot_assoc.row_parser import Removal
from airflow_provider_hubspot_assoc.settlement import UNKNOWN_OUTCOME

if TYPE_CHECKING:
    from airflow_provider_hubspot_assoc.progress import Progress

RecordKey = tuple[int, str, str, int | None]  # (row, from id, to id, type id)


def account(
    kind: Kind,
    removals: list[Removal],
    response: BatchResponse,
    progress: Progress,
    recorded: set[RecordKey] | None,
    absent: set[RecordKey],
    keep: bool,
) -> list[OutcomeRecord]:
    """Put each removal of a finished request into done (``kind.done``), unknown or failed; return
    the write-back records when ``keep``.

    ``recorded``: removals an earlier try wrote back as done (proof enough); ``absent``: removals a
    snapshot found nothing to remove for (done, and counted ``already_absent``).
    """
    tally, failed = progress.tally, progress.failed
    done = kind.done
    errors_by_pair = {pair: error for error in response.errors for pair in error.pairs}
    unknown = set(response.unknown_pairs)
    if not errors_by_pair and not unknown and not kind.creates and not recorded and not absent:
        # The answer proves every removal done and none needs a closer look: counted at once.
        tally.archived += len(removals)
        return outcome_records(removals, done) if keep else []
    labels = created_labels(response.results) if kind.creates else {}
    records: list[OutcomeRecord] = []
    for removal in removals:
        error = errors_by_pair.get(removal.pair)
        unproven = error is None and (
            removal.pair in unknown
            # a label created is proven only by the answer naming it with its pair
            or (
                kind.creates
                and removal.label is not None
                and removal.label not in labels.get(removal.pair, ())
            )
        )
        if recorded and (removal.row, removal.from_id, removal.to_id, removal.type_id) in recorded:
            tally.archived += 1  # an earlier try archived it and wrote it back: proof enough
        elif unproven:
            tally.unknown += 1
            why = (
                response.unconfirmed
                if removal.pair in unknown
                else f"HubSpot's answer names the pair without the label {removal.label!r}"
            ) or "no answer proved the outcome"
            progress.unknown.add(
                {**removal.describe(), "error": {"category": UNKNOWN_OUTCOME, "message": why}}
            )
            if keep:
                records.append(outcome_record(removal, "unknown", UNKNOWN_OUTCOME, why))
        elif error is None:
            tally.archived += 1
            key = (removal.row, removal.from_id, removal.to_id, removal.type_id)
            if key in absent:
                absent.discard(key)
                tally.already_absent += 1
            if keep:
                records.append(outcome_record(removal, done))
        elif error.means_already_gone and not kind.creates:
            tally.archived += 1
            tally.already_absent += 1
            if keep:
                records.append(outcome_record(removal, done, error.category, error.message))
        else:
            tally.failed += 1
            detail: dict[str, Any] = {"category": error.category, "message": error.message}
            if error.sub_category:
                detail["subCategory"] = error.sub_category
            failed.add({**removal.describe(), "error": detail})
            if progress.on_failed is not None:
                progress.on_failed(removal)
            if keep:
                records.append(outcome_record(removal, "failed", error.category, error.message))
    return records
