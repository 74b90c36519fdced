"""Triggers of the HubSpot associations provider."""

from airflow_provider_hubspot_assoc.triggers.wait import HubSpotWaitTrigger

__all__ = ["HubSpotWaitTrigger"]
