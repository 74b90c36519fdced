"""Operators of the HubSpot associations provider."""

from airflow_provider_hubspot_assoc.operators.assets import HUBSPOT_ASSET_ALIAS, hubspot_asset
from airflow_provider_hubspot_assoc.operators.associations import (
    BatchArchiveAssociationsOperator,
    BatchArchiveLabelsOperator,
)
from airflow_provider_hubspot_assoc.operators.restore import RestoreAssociationsOperator
from airflow_provider_hubspot_assoc.operators.sync import (
    SyncAssociationLabelsOperator,
    SyncAssociationsOperator,
)

__all__ = [
    "HUBSPOT_ASSET_ALIAS",
    "BatchArchiveAssociationsOperator",
    "BatchArchiveLabelsOperator",
    "RestoreAssociationsOperator",
    "SyncAssociationLabelsOperator",
    "SyncAssociationsOperator",
    "hubspot_asset",
]
