"""Operators of the HubSpot associations provider."""

from airflow_provider_hubspot_assoc.operators.associations import (
    BatchArchiveAssociationsOperator,
    BatchArchiveLabelsOperator,
)
from airflow_provider_hubspot_assoc.operators.sync import (
    SyncAssociationLabelsOperator,
    SyncAssociationsOperator,
)

__all__ = [
    "BatchArchiveAssociationsOperator",
    "BatchArchiveLabelsOperator",
    "SyncAssociationLabelsOperator",
    "SyncAssociationsOperator",
]
