"""The HubSpot client: everything that talks to HubSpot's API, and nothing from Airflow.

* ``config``: settings (host, credentials, limits) and the client's counters;
* ``answers``: what an HTTP answer, or its absence, means; ``auth``: the bearer token, OAuth refresh;
* ``transport``: one request, paced and retried; ``pacing``: rate limit, daily budget, requests in flight;
* ``sender``: ordered, bounded concurrent sends (generic); ``isolation``: bad rows of a refused batch;
* ``reads``: label definitions and current associations; ``client``: ``HubSpotClient``, composing them.
"""

from airflow_provider_hubspot_assoc.hubspot.client import HubSpotClient
from airflow_provider_hubspot_assoc.hubspot.config import ClientConfig, OAuthCredentials

__all__ = ["ClientConfig", "HubSpotClient", "OAuthCredentials"]
