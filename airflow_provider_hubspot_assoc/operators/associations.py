"""Operators that remove HubSpot associations and association labels in bulk."""

from __future__ import annotations

from typing import ClassVar

from airflow_provider_hubspot_assoc.kinds import Kind
from airflow_provider_hubspot_assoc.operators.base import BaseHubSpotArchiveOperator


class BatchArchiveAssociationsOperator(BaseHubSpotArchiveOperator):
    """Remove every association between each (from, to) pair.

    Pairs are deduplicated, grouped by from id into HubSpot's multi-``to`` inputs, and sent
    ``batch_size`` inputs (and at most ``max_pairs_per_request`` pairs) per request. Returns (XCom
    ``return_value``) one merged BatchResponse with a ``summary`` of the buckets.

    :param inputs: the pairs: ``{"from_id": .., "to_id": ..}`` dicts, ``(from_id, to_id)`` tuples or
        HubSpot's ``{"from": {"id"}, "to": [{"id"}, ...]}`` (or ``sql=`` rows of those columns).
        Every other parameter is ``BaseHubSpotArchiveOperator``'s.
    """

    kind: ClassVar[Kind] = Kind.ARCHIVE


class BatchArchiveLabelsOperator(BaseHubSpotArchiveOperator):
    """Remove specific association labels of (from, to) pairs.

    Removing the unlabeled type removes the whole association, all labels included (HubSpot's rule).

    :param inputs: rows naming the pair and the label: by ``association_type_id`` (with or without
        ``association_category``) or by ``label`` name, resolved through HubSpot's label definitions;
        tuples ``(from_id, to_id, type id or label[, category])`` work too. Every other parameter is
        ``BaseHubSpotArchiveOperator``'s.
    """

    kind: ClassVar[Kind] = Kind.LABELS
