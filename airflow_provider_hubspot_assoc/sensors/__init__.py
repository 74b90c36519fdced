"""Sensors of the HubSpot associations provider."""

from airflow_provider_hubspot_assoc.sensors.hubspot import (
    HubSpotAssociationsArchivedSensor,
    HubSpotBatchResponseSensor,
)

__all__ = ["HubSpotAssociationsArchivedSensor", "HubSpotBatchResponseSensor"]
