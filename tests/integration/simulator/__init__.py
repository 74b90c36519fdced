"""Tests of the HubSpot associations simulator (``airflow_provider_hubspot_assoc.testing``) over HTTP."""
