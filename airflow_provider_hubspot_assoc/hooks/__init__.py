"""Hooks of the HubSpot associations provider."""
