"""The two kinds of removal, and HubSpot's association categories. No Airflow import."""

from __future__ import annotations

from enum import Enum


class Kind(str, Enum):
    """What one input row removes.

    ``ARCHIVE``: every association between a pair (``.../batch/archive``); ``LABELS``: one label of a
    pair (``.../batch/labels/archive``). The value is what checkpoints and results record.
    """

    ARCHIVE = "archive"
    LABELS = "labels"

    @property
    def path_suffix(self) -> str:
        """The endpoint below ``/crm/{version}/associations/{from}/{to}/``."""
        return "batch/archive" if self is Kind.ARCHIVE else "batch/labels/archive"

    def __str__(self) -> str:
        return self.value


# HubSpot's associationCategory enum, in its order.
CATEGORIES = ("HUBSPOT_DEFINED", "INTEGRATOR_DEFINED", "USER_DEFINED", "WORK")
