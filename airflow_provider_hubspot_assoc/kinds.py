"""The kinds of association write, and HubSpot's association categories. No Airflow import."""

from __future__ import annotations

from enum import Enum


class Kind(str, Enum):
    """What one input row asks HubSpot to do.

    ``ARCHIVE``: remove every association between a pair (``.../batch/archive``); ``LABELS``: remove
    one label of a pair (``.../batch/labels/archive``); ``CREATE``: create one association type of a
    pair, a label or the unlabeled type (``.../batch/create``). The value is what checkpoints and
    results record.
    """

    ARCHIVE = "archive"
    LABELS = "labels"
    CREATE = "create"

    @property
    def path_suffix(self) -> str:
        """The endpoint below ``/crm/{version}/associations/{from}/{to}/``."""
        return _PATH_SUFFIXES[self]

    @property
    def names_types(self) -> bool:
        """Whether a row names an association type (a label or type id), not just a pair."""
        return self is not Kind.ARCHIVE

    @property
    def creates(self) -> bool:
        """Whether HubSpot is asked to create: done means present, where for a removal it means gone."""
        return self is Kind.CREATE

    @property
    def done(self) -> str:
        """The bucket (and write-back outcome) of a write HubSpot carried out: ``archived`` for a
        removal, ``restored`` for a create (this provider creates associations only to restore them)."""
        return "restored" if self.creates else "archived"

    @property
    def writes(self) -> str:
        """What one row's writes are called in messages."""
        return "creates" if self.creates else "removals"

    def __str__(self) -> str:
        return self.value


_PATH_SUFFIXES = {
    Kind.ARCHIVE: "batch/archive",
    Kind.LABELS: "batch/labels/archive",
    Kind.CREATE: "batch/create",
}

# HubSpot's associationCategory enum, in its order.
CATEGORIES = ("HUBSPOT_DEFINED", "INTEGRATOR_DEFINED", "USER_DEFINED", "WORK")
